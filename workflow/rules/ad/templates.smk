# ad, 2. templates: context weights, SALAD reweighting, CATHODE generation and FETA morphing (its
# MC base flow once per seed). The ideal template is static (samples.smk). The flows' loss
# curves go into the report (ad_loss_curve).
AD_TEMPLATE_ARGS = (
    " --dataset {wildcards.dataset} --data-seed {wildcards.seed} --data {input.data:q}"
    " --mc {input.mc:q} --scaler {input.scaler:q}"
)


rule ad_context_weights:
    input:
        **AD_TEMPLATE_INPUTS,
    output:
        AD_CONTEXT_WEIGHTS,
    log:
        ad_log(f"{AD_POINT_JOB}/context_weights"),
    benchmark:
        ad_benchmark("ad_context_weights", f"{AD_POINT_JOB}/context_weights")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("context_weights")
    conda:
        CONDA_ENV
    threads: ad_threads("context_weights")
    resources:
        **ad_resources("context_weights"),
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD["context_weights"]),
    shell:
        step(
            "hepflows.ad.steps.context_weights --params {params.cfg:q}"
            + AD_TEMPLATE_ARGS
            + " --out {output:q}"
        )


rule ad_reweight:
    input:
        **AD_TEMPLATE_INPUTS,
    output:
        template=f"{AD_POINT}/reweight/template.h5",
        template_cr=f"{AD_POINT}/reweight/template_cr.h5",
    log:
        ad_log(f"{AD_POINT_JOB}/reweight"),
    benchmark:
        ad_benchmark("ad_reweight", f"{AD_POINT_JOB}/reweight")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("reweight")
    conda:
        CONDA_ENV
    threads: ad_threads("reweight")
    resources:
        **ad_resources("reweight"),
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD["reweight"]),
    shell:
        step(
            "hepflows.ad.steps.reweight --params {params.cfg:q}"
            + AD_TEMPLATE_ARGS
            + " --out {output.template:q} --out-cr {output.template_cr:q}"
        )


rule ad_generate:
    input:
        **AD_TEMPLATE_INPUTS,
        context_weights=AD_CONTEXT_WEIGHTS,
    output:
        template=f"{AD_POINT}/generate/template.h5",
        template_cr=f"{AD_POINT}/generate/template_cr.h5",
        model=multiext(f"{AD_POINT}/generate/flow", ".pt", ".json"),
        loss=ad_loss_curve(f"{AD_POINT}/generate/loss", "CATHODE flow"),
    log:
        ad_log(f"{AD_POINT_JOB}/generate"),
    benchmark:
        ad_benchmark("ad_generate", f"{AD_POINT_JOB}/generate")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("generate")
    conda:
        CONDA_ENV
    threads: ad_threads("generate")
    resources:
        **ad_resources("generate"),
    params:
        cfg=ad_params(
            [*AD_TEMPLATE_KEYS, "context_source", "kde_bandwidth"],
            method=AD["generate"],
        ),
        title=ad_title(injection=True),
    shell:
        step(
            "hepflows.ad.steps.generate --params {params.cfg:q}"
            + AD_TEMPLATE_ARGS
            + " --context-weights {input.context_weights:q} --out {output.template:q}"
            " --out-cr {output.template_cr:q} --out-model {output.model:q}"
            " --out-loss {output.loss:q} --title {params.title:q}"
        )


rule ad_morph_base:
    input:
        mc=AD_MC,
        scaler=AD_SCALER,
    output:
        model=AD_MORPH_BASE_MODEL,
        loss=ad_loss_curve(
            f"{AD_STATIC}/morph_base/seed{{seed}}/loss", "FETA base flow", mc_only=True
        ),
    log:
        ad_log("{dataset}/static/morph_base/seed{seed}"),
    benchmark:
        ad_benchmark("ad_morph_base", "{dataset}/static/morph_base/seed{seed}")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("morph_base")
    conda:
        CONDA_ENV
    threads: ad_threads("morph_base")
    resources:
        **ad_resources("morph_base"),
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD_MORPH_BASE),
    shell:
        step(
            "hepflows.ad.steps.morph_base --params {params.cfg:q} --dataset {wildcards.dataset}"
            " --data-seed {wildcards.seed} --mc {input.mc:q} --scaler {input.scaler:q}"
            " --out-model {output.model:q} --out-loss {output.loss:q}"
        )


rule ad_morph:
    input:
        **AD_TEMPLATE_INPUTS,
        context_weights=AD_CONTEXT_WEIGHTS,
        base=AD_MORPH_BASE_MODEL,
    output:
        template=f"{AD_POINT}/morph/template.h5",
        template_cr=f"{AD_POINT}/morph/template_cr.h5",
        model=multiext(f"{AD_POINT}/morph/flow", ".pt", ".json"),
        loss=ad_loss_curve(f"{AD_POINT}/morph/loss", "FETA top flow"),
    log:
        ad_log(f"{AD_POINT_JOB}/morph"),
    benchmark:
        ad_benchmark("ad_morph", f"{AD_POINT_JOB}/morph")
    wildcard_constraints:
        **AD_WILDCARDS,
    group:
        ad_group("morph")
    conda:
        CONDA_ENV
    threads: ad_threads("morph")
    resources:
        **ad_resources("morph"),
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD_MORPH_TOP),
        title=ad_title(injection=True),
    shell:
        step(
            "hepflows.ad.steps.morph --params {params.cfg:q}"
            + AD_TEMPLATE_ARGS
            + " --context-weights {input.context_weights:q} --base-model {input.base:q}"
            " --out {output.template:q} --out-cr {output.template_cr:q}"
            " --out-model {output.model:q} --out-loss {output.loss:q} --title {params.title:q}"
        )
