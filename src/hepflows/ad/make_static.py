"""Step: the samples every data seed shares (MC, ideal background, SR reference) and the scaler."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.file_pools import POOLS_HELP, read_pools
from hepflows.ad.generators import SPECS
from hepflows.ad.inputs import InputScaler
from hepflows.ad.regions import sr_mask
from hepflows.ad.samples import static_samples
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import EventTable, config_hash, write_table


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
    fit_on = EventTable.concat([samples["mc"], ideal])
    scaler = InputScaler.fit(
        fit_on,
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
    p.add_argument("--pools", nargs="*", default=None, help=POOLS_HELP)
    p.add_output("--out-mc")
    p.add_output("--out-ideal")
    p.add_output("--out-ideal-cr")
    p.add_output("--out-reference")
    p.add_output("--out-scaler")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
