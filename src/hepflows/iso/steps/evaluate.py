"""Step iso_evaluate: a model's bootstrap replicas on the test fold: per replica the sPlot AUC
and TPR at 50% FPR (averaged over draws of the mass-fit parameters, as the paper) and, where
known, the truth ones; their mean +- std/sqrt(R); median ROC curves with 16-84% bands. With a
synthetic holdout sample, the same on it (``holdout_splot``, ``holdout_truth``), against its
own mass fit."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table
from hepflows.core.io import DataError, read_json, write_json
from hepflows.core.seeding import derive_seed
from hepflows.iso.evaluation import (
    curve_band,
    read_sample,
    read_test_fold,
    replica_metrics,
    splot_truth_spread,
    summary,
)
from hepflows.iso.mass_fit import fit_from_dict


def replica_scores(paths: list[str], n_events: int, what: str) -> np.ndarray:
    """(replicas, events): the bootstrap blocks' scores, each checked to cover the sample."""
    parts = [read_table(p) for p in paths]
    for path, part in zip(paths, parts, strict=True):
        if len(part) != n_events:
            raise DataError(f"{path}: {len(part)} scores, {what} has {n_events} events")
    return np.concatenate([p.data.T for p in parts])


def sections(rows: list[dict[str, Any]], prefix: str = "") -> dict[str, Any]:
    """The summaries of sPlot and (where known) truth metrics over replicas."""
    out = {}
    for kind in ("splot", "truth"):
        if f"{kind}_auc" in rows[0]:
            out[prefix + kind] = {
                "auc": summary(rows, f"{kind}_auc"),
                "tpr_at_50fpr": summary(rows, f"{kind}_tpr_at_50fpr"),
                "roc": curve_band([r[f"{kind}_roc"] for r in rows]),
            }
    return out


def describe(out: dict[str, Any], prefix: str) -> str:
    splot = out[f"{prefix}splot"]
    s, t = splot["auc"], out.get(f"{prefix}truth", {}).get("auc")
    text = f"sPlot AUC {s['mean']:.4f} +- {s['error']:.4f}"
    if t:
        text += (f", truth {t['mean']:.4f} (sPlot - truth {s['mean'] - t['mean']:+.4f}, "
                 f"statistical spread {splot['minus_truth_spread']:.4f})")  # fmt: skip
    return text


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    holdout = (args.holdout_parts, args.holdout_events, args.holdout_fit)
    if any(h is not None for h in holdout) and any(h is None for h in holdout):
        raise ValueError("--holdout-parts, --holdout-events and --holdout-fit go together")
    samples = [("", args.parts, read_test_fold(args.events, args.cwola), args.fit, "test fold")]
    if args.holdout_events is not None:
        samples.append(("holdout_", args.holdout_parts, read_sample(args.holdout_events),
                        args.holdout_fit, "the holdout sample"))  # fmt: skip
    out: dict[str, Any] = {"model": args.name, "label": params["label"]}
    for prefix, paths, events, fit_path, what in samples:
        fit = fit_from_dict(read_json(fit_path), str(fit_path))
        scores = replica_scores(paths, len(events.index), what)
        rows = replica_metrics(scores, events, fit, draws=params["fit_draws"],
                               seed=params["seed"], model=prefix + args.name)  # fmt: skip
        out.update(sections(rows, prefix))
        if events.truth is not None:  # the spread of sPlot - truth, on replica 0's scores
            out[f"{prefix}splot"]["minus_truth_spread"] = splot_truth_spread(
                scores[0], events, fit, resamples=params["resamples"],
                seed=derive_seed(params["seed"], "iso", "resample", prefix + args.name),
            )  # fmt: skip
        out[f"{prefix}n_events"] = len(events.index)
        out[f"{prefix}replicas"] = [
            {k: v for k, v in r.items() if not k.endswith("_roc")} for r in rows
        ]
        log.info(f"{args.name}, {what} ({len(events.index)} events, {len(rows)} replicas): "
                 + describe(out, prefix))  # fmt: skip
    out["n_replicas"] = len(out["replicas"])
    write_json(args.out, out)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--name", required=True, help="the model's name")
    p.add_input("--parts", nargs="+", help="the bootstrap parts' scores (iso_bootstrap)")
    p.add_input("--events", help="the event table (masses, truth)")
    p.add_input("--cwola", help="the folds (iso_label)")
    p.add_input("--fit", help="the mass fit (iso_fit_mass)")
    p.add_input("--holdout-parts", nargs="+", required=False,
                help="the bootstrap parts' scores of the holdout sample")  # fmt: skip
    p.add_input("--holdout-events", required=False, help="the holdout sample (masses, truth)")
    p.add_input("--holdout-fit", required=False, help="the holdout sample's mass fit")
    p.add_output("--out", help="the evaluation (JSON)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
