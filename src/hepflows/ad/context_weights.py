"""Step: context weights, MC -> data density ratio in the context variables alone (learned in the
CR), which give generate and morph the data-like distribution of SR contexts."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.template_io import (
    add_template_arguments,
    checkpoint_path,
    load_inputs,
    stream_seed,
)
from hepflows.ad.templates import fit_density_ratio, ratio_weights
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import EventTable, config_hash, write_table


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    inp = load_inputs(args.data, args.mc, args.scaler, params, args.dataset, args.data_seed)
    sc = inp.scaler
    ckpt = checkpoint_path(args.out, "context_weights", params, [args.data, args.mc, args.scaler])
    clf = fit_density_ratio(
        sc.ctx(inp.data.train),
        sc.ctx(inp.mc.train),
        params["method"]["classifier"],
        seed=stream_seed(inp, "context_weights"),
        device=params["device"],
        checkpoint=ckpt,
        log=log,
    )
    w = ratio_weights(clf, sc.ctx(inp.mc_all))
    log.info(
        f"context weights: mean {w.mean():.3f}, SR mean {w[inp.mc_sr_index].mean():.3f}, "
        f"max {w.max():.2f}"
    )
    table = EventTable(w[:, None].astype(np.float64), ["weight"])
    write_table(args.out, table, seed=args.data_seed, config_hash=config_hash(params))
    ckpt.unlink(missing_ok=True)


def parser() -> StepParser:
    p = StepParser(__doc__)
    add_template_arguments(p, context_weights=False)
    p.add_output("--out")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
