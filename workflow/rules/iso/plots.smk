# iso, 4. the figures, one rule per kind, and the target.
rule iso_plot_mass_fit:
    input:
        fit=ISO_FIT,
        events=ISO_EVENTS,
    output:
        **iso_figure("mass_fit", "mass_fit", "mass fit"),
    log:
        iso_log("plots/mass_fit"),
    group:
        iso_group("summary")
    conda:
        CONDA_ENV
    threads: iso_threads("summary")
    resources:
        **iso_resources("summary"),
    params:
        cfg=as_json({"source": ISO["source"]}),
        title=ISO_TITLE,
    shell:
        step(
            "hepflows.iso.steps.plot_mass_fit --params {params.cfg:q} --fit {input.fit:q}"
            " --events {input.events:q} --title {params.title:q} --out {output:q}"
        )


rule iso_plot_isolation:
    input:
        fit=ISO_FIT,
        events=ISO_EVENTS,
    output:
        **iso_figure(
            "isolation_r{radius}_{separation}", "isolation", "isolation R = {radius}"
        ),
    log:
        iso_log("plots/isolation_r{radius}_{separation}"),
    wildcard_constraints:
        **ISO_PLOT_WILDCARDS,
    group:
        iso_group("summary")
    conda:
        CONDA_ENV
    threads: iso_threads("summary")
    resources:
        **iso_resources("summary"),
    params:
        title=ISO_TITLE,
    shell:
        step(
            "hepflows.iso.steps.plot_isolation --events {input.events:q} --fit {input.fit:q}"
            " --radius {wildcards.radius} --separation {wildcards.separation}"
            " --title {params.title:q} --out {output:q}"
        )


rule iso_plot_roc:
    input:
        expand(ISO_EVALUATION, model=ISO_COMPARED),
    output:
        **iso_figure("{style}_{separation}", "roc", "{style} ({separation})"),
    log:
        iso_log("plots/{style}_{separation}"),
    wildcard_constraints:
        **ISO_PLOT_WILDCARDS,
    group:
        iso_group("summary")
    conda:
        CONDA_ENV
    threads: iso_threads("summary")
    resources:
        **iso_resources("summary"),
    params:
        kind=lambda w: {"splot": "sPlot", "truth": "truth"}[w.separation],
        title=ISO_TITLE,
    shell:
        step(
            "hepflows.iso.steps.plot_roc --evaluations {input:q} --kind {params.kind}"
            " --style {wildcards.style} --title {params.title:q} --out {output:q}"
        )


ISO_REFERENCE = ISO["efp_search"]["reference"]


rule iso_plot_cone_scan:
    input:
        table=f"{ISO_SUMMARY}/cone_scan.csv",
        reference=(
            ISO_CV_SUMMARY.format(model=ISO_REFERENCE)
            if ISO_REFERENCE in ISO_MODELS
            else []
        ),
    output:
        **iso_figure("cone_scan", "cone_scan", "cone scan"),
    log:
        iso_log("plots/cone_scan"),
    group:
        iso_group("summary")
    conda:
        CONDA_ENV
    threads: iso_threads("summary")
    resources:
        **iso_resources("summary"),
    params:
        reference=lambda w, input: (
            f"--reference {shlex.quote(input.reference)}" if input.reference else ""
        ),
        title=ISO_TITLE,
    shell:
        step(
            "hepflows.iso.steps.plot_cone_scan --table {input.table:q} {params.reference}"
            " --title {params.title:q} --out {output:q}"
        )


rule iso_plot_efp_search:
    input:
        ISO_SEARCH,
    output:
        **iso_figure("efp_search", "efp_search", "guided EFP search"),
    log:
        iso_log("plots/efp_search"),
    group:
        iso_group("summary")
    conda:
        CONDA_ENV
    threads: iso_threads("summary")
    resources:
        **iso_resources("summary"),
    params:
        cfg=as_json(
            {
                "reference_label": model_label(
                    ISO_MODELS.get(ISO_REFERENCE, {"kind": "pfn"})
                )
            }
        ),
        title=ISO_TITLE,
    shell:
        step(
            "hepflows.iso.steps.plot_efp_search --params {params.cfg:q} --search {input:q}"
            " --title {params.title:q} --out {output:q}"
        )


rule iso_plot_auc_table:
    input:
        f"{ISO_SUMMARY}/auc_table.csv",
    output:
        **iso_figure("auc_table", "auc_table", "AUC table"),
    log:
        iso_log("plots/auc_table"),
    group:
        iso_group("summary")
    conda:
        CONDA_ENV
    threads: iso_threads("summary")
    resources:
        **iso_resources("summary"),
    params:
        title=ISO_TITLE,
    shell:
        step(
            "hepflows.iso.steps.plot_auc_table --table {input:q} --title {params.title:q}"
            " --out {output:q}"
        )


rule all_iso:
    input:
        iso_targets(),
