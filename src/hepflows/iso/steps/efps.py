"""Step iso_efps: the energy flow polynomials of one (kappa, beta) for one chunk of the events
(``--part`` of ``--parts``), so the grid spreads over a cluster as ordinary jobs."""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import numpy as np

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import config_hash
from hepflows.iso.efps import compute_efps, efp_columns


def chunk_rows(n: int, parts: int, part: int) -> slice:
    """Events of chunk ``part`` of ``parts`` near-equal consecutive chunks of ``n`` events."""
    if not 0 <= part < parts:
        raise ValueError(f"--part must be in 0..{parts - 1}, got {part}")
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return slice(int(edges[part]), int(edges[part + 1]))


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    n = len(read_table(args.events, columns=[], particles=False))
    rows = chunk_rows(n, params["jobs"], args.part)
    events = read_table(args.events, columns=[], rows=rows)
    kappa, beta, dmax = args.kappa, args.beta, params["dmax"]
    start = time.perf_counter()
    particles = events.particles
    efps = compute_efps(particles, events.mask, kappa, beta, dmax)
    seconds = time.perf_counter() - start
    log.info(
        f"events {rows.start}..{rows.stop - 1} of {n}: {efps.shape[1]} EFPs (kappa {kappa:g}, "
        f"beta {beta:g}, d <= {dmax}) in {seconds:.1f} s, {1e3 * seconds / max(1, len(efps)):.2f} "
        "ms/event"
    )
    table = EventTable(efps, efp_columns(kappa, beta, dmax))
    attrs = {"first_event": rows.start, "n_total": n}
    write_table(args.out, table, seed=None, config_hash=config_hash(params), extra_attrs=attrs)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--kappa", type=float, required=True)
    p.add_argument("--beta", type=float, required=True)
    p.add_argument("--part", type=int, required=True, help="the chunk of events, 0..jobs-1")
    p.add_input("--events", help="the event table with the particles (iso_events)")
    p.add_output("--out", help="the chunk's EFPs (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
