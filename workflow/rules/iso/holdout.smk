# iso, 1b. the synthetic holdout sample (synthetic.holdout_events > 0): generated apart, fitted
# apart, and given only the EFP columns that the bootstrapped models read; every bootstrap
# replica scores it (training.smk).


rule iso_holdout_events:
    output:
        ISO_HOLDOUT_EVENTS,
    log:
        iso_log("holdout/events"),
    benchmark:
        iso_benchmark("iso_holdout_events", "holdout")
    group:
        iso_group("read")
    conda:
        CONDA_ENV
    threads: iso_threads("read")
    resources:
        **iso_resources("read"),
    params:
        cfg=as_json({"seed": config["seed"], "synthetic": ISO["synthetic"]}),
    shell:
        step(
            "hepflows.iso.steps.holdout_events --params {params.cfg:q} --out {output:q}"
        )


rule iso_fit_holdout_mass:
    input:
        ISO_HOLDOUT_EVENTS,
    output:
        ISO_HOLDOUT_FIT,
    log:
        iso_log("holdout/fit_mass"),
    benchmark:
        iso_benchmark("iso_fit_holdout_mass", "holdout")
    group:
        iso_group("read")
    conda:
        CONDA_ENV
    threads: iso_threads("read")
    resources:
        **iso_resources("read"),
    shell:
        step("hepflows.iso.steps.fit_holdout_mass --events {input:q} --out {output:q}")


rule iso_holdout_efps:
    input:
        events=ISO_HOLDOUT_EVENTS,
        search=[ISO_SEARCH] if iso_searches() else [],
    output:
        f"{ISO_DIR}/holdout/efps/part{{part}}.h5",
    log:
        iso_log("holdout/efps_part{part}"),
    benchmark:
        iso_benchmark("iso_holdout_efps", "part{part}")
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
        cfg=as_json(
            {
                "dmax": ISO["efps"]["dmax"],
                "jobs": ISO["efps"]["jobs"],
                "columns": iso_holdout_efp_columns(),
            }
        ),
        search=lambda w, input: (
            f" --search {shlex.quote(input.search[0])}" if input.search else ""
        ),
    shell:
        step(
            "hepflows.iso.steps.holdout_efps --params {params.cfg:q} --part {wildcards.part}"
            " --events {input.events:q}{params.search} --out {output:q}"
        )


rule iso_merge_holdout_efps:
    input:
        [f"{ISO_DIR}/holdout/efps/part{p}.h5" for p in range(ISO["efps"]["jobs"])],
    output:
        ISO_HOLDOUT_EFPS,
    log:
        iso_log("holdout/efps_merge"),
    benchmark:
        iso_benchmark("iso_merge_holdout_efps", "holdout")
    group:
        iso_group("read")
    conda:
        CONDA_ENV
    threads: iso_threads("read")
    resources:
        **iso_resources("read"),
    shell:
        step("hepflows.iso.steps.merge_holdout_efps --parts {input:q} --out {output:q}")
