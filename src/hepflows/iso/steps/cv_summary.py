"""Step iso_cv_summary: a model's cross-validation splits summed up: per split the sPlot AUC
(and the truth AUC where known) on the test fold and the best epoch; their mean and spread;
and the fixed epoch count its bootstrap replicas train for (the mean best epoch)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table
from hepflows.core.io import read_json, write_json
from hepflows.iso.evaluation import read_test_fold, score_metrics
from hepflows.iso.folds import fixed_epoch_count
from hepflows.iso.mass_fit import fit_from_dict

_KEYS = ("splot_auc", "truth_auc", "val_cwola_auc", "best_epoch")


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    if len(args.metrics) != len(args.scores):
        raise ValueError("--metrics and --scores need one file per split")
    fit = fit_from_dict(read_json(args.fit), str(args.fit))
    test = read_test_fold(args.events, args.cwola)
    splits = []
    for metrics_path, scores_path in zip(args.metrics, args.scores, strict=True):
        metrics = read_json(metrics_path, ("split", "best_epoch", "val_cwola_auc"), "CV metrics")
        score = read_table(scores_path, columns=["score"]).col("score")[test.index]
        m = score_metrics(score, test, fit)
        row = {k: metrics[k] for k in ("split", "best_epoch", "epochs_run", "val_cwola_auc")}
        row.update({k: v for k, v in m.items() if not k.endswith("_roc")})
        splits.append(row)
    out: dict[str, Any] = {"model": args.name, "label": params["label"], "splits": splits}
    for key in _KEYS:
        values = np.array([s[key] for s in splits if key in s], dtype=float)
        if values.size:
            std = float(values.std(ddof=1)) if values.size > 1 else None
            out[key] = {"mean": float(values.mean()), "std": std, "n": int(values.size)}
    out["epochs"] = fixed_epoch_count([s["best_epoch"] for s in splits])
    log.info(
        f"{args.name}: sPlot AUC {out['splot_auc']['mean']:.4f} over {len(splits)} split(s); "
        f"bootstrap epochs {out['epochs']}"
    )
    write_json(args.out, out)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--name", required=True, help="the model's name")
    p.add_input("--metrics", nargs="+", help="each split's metrics (iso_train)")
    p.add_input("--scores", nargs="+", help="each split's scores, in the order of --metrics")
    p.add_input("--events", help="the event table (masses, truth)")
    p.add_input("--cwola", help="the folds (iso_label)")
    p.add_input("--fit", help="the mass fit (iso_fit_mass)")
    p.add_output("--out", help="the summary (JSON)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
