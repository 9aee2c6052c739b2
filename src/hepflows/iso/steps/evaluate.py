"""Step iso_evaluate: a model's bootstrap replicas on the test fold: per replica the sPlot AUC
and TPR at 50% FPR (averaged over draws of the mass-fit parameters, as the paper) and, where
known, the truth ones; their mean +- std/sqrt(R); median ROC curves with 16-84% bands."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table
from hepflows.core.io import DataError, read_json, write_json
from hepflows.iso.evaluation import curve_band, read_test_fold, replica_metrics, summary
from hepflows.iso.mass_fit import fit_from_dict


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    fit = fit_from_dict(read_json(args.fit), str(args.fit))
    test = read_test_fold(args.events, args.cwola)
    parts = [read_table(p) for p in args.parts]
    for path, part in zip(args.parts, parts, strict=True):
        if len(part) != len(test.index):
            raise DataError(f"{path}: {len(part)} scores, the test fold has {len(test.index)}")
    scores = np.concatenate([p.data.T for p in parts])
    rows = replica_metrics(scores, test, fit, draws=params["fit_draws"], seed=params["seed"],
                           model=args.name)  # fmt: skip
    out: dict[str, Any] = {"model": args.name, "label": params["label"], "n_replicas": len(rows)}
    for kind in ("splot", "truth"):
        if f"{kind}_auc" not in rows[0]:
            continue
        out[kind] = {
            "auc": summary(rows, f"{kind}_auc"),
            "tpr_at_50fpr": summary(rows, f"{kind}_tpr_at_50fpr"),
            "roc": curve_band([r[f"{kind}_roc"] for r in rows]),
        }
    out["replicas"] = [{k: v for k, v in r.items() if not k.endswith("_roc")} for r in rows]
    s = out["splot"]["auc"]
    log.info(
        f"{args.name}: sPlot AUC {s['mean']:.4f} +- {s['error']:.4f} over {len(rows)} "
        "replicas" + (f", truth {out['truth']['auc']['mean']:.4f}" if "truth" in out else "")
    )
    write_json(args.out, out)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--name", required=True, help="the model's name")
    p.add_input("--parts", nargs="+", help="the bootstrap parts' scores (iso_bootstrap)")
    p.add_input("--events", help="the event table (masses, truth)")
    p.add_input("--cwola", help="the folds (iso_label)")
    p.add_input("--fit", help="the mass fit (iso_fit_mass)")
    p.add_output("--out", help="the evaluation (JSON)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
