# ad, 6. the summary figures of each (dataset, signal), one rule per figure, and the target.


rule ad_plot_max_sic:
    input:
        f"{AD_SIGNAL}/summary/max_sic.csv",
    output:
        pdf=f"{AD_PLOT}/max_sic_vs_sb.pdf",
        png=ad_report(
            f"{AD_PLOT}/max_sic_vs_sb.png", "max_sic", "max SIC vs S/B", "scan"
        ),
    log:
        ad_log(f"{AD_SIGNAL_JOB}/plot_max_sic"),
    benchmark:
        ad_benchmark("ad_plot_max_sic", f"{AD_SIGNAL_JOB}/plot_max_sic")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("summary")
    conda:
        CONDA_ENV
    threads: ad_threads("summary")
    resources:
        **ad_resources("summary"),
    params:
        title=ad_title(),
        cfg=as_json({"max_rel_unc": AD["evaluate"]["max_rel_unc"]}),
    shell:
        step(
            "hepflows.ad.steps.plot_max_sic --params {params.cfg:q} --table {input:q}"
            " --title {params.title:q} --out {output:q}"
        )


rule ad_plot_sic_curves:
    input:
        lambda w: ad_evaluations(w, w.inj),
    output:
        pdf=f"{AD_PLOT}/sic_vs_efficiency_s{{inj}}.pdf",
        png=ad_report(
            f"{AD_PLOT}/sic_vs_efficiency_s{{inj}}.png",
            "sic_curves",
            "SIC vs signal efficiency",
            "{inj}",
        ),
    log:
        ad_log(f"{AD_SIGNAL_JOB}/plot_sic_curves_s{{inj}}"),
    benchmark:
        ad_benchmark("ad_plot_sic_curves", f"{AD_SIGNAL_JOB}/plot_sic_curves_s{{inj}}")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("summary")
    conda:
        CONDA_ENV
    threads: ad_threads("summary")
    resources:
        **ad_resources("summary"),
    params:
        title=ad_title(injection=True),
    shell:
        step(
            "hepflows.ad.steps.plot_sic_curves --evaluations {input:q}"
            " --title {params.title:q} --out {output:q}"
        )


rule ad_plot_closure:
    input:
        f"{AD_SIGNAL}/summary/closure.csv",
    output:
        pdf=f"{AD_PLOT}/closure_summary.pdf",
        png=ad_report(
            f"{AD_PLOT}/closure_summary.png", "closure", "closure AUC", AD_CLOSURE_SB
        ),
    log:
        ad_log(f"{AD_SIGNAL_JOB}/plot_closure"),
    benchmark:
        ad_benchmark("ad_plot_closure", f"{AD_SIGNAL_JOB}/plot_closure")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("summary")
    conda:
        CONDA_ENV
    threads: ad_threads("summary")
    resources:
        **ad_resources("summary"),
    params:
        title=ad_title(),
        cfg=as_json({"folds": AD["closure"]["folds"], "seeds": len(AD["seeds"])}),
    shell:
        step(
            "hepflows.ad.steps.plot_closure --params {params.cfg:q} --table {input:q}"
            " --title {params.title:q} --out {output:q}"
        )


rule ad_plot_weights:
    input:
        ad_weight_inputs,
    output:
        pdf=f"{AD_PLOT}/weights_s{{inj}}.pdf",
        png=ad_report(
            f"{AD_PLOT}/weights_s{{inj}}.png", "weights", "template weights", "{inj}"
        ),
    log:
        ad_log(f"{AD_SIGNAL_JOB}/plot_weights_s{{inj}}"),
    benchmark:
        ad_benchmark("ad_plot_weights", f"{AD_SIGNAL_JOB}/plot_weights_s{{inj}}")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("summary")
    conda:
        CONDA_ENV
    threads: ad_threads("summary")
    resources:
        **ad_resources("summary"),
    params:
        labels=ad_weight_labels,
        title=ad_title(", SR templates", injection=True),
    shell:
        step(
            "hepflows.ad.steps.plot_weights --templates {input:q} --labels {params.labels}"
            " --title {params.title:q} --out {output:q}"
        )


rule all_AD:
    input:
        ad_targets(),
