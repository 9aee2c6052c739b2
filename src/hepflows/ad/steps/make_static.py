"""Step ad_make_static: the samples every data seed shares (MC, ideal background split into SR
template and CR, SR reference) and the input scaler (fitted on the MC)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.datasets import SPECS
from hepflows.ad.file_pools import POOLS_HELP, read_pools
from hepflows.ad.regions import sr_mask
from hepflows.ad.samples import static_samples
from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import write_table
from hepflows.core.io import config_hash
from hepflows.core.preprocessing import InputScaler


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    cfg, seed = params["dataset"], params["seed"]
    spec = SPECS[args.dataset]
    chash = config_hash(params)
    samples = static_samples(args.dataset, cfg, seed, read_pools(args.pools))
    box = cfg["sr"]
    ideal, reference = samples["ideal"], samples["reference"]
    in_sr = sr_mask(ideal, box)
    write_table(args.out_mc, samples["mc"], seed=seed, config_hash=chash)
    write_table(args.out_ideal, ideal.select(in_sr), seed=seed, config_hash=chash)
    write_table(args.out_ideal_cr, ideal.select(~in_sr), seed=seed, config_hash=chash)
    write_table(
        args.out_reference, reference.select(sr_mask(reference, box)), seed=seed, config_hash=chash
    )
    # From the MC alone, as the original: the ideal background is truth no analysis has. Data
    # outside the MC's range stay finite (the scaler's margin and clipping).
    scaler = InputScaler.fit(
        samples["mc"],
        spec.context,
        spec.features,
        context_steps=params["preprocessing"]["context"],
        feature_steps=params["preprocessing"]["features"],
    )
    scaler.save(args.out_scaler)
    log.info(
        f"{args.dataset}: MC {len(samples['mc'])} events, ideal SR {int(in_sr.sum())}, "
        f"ideal CR {int((~in_sr).sum())}"
    )


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True, choices=sorted(SPECS))
    p.add_input("--pools", nargs="*", default=None, required=False, help=POOLS_HELP)
    p.add_output("--out-mc")
    p.add_output("--out-ideal")
    p.add_output("--out-ideal-cr")
    p.add_output("--out-reference")
    p.add_output("--out-scaler")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
