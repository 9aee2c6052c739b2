"""Step ad_make_data: one injected data set, the background of one data seed plus signal at one
S/B in the SR."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.datasets import SPECS
from hepflows.ad.file_pools import POOLS_HELP, read_pools
from hepflows.ad.samples import injected_data
from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import write_table
from hepflows.core.io import config_hash


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    table, info = injected_data(
        args.dataset,
        args.signal,
        args.data_seed,
        args.injection,
        params["dataset"],
        params["seed"],
        read_pools(args.pools),
    )
    write_table(
        args.out, table, seed=args.data_seed, config_hash=config_hash(params), extra_attrs=info
    )
    log.info(
        f"{args.dataset}/{args.signal} seed {args.data_seed}: S/B = {args.injection} -> "
        f"{info['n_sig_sr']} signal on {info['n_bkg_sr']} background in the SR "
        f"(S/sqrt(B) = {info['s_over_sqrt_b']:.2f})"
    )
    n_cr = info["n_sig_total"] - info["n_sig_sr"]
    if n_cr:
        log.info(
            f"{n_cr} signal events ({n_cr / info['n_sig_total']:.0%} of the injected) fall in the "
            "CR, which every template method learns from"
        )


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True, choices=sorted(SPECS))
    p.add_argument("--signal", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_argument("--injection", type=float, required=True)
    p.add_input("--pools", nargs="*", default=None, required=False, help=POOLS_HELP)
    p.add_output("--out")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
