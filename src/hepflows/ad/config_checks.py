"""Start-up checks of the ``ad`` config that a schema cannot express: they need several keys at
once or what a dataset is (its columns, its generator), and each would otherwise surface inside
a job after others have run, or never. The workflow runs :func:`check_ad_config` right after
the schema, before any job; every failure is one line naming the key (``ConfigError``).

Synthetic datasets are probed: a sample of their generator (derived from the master seed, like
every other stream) estimates how many background events the SR and the CR hold, so an SR
that leaves no CR, or an injection that rounds to 0 signal events, stops the run here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hepflows.ad.datasets import SPECS, generate_background, generate_signal
from hepflows.core.config_validation import ConfigError
from hepflows.core.model_specs import check_classifier, check_flow
from hepflows.core.regions import in_box
from hepflows.core.seeding import derive_rng

__all__ = ["FILE_READERS", "PROBE_EVENTS", "check_ad_config", "check_box"]

FILE_READERS = ("lhco", "nonres")  # datasets with a reader for real files (hepflows.ad.readers)
PROBE_EVENTS = 100_000  # generator events that estimate the SR share (~2% relative on nonres)
_CLASSIFIER_BLOCKS = ("reweight", "context_weights", "closure", "discrim")
_FLOW_BLOCKS = (("generate", "flow"), ("morph", "base_flow"), ("morph", "top_flow"))


def injections(ad: Mapping[str, Any], dataset: str) -> list[float]:
    """A dataset's S/B scan: its own injections, or ad.injections."""
    return [float(x) for x in ad["datasets"][dataset].get("injections", ad["injections"])]


def check_box(box: Mapping[str, Any], columns: tuple[str, ...], where: str) -> None:
    """A box cuts only the given columns, each with lo < hi, and leaves something outside."""
    for column, (lo, hi) in box.items():
        if column not in columns:
            raise ConfigError(
                f"{where}.{column}", f"not a column the SR may cut; expected one of {list(columns)}"
            )
        if lo is not None and hi is not None and lo >= hi:
            raise ConfigError(f"{where}.{column}", f"lo {lo} must be below hi {hi} (lo < v <= hi)")
    if all(lo is None and hi is None for lo, hi in box.values()):
        raise ConfigError(where, "every cut is open on both sides: the SR would leave no CR")


def _check_sources(ad: Mapping[str, Any]) -> None:
    """source: files needs a reader and, for label-less text files, one file per signal."""
    for name, cfg in ad["datasets"].items():
        if cfg["source"] != "files":
            continue
        where = f"ad.datasets.{name}"
        if name not in FILE_READERS:
            raise ConfigError(
                f"{where}.source",
                f"there is no file reader for {name}; files work for {list(FILE_READERS)}",
            )
        missing = [s for s in cfg["signals"] if s not in cfg["files"]["signals"]]
        if name == "nonres" and missing:
            raise ConfigError(
                f"{where}.files.signals",
                f"no file for {missing}; text files carry no labels, so each signal needs its own",
            )


def _check_dataset(ad: Mapping[str, Any], name: str) -> None:
    cfg, spec = ad["datasets"][name], SPECS[name]
    where = f"ad.datasets.{name}"
    # The templates carry the features into the SR along the context: the SR is a context box.
    check_box(cfg["sr"], spec.context, f"{where}.sr")
    if cfg["context_source"] == "data_kde":
        open_sides = [c for c in spec.context if None in cfg["sr"].get(c, (None, None))]
        if open_sides:
            raise ConfigError(
                f"{where}.context_source",
                f"data_kde draws SR contexts inside the SR box: give {where}.sr both bounds "
                f"of {open_sides}, or use mc_weighted",
            )
    if "mj_shift" in cfg and name != "lhco":
        raise ConfigError(
            f"{where}.mj_shift", f"{name} has no jet masses to shift; mj_shift applies to lhco"
        )
    for block, key in _FLOW_BLOCKS:
        check_flow(ad[block][key], f"ad.{block}.{key}", features=len(spec.features))
    missing = sorted(set(map(float, ad["closure_injections"])) - set(injections(ad, name)))
    if missing:
        raise ConfigError(
            "ad.closure_injections",
            f"{missing} not among the injections of {name} {injections(ad, name)}",
        )


def _probe_sr(ad: Mapping[str, Any], name: str, seed: int) -> None:
    """SR and CR both hold background, and every injection puts signal events into the SR."""
    cfg, spec = ad["datasets"][name], SPECS[name]
    where = f"ad.datasets.{name}"
    shift = float(cfg.get("mj_shift") or 0.0)
    rng = derive_rng(seed, name, "start-up probe")
    events = generate_background(name, PROBE_EVENTS, rng, mj_shift=shift)
    share = float(in_box(events, spec.columns, cfg["sr"]).mean())
    if share == 1.0:
        raise ConfigError(f"{where}.sr", "holds every background event: it leaves no CR")
    if share == 0.0:
        raise ConfigError(f"{where}.sr", f"holds none of {PROBE_EVENTS} background events")
    n_sr = share * cfg["n_data"]
    for s_over_b in injections(ad, name):
        if 0 < s_over_b and round(s_over_b * n_sr) == 0:
            raise ConfigError(
                f"{where}.n_data",
                f"{cfg['n_data']} events put ~{n_sr:.0f} background events into the SR, so "
                f"S/B {s_over_b:g} injects 0 signal events; raise n_data or drop the injection",
            )
    for signal in cfg["signals"]:
        accepted = in_box(generate_signal(name, signal, 10_000, rng, mj_shift=shift),
                          spec.columns, cfg["sr"])  # fmt: skip
        if not accepted.any():
            raise ConfigError(f"{where}.sr", f"holds none of 10000 {signal} signal events")


def check_ad_config(ad: Mapping[str, Any], seed: int) -> None:
    """Every ``ad`` check that can run before a job; raises ``ConfigError`` at the first."""
    _check_sources(ad)
    for block in _CLASSIFIER_BLOCKS:
        check_classifier(ad[block]["classifier"], f"ad.{block}.classifier")
    discrim = ad["discrim"]
    if discrim["average_epochs"] != 1 and discrim["classifier"]["kind"] != "mlp":
        raise ConfigError(
            "ad.discrim.average_epochs", "averages the epochs of an mlp; hgb has no epochs"
        )
    if discrim["members_per_job"] is not None and discrim["one_job_per"] != "method":
        if discrim["members_per_job"] < discrim["ensemble"]:
            raise ConfigError(
                "ad.discrim.members_per_job",
                "splits one method's ensemble over jobs; it needs ad.discrim.one_job_per: "
                "method (point trains every method in one job)",
            )
    for name, cfg in ad["datasets"].items():
        if not cfg["enabled"]:
            continue
        _check_dataset(ad, name)
        if cfg["source"] == "synthetic":
            _probe_sr(ad, name, seed)
