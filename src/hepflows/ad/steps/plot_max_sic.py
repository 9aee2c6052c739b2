"""Step ad_plot_max_sic: max SIC against S/B for every method of one (dataset, signal), with the
fully supervised classifier and the no-signal band (the ideal template's max SIC at S/B = 0
over the seeds) as references (plots/max_sic_vs_sb.pdf and .png)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.figures import max_sic_curves, no_signal_band, plot_max_sic_vs_sb
from hepflows.ad.injection_scan import MAX_SIC_COLUMNS, SUMMARY
from hepflows.core.cli import StepParser, figure_parser, run_step
from hepflows.core.io import read_csv


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    table = read_csv(args.table, MAX_SIC_COLUMNS, SUMMARY)
    n_bkg = float(table["n_bkg_sr"].dropna().mean())
    plot_max_sic_vs_sb(
        max_sic_curves(table), args.out[0], n_bkg_sr=n_bkg, title=args.title,
        no_signal=no_signal_band(table), n_seeds=int(table["n_seeds"].max()),
        floor_events=1 / params["max_rel_unc"] ** 2,
    )  # fmt: skip
    log.info(f"wrote {args.out}")


def parser() -> StepParser:
    p = figure_parser(__doc__, "--table", "summary/max_sic.csv")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
