# ad: background extrapolation for weakly supervised anomaly detection (seed 003).
#
# results/ad/{dataset}/
#   static/          MC, ideal background (template + SR reference), signal pools, scaler
#   {signal}/test.h5                           labelled SR test set
#   {signal}/seed{seed}/s{inj}/data.h5         injected data (S/B = inj in the SR)
#   {signal}/seed{seed}/s{inj}/{method}/       template, scores, closure
#   {signal}/seed{seed}/supervised/scores.h5   fully supervised upper bound
#   {signal}/evaluation, summary, plots        scan results over seeds
AD = config["ad"]
AD_DIR = f"{RESULTS}/ad"
AD_LOGS = f"{RESULTS}/logs/ad"
AD_BENCH = f"{RESULTS}/benchmarks/ad"
AD_TEMPLATE_METHODS = ["reweight", "generate", "morph"]
AD_WEAK_METHODS = ["ideal", *AD_TEMPLATE_METHODS]
AD_RES = AD["resources"]

wildcard_constraints:
    dataset="|".join(AD["datasets"]),
    signal=r"[A-Za-z0-9_]+",
    seed=r"\d+",
    inj=r"[0-9.eE+-]+",
    method="|".join(AD_WEAK_METHODS),
    tmethod="|".join(AD_TEMPLATE_METHODS),
    region="CR|SR",
    ext="pdf|png",


def ad_enabled():
    return [d for d, cfg in AD["datasets"].items() if cfg["enabled"]]


def ad_methods(kind="all"):
    methods = AD["methods"]
    if kind == "weak":
        return [m for m in methods if m in AD_WEAK_METHODS]
    if kind == "template":
        return [m for m in methods if m in AD_TEMPLATE_METHODS]
    return list(methods)


def ad_injections():
    return [fmt_number(x) for x in AD["injections"]]


def ad_dataset_params(dataset, keys):
    """Only the dataset settings a step uses, so other settings do not rerun it."""
    cfg = AD["datasets"][dataset]
    return {k: cfg.get(k) for k in keys}


def ad_params(keys, **sections):
    """A params function: the step's settings as JSON, built once per dataset (DAG speed)."""
    cache = {}

    def params(w):
        if w.dataset not in cache:
            cache[w.dataset] = as_json(
                {
                    "seed": config["seed"],
                    "device": config["device"],
                    "holdout_fraction": AD["holdout_fraction"],
                    "dataset": ad_dataset_params(w.dataset, keys),
                    **sections,
                }
            )
        return cache[w.dataset]

    return params


def ad_point(w):
    """Directory of one (dataset, signal, data seed, injection)."""
    return f"{AD_DIR}/{w.dataset}/{w.signal}/seed{w.seed}/s{w.inj}"


def ad_static(dataset, name):
    return f"{AD_DIR}/{dataset}/static/{name}"


def ad_template(w, name="template.h5"):
    if w.method == "ideal":
        return ad_static(w.dataset, f"ideal/{name}")
    return f"{ad_point(w)}/{w.method}/{name}"


# ---------------------------------------------------------------- 1. samples
rule ad_make_static:
    output:
        mc=f"{AD_DIR}/{{dataset}}/static/mc.h5",
        ideal=f"{AD_DIR}/{{dataset}}/static/ideal/template.h5",
        ideal_cr=f"{AD_DIR}/{{dataset}}/static/ideal/template_cr.h5",
        reference=f"{AD_DIR}/{{dataset}}/static/reference_sr.h5",
        scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
    params:
        cfg=ad_params(["sr", "mc_variant", "n_mc", "n_ideal"],
            preprocessing=AD["preprocessing"],
        ),
    log:
        f"{AD_LOGS}/{{dataset}}/make_static.log",
    benchmark:
        f"{AD_BENCH}/{{dataset}}/make_static.tsv"
    threads: AD_RES["generate_data"]["threads"]
    resources:
        mem_mb=AD_RES["generate_data"]["mem_mb"],
        runtime=AD_RES["generate_data"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.make_static --dataset {wildcards.dataset}"
        " --out-mc {output.mc} --out-ideal {output.ideal} --out-ideal-cr {output.ideal_cr}"
        " --out-reference {output.reference} --out-scaler {output.scaler} " + STEP_ARGS


rule ad_make_testset:
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/test.h5",
    params:
        cfg=ad_params(["sr", "n_test_signal", "n_test_background"]),
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/make_testset.log",
    threads: AD_RES["generate_data"]["threads"]
    resources:
        mem_mb=AD_RES["generate_data"]["mem_mb"],
        runtime=AD_RES["generate_data"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.make_testset --dataset {wildcards.dataset} --signal {wildcards.signal}"
        " --out {output} " + STEP_ARGS


rule ad_make_signal_pool:
    output:
        f"{AD_DIR}/{{dataset}}/static/signal_{{signal}}.h5",
    params:
        cfg=ad_params(["sr", "n_signal"]),
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/make_signal_pool.log",
    threads: AD_RES["generate_data"]["threads"]
    resources:
        mem_mb=AD_RES["generate_data"]["mem_mb"],
        runtime=AD_RES["generate_data"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.make_testset --pool --dataset {wildcards.dataset}"
        " --signal {wildcards.signal} --out {output} " + STEP_ARGS


rule ad_make_data:
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/data.h5",
    params:
        cfg=ad_params(["sr", "n_data"]),
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/make_data.log",
    threads: AD_RES["generate_data"]["threads"]
    resources:
        mem_mb=AD_RES["generate_data"]["mem_mb"],
        runtime=AD_RES["generate_data"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.make_data --dataset {wildcards.dataset} --signal {wildcards.signal}"
        " --data-seed {wildcards.seed} --injection {wildcards.inj} --out {output} " + STEP_ARGS


# ---------------------------------------------------------------- 2. templates
AD_TEMPLATE_KEYS = ["sr", "max_cr_train"]


AD_POINT = f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}"
AD_TEMPLATE_INPUTS = {
    "data": f"{AD_POINT}/data.h5",
    "mc": f"{AD_DIR}/{{dataset}}/static/mc.h5",
    "scaler": f"{AD_DIR}/{{dataset}}/static/scaler.json",
}


rule ad_context_weights:
    input:
        **AD_TEMPLATE_INPUTS,
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/context_weights/weights.h5",
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD["context_weights"]),
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/context_weights.log",
    benchmark:
        f"{AD_BENCH}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/context_weights.tsv"
    threads: AD_RES["train"]["threads"]
    resources:
        mem_mb=AD_RES["train"]["mem_mb"],
        runtime=AD_RES["train"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.context_weights --dataset {wildcards.dataset}"
        " --data-seed {wildcards.seed} --data {input.data} --mc {input.mc} --scaler {input.scaler}"
        " --out {output} " + STEP_ARGS


rule ad_reweight:
    input:
        **AD_TEMPLATE_INPUTS,
    output:
        template=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/reweight/template.h5",
        template_cr=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/reweight/template_cr.h5",
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD["reweight"]),
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/reweight.log",
    benchmark:
        f"{AD_BENCH}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/reweight.tsv"
    threads: AD_RES["train"]["threads"]
    resources:
        mem_mb=AD_RES["train"]["mem_mb"],
        runtime=AD_RES["train"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.reweight --dataset {wildcards.dataset}"
        " --data-seed {wildcards.seed} --data {input.data} --mc {input.mc} --scaler {input.scaler}"
        " --out {output.template} --out-cr {output.template_cr} " + STEP_ARGS


rule ad_generate:
    input:
        **AD_TEMPLATE_INPUTS,
        context_weights=f"{AD_POINT}/context_weights/weights.h5",
    output:
        template=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate/template.h5",
        template_cr=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate/template_cr.h5",
        model=multiext(f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate/flow", ".pt", ".json"),
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD["generate"]),
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate.log",
    benchmark:
        f"{AD_BENCH}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/generate.tsv"
    threads: AD_RES["train"]["threads"]
    resources:
        mem_mb=AD_RES["train"]["mem_mb"],
        runtime=AD_RES["train"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.generate --dataset {wildcards.dataset}"
        " --data-seed {wildcards.seed} --data {input.data} --mc {input.mc} --scaler {input.scaler}"
        " --context-weights {input.context_weights}"
        " --out {output.template} --out-cr {output.template_cr} --out-model {output.model} "
        + STEP_ARGS


rule ad_morph:
    input:
        **AD_TEMPLATE_INPUTS,
        context_weights=f"{AD_POINT}/context_weights/weights.h5",
    output:
        template=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph/template.h5",
        template_cr=f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph/template_cr.h5",
        model=multiext(f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph/flow", ".pt", ".json"),
    params:
        cfg=ad_params(AD_TEMPLATE_KEYS, method=AD["morph"]),
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph.log",
    benchmark:
        f"{AD_BENCH}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/morph.tsv"
    threads: AD_RES["train"]["threads"]
    resources:
        mem_mb=AD_RES["train"]["mem_mb"],
        runtime=AD_RES["train"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.morph --dataset {wildcards.dataset}"
        " --data-seed {wildcards.seed} --data {input.data} --mc {input.mc} --scaler {input.scaler}"
        " --context-weights {input.context_weights}"
        " --out {output.template} --out-cr {output.template_cr} --out-model {output.model} "
        + STEP_ARGS


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
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/closure.log",
    benchmark:
        f"{AD_BENCH}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/closure.tsv"
    threads: AD_RES["train"]["threads"]
    resources:
        mem_mb=AD_RES["train"]["mem_mb"],
        runtime=AD_RES["train"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.closure --dataset {wildcards.dataset} --method {wildcards.method}"
        " --data-seed {wildcards.seed} --data {input.data} --template {input.template}"
        " --template-cr {input.template_cr} --reference {input.reference} --scaler {input.scaler}"
        " --out {output.json} --out-plots {output.plots} " + STEP_ARGS


# ---------------------------------------------------------------- 4. SR discrimination
rule ad_discriminate:
    input:
        data=f"{AD_POINT}/data.h5",
        template=ad_template,
        test=f"{AD_DIR}/{{dataset}}/{{signal}}/test.h5",
        scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/scores.h5",
    params:
        cfg=ad_params(["sr"], discrim=AD["discrim"]),
        tag=lambda w: f"{w.signal}/s{w.inj}/{w.method}",
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/discriminate.log",
    benchmark:
        f"{AD_BENCH}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}/{{method}}/discriminate.tsv"
    threads: AD_RES["train"]["threads"]
    resources:
        mem_mb=AD_RES["train"]["mem_mb"],
        runtime=AD_RES["train"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.discriminate --dataset {wildcards.dataset} --data-seed {wildcards.seed}"
        " --tag {params.tag} --positives {input.data} --template {input.template}"
        " --test {input.test} --scaler {input.scaler} --out {output} " + STEP_ARGS


rule ad_supervised:
    input:
        signal=f"{AD_DIR}/{{dataset}}/static/signal_{{signal}}.h5",
        template=f"{AD_DIR}/{{dataset}}/static/ideal/template.h5",
        test=f"{AD_DIR}/{{dataset}}/{{signal}}/test.h5",
        scaler=f"{AD_DIR}/{{dataset}}/static/scaler.json",
    output:
        f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/supervised/scores.h5",
    params:
        cfg=ad_params(["sr"], discrim=AD["discrim"]),
        tag=lambda w: f"{w.signal}/supervised",
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/seed{{seed}}/supervised.log",
    benchmark:
        f"{AD_BENCH}/{{dataset}}/{{signal}}/seed{{seed}}/supervised.tsv"
    threads: AD_RES["train"]["threads"]
    resources:
        mem_mb=AD_RES["train"]["mem_mb"],
        runtime=AD_RES["train"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.discriminate --supervised --dataset {wildcards.dataset}"
        " --data-seed {wildcards.seed} --tag {params.tag} --positives {input.signal}"
        " --template {input.template} --test {input.test} --scaler {input.scaler}"
        " --out {output} " + STEP_ARGS


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
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/evaluate_{{method}}_s{{inj}}.log",
    group:
        "ad_summary"
    threads: AD_RES["light"]["threads"]
    resources:
        mem_mb=AD_RES["light"]["mem_mb"],
        runtime=AD_RES["light"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.evaluate --method {wildcards.method} --injection {wildcards.inj}"
        " --seeds {params.seeds} --scores {input.scores} --data {input.data} --out {output} "
        + STEP_ARGS


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
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/evaluate_supervised.log",
    group:
        "ad_summary"
    threads: AD_RES["light"]["threads"]
    resources:
        mem_mb=AD_RES["light"]["mem_mb"],
        runtime=AD_RES["light"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.evaluate --method supervised --seeds {params.seeds}"
        " --scores {input.scores} --out {output} " + STEP_ARGS


# ---------------------------------------------------------------- 6. aggregation and plots
def ad_evaluations(w, injection=None):
    injections = ad_injections() if injection is None else [injection]
    files = [
        f"{AD_DIR}/{w.dataset}/{w.signal}/evaluation/{m}_s{inj}.json"
        for m in ad_methods("weak")
        for inj in injections
    ]
    if "supervised" in ad_methods():
        files.append(f"{AD_DIR}/{w.dataset}/{w.signal}/evaluation/supervised.json")
    return files


def ad_closures(w):
    return [
        f"{AD_DIR}/{w.dataset}/{w.signal}/seed{seed}/s{fmt_number(inj)}/{m}/closure/closure.json"
        for m in ad_methods("weak")
        for seed in AD["seeds"]
        for inj in AD["closure_injections"]
    ]


rule ad_aggregate:
    input:
        evaluations=ad_evaluations,
        closures=ad_closures,
    output:
        sic=f"{AD_DIR}/{{dataset}}/{{signal}}/summary/max_sic.csv",
        closure=f"{AD_DIR}/{{dataset}}/{{signal}}/summary/closure.csv",
    params:
        cfg=as_json({}),
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/aggregate.log",
    group:
        "ad_summary"
    threads: AD_RES["light"]["threads"]
    resources:
        mem_mb=AD_RES["light"]["mem_mb"],
        runtime=AD_RES["light"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.aggregate --evaluations {input.evaluations}"
        " --closures {input.closures} --out-sic {output.sic} --out-closure {output.closure} "
        + STEP_ARGS


AD_PLOT = f"{AD_DIR}/{{dataset}}/{{signal}}/plots"


rule ad_plot_max_sic:
    input:
        f"{AD_DIR}/{{dataset}}/{{signal}}/summary/max_sic.csv",
    output:
        multiext(f"{AD_PLOT}/max_sic_vs_sb", ".pdf", ".png"),
    params:
        cfg=as_json({}),
        title=lambda w: f"{w.dataset}, {w.signal}",
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/plot_max_sic.log",
    group:
        "ad_summary"
    threads: 1
    resources:
        mem_mb=AD_RES["light"]["mem_mb"],
        runtime=AD_RES["light"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.plots --figure max_sic --inputs {input} --title {params.title:q}"
        " --out {output} " + STEP_ARGS


rule ad_plot_sic_curves:
    input:
        lambda w: ad_evaluations(w, w.inj),
    output:
        multiext(f"{AD_PLOT}/sic_vs_efficiency_s{{inj}}", ".pdf", ".png"),
    params:
        cfg=as_json({}),
        title=lambda w: f"{w.dataset}, {w.signal}, S/B = {float(w.inj):.2%}",
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/plot_sic_curves_s{{inj}}.log",
    group:
        "ad_summary"
    threads: 1
    resources:
        mem_mb=AD_RES["light"]["mem_mb"],
        runtime=AD_RES["light"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.plots --figure sic_curves --inputs {input} --title {params.title:q}"
        " --out {output} " + STEP_ARGS


rule ad_plot_closure:
    input:
        f"{AD_DIR}/{{dataset}}/{{signal}}/summary/closure.csv",
    output:
        multiext(f"{AD_PLOT}/closure_summary", ".pdf", ".png"),
    params:
        cfg=as_json({}),
        title=lambda w: f"{w.dataset}, {w.signal}",
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/plot_closure.log",
    group:
        "ad_summary"
    threads: 1
    resources:
        mem_mb=AD_RES["light"]["mem_mb"],
        runtime=AD_RES["light"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.plots --figure closure --inputs {input} --title {params.title:q}"
        " --out {output} " + STEP_ARGS


AD_WEIGHTED = {"reweight": "SALAD weights", "morph": "context weights (FETA)"}


def ad_weight_inputs(w):
    return [
        f"{AD_DIR}/{w.dataset}/{w.signal}/seed{seed}/s{w.inj}/{m}/template.h5"
        for m in ad_methods("template")
        if m in AD_WEIGHTED
        for seed in AD["seeds"]
    ]


rule ad_plot_weights:
    input:
        ad_weight_inputs,
    output:
        multiext(f"{AD_PLOT}/weights_s{{inj}}", ".pdf", ".png"),
    params:
        cfg=as_json({}),
        labels=lambda w: " ".join(
            shlex.quote(AD_WEIGHTED[m])
            for m in ad_methods("template")
            if m in AD_WEIGHTED
            for _ in AD["seeds"]
        ),
        title=lambda w: f"{w.dataset}, {w.signal}, S/B = {float(w.inj):.2%}, SR templates",
    log:
        f"{AD_LOGS}/{{dataset}}/{{signal}}/plot_weights_s{{inj}}.log",
    group:
        "ad_summary"
    threads: 1
    resources:
        mem_mb=AD_RES["light"]["mem_mb"],
        runtime=AD_RES["light"]["runtime"],
    shell:
        PYTHON + " hepflows.ad.plots --figure weights --inputs {input} --labels {params.labels}"
        " --title {params.title:q} --out {output} " + STEP_ARGS


def ad_targets():
    targets = []
    for dataset in ad_enabled():
        for signal in AD["datasets"][dataset]["signals"]:
            base = f"{AD_DIR}/{dataset}/{signal}"
            targets += [f"{base}/summary/max_sic.csv", f"{base}/summary/closure.csv"]
            plots = ["max_sic_vs_sb", "closure_summary"]
            plots += [f"sic_vs_efficiency_s{inj}" for inj in ad_injections()]
            if any(m in AD_WEIGHTED for m in ad_methods("template")):
                plots += [f"weights_s{inj}" for inj in ad_injections()]
            targets += [f"{base}/plots/{p}.{ext}" for p in plots for ext in ("pdf", "png")]
    return targets


rule all_AD:
    input:
        ad_targets(),
