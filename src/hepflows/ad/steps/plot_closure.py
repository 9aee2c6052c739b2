"""Step ad_plot_closure: closure AUC per method in the CR and the SR, median and 16/84 over folds
and data seeds (plots/closure_summary.pdf and .png)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import pandas as pd

from hepflows.ad.figures import closure_rows, plot_closure_summary
from hepflows.core.cli import StepParser, figure_parser, run_step


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    plot_closure_summary(closure_rows(pd.read_csv(args.table)), args.out[0], title=args.title)
    log.info(f"wrote {args.out}")


def parser() -> StepParser:
    p = figure_parser(__doc__, "--table", "summary/closure.csv")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
