"""Step iso_fit_mass: the Voigt + exponential fit of the dimuon mass spectrum of all events,
the stand-in for truth: its shapes give the sWeights of every evaluation, its covariance the
fit part of every sPlot AUC's uncertainty."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table
from hepflows.core.io import write_json
from hepflows.iso.mass_fit import fit_mass, fit_to_dict


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    events = read_table(args.events, columns=["mass"], particles=False)
    fit = fit_mass(events.col("mass"), source=str(args.events))
    v, e = fit.values, fit.errors
    log.info(
        f"{fit.n_events} events: prompt fraction {fit.prompt_fraction:.4f} +- "
        f"{fit.prompt_fraction_error:.4f}, mu {v['mu']:.3f} +- {e['mu']:.3f}, sigma "
        f"{v['sigma']:.3f}, gamma {v['gamma']:.3f}, tau {v['tau']:.1f} GeV"
    )
    write_json(args.out, fit_to_dict(fit))


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_input("--events", help="the event table (iso_events)")
    p.add_output("--out", help="the fit: values, errors, covariance (JSON)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
