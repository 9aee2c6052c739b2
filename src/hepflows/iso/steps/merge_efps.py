"""Step iso_merge_efps: one (kappa, beta)'s EFP chunks into one table over all events, checked
to cover the events once, in order."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import DataError, config_hash


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    parts = [read_table(path, particles=False) for path in args.parts]
    expected = 0
    for path, part in zip(args.parts, parts, strict=True):
        if part.attrs.get("first_event") != expected or part.columns != parts[0].columns:
            raise DataError(
                f"{path}: expected the EFP chunk starting at event {expected} with the columns "
                f"of {args.parts[0]}; got first_event {part.attrs.get('first_event')}"
            )
        expected += len(part)
    if expected != parts[0].attrs.get("n_total"):
        raise DataError(f"{args.parts[-1]}: the chunks hold {expected} of "
                        f"{parts[0].attrs.get('n_total')} events")  # fmt: skip
    data = np.concatenate([p.data for p in parts])
    log.info(f"{len(args.parts)} chunks: {data.shape[0]} events x {data.shape[1]} EFPs")
    write_table(args.out, EventTable(data, parts[0].columns), seed=None,
                config_hash=config_hash(params))  # fmt: skip


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_input("--parts", nargs="+", help="the EFP chunks, in event order")
    p.add_output("--out", help="the EFPs of every event (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
