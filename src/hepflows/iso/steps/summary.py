"""Step iso_summary: the tables of the comparison: the bootstrapped AUC table (sPlot and, where
known, truth, on the test fold and any holdout sample; with the gap to the next model and whether
it exceeds the errors), every CV split's AUCs, and the cone scan."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np
import pandas as pd

from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import read_json, write_csv

_KINDS = {  # the evaluation's sections: the test fold's, then the synthetic holdout sample's
    "splot": "sPlot",
    "truth": "truth",
    "holdout_splot": "sPlot, holdout",
    "holdout_truth": "truth, holdout",
}


def _minus_truth(ev: dict[str, Any], key: str) -> dict[str, float | None]:
    """An sPlot row's AUC minus the truth AUC of the same sample, and that difference's
    statistical spread on a sample of that size (None on truth rows and real data)."""
    truth = ev.get(key.replace("splot", "truth"))
    if "splot" not in key or truth is None:
        return {"minus_truth": None, "minus_truth_spread": None}
    return {"minus_truth": ev[key]["auc"]["mean"] - truth["auc"]["mean"],
            "minus_truth_spread": ev[key].get("minus_truth_spread")}  # fmt: skip


def auc_table(evaluations: list[dict[str, Any]], cv: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per (model, kind), models in config order; ``gap_to_next`` is the AUC minus the
    next row's of the same kind, ``gap_significant`` whether it exceeds both errors summed in
    quadrature (the acceptance criterion of the paper's hierarchy); sPlot rows of synthetic
    events also carry ``minus_truth`` and its statistical ``minus_truth_spread``."""
    rows = []
    for ev in evaluations:
        for key, kind in _KINDS.items():
            if key not in ev:
                continue
            a, cv_auc = ev[key]["auc"], cv[ev["model"]].get(f"{key}_auc", {})
            rows.append({
                "model": ev["label"], "name": ev["model"], "kind": kind,
                "auc_mean": a["mean"], "auc_err": a["error"], "auc_std": a["std"],
                "tpr_at_50fpr": ev[key]["tpr_at_50fpr"]["mean"],
                "tpr_at_50fpr_err": ev[key]["tpr_at_50fpr"]["error"],
                "n_replicas": a["n"],
                "n_events": ev.get(("holdout_" if key.startswith("holdout") else "") + "n_events"),
                "cv_auc_mean": cv_auc.get("mean"),
                "cv_auc_std": cv_auc.get("std"), "epochs": cv[ev["model"]]["epochs"],
                **_minus_truth(ev, key),
            })  # fmt: skip
    table = pd.DataFrame(rows)
    gaps, significant = [], []
    for _, row in table.iterrows():
        same = table[table["kind"] == row["kind"]]
        later = same[same.index > row.name]
        if later.empty:
            gaps.append(np.nan)
            significant.append(None)
            continue
        nxt = later.iloc[0]
        gap = row["auc_mean"] - nxt["auc_mean"]
        gaps.append(gap)
        significant.append(bool(gap > np.hypot(row["auc_err"], nxt["auc_err"])))
    table["gap_to_next"], table["gap_significant"] = gaps, significant
    return table


def cv_table(cv: dict[str, dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"name": name, "model": s["label"], **split} for name, s in cv.items()
         for split in s["splits"]]
    )  # fmt: skip


def cone_scan_table(cv: dict[str, dict[str, Any]], scan: list[tuple[int, str]]) -> pd.DataFrame:
    rows = []
    for n, name in scan:
        s = cv[name]
        for key, kind in _KINDS.items():
            if f"{key}_auc" in s:
                v = s[f"{key}_auc"]
                rows.append({"n_cones": n, "kind": kind, "auc_mean": v["mean"],
                             "auc_std": v["std"], "n_splits": v["n"]})  # fmt: skip
    return pd.DataFrame(rows, columns=["n_cones", "kind", "auc_mean", "auc_std", "n_splits"])


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    cv = {}
    for path in args.cv:
        s = read_json(path, ("model", "label", "splits", "epochs"), "a CV summary")
        cv[s["model"]] = s
    evaluations = [
        read_json(p, ("model", "label", "splot"), "an evaluation") for p in args.evaluations
    ]
    table = auc_table(evaluations, cv)
    scan = [(int(n), f"cones{int(n)}") for n in params["cone_scan"]]
    write_csv(args.auc_table, table)
    write_csv(args.cv_table, cv_table(cv))
    write_csv(args.cone_scan, cone_scan_table(cv, scan))
    for _, r in table.iterrows():
        log.info(f"{r['kind']:>6} {r['model']:<40} AUC {r['auc_mean']:.4f} +- {r['auc_err']:.4f}")


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_input("--evaluations", nargs="+", help="each model's evaluation (iso_evaluate)")
    p.add_input("--cv", nargs="+", help="each model's CV summary, the cone scan's included")
    p.add_output("--auc-table", help="the bootstrapped AUCs (CSV)")
    p.add_output("--cv-table", help="every CV split's AUCs (CSV)")
    p.add_output("--cone-scan", help="AUC against the number of cones (CSV)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
