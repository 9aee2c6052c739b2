"""Step iso_plot_efp_search: the guided search's trajectory: after each added EFP the model's
validation sPlot AUC and its decision ordering with the reference PFN, whose own validation
sPlot AUC is the line to reach."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import figure_parser, run_step
from hepflows.core.io import read_json
from hepflows.iso.scan_figures import plot_efp_search


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    search = read_json(args.search, ("steps", "start", "n_cones", "reference_scores"),
                       "an EFP search result")  # fmt: skip
    plot_efp_search(search["steps"], args.out[0], start=search["start"],
                    pfn_auc=search["reference_scores"]["auc"],
                    reference_label=params["reference_label"],
                    start_label=f"{search['n_cones']} cones + sum pT", kind="validation sPlot",
                    title=args.title)  # fmt: skip


def parser():
    return figure_parser(__doc__, "--search", "the search's trajectory (iso_search_efps)")


if __name__ == "__main__":
    run_step(parser(), main)
