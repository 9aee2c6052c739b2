"""Step: one ensemble's score from its parts (discrim.members_per_job): the mean over every
member, as if one job had trained them all. A part missing or repeating a member is an error."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.discrimination import member_columns
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import DataError, EventTable, config_hash, read_table, write_table


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    n = params["discrim"]["ensemble"]
    columns: dict[str, np.ndarray] = {}
    labels = None
    for path in args.parts:
        part = read_table(path, require_labels=True)
        if labels is None:
            labels = part.labels
        elif not np.array_equal(part.labels, labels):
            raise DataError(f"{path}: its test events differ from {args.parts[0]}'s")
        for name in part.columns:
            if name in columns:
                raise DataError(f"{path}: {name} is also in another part")
            columns[name] = part.col(name)
    expected = member_columns(0, n)
    if sorted(columns) != expected:
        missing = sorted(set(expected) - set(columns))
        extra = sorted(set(columns) - set(expected))
        raise DataError(
            f"{args.parts}: expected the {n} members of discrim.ensemble; missing {missing}, "
            f"not in the ensemble {extra}"
        )
    score = np.mean([columns[c] for c in expected], axis=0)
    log.info(f"{args.tag}: mean of {n} members from {len(args.parts)} parts")
    table = EventTable(score[:, None], ["score"], labels=labels)
    write_table(args.out, table, seed=args.data_seed, config_hash=config_hash(params))


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--parts", nargs="+", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_output("--out")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
