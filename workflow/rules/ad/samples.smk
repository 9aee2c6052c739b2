# ad, 1. samples: the static MC / ideal / reference samples and the scaler, the signal pool, the
# injected data sets and the SR test set (from the generators, or from the pools of files.smk).


rule ad_make_static:
    input:
        ad_pools("static"),
    output:
        mc=AD_MC,
        ideal=f"{AD_STATIC}/ideal/template.h5",
        ideal_cr=f"{AD_STATIC}/ideal/template_cr.h5",
        reference=f"{AD_STATIC}/reference_sr.h5",
        scaler=AD_SCALER,
    log:
        ad_log("{dataset}/make_static"),
    benchmark:
        ad_benchmark("ad_make_static", "{dataset}/make_static")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("sample")
    conda:
        CONDA_ENV
    threads: ad_threads("sample")
    resources:
        **ad_resources("sample"),
    params:
        cfg=ad_params(
            [
                "sr",
                "mc_variant",
                "n_mc",
                "n_ideal",
                "n_data",
                "n_sr_templates",
                "sr_templates_per_data",
                *AD_SHAPE_KEYS,
            ],
            preprocessing=AD["preprocessing"],
        ),
    shell:
        step(
            "hepflows.ad.steps.make_static --params {params.cfg:q} --dataset {wildcards.dataset}"
            " --pools {input:q} --out-mc {output.mc:q} --out-ideal {output.ideal:q}"
            " --out-ideal-cr {output.ideal_cr:q} --out-reference {output.reference:q}"
            " --out-scaler {output.scaler:q}"
        )


rule ad_make_testset:
    input:
        ad_pools("test"),
    output:
        AD_TEST,
    log:
        ad_log(f"{AD_SIGNAL_JOB}/make_testset"),
    benchmark:
        ad_benchmark("ad_make_testset", f"{AD_SIGNAL_JOB}/make_testset")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("sample")
    conda:
        CONDA_ENV
    threads: ad_threads("sample")
    resources:
        **ad_resources("sample"),
    params:
        cfg=ad_params(["sr", "n_test_signal", "n_test_background", *AD_SHAPE_KEYS]),
    shell:
        step(
            "hepflows.ad.steps.make_testset --params {params.cfg:q} --dataset {wildcards.dataset}"
            " --signal {wildcards.signal} --pools {input:q} --out {output:q}"
        )


rule ad_make_signal_pool:
    input:
        ad_pools("signal_pool"),
    output:
        f"{AD_STATIC}/signal_{{signal}}.h5",
    log:
        ad_log(f"{AD_SIGNAL_JOB}/make_signal_pool"),
    benchmark:
        ad_benchmark("ad_make_signal_pool", f"{AD_SIGNAL_JOB}/make_signal_pool")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("sample")
    conda:
        CONDA_ENV
    threads: ad_threads("sample")
    resources:
        **ad_resources("sample"),
    params:
        cfg=ad_params(["sr", "n_signal", *AD_SHAPE_KEYS]),
    shell:
        step(
            "hepflows.ad.steps.make_signal_pool --params {params.cfg:q}"
            " --dataset {wildcards.dataset} --signal {wildcards.signal} --pools {input:q}"
            " --out {output:q}"
        )


rule ad_make_data:
    input:
        ad_pools("data"),
    output:
        AD_DATA,
    log:
        ad_log(f"{AD_POINT_JOB}/make_data"),
    benchmark:
        ad_benchmark("ad_make_data", f"{AD_POINT_JOB}/make_data")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("sample")
    conda:
        CONDA_ENV
    threads: ad_threads("sample")
    resources:
        **ad_resources("sample"),
    params:
        cfg=ad_params(["sr", "n_data", *AD_SHAPE_KEYS]),
    shell:
        step(
            "hepflows.ad.steps.make_data --params {params.cfg:q} --dataset {wildcards.dataset}"
            " --signal {wildcards.signal} --data-seed {wildcards.seed} --injection {wildcards.inj}"
            " --pools {input:q} --out {output:q}"
        )
