"""Step ad_plot_sic_curves: SIC against signal efficiency at one injection, median and 16/84
band over data seeds per method (plots/sic_vs_efficiency_s<S/B>.pdf and .png)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.figures import ordered, plot_sic_vs_efficiency
from hepflows.ad.injection_scan import read_evaluation
from hepflows.core.cli import StepParser, figure_parser, run_step


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    curves, n_seeds = {}, 0
    for path in args.evaluations:
        ev = read_evaluation(path)
        curves[ev["method"]] = {k: np.asarray(v, dtype=float) for k, v in ev["sic_curve"].items()}
        n_seeds = max(n_seeds, len(ev["per_seed"]))
    plot_sic_vs_efficiency(ordered(curves), args.out[0], title=args.title, n_seeds=n_seeds)
    log.info(f"wrote {args.out}")


def parser() -> StepParser:
    p = figure_parser(__doc__, "--evaluations", "evaluation JSON files, one per method", nargs="+")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
