"""Step ad_supervised: the fully supervised upper bound, the SR classifier ensemble trained on
the truth signal sample (1) against the ideal background template (0)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.sr_classifier import write_ensemble_scores
from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    jobs = [(args.template, args.tag, args.out)]
    write_ensemble_scores(jobs, read_table(args.signal), args, params, log, positives_name="signal")


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_argument("--tag", required=True, help="names the ensemble's random streams")
    p.add_input("--signal", help="the SR signal sample (ad_make_signal_pool)")
    p.add_input("--template", help="the ideal background template")
    p.add_input("--test", help="the labelled SR test set")
    p.add_input("--scaler")
    p.add_output("--out", help="the ensemble's score on the test set (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
