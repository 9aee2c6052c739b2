# iso, 2. the models: cross-validation splits, their summaries, the guided EFP search, and the
# bootstrap replicas (blocks of bootstrap.per_job per job).
from hepflows.iso.bootstrap import n_jobs as iso_bootstrap_jobs

ISO_TRAIN_PARAMS = iso_params()
ISO_BOOTSTRAP_JOBS = iso_bootstrap_jobs(
    ISO["bootstrap"]["replicas"], ISO["bootstrap"]["per_job"]
)


rule iso_train:
    input:
        unpack(iso_model_inputs),
    output:
        model=multiext(f"{ISO_CV}/model", ".pt", ".json"),
        scores=f"{ISO_CV}/scores.h5",
        metrics=f"{ISO_CV}/metrics.json",
    log:
        iso_log("cv/{model}/split{split}"),
    benchmark:
        iso_benchmark("iso_train", "{model}_split{split}")
    wildcard_constraints:
        **ISO_WILDCARDS,
    group:
        iso_group("train")
    conda:
        CONDA_ENV
    threads: lambda w: iso_threads(iso_train_kind(w))
    resources:
        **iso_train_resources(),
    params:
        cfg=ISO_TRAIN_PARAMS,
        extra=iso_model_args,
    shell:
        step(
            "hepflows.iso.steps.train --params {params.cfg:q} --name {wildcards.model}"
            " --split {wildcards.split} --events {input.events:q} --cwola {input.cwola:q}"
            "{params.extra} --model-files {output.model:q} --scores {output.scores:q}"
            " --metrics {output.metrics:q}"
        )


rule iso_cv_summary:
    input:
        metrics=expand(
            f"{ISO_CV}/metrics.json", split=ISO["cv_splits"], allow_missing=True
        ),
        scores=expand(f"{ISO_CV}/scores.h5", split=ISO["cv_splits"], allow_missing=True),
        events=ISO_EVENTS,
        cwola=ISO_CWOLA,
        fit=ISO_FIT,
    output:
        ISO_CV_SUMMARY,
    log:
        iso_log("cv/{model}/summary"),
    benchmark:
        iso_benchmark("iso_cv_summary", "{model}")
    wildcard_constraints:
        **ISO_WILDCARDS,
    conda:
        CONDA_ENV
    threads: iso_threads("evaluate")
    resources:
        **iso_resources("evaluate"),
    params:
        cfg=iso_params(),
    shell:
        step(
            "hepflows.iso.steps.cv_summary --params {params.cfg:q} --name {wildcards.model}"
            " --metrics {input.metrics:q} --scores {input.scores:q} --events {input.events:q}"
            " --cwola {input.cwola:q} --fit {input.fit:q} --out {output:q}"
        )


ISO_SEARCH_CFG = ISO["efp_search"]


rule iso_search_efps:
    input:
        events=ISO_EVENTS,
        cwola=ISO_CWOLA,
        efps=iso_efp_tables(),
        reference=f"{ISO_DIR}/cv/{ISO_SEARCH_CFG['reference']}/split0/scores.h5",
        start=f"{ISO_DIR}/cv/{ISO_SEARCH_CFG['start']}/split0/scores.h5",
        fit=ISO_FIT,
    output:
        ISO_SEARCH,
    log:
        iso_log("efp_search"),
    benchmark:
        iso_benchmark("iso_search_efps", "efp_search")
    group:
        iso_group("search")
    conda:
        CONDA_ENV
    threads: iso_threads("search")
    resources:
        **iso_resources("search"),
    params:
        cfg=as_json(
            {
                "seed": config["seed"],
                "device": config["device"],
                "search": ISO_SEARCH_CFG,
                "n_cones": ISO_MODELS.get(ISO_SEARCH_CFG["start"], {}).get("n_cones"),
                "network": ISO["networks"]["cones_efps"],
            }
        ),
    shell:
        step(
            "hepflows.iso.steps.search_efps --params {params.cfg:q} --events {input.events:q}"
            " --cwola {input.cwola:q} --efps {input.efps:q} --reference {input.reference:q}"
            " --start {input.start:q} --fit {input.fit:q} --out {output:q}"
        )


rule iso_bootstrap:
    input:
        unpack(iso_bootstrap_inputs),
        cv_summary=ISO_CV_SUMMARY,
    output:
        **({"holdout_out": ISO_HOLDOUT_SCORES} if ISO_HOLDOUT else {}),
        scores=f"{ISO_DIR}/bootstrap/{{model}}/part{{part}}.h5",
    log:
        iso_log("bootstrap/{model}/part{part}"),
    benchmark:
        iso_benchmark("iso_bootstrap", "{model}_part{part}")
    wildcard_constraints:
        **ISO_WILDCARDS,
    group:
        iso_group("train")
    conda:
        CONDA_ENV
    threads: lambda w: iso_threads(iso_train_kind(w))
    resources:
        **iso_train_resources(
            ISO["bootstrap"]["per_job"] or ISO["bootstrap"]["replicas"]
        ),
    params:
        cfg=iso_params(bootstrap=ISO["bootstrap"]),
        extra=iso_model_args,
        holdout=iso_holdout_args,
    shell:
        step(
            "hepflows.iso.steps.bootstrap --params {params.cfg:q} --name {wildcards.model}"
            " --part {wildcards.part} --events {input.events:q} --cwola {input.cwola:q}"
            " --cv-summary {input.cv_summary:q}{params.extra}{params.holdout}"
            " --out {output.scores:q}"
        )
