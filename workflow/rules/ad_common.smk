# ad: settings, paths and input functions the rules use (functions live here, rules in ad.smk).
AD = config["ad"]
AD_DIR = f"{RESULTS}/ad"
AD_LOGS = f"{RESULTS}/logs/ad"
AD_BENCH = f"{RESULTS}/benchmarks/ad"
AD_TEMPLATE_METHODS = ["reweight", "generate", "morph"]
AD_WEAK_METHODS = ["ideal", *AD_TEMPLATE_METHODS]
AD_RES = AD["resources"]
# Dataset settings that change the generated events themselves (every sample step uses them).
AD_SHAPE_KEYS = ["mj_shift"]
AD_READABLE = ["lhco", "nonres"]  # datasets with a reader for real files (hepflows.ad.readers)


def ad_resources(kind, runtime_factor=1):
    """A rule's memory and runtime from its class in ad.resources, doubled and tripled on the
    2nd and 3rd attempt: a cluster job killed for memory or time comes back with more. Memory
    also goes out as the numeric htcondor_request_mem_mb, because the HTCondor plugin ignores
    mem_mb and a profile cannot copy one resource into another (profiles/htcondor)."""
    mem_mb = AD_RES[kind]["mem_mb"]
    runtime = AD_RES[kind]["runtime"] * runtime_factor
    return {
        "mem_mb": lambda wildcards, attempt: mem_mb * attempt,
        "htcondor_request_mem_mb": lambda wildcards, attempt: mem_mb * attempt,
        "runtime": lambda wildcards, attempt: runtime * attempt,
    }


def ad_enabled():
    return [d for d, cfg in AD["datasets"].items() if cfg["enabled"]]


def ad_check_sources():
    """source: files needs a reader and, for label-less text files, one file per signal."""
    for name, cfg in AD["datasets"].items():
        if cfg["source"] != "files":
            continue
        where = f"config: ad.datasets.{name}"
        if name not in AD_READABLE:
            raise WorkflowError(f"{where}.source: there is no file reader for {name}; files work for {AD_READABLE}")
        missing = [s for s in cfg["signals"] if s not in cfg["files"]["signals"]]
        if name == "nonres" and missing:
            raise WorkflowError(
                f"{where}.files.signals: no file for {missing}; text files carry no labels, so "
                "each signal needs its own file"
            )


ad_check_sources()


def ad_from_files(dataset):
    return AD["datasets"][dataset]["source"] == "files"


AD_FILES = f"{AD_DIR}/{{dataset}}/static/files"
# The pools each sample step reads with source: files (hepflows.ad.file_pools), by step.
AD_POOLS = {
    "static": [f"{AD_FILES}/{p}.h5" for p in ("mc", "ideal", "reference")],
    "data": [f"{AD_FILES}/data.h5", f"{AD_FILES}/{{signal}}/signal_inject.h5"],
    "test": [f"{AD_FILES}/test_background.h5", f"{AD_FILES}/{{signal}}/signal_test.h5"],
    "signal_pool": [f"{AD_FILES}/{{signal}}/signal_supervised.h5"],
}


def ad_pools(step):
    """Input function: the pool tables of a sample step, none for synthetic datasets."""
    patterns = AD_POOLS[step]

    def inputs(w):
        return expand(patterns, **w) if ad_from_files(w.dataset) else []

    return inputs


def ad_source_file(kind):
    """Input function: the real file a read step converts (background, mc, or a signal's)."""

    def path(w):
        files = AD["datasets"][w.dataset]["files"]
        if kind == "signal":
            return files["signals"].get(w.signal, files["background"])
        return files[kind]

    return path


def ad_methods(kind="all"):
    methods = AD["methods"]
    if kind == "weak":
        return [m for m in methods if m in AD_WEAK_METHODS]
    if kind == "template":
        return [m for m in methods if m in AD_TEMPLATE_METHODS]
    return list(methods)


def ad_injections(dataset):
    """A dataset's S/B scan: its own injections, or ad.injections."""
    return [fmt_number(x) for x in AD["datasets"][dataset].get("injections", AD["injections"])]


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


def ad_point(w):
    """Directory of one (dataset, signal, data seed, injection)."""
    return f"{AD_DIR}/{w.dataset}/{w.signal}/seed{w.seed}/s{w.inj}"


def ad_static(dataset, name):
    return f"{AD_DIR}/{dataset}/static/{name}"


def ad_template(w, name="template.h5"):
    if w.method == "ideal":
        return ad_static(w.dataset, f"ideal/{name}")
    return f"{ad_point(w)}/{w.method}/{name}"


AD_POINT = f"{AD_DIR}/{{dataset}}/{{signal}}/seed{{seed}}/s{{inj}}"


def ad_point_template(method):
    """The template a method's SR classifier trains against, as a wildcard pattern."""
    if method == "ideal":
        return ad_static("{dataset}", "ideal/template.h5")
    return f"{AD_POINT}/{method}/template.h5"


# What the discriminator step sees: its granularity is a workflow choice, not a setting of it.
# Job granularity leaves the numbers as they are, so changing it retrains nothing.
AD_DISCRIM = {
    k: v for k, v in AD["discrim"].items() if k not in ("one_job_per", "members_per_job")
}


def ad_member_parts():
    """discrim.members_per_job: the (first, last + 1) members of each part of an ensemble,
    or [] when one job trains the whole ensemble."""
    n, k = AD["discrim"]["ensemble"], AD["discrim"]["members_per_job"]
    if k is None or k >= n:
        return []
    if AD["discrim"]["one_job_per"] != "method":
        raise WorkflowError(
            "config: ad.discrim.members_per_job splits one method's ensemble over jobs; it "
            "needs ad.discrim.one_job_per: method (point trains every method in one job)"
        )
    return [(a, min(a + k, n)) for a in range(0, n, k)]


AD_MEMBER_PARTS = ad_member_parts()
AD_TEMPLATE_INPUTS = {
    "data": f"{AD_POINT}/data.h5",
    "mc": f"{AD_DIR}/{{dataset}}/static/mc.h5",
    "scaler": f"{AD_DIR}/{{dataset}}/static/scaler.json",
}


def ad_evaluations(w, injection=None):
    injections = ad_injections(w.dataset) if injection is None else [injection]
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


AD_PLOT = f"{AD_DIR}/{{dataset}}/{{signal}}/plots"


AD_WEIGHTED = {"reweight": "SALAD weights", "morph": "context weights (FETA)"}


def ad_weight_inputs(w):
    return [
        f"{AD_DIR}/{w.dataset}/{w.signal}/seed{seed}/s{w.inj}/{m}/template.h5"
        for m in ad_methods("template")
        if m in AD_WEIGHTED
        for seed in AD["seeds"]
    ]


def ad_targets():
    targets = []
    for dataset in ad_enabled():
        for signal in AD["datasets"][dataset]["signals"]:
            base = f"{AD_DIR}/{dataset}/{signal}"
            targets += [f"{base}/summary/max_sic.csv", f"{base}/summary/closure.csv"]
            plots = ["max_sic_vs_sb", "closure_summary"]
            plots += [f"sic_vs_efficiency_s{inj}" for inj in ad_injections(dataset)]
            if any(m in AD_WEIGHTED for m in ad_methods("template")):
                plots += [f"weights_s{inj}" for inj in ad_injections(dataset)]
            targets += [f"{base}/plots/{p}.{ext}" for p in plots for ext in ("pdf", "png")]
    return targets


AD_TEMPLATE_KEYS = ["sr", "max_cr_train"]
# The morph settings split by job: the base flow (MC only) and the top flow (per data set).
_BASE_KEYS = ("base_flow", "base_train")
AD_MORPH_BASE = {k: v for k, v in AD["morph"].items() if k in _BASE_KEYS}
AD_MORPH_TOP = {k: v for k, v in AD["morph"].items() if k not in _BASE_KEYS}
AD_MORPH_BASE_MODEL = multiext(f"{AD_DIR}/{{dataset}}/static/morph_base/seed{{seed}}/flow", ".pt", ".json")
