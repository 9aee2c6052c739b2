# ad, 1a. source: files: each real file is read once and cut into disjoint pools
# (hepflows.ad.file_pools) that the sample rules take instead of generating events.
AD_FILE_KEYS = ["sr", "files", "n_data", "n_ideal", "n_test_background", *AD_SHAPE_KEYS]


rule ad_read_background:
    input:
        ad_source_file("background"),
    output:
        [
            f"{AD_FILES}/{p}.h5"
            for p in ("data", "ideal", "reference", "test_background")
        ],
    log:
        ad_log("{dataset}/read_background"),
    benchmark:
        ad_benchmark("ad_read_background", "{dataset}/read_background")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("read")
    conda:
        CONDA_ENV
    threads: ad_threads("read")
    resources:
        **ad_resources("read"),
    params:
        cfg=ad_params(AD_FILE_KEYS),
    shell:
        step(
            "hepflows.ad.steps.read_background --params {params.cfg:q}"
            " --dataset {wildcards.dataset} --file {input:q} --out {output:q}"
        )


rule ad_read_mc:
    input:
        ad_source_file("mc"),
    output:
        f"{AD_FILES}/mc.h5",
    log:
        ad_log("{dataset}/read_mc"),
    benchmark:
        ad_benchmark("ad_read_mc", "{dataset}/read_mc")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("read")
    conda:
        CONDA_ENV
    threads: ad_threads("read")
    resources:
        **ad_resources("read"),
    params:
        cfg=ad_params(["files", "n_mc", *AD_SHAPE_KEYS]),
    shell:
        step(
            "hepflows.ad.steps.read_mc --params {params.cfg:q}"
            " --dataset {wildcards.dataset} --file {input:q} --out {output:q}"
        )


rule ad_read_signal:
    input:
        ad_source_file("signal"),
    output:
        [
            f"{AD_FILES}/{{signal}}/signal_{p}.h5"
            for p in ("test", "supervised", "inject")
        ],
    log:
        ad_log("{dataset}/{signal}/read_signal"),
    benchmark:
        ad_benchmark("ad_read_signal", "{dataset}/{signal}/read_signal")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("read")
    conda:
        CONDA_ENV
    threads: ad_threads("read")
    resources:
        **ad_resources("read"),
    params:
        cfg=ad_params(["sr", "files", "n_signal", "n_test_signal", *AD_SHAPE_KEYS]),
    shell:
        step(
            "hepflows.ad.steps.read_signal --params {params.cfg:q} --dataset {wildcards.dataset}"
            " --signal {wildcards.signal} --file {input:q} --out {output:q}"
        )
