"""Step ad_plot_closure: closure AUC per method in the CR and the SR, median and 16/84 over folds
and data seeds (plots/closure_summary.pdf and .png). Params: ``folds`` and ``seeds`` (their
numbers), for the legend."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.figures import closure_rows, plot_closure_summary
from hepflows.ad.injection_scan import CLOSURE_COLUMNS, SUMMARY
from hepflows.core.cli import StepParser, figure_parser, run_step
from hepflows.core.io import read_csv


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    table = read_csv(args.table, CLOSURE_COLUMNS, SUMMARY)
    plot_closure_summary(
        closure_rows(table), args.out[0], title=args.title,
        n_seeds=params.get("seeds"), folds=params.get("folds"),
    )  # fmt: skip
    log.info(f"wrote {args.out}")


def parser() -> StepParser:
    p = figure_parser(__doc__, "--table", "summary/closure.csv")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
