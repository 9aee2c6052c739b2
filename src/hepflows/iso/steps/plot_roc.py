"""Step iso_plot_roc: the models' ROC curves (``--style roc``) or non-prompt rejection against
prompt efficiency (``--style rejection``), sPlot or truth efficiencies, each the median over the
bootstrap replicas with its 16-84% band, the bootstrapped AUC in the legend."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.core.cli import figure_parser, run_step
from hepflows.core.io import DataError, read_json
from hepflows.iso.roc_figures import plot_rejection, plot_roc_curves


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    key = "splot" if args.kind == "sPlot" else "truth"
    curves, bands, aucs = {}, {}, {}
    n = set()
    for path in args.evaluations:
        ev = read_json(path, ("label", "n_replicas"), "an evaluation")
        if key not in ev:
            raise DataError(f"{path}: no {args.kind} evaluation (real data have no truth)")
        roc = {k: np.asarray(v) for k, v in ev[key]["roc"].items()}
        curves[ev["label"]] = (roc["fpr"], roc["median"])
        bands[ev["label"]] = (roc["fpr"], roc["p16"], roc["p84"])
        aucs[ev["label"]] = (ev[key]["auc"]["mean"], ev[key]["auc"]["error"])
        n.add(ev["n_replicas"])
    band_label = f"16-84% over {'/'.join(map(str, sorted(n)))} bootstrap replicas"
    draw = plot_roc_curves if args.style == "roc" else plot_rejection
    draw(curves, args.out[0], kind=args.kind, bands=bands, band_label=band_label, auc=aucs,
         title=args.title)  # fmt: skip


def parser():
    p = figure_parser(__doc__, "--evaluations", "each model's evaluation", nargs="+")
    p.add_argument("--kind", choices=("sPlot", "truth"), required=True)
    p.add_argument("--style", choices=("roc", "rejection"), required=True)
    return p


if __name__ == "__main__":
    run_step(parser(), main)
