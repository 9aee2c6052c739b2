# ad: the input functions of the rules and the layout of the SR discrimination jobs.


def ad_from_files(dataset):
    return AD["datasets"][dataset]["source"] == "files"


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
        return [p.format(**w) for p in patterns] if ad_from_files(w.dataset) else []

    return inputs


def ad_source_file(kind):
    """Input function: the real file a read step converts (background, mc, or a signal's)."""

    def path(w):
        files = AD["datasets"][w.dataset]["files"]
        if kind == "signal":
            return files["signals"].get(w.signal, files["background"])
        return files[kind]

    return path


def ad_template(method):
    """The template a method's SR classifier trains against, as a wildcard pattern."""
    if method == "ideal":
        return f"{AD_STATIC}/ideal/template.h5"
    return f"{AD_POINT}/{method}/template.h5"


def ad_templates(name="template.h5"):
    """Input function: the {method} template (or its CR template) of a point."""

    def path(w):
        return ad_template(w.method).replace("template.h5", name).format(**w)

    return path


# ---------------------------------------------------------------- SR discrimination jobs
# What the discriminator step sees: its granularity is a workflow choice, not a setting of it.
# Job granularity leaves the numbers as they are, so changing it retrains nothing.
AD_DISCRIM = {
    k: v
    for k, v in AD["discrim"].items()
    if k not in ("one_job_per", "members_per_job")
}


def ad_member_parts():
    """discrim.members_per_job: the (first, last + 1) members of each part of an ensemble,
    or [] when one job trains the whole ensemble (with one_job_per: method, which
    hepflows.ad.config_checks made sure of)."""
    n, k = AD["discrim"]["ensemble"], AD["discrim"]["members_per_job"]
    if k is None or k >= n:
        return []
    return [(a, min(a + k, n)) for a in range(0, n, k)]


AD_MEMBER_PARTS = ad_member_parts()
AD_PER_POINT = AD["discrim"]["one_job_per"] == "point"
# One ad_discriminate job trains: every weak method's ensemble at a point (one_job_per: point),
# one method's ensemble (method), or a part of it (members_per_job).
if AD_PER_POINT:
    AD_DISCRIM_JOB = f"{AD_POINT_JOB}/discriminate"
    AD_DISCRIM_OUT = [f"{AD_POINT}/{m}/scores.h5" for m in ad_methods("weak")]
    AD_DISCRIM_TAGS = " ".join(f"{{signal}}/s{{inj}}/{m}" for m in ad_methods("weak"))
elif AD_MEMBER_PARTS:
    AD_DISCRIM_JOB = f"{AD_POINT_JOB}/{{method}}/discriminate_part{{part}}"
    AD_DISCRIM_OUT = [f"{AD_POINT}/{{method}}/part{{part}}/scores.h5"]
    AD_DISCRIM_TAGS = "{signal}/s{inj}/{method}"
else:
    AD_DISCRIM_JOB = f"{AD_POINT_JOB}/{{method}}/discriminate"
    AD_DISCRIM_OUT = [f"{AD_POINT}/{{method}}/scores.h5"]
    AD_DISCRIM_TAGS = "{signal}/s{inj}/{method}"


def ad_discrim_templates(w):
    """Input function: the template(s) an ad_discriminate job trains against."""
    methods = ad_methods("weak") if AD_PER_POINT else [w.method]
    return [ad_template(m).format(**w) for m in methods]


def ad_discrim_members(w):
    """The members an ad_discriminate job trains, as --members A B (all of them: 0 N)."""
    if not AD_MEMBER_PARTS:
        return f"0 {AD['discrim']['ensemble']}"
    return "{} {}".format(*AD_MEMBER_PARTS[int(w.part)])


# ---------------------------------------------------------------- evaluation and targets
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


def ad_over_seeds(pattern):
    """Input function: ``pattern`` (a path below a point) for every data seed."""

    def paths(w):
        return [pattern.format(**{**w, "seed": seed}) for seed in AD["seeds"]]

    return paths


AD_SEEDS = " ".join(map(str, AD["seeds"]))
AD_WEIGHTED = {"reweight": "SALAD weights", "morph": "context weights (FETA)"}


def ad_weight_inputs(w):
    return [
        f"{AD_DIR}/{w.dataset}/{w.signal}/seed{seed}/s{w.inj}/{m}/template.h5"
        for m in ad_methods("template")
        if m in AD_WEIGHTED
        for seed in AD["seeds"]
    ]


def ad_weight_labels(w):
    return " ".join(
        shlex.quote(AD_WEIGHTED[m])
        for m in ad_methods("template")
        if m in AD_WEIGHTED
        for _ in AD["seeds"]
    )


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
            targets += [
                f"{base}/plots/{p}.{ext}" for p in plots for ext in ("pdf", "png")
            ]
    return targets
