"""Step: SALAD template. A classifier learns data/MC in the CR on context and features; MC SR
events weighted by w = f/(1-f) are the SR background template."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.template_io import (
    add_template_arguments,
    checkpoint_path,
    load_inputs,
    stream_seed,
    write_template,
)
from hepflows.ad.templates import fit_density_ratio, ratio_weights
from hepflows.core.cli import StepParser, run_step


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    inp = load_inputs(args.data, args.mc, args.scaler, params, args.dataset, args.data_seed)
    sc = inp.scaler
    ckpt = checkpoint_path(args.out, "reweight", params, [args.data, args.mc, args.scaler])
    clf = fit_density_ratio(
        sc.both(inp.data.train),
        sc.both(inp.mc.train),
        params["method"]["classifier"],
        seed=stream_seed(inp, "reweight"),
        device=params["device"],
        checkpoint=ckpt,
        log=log,
    )
    w_sr = ratio_weights(clf, sc.both(inp.mc.sr))
    w_cr = ratio_weights(clf, sc.both(inp.mc.holdout))
    log.info(
        f"SALAD weights: SR mean {w_sr.mean():.3f} max {w_sr.max():.2f}; CR mean {w_cr.mean():.3f}"
    )
    write_template(args.out, inp.mc.sr.with_weights(w_sr), inp, params)
    write_template(args.out_cr, inp.mc.holdout.with_weights(w_cr), inp, params)
    ckpt.unlink(missing_ok=True)


def parser() -> StepParser:
    p = StepParser(__doc__)
    add_template_arguments(p, context_weights=False)
    p.add_output("--out", help="SR template (HDF5)")
    p.add_output("--out-cr", help="template of the held-out CR events, for closure (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
