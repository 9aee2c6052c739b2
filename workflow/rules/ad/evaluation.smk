# ad, 5. evaluation over data seeds and the summary tables of each (dataset, signal).


rule ad_evaluate:
    input:
        scores=ad_over_seeds(f"{AD_POINT}/{{method}}/scores.h5"),
        data=ad_over_seeds(AD_DATA),
    output:
        f"{AD_SIGNAL}/evaluation/{{method}}_s{{inj}}.json",
    log:
        ad_log(f"{AD_SIGNAL_JOB}/evaluate_{{method}}_s{{inj}}"),
    benchmark:
        ad_benchmark("ad_evaluate", f"{AD_SIGNAL_JOB}/evaluate_{{method}}_s{{inj}}")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("evaluate")
    conda:
        CONDA_ENV
    threads: ad_threads("evaluate")
    resources:
        **ad_resources("evaluate"),
    params:
        cfg=as_json(AD["evaluate"]),
    shell:
        step(
            "hepflows.ad.steps.evaluate --params {params.cfg:q} --method {wildcards.method}"
            f" --injection {{wildcards.inj}} --seeds {AD_SEEDS} --scores {{input.scores:q}}"
            " --data {input.data:q} --out {output:q}"
        )


rule ad_evaluate_supervised:
    input:
        ad_over_seeds(f"{AD_SIGNAL}/seed{{seed}}/supervised/scores.h5"),
    output:
        f"{AD_SIGNAL}/evaluation/supervised.json",
    log:
        ad_log(f"{AD_SIGNAL_JOB}/evaluate_supervised"),
    benchmark:
        ad_benchmark("ad_evaluate_supervised", f"{AD_SIGNAL_JOB}/evaluate_supervised")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("evaluate")
    conda:
        CONDA_ENV
    threads: ad_threads("evaluate")
    resources:
        **ad_resources("evaluate"),
    params:
        cfg=as_json(AD["evaluate"]),
    shell:
        step(
            "hepflows.ad.steps.evaluate_supervised --params {params.cfg:q}"
            f" --seeds {AD_SEEDS} --scores {{input:q}} --out {{output:q}}"
        )


rule ad_aggregate:
    input:
        evaluations=ad_evaluations,
        closures=ad_closures,
    output:
        sic=ad_report(
            f"{AD_SIGNAL}/summary/max_sic.csv",
            "max_sic_table",
            "max SIC table (CSV)",
            "scan",
        ),
        closure=ad_report(
            f"{AD_SIGNAL}/summary/closure.csv",
            "closure_table",
            "closure table (CSV)",
            AD_CLOSURE_SB,
        ),
    log:
        ad_log(f"{AD_SIGNAL_JOB}/aggregate"),
    benchmark:
        ad_benchmark("ad_aggregate", f"{AD_SIGNAL_JOB}/aggregate")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("summary")
    conda:
        CONDA_ENV
    threads: ad_threads("summary")
    resources:
        **ad_resources("summary"),
    shell:
        step(
            "hepflows.ad.steps.aggregate --evaluations {input.evaluations:q}"
            " --closures {input.closures:q} --out-sic {output.sic:q}"
            " --out-closure {output.closure:q}"
        )
