"""Step ad_merge_members: one ensemble's score from its parts (``discrim.members_per_job``), the
mean over every member, as if one job had trained them all. A part missing or repeating a member
is an error."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.sr_classifier import merge_member_scores
from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table, write_table
from hepflows.core.io import config_hash


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    n = params["discrim"]["ensemble"]
    parts = [(path, read_table(path, require_labels=True)) for path in args.parts]
    table = merge_member_scores(parts, n)
    log.info(f"{args.tag}: mean of {n} members from {len(args.parts)} parts")
    write_table(args.out, table, seed=args.data_seed, config_hash=config_hash(params))


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_input("--parts", nargs="+", help="the parts' per-member scores (HDF5)")
    p.add_argument("--tag", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_output("--out")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
