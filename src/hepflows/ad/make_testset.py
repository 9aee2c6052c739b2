"""Step: the labelled SR test set on which every method is scored, or (``--pool``) the SR
signal sample the fully supervised classifier trains on."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.file_pools import POOLS_HELP, read_pools
from hepflows.ad.generators import SPECS
from hepflows.ad.samples import signal_pool, test_set
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import config_hash, write_table


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    make = signal_pool if args.pool else test_set
    table = make(
        args.dataset, args.signal, params["dataset"], params["seed"], read_pools(args.pools)
    )
    write_table(args.out, table, seed=params["seed"], config_hash=config_hash(params))
    n_sig = int(table.labels.sum())
    log.info(f"{n_sig} signal + {len(table) - n_sig} background SR events")


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True, choices=sorted(SPECS))
    p.add_argument("--signal", required=True)
    p.add_argument("--pool", action="store_true", help="write the supervised signal sample")
    p.add_argument("--pools", nargs="*", default=None, help=POOLS_HELP)
    p.add_output("--out")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
