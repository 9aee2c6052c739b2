# ad, 4. SR discrimination: the weakly supervised classifier ensembles (per method, per point, or
# split into parts, by ad.discrim) and the fully supervised one.
AD_DISCRIM_PARAMS = ad_params(["sr", "weight_sigma_cut"], discrim=AD_DISCRIM)


rule ad_discriminate:
    input:
        data=AD_DATA,
        templates=ad_discrim_templates,
        test=AD_TEST,
        scaler=AD_SCALER,
    output:
        AD_DISCRIM_OUT,
    log:
        ad_log(AD_DISCRIM_JOB),
    benchmark:
        ad_benchmark("ad_discriminate", AD_DISCRIM_JOB)
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("discriminate")
    conda:
        CONDA_ENV
    threads: ad_threads("discriminate")
    resources:
        **ad_resources("discriminate", runtime_factor=len(AD_DISCRIM_OUT)),
    params:
        cfg=AD_DISCRIM_PARAMS,
        tags=AD_DISCRIM_TAGS,
        members=ad_discrim_members,
    shell:
        step(
            "hepflows.ad.steps.discriminate --params {params.cfg:q} --dataset {wildcards.dataset}"
            " --data-seed {wildcards.seed} --tag {params.tags} --members {params.members}"
            " --data {input.data:q} --template {input.templates:q} --test {input.test:q}"
            " --scaler {input.scaler:q} --out {output:q}"
        )


if AD_MEMBER_PARTS:

    rule ad_merge_members:
        input:
            [
                f"{AD_POINT}/{{method}}/part{p}/scores.h5"
                for p in range(len(AD_MEMBER_PARTS))
            ],
        output:
            f"{AD_POINT}/{{method}}/scores.h5",
        log:
            ad_log(f"{AD_POINT_JOB}/{{method}}/merge_members"),
        benchmark:
            ad_benchmark("ad_merge_members", f"{AD_POINT_JOB}/{{method}}/merge_members")
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
            cfg=ad_params([], discrim=AD_DISCRIM),
        shell:
            step(
                "hepflows.ad.steps.merge_members --params {params.cfg:q}"
                " --tag {wildcards.signal}/s{wildcards.inj}/{wildcards.method}"
                " --data-seed {wildcards.seed} --parts {input:q} --out {output:q}"
            )


rule ad_supervised:
    input:
        signal=f"{AD_STATIC}/signal_{{signal}}.h5",
        template=ad_template("ideal"),
        test=AD_TEST,
        scaler=AD_SCALER,
    output:
        f"{AD_SIGNAL}/seed{{seed}}/supervised/scores.h5",
    log:
        ad_log(f"{AD_SIGNAL_JOB}/seed{{seed}}/supervised"),
    benchmark:
        ad_benchmark("ad_supervised", f"{AD_SIGNAL_JOB}/seed{{seed}}/supervised")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("supervised")
    conda:
        CONDA_ENV
    threads: ad_threads("supervised")
    resources:
        **ad_resources("supervised"),
    params:
        cfg=AD_DISCRIM_PARAMS,
    shell:
        step(
            "hepflows.ad.steps.supervised --params {params.cfg:q} --dataset {wildcards.dataset}"
            " --data-seed {wildcards.seed} --tag {wildcards.signal}/supervised"
            " --signal {input.signal:q} --template {input.template:q} --test {input.test:q}"
            " --scaler {input.scaler:q} --out {output:q}"
        )
