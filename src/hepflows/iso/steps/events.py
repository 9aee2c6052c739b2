"""Step iso_events: the dimuon events every other step reads, from the synthetic generator
(with truth) or the public CMS files (cms_csvs/ and the LMDB folders pfn/ and iso/)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import write_table
from hepflows.core.io import config_hash
from hepflows.core.seeding import derive_rng
from hepflows.iso.readers import read_cms
from hepflows.iso.synthetic import dimuon_events


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    if params["source"] == "synthetic":
        n = params["synthetic"]["n_events"]
        table = dimuon_events(n, derive_rng(params["seed"], "iso", "events"))
        log.info(f"generated {n} synthetic dimuon events")
    else:
        cms = params["cms"]
        table = read_cms(cms["directory"], max_events=cms["max_events"])
        log.info(f"read {len(table)} events from the CMS files in {cms['directory']}")
    write_table(args.out, table, seed=params["seed"], config_hash=config_hash(params))


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_output("--out", help="the event table with the particles (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
