"""Figures of merit of a signal-injection scan: per seed, then median and 16/84 over seeds, and
the summary tables of one (dataset, signal)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from hepflows.core.event_files import read_table
from hepflows.core.io import PathLike, read_json, require
from hepflows.core.metrics import percentile_band, sic_on_grid, summarize_sic

TPR_GRID = np.linspace(0.01, 1.0, 100)
METRICS = ("auc", "max_sic", "sic_at_1e3", "sic_at_1e4")
BAND = ("median", "p16", "p84")
# What the readers of the scan's intermediate files need from them; a file without it is an error
# naming the file and the key (see hepflows.core.io.require).
EVALUATION = "an evaluation (written by ad_evaluate)"
EVALUATION_KEYS = (
    "method",
    "injection",
    "per_seed",
    "summary.max_sic",
    *(f"sic_curve.{k}" for k in ("tpr", *BAND)),
)
CLOSURE = "a closure result (written by ad_closure)"
CLOSURE_KEYS = ("method", "CR.aucs", "SR.aucs", "CR.joint.aucs", "SR.joint.aucs")
SUMMARY = "a summary table (written by ad_aggregate)"
MAX_SIC_COLUMNS = ("method", "injection", "n_bkg_sr", "n_seeds", *(f"max_sic_{s}" for s in BAND))
CLOSURE_COLUMNS = ("method", "region", *BAND)
DATA = "an injected data set (written by ad_make_data)"


def read_evaluation(path: PathLike) -> dict[str, Any]:
    """An evaluation JSON with every key that the summary and the figures read."""
    ev = read_json(path, EVALUATION_KEYS, EVALUATION)
    return require(
        ev, [f"summary.{m}.{s}" for m in ev["summary"] for s in BAND], path, expected=EVALUATION
    )


def read_closure(path: PathLike) -> dict[str, Any]:
    """A closure JSON with the AUCs of both regions."""
    return read_json(path, CLOSURE_KEYS, CLOSURE)


class InjectionCounts(NamedTuple):
    n_bkg_sr: float  # SR background events
    signal_in_cr: float  # share of the injected signal outside the SR (0 without signal)


def injection_counts(path: PathLike) -> InjectionCounts:
    """The bookkeeping of an injected data set, from its attributes (read once). Every template
    method learns from the CR, so ``signal_in_cr`` is the contamination it may carry into the SR
    (on ``nonres`` at S/B 3%: 14-20%, at high ht where the CR background is sparse; docs/ad.md)."""
    attrs = read_table(path, columns=[]).attrs
    keys = ["n_bkg_sr", "n_sig_total", "n_sig_sr"]
    counts = require(attrs, keys, path, expected=DATA, what="attribute")
    total = float(counts["n_sig_total"])
    share = 0.0 if total == 0 else 1.0 - float(counts["n_sig_sr"]) / total
    return InjectionCounts(float(counts["n_bkg_sr"]), share)


def read_seed_scores(
    paths: Sequence[str], seeds: Sequence[int]
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(data seed, test labels, score) from one score file per seed, in the same order."""
    if len(paths) != len(seeds):
        raise ValueError(f"{len(paths)} score files for {len(seeds)} seeds")
    out = []
    for seed, path in zip(seeds, paths, strict=True):
        table = read_table(path, columns=["score"], require_labels=True)
        out.append((seed, table.labels, table.col("score")))
    return out


def evaluate_seeds(
    scores: Sequence[tuple[int, np.ndarray, np.ndarray]],
    *,
    max_rel_unc: float,
    rejections: Sequence[float],
) -> dict[str, Any]:
    """``scores``: (data seed, labels, score) per seed -> per-seed metrics, bands and SIC curves."""
    per_seed, curves = [], []
    for seed, labels, score in scores:
        m = summarize_sic(labels, score, rejections=tuple(rejections), max_rel_unc=max_rel_unc)
        per_seed.append({"seed": seed, **m})
        curves.append(sic_on_grid(labels, score, TPR_GRID, max_rel_unc=max_rel_unc))
    summary = {}
    for key in METRICS:
        if key in per_seed[0]:
            median, p16, p84 = percentile_band(
                np.array([row[key] for row in per_seed], dtype=float)
            )
            summary[key] = {"median": median, "p16": p16, "p84": p84}
    median, p16, p84 = percentile_band(np.vstack(curves), axis=0)
    return {
        "per_seed": per_seed,
        "summary": summary,
        "sic_curve": {"tpr": TPR_GRID, "median": median, "p16": p16, "p84": p84},
    }


def summary_table(evaluations: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (method, injection): S/B, S/sqrt(B), the share of the injected signal in the
    CR and median/16/84 of every metric."""
    rows = []
    for ev in evaluations:
        row: dict[str, Any] = {
            "method": ev["method"],
            "injection": ev["injection"],
            "n_bkg_sr": ev.get("n_bkg_sr"),
            "s_over_sqrt_b": ev.get("s_over_sqrt_b"),
            "signal_in_cr": ev.get("signal_in_cr"),
            "n_seeds": len(ev["per_seed"]),
        }
        for key, band in ev["summary"].items():
            for stat in BAND:
                row[f"{key}_{stat}"] = band[stat]
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.sort_values(["method", "injection"], na_position="first").reset_index(drop=True)


def closure_table(results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Closure AUC median/16/84 per (method, region), pooling folds over all data seeds: on the
    features (the headline) and, as ``joint_*``, on context and features."""
    pooled: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for res in results:
        for region in ("CR", "SR"):
            features, joint = pooled.setdefault((res["method"], region), ([], []))
            features.extend(res[region]["aucs"])
            joint.extend(res[region]["joint"]["aucs"])
    rows = []
    for (method, region), (features, joint) in sorted(pooled.items()):
        median, p16, p84 = percentile_band(np.array(features))
        j_median, j_p16, j_p84 = percentile_band(np.array(joint))
        rows.append(
            {
                "method": method,
                "region": region,
                "median": median,
                "p16": p16,
                "p84": p84,
                "n": len(features),
                "joint_median": j_median,
                "joint_p16": j_p16,
                "joint_p84": j_p84,
            }
        )
    return pd.DataFrame(rows)


def log_band(log: logging.Logger, result: Mapping[str, Any], what: str) -> None:
    """One log line with the max SIC band of an evaluation."""
    band = result["summary"]["max_sic"]
    log.info(
        f"{what}: max SIC {band['median']:.2f} [{band['p16']:.2f}, {band['p84']:.2f}] "
        f"over {len(result['per_seed'])} seeds"
    )
