# ad: settings, path patterns, wildcard constraints and input functions (rules: the other files).
#
# results/ad/{dataset}/
#   static/          MC, ideal background (template + SR reference), signal pools, scaler
#   {signal}/test.h5                           labelled SR test set
#   {signal}/seed{seed}/s{inj}/data.h5         injected data (S/B = inj in the SR)
#   {signal}/seed{seed}/s{inj}/{method}/       template, scores, closure
#   {signal}/seed{seed}/supervised/scores.h5   fully supervised upper bound
#   {signal}/evaluation, summary, plots        scan results over seeds
from hepflows.ad.config_checks import check_ad_config, injections
from hepflows.ad.names import method_name, physics_title

AD = config["ad"]
AD_DIR = f"{RESULTS}/ad"
AD_TEMPLATE_METHODS = ["reweight", "generate", "morph"]
AD_WEAK_METHODS = ["ideal", *AD_TEMPLATE_METHODS]
# Dataset settings that change the generated events themselves (every sample step uses them).
AD_SHAPE_KEYS = ["mj_shift"]
# Every ad rule constrains its wildcards with these (rule-level, so other analyses' {dataset}
# or {method} are free to take other values).
AD_WILDCARDS = {
    "dataset": "|".join(AD["datasets"]),
    "signal": r"[A-Za-z0-9_]+",
    "seed": r"\d+",
    "inj": r"[0-9.eE+-]+",
    "method": "|".join(AD_WEAK_METHODS),
    "part": r"\d+",
}

# The path patterns, each written once.
AD_STATIC = f"{AD_DIR}/{{dataset}}/static"
AD_FILES = f"{AD_STATIC}/files"
AD_SIGNAL = f"{AD_DIR}/{{dataset}}/{{signal}}"
AD_POINT = f"{AD_SIGNAL}/seed{{seed}}/s{{inj}}"
AD_PLOT = f"{AD_SIGNAL}/plots"
AD_MC = f"{AD_STATIC}/mc.h5"
AD_SCALER = f"{AD_STATIC}/scaler.json"
AD_TEST = f"{AD_SIGNAL}/test.h5"
AD_DATA = f"{AD_POINT}/data.h5"
AD_CONTEXT_WEIGHTS = f"{AD_POINT}/context_weights/weights.h5"
AD_MORPH_BASE_MODEL = multiext(
    f"{AD_STATIC}/morph_base/seed{{seed}}/flow", ".pt", ".json"
)
AD_TEMPLATE_INPUTS = {"data": AD_DATA, "mc": AD_MC, "scaler": AD_SCALER}
# The job paths of logs (results/logs/ad/<job>.log) and benchmarks
# (results/benchmarks/ad/<rule>/<job>.tsv) below a point.
AD_POINT_JOB = "{dataset}/{signal}/seed{seed}/s{inj}"
AD_SIGNAL_JOB = "{dataset}/{signal}"


def ad_log(job):
    return f"{RESULTS}/logs/ad/{job}.log"


def ad_benchmark(rule, job):
    return f"{RESULTS}/benchmarks/ad/{rule}/{job}.tsv"


def ad_threads(kind):
    return AD["resources"][kind]["threads"]


def ad_resources(kind, runtime_factor=1):
    return class_resources(AD["resources"][kind], runtime_factor)


def ad_group(kind):
    return class_group(AD["resources"][kind])


def ad_enabled():
    return [d for d, cfg in AD["datasets"].items() if cfg["enabled"]]


stop_on_config_error(check_ad_config, AD, config["seed"])


def ad_methods(kind="all"):
    methods = AD["methods"]
    if kind == "weak":
        return [m for m in methods if m in AD_WEAK_METHODS]
    if kind == "template":
        return [m for m in methods if m in AD_TEMPLATE_METHODS]
    return list(methods)


def ad_injections(dataset):
    """A dataset's S/B scan (its own injections, or ad.injections), as in paths."""
    return [fmt_number(x) for x in injections(AD, dataset)]


def ad_dataset_params(dataset, keys):
    """Only the dataset settings a step uses, so other settings do not rerun it (a setting a
    dataset does not have, such as lhco's mj_shift elsewhere, is left out)."""
    cfg = AD["datasets"][dataset]
    return {k: cfg[k] for k in keys if k in cfg}


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


def ad_report(path, caption, result, sb):
    """An output the HTML report shows, under ad / {dataset} / {signal}."""
    return report(
        path,
        caption=f"../../report/{caption}.rst",
        category="ad / {dataset}",
        subcategory="{signal}",
        labels={"result": result, "S/B": sb},
    )


def ad_title(suffix="", injection=False):
    """A params function: a figure's title in physics names (hepflows.ad.names), of a
    (dataset, signal) or of one of its points: "non-resonant, Z' (3 TeV), S/B = 1%"."""

    def title(w):
        return physics_title(w.dataset, w.signal, w.inj if injection else None) + suffix

    return title


def ad_report_detail(path, caption, subcategory, **labels):
    """A figure behind the summary (closure ratios, loss curves) in the HTML report, under
    ad / {dataset} / ``subcategory``; ``labels`` are wildcard patterns, a method by its physics
    name. They tell the figures of a subcategory apart."""

    def expand(w):
        names = dict(w.items())
        if "method" in names:
            names["method"] = method_name(names["method"])
        return {k: v.format(**names) for k, v in labels.items()}

    return report(
        path,
        caption=f"../../report/{caption}.rst",
        category="ad / {dataset}",
        subcategory=subcategory,
        labels=expand,
    )


def ad_loss_curve(stem, model, mc_only=False):
    """A flow's loss curve: the PDF, and the PNG in the report (training, by model and seed;
    a flow of the MC alone, one per data set and seed, apart)."""
    if mc_only:
        subcategory, sb = "training on MC", "none (MC)"
    else:
        subcategory, sb = "{signal}: training", "{inj}"
    png = ad_report_detail(
        f"{stem}.png", "loss", subcategory, model=model, seed="{seed}", **{"S/B": sb}
    )
    return [f"{stem}.pdf", png]


AD_CLOSURE_SB = ", ".join(fmt_number(x) for x in AD["closure_injections"])
AD_TEMPLATE_KEYS = ["sr", "max_cr_train"]
# The morph settings split by job: the base flow (MC only) and the top flow (per data set).
_BASE_KEYS = ("base_flow", "base_train", "base_region")
AD_MORPH_BASE = {k: v for k, v in AD["morph"].items() if k in _BASE_KEYS}
AD_MORPH_TOP = {k: v for k, v in AD["morph"].items() if k not in _BASE_KEYS}
