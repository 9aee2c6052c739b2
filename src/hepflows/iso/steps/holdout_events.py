"""Step iso_holdout_events: the synthetic holdout sample, ``synthetic.holdout_events`` dimuon
events from a random stream of their own, which no step trains or searches on: every bootstrap
replica scores it, so the sPlot and truth AUCs are measured on many more events than the test
fold holds."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import write_table
from hepflows.core.io import config_hash
from hepflows.core.seeding import derive_rng
from hepflows.iso.synthetic import dimuon_events


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    n = params["synthetic"]["holdout_events"]
    table = dimuon_events(n, derive_rng(params["seed"], "iso", "holdout-events"))
    log.info(f"generated {n} synthetic dimuon events for the holdout sample")
    write_table(args.out, table, seed=params["seed"], config_hash=config_hash(params))


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_output("--out", help="the holdout sample with its particles (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
