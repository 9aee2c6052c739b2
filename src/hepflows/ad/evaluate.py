"""Step: score one method at one injection over all data seeds on the labelled test set:
ROC AUC, SIC curve, max SIC (FPR floor), SIC at fixed background rejection; median and 16/84."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.scan import evaluate_seeds
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import read_table, write_json


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    if len(args.scores) != len(args.seeds):
        raise ValueError(f"{len(args.scores)} score files for {len(args.seeds)} seeds")
    scores = []
    for seed, path in zip(args.seeds, args.scores, strict=True):
        table = read_table(path, columns=["score"], require_labels=True)
        scores.append((seed, table.labels, table.col("score")))
    result = evaluate_seeds(
        scores, max_rel_unc=params["max_rel_unc"], rejections=params["rejections"]
    )
    result.update(method=args.method, injection=args.injection)
    if args.data:
        n_bkg = [read_table(p, columns=[]).attrs["n_bkg_sr"] for p in args.data]
        result["n_bkg_sr"] = float(np.mean(n_bkg))
        result["s_over_sqrt_b"] = args.injection * float(np.sqrt(result["n_bkg_sr"]))
    band = result["summary"]["max_sic"]
    log.info(
        f"{args.method} at S/B {args.injection}: max SIC {band['median']:.2f} "
        f"[{band['p16']:.2f}, {band['p84']:.2f}] over {len(scores)} seeds"
    )
    write_json(args.out, result)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--method", required=True)
    p.add_argument("--injection", type=float, default=None, help="S/B in the SR (none: supervised)")
    p.add_argument("--seeds", type=int, nargs="+", required=True)
    p.add_argument("--scores", nargs="+", required=True, help="one score file per seed, same order")
    p.add_argument("--data", nargs="*", default=[], help="the injected data sets (for S/sqrt(B))")
    p.add_output("--out")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
