# iso: settings, path patterns, wildcard constraints and helpers (input functions: iso_inputs.smk;
# rules: the other files).
#
# results/iso/
#   events.h5, cwola.h5            the dimuon events (particles included); folds, labels, weights
#   efps/k{kappa}_b{beta}.h5       EFPs of every event (merged from part{part}.h5 chunks)
#   cv/{model}/split{split}/       one CV split: model, scores of every event, metrics
#   cv/{model}/summary.json        the splits' AUCs and the bootstrap's epoch count
#   efp_search/trajectory.json     the guided EFP search
#   bootstrap/{model}/part{part}.h5  replicas' scores of the test fold
#   bootstrap/{model}/holdout_part{part}.h5  ... and of the holdout sample (synthetic only)
#   holdout/                       the holdout sample: events, mass fit, the chosen EFPs
#   evaluation/                    the mass fit; per model the bootstrapped sPlot / truth AUCs
#   summary/, plots/               the tables and figures
from hepflows.iso.config_checks import (
    EFP_COLUMN,
    all_models,
    check_iso_config,
    model_label,
    scan_name,
)

ISO = config["iso"]
ISO_DIR = f"{RESULTS}/iso"
stop_on_config_error(check_iso_config, ISO)
ISO_MODELS = all_models(ISO)
ISO_COMPARED = list(ISO["models"])  # bootstrapped and in the AUC table
ISO_KB = [
    (fmt_number(k), fmt_number(b))
    for k in ISO["efps"]["kappas"]
    for b in ISO["efps"]["betas"]
]
ISO_WILDCARDS = {
    "model": "|".join(ISO_MODELS),
    "split": r"\d",
    "part": r"\d+",
    "kappa": r"-?[0-9.eE+-]+",
    "beta": r"[0-9.eE+-]+",
}

ISO_EVENTS = f"{ISO_DIR}/events.h5"
ISO_CWOLA = f"{ISO_DIR}/cwola.h5"
ISO_FIT = f"{ISO_DIR}/evaluation/mass_fit.json"
ISO_EFP = f"{ISO_DIR}/efps/k{{kappa}}_b{{beta}}.h5"
ISO_CV = f"{ISO_DIR}/cv/{{model}}/split{{split}}"
ISO_CV_SUMMARY = f"{ISO_DIR}/cv/{{model}}/summary.json"
ISO_SEARCH = f"{ISO_DIR}/efp_search/trajectory.json"
ISO_EVALUATION = f"{ISO_DIR}/evaluation/{{model}}.json"
ISO_SUMMARY = f"{ISO_DIR}/summary"
# An independent synthetic sample that every replica scores (0 events: none; never for real data).
ISO_HOLDOUT = (
    ISO["synthetic"].get("holdout_events", 0) if ISO["source"] == "synthetic" else 0
)
ISO_HOLDOUT_EVENTS = f"{ISO_DIR}/holdout/events.h5"
ISO_HOLDOUT_FIT = f"{ISO_DIR}/holdout/mass_fit.json"
ISO_HOLDOUT_EFPS = f"{ISO_DIR}/holdout/efps.h5"
ISO_HOLDOUT_SCORES = f"{ISO_DIR}/bootstrap/{{model}}/holdout_part{{part}}.h5"
ISO_PLOT = f"{ISO_DIR}/plots"


def iso_log(job):
    return f"{RESULTS}/logs/iso/{job}.log"


def iso_benchmark(rule, job):
    return f"{RESULTS}/benchmarks/iso/{rule}/{job}.tsv"


def iso_threads(kind):
    return ISO["resources"][kind]["threads"]


def iso_resources(kind):
    return class_resources(ISO["resources"][kind])


def iso_group(kind):
    return class_group(ISO["resources"][kind])


def iso_train_kind(w):
    """PFN jobs have their own resource class (memory of the particles, GPU)."""
    return "pfn" if ISO_MODELS[w.model]["kind"] == "pfn" else "train"


def iso_train_resources(runtime_factor=1):
    """Resources of a training job from its model's class (train, or pfn for PFN models):
    class_resources, with the class picked per job."""

    def pick(key, factor=1):
        return (
            lambda w, attempt: ISO["resources"][iso_train_kind(w)][key]
            * attempt
            * factor
        )

    resources = {
        "mem_mb": pick("mem_mb"),
        "htcondor_request_mem_mb": pick("mem_mb"),
        "runtime": pick("runtime", runtime_factor),
    }
    if USE_GPUS and any(ISO["resources"][k]["gpu"] for k in ("train", "pfn")):
        gpu = lambda w: int(ISO["resources"][iso_train_kind(w)]["gpu"])
        resources.update(gpu=gpu, request_gpus=gpu)
    return resources


def iso_params(model=True, **sections):
    """A params function: the step's settings as JSON, once per model (DAG speed)."""
    cache = {}

    def params(w):
        name = w.model if model else ""
        if name not in cache:
            cfg = ISO_MODELS[name] if model else None
            net = {"network": ISO["networks"][cfg["kind"]]} if model else {}
            cache[name] = as_json(
                {
                    "seed": config["seed"],
                    "device": config["device"],
                    **({"model": cfg, "label": model_label(cfg)} if model else {}),
                    **net,
                    **sections,
                }
            )
        return cache[name]

    return params


def iso_report(path, caption, result):
    """An output the HTML report shows, under iso."""
    return report(
        path,
        caption=f"../../report/iso_{caption}.rst",
        category="iso",
        subcategory="muon isolation",
        labels={"result": result},
    )


def iso_plots():
    names = ["mass_fit", "auc_table", "roc_splot", "rejection_splot"]
    names += [f"isolation_r{r}_splot" for r in ISO_PLOT_RADII]
    if ISO["source"] == "synthetic":
        names += ["roc_truth", "rejection_truth"]
        names += [f"isolation_r{r}_truth" for r in ISO_PLOT_RADII]
    if ISO["cone_scan"]:
        names.append("cone_scan")
    if iso_searches():
        names.append("efp_search")
    return [f"{ISO_PLOT}/{n}.{ext}" for n in names for ext in ("pdf", "png")]


def iso_searches():
    return any(c.get("efps") == "guided" for c in ISO["models"].values())


ISO_PLOT_RADII = ["0.1", "0.45"]


def iso_targets():
    tables = ["auc_table", "cv", "cone_scan"]
    return [f"{ISO_SUMMARY}/{t}.csv" for t in tables] + iso_plots()


ISO_TITLE = {"synthetic": "synthetic dimuons", "cms": "CMS dimuons"}[ISO["source"]]
ISO_PLOT_WILDCARDS = {
    "radius": "|".join(r.replace(".", r"\.") for r in ISO_PLOT_RADII),
    "separation": "splot|truth",
    "style": "roc|rejection",
}


def iso_figure(name, caption, result):
    """The PDF and, in the report, the PNG of a figure."""
    return {
        "pdf": f"{ISO_PLOT}/{name}.pdf",
        "png": iso_report(f"{ISO_PLOT}/{name}.png", caption, result),
    }
