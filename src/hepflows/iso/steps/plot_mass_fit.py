"""Step iso_plot_mass_fit: the dimuon mass spectrum with the fitted prompt (Voigt) and
non-prompt (exponential) parts and the pulls: the evidence every sPlot number rests on."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import figure_parser, run_step
from hepflows.core.event_files import read_table
from hepflows.core.io import read_json
from hepflows.iso.figures import plot_mass_fit
from hepflows.iso.mass_fit import binned_pulls, fit_from_dict


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    fit = fit_from_dict(read_json(args.fit), str(args.fit))
    mass = read_table(args.events, columns=["mass"], particles=False).col("mass")
    label = "pseudo-data" if params["source"] == "synthetic" else "data"
    plot_mass_fit(binned_pulls(mass, fit), fit, args.out[0], errors=fit.errors,
                  data_label=label, title=args.title)  # fmt: skip


def parser():
    p = figure_parser(__doc__, "--fit", "the mass fit (iso_fit_mass)")
    p.add_input("--events", help="the event table (masses)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
