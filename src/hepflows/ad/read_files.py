"""Step: read a real event file once and cut it into the disjoint pools the sample steps use
(``source: files``; see :mod:`hepflows.ad.file_pools` for the order of the cuts)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from hepflows.ad import file_pools
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import EventTable, config_hash, write_table

KIND_POOLS = {
    "background": file_pools.BACKGROUND_POOLS,
    "mc": ("mc",),
    "signal": file_pools.SIGNAL_POOLS,
}


def pools_of(kind: str, table: EventTable, cfg: dict[str, Any], path: str) -> dict[str, EventTable]:
    if kind == "background":
        return file_pools.background_pools(table, cfg, path)
    if kind == "mc":
        return {"mc": file_pools.mc_pool(table, cfg, path)}
    return file_pools.signal_pools(table, cfg, path)


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    cfg, seed = params["dataset"], params["seed"]
    outputs = {Path(p).stem: p for p in args.out}
    expected = KIND_POOLS[args.kind]
    if sorted(outputs) != sorted(expected):
        raise ValueError(f"--out must name the pools {list(expected)}, got {sorted(outputs)}")
    # Signal without a file of its own comes from the labelled background file.
    labelled = args.kind == "signal" and args.signal not in cfg["files"].get("signals", {})
    table = file_pools.read_events(
        args.dataset, args.file, args.kind, cfg["files"], labelled=labelled
    )
    table = file_pools.shift_masses(args.dataset, table, cfg)
    name = args.kind if args.signal is None else f"{args.kind}_{args.signal}"
    table = file_pools.shuffled(table, seed, args.dataset, name)
    pools = pools_of(args.kind, table, cfg, args.file)
    chash = config_hash(params)
    for pool, out in outputs.items():
        write_table(out, pools[pool], seed=seed, config_hash=chash, extra_attrs={"file": args.file})
    sizes = ", ".join(f"{p} {len(pools[p])}" for p in expected)
    log.info(f"{args.file}: {len(table)} {args.kind} events -> {sizes}")


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True, choices=list(file_pools.READABLE))
    p.add_argument("--kind", required=True, choices=sorted(KIND_POOLS))
    p.add_argument("--signal", default=None, help="signal name (kind signal)")
    p.add_argument("--file", required=True, help="the event file")
    p.add_output("--out", nargs="+", help="one table per pool, named <pool>.h5")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
