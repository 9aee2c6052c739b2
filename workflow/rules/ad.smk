# ad: background extrapolation for weakly supervised anomaly detection (seed 003).
#
# results/ad/{dataset}/
#   static/          MC, ideal background (template + SR reference), signal pools, scaler
#   {signal}/test.h5                           labelled SR test set
#   {signal}/seed{seed}/s{inj}/data.h5         injected data (S/B = inj in the SR)
#   {signal}/seed{seed}/s{inj}/{method}/       template, scores, closure
#   {signal}/seed{seed}/supervised/scores.h5   fully supervised upper bound
#   {signal}/evaluation, summary, plots        scan results over seeds
include: "ad_common.smk"


AD_ENV = "../../envs/hepflows.yaml"


wildcard_constraints:
    dataset="|".join(AD["datasets"]),
    signal=r"[A-Za-z0-9_]+",
    seed=r"\d+",
    inj=r"[0-9.eE+-]+",
    method="|".join(AD_WEAK_METHODS),
    part=r"\d+",


# ---------------------------------------------------------------- 1. samples
# source: files: each real file is read once and cut into disjoint pools (hepflows.ad.file_pools)
# that the sample rules below take instead of generating events.
AD_FILE_KEYS = ["sr", "files", "n_data", "n_ideal", "n_test_background", *AD_SHAPE_KEYS]


rule ad_read_background:
    input:
        ad_source_file("background"),
    output:
        [f"{AD_FILES}/{p}.h5" for p in ("data", "ideal", "reference", "test_background")],
    params:
        cfg=ad_params(AD_FILE_KEYS),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/read_background.log",
    benchmark:
        f"{AD_BENCH}/ad_read_background/{{dataset}}/read_background.tsv"
    threads: AD_RES["read"]["threads"]
    resources:
        **ad_resources("read"),
    shell:
        step(
            "hepflows.ad.read_files --dataset {wildcards.dataset} --kind background"
            " --file {input:q} --out {output:q}",
        )


rule ad_read_mc:
    input:
        ad_source_file("mc"),
    output:
        f"{AD_FILES}/mc.h5",
    params:
        cfg=ad_params(["files", "n_mc", *AD_SHAPE_KEYS]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/read_mc.log",
    benchmark:
        f"{AD_BENCH}/ad_read_mc/{{dataset}}/read_mc.tsv"
    threads: AD_RES["read"]["threads"]
    resources:
        **ad_resources("read"),
    shell:
        step(
            "hepflows.ad.read_files --dataset {wildcards.dataset} --kind mc"
            " --file {input:q} --out {output:q}",
        )


rule ad_read_signal:
    input:
        ad_source_file("signal"),
    output:
        [f"{AD_FILES}/{{signal}}/signal_{p}.h5" for p in ("test", "supervised", "inject")],
    params:
        cfg=ad_params(["sr", "files", "n_signal", "n_test_signal", *AD_SHAPE_KEYS]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/read_signal.log",
    benchmark:
        f"{AD_BENCH}/ad_read_signal/{{dataset}}/{{signal}}/read_signal.tsv"
    threads: AD_RES["read"]["threads"]
    resources:
        **ad_resources("read"),
    shell:
        step(
            "hepflows.ad.read_files --dataset {wildcards.dataset} --kind signal"
            " --signal {wildcards.signal} --file {input:q} --out {output:q}",
        )


rule ad_make_static:
    input:
        ad_pools("static"),
    output:
        mc=f"{AD_DIR}/{{dataset}}/static/mc.h5",
        ideal=f"{AD_DIR}/{{dataset}}/static/ideal/template.h5",
        ideal_cr=f"{AD_DIR}/{{dataset}}/static/ideal/template_cr.h5",
        reference=f"{AD_DIR}/{{dataset}}/static/reference_sr.h5",
        scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
    params:
        cfg=ad_params(["sr", "mc_variant", "n_mc", "n_ideal", *AD_SHAPE_KEYS],
            preprocessing=AD["preprocessing"],
        ),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/make_static.log",
    benchmark:
        f"{AD_BENCH}/ad_make_static/{{dataset}}/make_static.tsv"
    threads: AD_RES["sample"]["threads"]
    resources:
        **ad_resources("sample"),
    shell:
        step(
            "hepflows.ad.make_static --dataset {wildcards.dataset} --pools {input:q}"
            " --out-mc {output.mc} --out-ideal {output.ideal} --out-ideal-cr {output.ideal_cr}"
            " --out-reference {output.reference} --out-scaler {output.scaler}",
        )


rule ad_make_testset:
    input:
        ad_pools("test"),
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/test.h5",
    params:
        cfg=ad_params(["sr", "n_test_signal", "n_test_background", *AD_SHAPE_KEYS]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/make_testset.log",
    benchmark:
        f"{AD_BENCH}/ad_make_testset/{{dataset}}/{{signal}}/make_testset.tsv"
    threads: AD_RES["sample"]["threads"]
    resources:
        **ad_resources("sample"),
    shell:
        step(
            "hepflows.ad.make_testset --dataset {wildcards.dataset} --signal {wildcards.signal}"
            " --pools {input:q} --out {output}",
        )


rule ad_make_signal_pool:
    input:
        ad_pools("signal_pool"),
    output:
        f"{AD_DIR}/{{dataset}}/static/signal_{{signal}}.h5",
    params:
        cfg=ad_params(["sr", "n_signal", *AD_SHAPE_KEYS]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/make_signal_pool.log",
    benchmark:
        f"{AD_BENCH}/ad_make_signal_pool/{{dataset}}/{{signal}}/make_signal_pool.tsv"
    threads: AD_RES["sample"]["threads"]
    resources:
        **ad_resources("sample"),
    shell:
        step(
            "hepflows.ad.make_testset --pool --dataset {wildcards.dataset}"
            " --signal {wildcards.signal} --pools {input:q} --out {output}",
        )


rule ad_make_data:
    input:
        ad_pools("data"),
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/data.h5",
    params:
        cfg=ad_params(["sr", "n_data", *AD_SHAPE_KEYS]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/make_data.log",
    benchmark:
        f"{AD_BENCH}/ad_make_data/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/make_data.tsv"
    threads: AD_RES["sample"]["threads"]
    resources:
        **ad_resources("sample"),
    shell:
        step(
            "hepflows.ad.make_data --dataset {wildcards.dataset} --signal {wildcards.signal}"
            " --data-seed {wildcards.seed} --injection {wildcards.inj} --pools {input:q} --out {output}",
        )


# ---------------------------------------------------------------- 2. templates


rule ad_context_weights:
    input:
        **AD_TEMPLATE_INPUTS,
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/context_weights/weights.h5",
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD["context_weights"]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/context_weights.log",
    benchmark:
        f"{AD_BENCH}/ad_context_weights/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/context_weights.tsv"
    threads: AD_RES["context_weights"]["threads"]
    resources:
        **ad_resources("context_weights"),
    shell:
        step(
            "hepflows.ad.context_weights --dataset {wildcards.dataset}"
            " --data-seed {wildcards.seed} --data {input.data} --mc {input.mc} --scaler {input.scaler}"
            " --out {output}",
        )


rule ad_reweight:
    input:
        **AD_TEMPLATE_INPUTS,
    output:
        template=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/reweight/template.h5",
        template_cr=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/reweight/template_cr.h5",
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD["reweight"]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/reweight.log",
    benchmark:
        f"{AD_BENCH}/ad_reweight/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/reweight.tsv"
    threads: AD_RES["reweight"]["threads"]
    resources:
        **ad_resources("reweight"),
    shell:
        step(
            "hepflows.ad.reweight --dataset {wildcards.dataset}"
            " --data-seed {wildcards.seed} --data {input.data} --mc {input.mc} --scaler {input.scaler}"
            " --out {output.template} --out-cr {output.template_cr}",
        )


rule ad_generate:
    input:
        **AD_TEMPLATE_INPUTS,
        context_weights=f"{AD_POINT}/context_weights/weights.h5",
    output:
        template=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate/template.h5",
        template_cr=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate/template_cr.h5",
        model=multiext(f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate/flow", ".pt", ".json"),
    params:
        cfg=ad_params([*AD_TEMPLATE_KEYS, "context_source", "kde_bandwidth"], method=AD["generate"]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate.log",
    benchmark:
        f"{AD_BENCH}/ad_generate/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate.tsv"
    threads: AD_RES["generate"]["threads"]
    resources:
        **ad_resources("generate"),
    shell:
        step(
            "hepflows.ad.generate --dataset {wildcards.dataset}"
            " --data-seed {wildcards.seed} --data {input.data} --mc {input.mc} --scaler {input.scaler}"
            " --context-weights {input.context_weights}"
            " --out {output.template} --out-cr {output.template_cr} --out-model {output.model}",
        )


rule ad_morph_base:
    input:
        mc=f"{AD_DIR}/{{dataset}}/static/mc.h5",
        scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
    output:
        AD_MORPH_BASE_MODEL,
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD_MORPH_BASE),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/static/morph_base/seed{{seed}}.log",
    benchmark:
        f"{AD_BENCH}/ad_morph_base/{{dataset}}/static/morph_base/seed{{seed}}.tsv"
    threads: AD_RES["morph_base"]["threads"]
    resources:
        **ad_resources("morph_base"),
    shell:
        step(
            "hepflows.ad.morph_base --dataset {wildcards.dataset} --data-seed {wildcards.seed}"
            " --mc {input.mc} --scaler {input.scaler} --out-model {output}",
        )


rule ad_morph:
    input:
        **AD_TEMPLATE_INPUTS,
        context_weights=f"{AD_POINT}/context_weights/weights.h5",
        base=AD_MORPH_BASE_MODEL,
    output:
        template=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph/template.h5",
        template_cr=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph/template_cr.h5",
        model=multiext(f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph/flow", ".pt", ".json"),
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD_MORPH_TOP),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph.log",
    benchmark:
        f"{AD_BENCH}/ad_morph/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph.tsv"
    threads: AD_RES["morph"]["threads"]
    resources:
        **ad_resources("morph"),
    shell:
        step(
            "hepflows.ad.morph --dataset {wildcards.dataset}"
            " --data-seed {wildcards.seed} --data {input.data} --mc {input.mc} --scaler {input.scaler}"
            " --context-weights {input.context_weights} --base-model {input.base}"
            " --out {output.template} --out-cr {output.template_cr} --out-model {output.model}",
        )


# ---------------------------------------------------------------- 3. closure
rule ad_closure:
    input:
        data=f"{AD_POINT}/data.h5",
        template=ad_template,
        template_cr=lambda w: ad_template(w, "template_cr.h5"),
        reference=f"{AD_DIR}/{{dataset}}/static/reference_sr.h5",
        scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
    output:
        json=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/closure/closure.json",
        plots=multiext(
            f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/closure/ratios_",
            "CR.pdf", "CR.png", "SR.pdf", "SR.png",
        ),
    params:
        cfg=ad_params(["sr"], closure=AD["closure"]),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/closure.log",
    benchmark:
        f"{AD_BENCH}/ad_closure/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/closure.tsv"
    threads: AD_RES["closure"]["threads"]
    resources:
        **ad_resources("closure"),
    shell:
        step(
            "hepflows.ad.closure --dataset {wildcards.dataset} --method {wildcards.method}"
            " --data-seed {wildcards.seed} --data {input.data} --template {input.template}"
            " --template-cr {input.template_cr} --reference {input.reference} --scaler {input.scaler}"
            " --out {output.json} --out-plots {output.plots}",
        )


# ---------------------------------------------------------------- 4. SR discrimination
if AD_MEMBER_PARTS:

    rule ad_discriminate:
        input:
            data=f"{AD_POINT}/data.h5",
            template=ad_template,
            test=f"{AD_DIR}/{{dataset}}/{{signal}}/test.h5",
            scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
        output:
            f"{AD_POINT}/{{method}}/part{{part}}/scores.h5",
        params:
            cfg=ad_params(["sr", "weight_sigma_cut"], discrim=AD_DISCRIM),
            tag="{signal}/s{inj}/{method}",
            members=lambda wildcards: "{} {}".format(*AD_MEMBER_PARTS[int(wildcards.part)]),
        conda:
            AD_ENV
        log:
            f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/discriminate_part{{part}}.log",
        benchmark:
            f"{AD_BENCH}/ad_discriminate/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/discriminate_part{{part}}.tsv"
        threads: AD_RES["discriminate"]["threads"]
        resources:
            **ad_resources("discriminate"),
        shell:
            step(
                "hepflows.ad.discriminate --dataset {wildcards.dataset} --data-seed {wildcards.seed}"
                " --tag {params.tag} --members {params.members} --positives {input.data}"
                " --template {input.template} --test {input.test} --scaler {input.scaler}"
                " --out {output}",
            )

    rule ad_merge_members:
        input:
            [f"{AD_POINT}/{{method}}/part{p}/scores.h5" for p in range(len(AD_MEMBER_PARTS))],
        output:
            f"{AD_POINT}/{{method}}/scores.h5",
        params:
            cfg=ad_params([], discrim=AD_DISCRIM),
            tag="{signal}/s{inj}/{method}",
        conda:
            AD_ENV
        log:
            f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/merge_members.log",
        benchmark:
            f"{AD_BENCH}/ad_merge_members/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/merge_members.tsv"
        threads: AD_RES["evaluate"]["threads"]
        resources:
            **ad_resources("evaluate"),
        shell:
            step(
                "hepflows.ad.merge_members --tag {params.tag} --data-seed {wildcards.seed}"
                " --parts {input:q} --out {output}",
            )

elif AD["discrim"]["one_job_per"] == "method":

    rule ad_discriminate:
        input:
            data=f"{AD_POINT}/data.h5",
            template=ad_template,
            test=f"{AD_DIR}/{{dataset}}/{{signal}}/test.h5",
            scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
        output:
            f"{AD_POINT}/{{method}}/scores.h5",
        params:
            cfg=ad_params(["sr", "weight_sigma_cut"], discrim=AD_DISCRIM),
            tag="{signal}/s{inj}/{method}",
        conda:
            AD_ENV
        log:
            f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/discriminate.log",
        benchmark:
            f"{AD_BENCH}/ad_discriminate/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/discriminate.tsv"
        threads: AD_RES["discriminate"]["threads"]
        resources:
            **ad_resources("discriminate"),
        shell:
            step(
                "hepflows.ad.discriminate --dataset {wildcards.dataset} --data-seed {wildcards.seed}"
                " --tag {params.tag} --positives {input.data} --template {input.template}"
                " --test {input.test} --scaler {input.scaler} --out {output}",
            )

else:

    rule ad_discriminate:
        input:
            data=f"{AD_POINT}/data.h5",
            templates=[ad_point_template(m) for m in ad_methods("weak")],
            test=f"{AD_DIR}/{{dataset}}/{{signal}}/test.h5",
            scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
        output:
            [f"{AD_POINT}/{m}/scores.h5" for m in ad_methods("weak")],
        params:
            cfg=ad_params(["sr", "weight_sigma_cut"], discrim=AD_DISCRIM),
            tags=" ".join(f"{{signal}}/s{{inj}}/{m}" for m in ad_methods("weak")),
        conda:
            AD_ENV
        log:
            f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/discriminate.log",
        benchmark:
            f"{AD_BENCH}/ad_discriminate/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/discriminate.tsv"
        threads: AD_RES["discriminate"]["threads"]
        resources:
            **ad_resources("discriminate", runtime_factor=len(ad_methods("weak"))),
        shell:
            step(
                "hepflows.ad.discriminate --dataset {wildcards.dataset} --data-seed {wildcards.seed}"
                " --tag {params.tags} --positives {input.data} --template {input.templates}"
                " --test {input.test} --scaler {input.scaler} --out {output}",
            )


rule ad_supervised:
    input:
        signal=f"{AD_DIR}/{{dataset}}/static/signal_{{signal}}.h5",
        template=f"{AD_DIR}/{{dataset}}/static/ideal/template.h5",
        test=f"{AD_DIR}/{{dataset}}/{{signal}}/test.h5",
        scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/supervised/scores.h5",
    params:
        cfg=ad_params(["sr", "weight_sigma_cut"], discrim=AD_DISCRIM),
        tag="{signal}/supervised",
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/supervised.log",
    benchmark:
        f"{AD_BENCH}/ad_supervised/{{dataset}}/{{signal}}/seed{{seed}}/supervised.tsv"
    threads: AD_RES["supervised"]["threads"]
    resources:
        **ad_resources("supervised"),
    shell:
        step(
            "hepflows.ad.discriminate --supervised --dataset {wildcards.dataset}"
            " --data-seed {wildcards.seed} --tag {params.tag} --positives {input.signal}"
            " --template {input.template} --test {input.test} --scaler {input.scaler}"
            " --out {output}",
        )


# ---------------------------------------------------------------- 5. evaluation over seeds
rule ad_evaluate:
    input:
        scores=lambda w: expand(
            f"{AD_DIR}/{w.dataset}/{w.signal}/seed{{seed}}/s{w.inj}/{w.method}/scores.h5",
            seed=AD["seeds"],
        ),
        data=lambda w: expand(
            f"{AD_DIR}/{w.dataset}/{w.signal}/seed{{seed}}/s{w.inj}/data.h5", seed=AD["seeds"]
        ),
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/evaluation/{{method}}_s{{inj}}.json",
    params:
        cfg=as_json(AD["evaluate"]),
        seeds=" ".join(map(str, AD["seeds"])),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/evaluate_{{method}}_s{{inj}}.log",
    benchmark:
        f"{AD_BENCH}/ad_evaluate/{{dataset}}/{{signal}}/evaluate_{{method}}_s{{inj}}.tsv"
    threads: AD_RES["evaluate"]["threads"]
    resources:
        **ad_resources("evaluate"),
    shell:
        step(
            "hepflows.ad.evaluate --method {wildcards.method} --injection {wildcards.inj}"
            " --seeds {params.seeds} --scores {input.scores} --data {input.data} --out {output}",
        )


rule ad_evaluate_supervised:
    input:
        scores=lambda w: expand(
            f"{AD_DIR}/{w.dataset}/{w.signal}/seed{{seed}}/supervised/scores.h5", seed=AD["seeds"]
        ),
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/evaluation/supervised.json",
    params:
        cfg=as_json(AD["evaluate"]),
        seeds=" ".join(map(str, AD["seeds"])),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/evaluate_supervised.log",
    benchmark:
        f"{AD_BENCH}/ad_evaluate_supervised/{{dataset}}/{{signal}}/evaluate_supervised.tsv"
    threads: AD_RES["evaluate"]["threads"]
    resources:
        **ad_resources("evaluate"),
    shell:
        step(
            "hepflows.ad.evaluate --method supervised --seeds {params.seeds}"
            " --scores {input.scores} --out {output}",
        )


# ---------------------------------------------------------------- 6. aggregation and plots
rule ad_aggregate:
    input:
        evaluations=ad_evaluations,
        closures=ad_closures,
    output:
        sic=report(
            f"{AD_DIR}/{{dataset}}/{{signal}}/summary/max_sic.csv",
            caption="../report/max_sic_table.rst",
            category="ad / {dataset}",
            subcategory="{signal}",
            labels={"result": "max SIC table (CSV)", "S/B": "scan"},
        ),
        closure=report(
            f"{AD_DIR}/{{dataset}}/{{signal}}/summary/closure.csv",
            caption="../report/closure_table.rst",
            category="ad / {dataset}",
            subcategory="{signal}",
            labels={
                "result": "closure table (CSV)",
                "S/B": ", ".join(fmt_number(x) for x in AD["closure_injections"]),
            },
        ),
    params:
        cfg=as_json({}),
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/aggregate.log",
    benchmark:
        f"{AD_BENCH}/ad_aggregate/{{dataset}}/{{signal}}/aggregate.tsv"
    threads: AD_RES["summary"]["threads"]
    resources:
        **ad_resources("summary"),
    shell:
        step(
            "hepflows.ad.aggregate --evaluations {input.evaluations}"
            " --closures {input.closures} --out-sic {output.sic} --out-closure {output.closure}",
        )


rule ad_plot_max_sic:
    input:
        f"{AD_DIR}/{{dataset}}/{{signal}}/summary/max_sic.csv",
    output:
        pdf=f"{AD_PLOT}/max_sic_vs_sb.pdf",
        png=report(
            f"{AD_PLOT}/max_sic_vs_sb.png",
            caption="../report/max_sic.rst",
            category="ad / {dataset}",
            subcategory="{signal}",
            labels={"result": "max SIC vs S/B", "S/B": "scan"},
        ),
    params:
        cfg=as_json({}),
        title="{dataset}, {signal}",
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/plot_max_sic.log",
    benchmark:
        f"{AD_BENCH}/ad_plot_max_sic/{{dataset}}/{{signal}}/plot_max_sic.tsv"
    threads: AD_RES["summary"]["threads"]
    resources:
        **ad_resources("summary"),
    shell:
        step(
            "hepflows.ad.plots --figure max_sic --inputs {input} --title {params.title:q}"
            " --out {output}",
        )


rule ad_plot_sic_curves:
    input:
        lambda w: ad_evaluations(w, w.inj),
    output:
        pdf=f"{AD_PLOT}/sic_vs_efficiency_s{{inj}}.pdf",
        png=report(
            f"{AD_PLOT}/sic_vs_efficiency_s{{inj}}.png",
            caption="../report/sic_curves.rst",
            category="ad / {dataset}",
            subcategory="{signal}",
            labels={"result": "SIC vs signal efficiency", "S/B": "{inj}"},
        ),
    params:
        cfg=as_json({}),
        title=lambda w: f"{w.dataset}, {w.signal}, S/B = {float(w.inj):.2%}",
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/plot_sic_curves_s{{inj}}.log",
    benchmark:
        f"{AD_BENCH}/ad_plot_sic_curves/{{dataset}}/{{signal}}/plot_sic_curves_s{{inj}}.tsv"
    threads: AD_RES["summary"]["threads"]
    resources:
        **ad_resources("summary"),
    shell:
        step(
            "hepflows.ad.plots --figure sic_curves --inputs {input} --title {params.title:q}"
            " --out {output}",
        )


rule ad_plot_closure:
    input:
        f"{AD_DIR}/{{dataset}}/{{signal}}/summary/closure.csv",
    output:
        pdf=f"{AD_PLOT}/closure_summary.pdf",
        png=report(
            f"{AD_PLOT}/closure_summary.png",
            caption="../report/closure.rst",
            category="ad / {dataset}",
            subcategory="{signal}",
            labels={
                "result": "closure AUC",
                "S/B": ", ".join(fmt_number(x) for x in AD["closure_injections"]),
            },
        ),
    params:
        cfg=as_json({}),
        title="{dataset}, {signal}",
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/plot_closure.log",
    benchmark:
        f"{AD_BENCH}/ad_plot_closure/{{dataset}}/{{signal}}/plot_closure.tsv"
    threads: AD_RES["summary"]["threads"]
    resources:
        **ad_resources("summary"),
    shell:
        step(
            "hepflows.ad.plots --figure closure --inputs {input} --title {params.title:q}"
            " --out {output}",
        )


rule ad_plot_weights:
    input:
        ad_weight_inputs,
    output:
        pdf=f"{AD_PLOT}/weights_s{{inj}}.pdf",
        png=report(
            f"{AD_PLOT}/weights_s{{inj}}.png",
            caption="../report/weights.rst",
            category="ad / {dataset}",
            subcategory="{signal}",
            labels={"result": "template weights", "S/B": "{inj}"},
        ),
    params:
        cfg=as_json({}),
        labels=lambda w: " ".join(
            shlex.quote(AD_WEIGHTED[m])
            for m in ad_methods("template")
            if m in AD_WEIGHTED
            for _ in AD["seeds"]
        ),
        title=lambda w: f"{w.dataset}, {w.signal}, S/B = {float(w.inj):.2%}, SR templates",
    conda:
        AD_ENV
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/plot_weights_s{{inj}}.log",
    benchmark:
        f"{AD_BENCH}/ad_plot_weights/{{dataset}}/{{signal}}/plot_weights_s{{inj}}.tsv"
    threads: AD_RES["summary"]["threads"]
    resources:
        **ad_resources("summary"),
    shell:
        step(
            "hepflows.ad.plots --figure weights --inputs {input} --labels {params.labels}"
            " --title {params.title:q} --out {output}",
        )


rule all_AD:
    input:
        ad_targets(),
