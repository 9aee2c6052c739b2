"""Step iso_plot_cone_scan: the CV AUC against the number of isolation cones, with the
reference PFN's CV AUC as a band: the gap the cones leave to the particles."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import figure_parser, run_step
from hepflows.core.io import read_csv, read_json
from hepflows.iso.scan_figures import plot_cone_scan


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    table = read_csv(args.table, ["n_cones", "kind", "auc_mean", "auc_std", "n_splits"],
                     "the cone scan table (iso_summary)")  # fmt: skip
    rows = table[table["kind"] == args.kind]
    if rows.empty:
        raise ValueError(f"{args.table}: no {args.kind} rows")
    reference = None
    if args.reference:
        ref = read_json(args.reference, ("label",), "a CV summary")
        key = "splot_auc" if args.kind == "sPlot" else "truth_auc"
        reference = {ref["label"]: (ref[key]["mean"], ref[key]["std"] or 0.0)}
    plot_cone_scan(rows["n_cones"], rows["auc_mean"], rows["auc_std"].fillna(0.0), args.out[0],
                   reference=reference, n_folds=int(rows["n_splits"].max()), kind=args.kind,
                   title=args.title)  # fmt: skip


def parser():
    p = figure_parser(__doc__, "--table", "summary/cone_scan.csv")
    p.add_input("--reference", required=False, help="the PFN's CV summary")
    p.add_argument("--kind", choices=("sPlot", "truth"), default="sPlot")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
