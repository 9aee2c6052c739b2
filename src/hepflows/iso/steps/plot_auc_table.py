"""Step iso_plot_auc_table: the bootstrapped AUC table as a figure: each model's AUC with its
error and its TPR at 50% FPR, sPlot and truth side by side."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import figure_parser, run_step
from hepflows.core.io import read_csv
from hepflows.iso.figures import plot_auc_table

_COLUMNS = ["model", "kind", "auc_mean", "auc_err", "tpr_at_50fpr", "n_replicas"]


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    table = read_csv(args.table, _COLUMNS, "the AUC table (iso_summary)")
    plot_auc_table(table, args.out[0], title=args.title)


def parser():
    return figure_parser(__doc__, "--table", "summary/auc_table.csv")


if __name__ == "__main__":
    run_step(parser(), main)
