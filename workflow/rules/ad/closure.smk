# ad, 3. closure: each weak method's templates against truth, in the held-out CR and in the SR.


rule ad_closure:
    input:
        data=AD_DATA,
        template=ad_templates("template.h5"),
        template_cr=ad_templates("template_cr.h5"),
        reference=f"{AD_STATIC}/reference_sr.h5",
        scaler=AD_SCALER,
    output:
        json=f"{AD_POINT}/{{method}}/closure/closure.json",
        # The PNGs in the report (their PDF twins are the same figures for slides).
        plots=[
            path
            for region in ("CR", "SR")
            for path in (
                f"{AD_POINT}/{{method}}/closure/ratios_{region}.pdf",
                ad_report_detail(
                    f"{AD_POINT}/{{method}}/closure/ratios_{region}.png",
                    f"closure_ratios_{region}",
                    "{signal}: closure ratios",
                    method="{method}",
                    region=region,
                    seed="{seed}",
                    **{"S/B": "{inj}"},
                ),
            )
        ],
    log:
        ad_log(f"{AD_POINT_JOB}/{{method}}/closure"),
    benchmark:
        ad_benchmark("ad_closure", f"{AD_POINT_JOB}/{{method}}/closure")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("closure")
    conda:
        CONDA_ENV
    threads: ad_threads("closure")
    resources:
        **ad_resources("closure"),
    params:
        cfg=ad_params(
            ["sr", "weight_sigma_cut"],
            closure=AD["closure"],
            discrim={"weight_sigma_cut": AD["discrim"]["weight_sigma_cut"]},
        ),
    shell:
        step(
            "hepflows.ad.steps.closure --params {params.cfg:q} --dataset {wildcards.dataset}"
            " --method {wildcards.method} --data-seed {wildcards.seed} --data {input.data:q}"
            " --template {input.template:q} --template-cr {input.template_cr:q}"
            " --reference {input.reference:q} --scaler {input.scaler:q}"
            " --out {output.json:q} --out-plots {output.plots:q}"
        )
