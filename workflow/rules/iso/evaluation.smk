# iso, 3. evaluation: each model's bootstrap replicas against the mass fit (sPlot) and the truth,
# with the holdout sample's beside them where there is one, and the summary tables.


rule iso_evaluate:
    input:
        unpack(iso_evaluate_inputs),
    output:
        ISO_EVALUATION,
    log:
        iso_log("evaluate/{model}"),
    benchmark:
        iso_benchmark("iso_evaluate", "{model}")
    wildcard_constraints:
        **ISO_WILDCARDS,
    group:
        iso_group("evaluate")
    conda:
        CONDA_ENV
    threads: iso_threads("evaluate")
    resources:
        **iso_resources("evaluate"),
    params:
        cfg=iso_params(**ISO["evaluate"]),
        holdout=iso_holdout_args,
    shell:
        step(
            "hepflows.iso.steps.evaluate --params {params.cfg:q} --name {wildcards.model}"
            " --parts {input.parts:q} --events {input.events:q} --cwola {input.cwola:q}"
            " --fit {input.fit:q}{params.holdout} --out {output:q}"
        )


rule iso_summary:
    input:
        evaluations=expand(ISO_EVALUATION, model=ISO_COMPARED),
        cv=expand(ISO_CV_SUMMARY, model=list(ISO_MODELS)),
    output:
        auc_table=iso_report(
            f"{ISO_SUMMARY}/auc_table.csv", "auc_table_csv", "AUC table"
        ),
        cv_table=f"{ISO_SUMMARY}/cv.csv",
        cone_scan=f"{ISO_SUMMARY}/cone_scan.csv",
    log:
        iso_log("summary"),
    benchmark:
        iso_benchmark("iso_summary", "summary")
    group:
        iso_group("summary")
    conda:
        CONDA_ENV
    threads: iso_threads("summary")
    resources:
        **iso_resources("summary"),
    params:
        cfg=as_json({"cone_scan": ISO["cone_scan"]}),
    shell:
        step(
            "hepflows.iso.steps.summary --params {params.cfg:q}"
            " --evaluations {input.evaluations:q} --cv {input.cv:q}"
            " --auc-table {output.auc_table:q} --cv-table {output.cv_table:q}"
            " --cone-scan {output.cone_scan:q}"
        )
