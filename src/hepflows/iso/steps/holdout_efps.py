"""Step iso_holdout_efps: for one chunk of the synthetic holdout sample, only the EFP columns
that the cones_efps models use (their lists, and the guided search's choice): the holdout is
scored, never searched, so it does not pay for the whole (kappa, beta) grid."""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import config_hash, read_json
from hepflows.iso.efps import compute_efp_columns
from hepflows.iso.steps.efps import chunk_rows


def holdout_columns(fixed: list[str], search: dict[str, Any] | None) -> list[str]:
    """The fixed lists' columns, then the search's choice, each once."""
    chosen = list(search["chosen"]) if search else []
    return list(dict.fromkeys([*fixed, *chosen]))


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    search = read_json(args.search, ("chosen",), "an EFP search result") if args.search else None
    columns = holdout_columns(params["columns"], search)
    n = len(read_table(args.events, columns=[], particles=False))
    rows = chunk_rows(n, params["jobs"], args.part)
    events = read_table(args.events, columns=[], rows=rows)
    start = time.perf_counter()
    efps = compute_efp_columns(events.particles, events.mask, columns, params["dmax"])
    seconds = time.perf_counter() - start
    log.info(
        f"events {rows.start}..{rows.stop - 1} of {n}: {', '.join(columns)} in {seconds:.1f} s, "
        f"{1e3 * seconds / max(1, len(efps)):.3f} ms/event"
    )
    attrs = {"first_event": rows.start, "n_total": n}
    write_table(args.out, EventTable(efps, columns), seed=None, config_hash=config_hash(params),
                extra_attrs=attrs)  # fmt: skip


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--part", type=int, required=True, help="the chunk of events, 0..jobs-1")
    p.add_input("--events", help="the holdout sample (iso_holdout_events)")
    p.add_input("--search", required=False, help="the guided search's result (its choice)")
    p.add_output("--out", help="the chunk's EFP columns (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
