"""Step ad_morph_base: the FETA base flow, p_MC(x | c) learned on CR MC. It depends on the MC
only, so it is trained once per data seed and shared by every signal and injection of that seed."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.figures import add_loss_output, loss_curve
from hepflows.ad.templates import train_morph_base
from hepflows.core.cli import StepParser, run_step, step_work
from hepflows.core.event_files import read_table
from hepflows.core.models import save_model
from hepflows.core.preprocessing import InputScaler


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    mc, scaler = read_table(args.mc), InputScaler.load(args.scaler)
    with step_work(args, params, "morph_base") as work:
        flow, spec, result = train_morph_base(
            mc,
            scaler,
            params,
            args.dataset,
            args.data_seed,
            checkpoint=work / "train.ckpt",
            log=log,
        )
        # The morph step rebuilds the flow from this spec (its best epoch sits beside it).
        save_model(args.out_model[0], flow, spec, trained={"best_epoch": result.best_epoch})
        loss_curve(args, result.history, "FETA base flow (MC)")
        log.info(f"base flow saved (best epoch {result.best_epoch})")


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-seed", type=int, required=True, help="seed band this replica serves")
    p.add_input("--mc", help="MC background (HDF5)")
    p.add_input("--scaler", help="input preprocessing (JSON)")
    p.add_output("--out-model", nargs=2, metavar=("PT", "JSON"), help="base flow")
    add_loss_output(p)
    return p


if __name__ == "__main__":
    run_step(parser(), main)
