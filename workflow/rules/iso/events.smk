# iso, 1. the events, their CWoLa labels and folds, the mass fit, and the EFPs in chunks.


rule iso_events:
    output:
        ISO_EVENTS,
    log:
        iso_log("events"),
    benchmark:
        iso_benchmark("iso_events", "events")
    group:
        iso_group("read")
    conda:
        CONDA_ENV
    threads: iso_threads("read")
    resources:
        **iso_resources("read"),
    params:
        cfg=as_json(
            {
                "seed": config["seed"],
                "source": ISO["source"],
                "synthetic": ISO["synthetic"],
                "cms": ISO["cms"],
            }
        ),
    shell:
        step("hepflows.iso.steps.events --params {params.cfg:q} --out {output:q}")


rule iso_label:
    input:
        ISO_EVENTS,
    output:
        ISO_CWOLA,
    log:
        iso_log("label"),
    benchmark:
        iso_benchmark("iso_label", "label")
    group:
        iso_group("read")
    conda:
        CONDA_ENV
    threads: iso_threads("read")
    resources:
        **iso_resources("read"),
    params:
        cfg=as_json({"seed": config["seed"]}),
    shell:
        step(
            "hepflows.iso.steps.label --params {params.cfg:q} --events {input:q} --out {output:q}"
        )


rule iso_fit_mass:
    input:
        ISO_EVENTS,
    output:
        ISO_FIT,
    log:
        iso_log("fit_mass"),
    benchmark:
        iso_benchmark("iso_fit_mass", "fit_mass")
    group:
        iso_group("read")
    conda:
        CONDA_ENV
    threads: iso_threads("read")
    resources:
        **iso_resources("read"),
    shell:
        step("hepflows.iso.steps.fit_mass --events {input:q} --out {output:q}")


ISO_EFP_PARAMS = as_json({"dmax": ISO["efps"]["dmax"], "jobs": ISO["efps"]["jobs"]})


rule iso_efps:
    input:
        ISO_EVENTS,
    output:
        f"{ISO_DIR}/efps/k{{kappa}}_b{{beta}}/part{{part}}.h5",
    log:
        iso_log("efps/k{kappa}_b{beta}_part{part}"),
    benchmark:
        iso_benchmark("iso_efps", "k{kappa}_b{beta}_part{part}")
    wildcard_constraints:
        **ISO_WILDCARDS,
    group:
        iso_group("efps")
    conda:
        CONDA_ENV
    threads: iso_threads("efps")
    resources:
        **iso_resources("efps"),
    params:
        cfg=ISO_EFP_PARAMS,
    shell:
        step(
            "hepflows.iso.steps.efps --params {params.cfg:q} --kappa {wildcards.kappa}"
            " --beta {wildcards.beta} --part {wildcards.part} --events {input:q}"
            " --out {output:q}"
        )


rule iso_merge_efps:
    input:
        [
            f"{ISO_DIR}/efps/k{{kappa}}_b{{beta}}/part{p}.h5"
            for p in range(ISO["efps"]["jobs"])
        ],
    output:
        ISO_EFP,
    log:
        iso_log("efps/k{kappa}_b{beta}_merge"),
    benchmark:
        iso_benchmark("iso_merge_efps", "k{kappa}_b{beta}")
    wildcard_constraints:
        **ISO_WILDCARDS,
    group:
        iso_group("read")
    conda:
        CONDA_ENV
    threads: iso_threads("read")
    resources:
        **iso_resources("read"),
    params:
        cfg=ISO_EFP_PARAMS,
    shell:
        step(
            "hepflows.iso.steps.merge_efps --params {params.cfg:q} --parts {input:q}"
            " --out {output:q}"
        )
