"""Step: the FETA base flow, p_MC(x | c) learned on CR MC.

It depends on the MC only, so it is trained once per data seed (one independent replica per seed
band) and shared by every signal and injection of that seed, instead of once per morph job."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.inputs import InputScaler
from hepflows.ad.template_io import checkpoint_path, mc_split_indices, seed_of
from hepflows.ad.templates import train_conditional_flow
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import read_table
from hepflows.core.models import save_model


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    method = params["method"]
    mc = read_table(args.mc)
    scaler = InputScaler.load(args.scaler)
    train = mc.select(mc_split_indices(mc, params, args.dataset)[0])
    ckpt = checkpoint_path(args.out_model[0], "morph-base", params, [args.mc, args.scaler])
    log.info(f"training the base flow on {len(train)} CR MC events")
    flow, spec, result = train_conditional_flow(
        scaler.feat(train),
        scaler.ctx(train),
        None,
        method["base_flow"],
        method["base_train"],
        seed=seed_of(params["seed"], args.dataset, args.data_seed, "morph", "base"),
        device=params["device"],
        checkpoint=ckpt,
        log=log,
    )
    # The spec stays exactly what builds the flow: the morph step rebuilds it from this file.
    save_model(args.out_model[0], flow, spec)
    log.info(f"base flow saved (best epoch {result.best_epoch})")
    ckpt.unlink(missing_ok=True)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-seed", type=int, required=True, help="seed band this replica serves")
    p.add_argument("--mc", required=True, help="MC background (HDF5)")
    p.add_argument("--scaler", required=True, help="input preprocessing (JSON)")
    p.add_output("--out-model", nargs=2, metavar=("PT", "JSON"), help="base flow")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
