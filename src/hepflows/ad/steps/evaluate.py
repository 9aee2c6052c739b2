"""Step ad_evaluate: one method at one injection, scored over all data seeds on the labelled
test set: ROC AUC, SIC curve, max SIC (above the FPR floor), SIC at fixed background rejection;
median and 16/84 percentiles over seeds."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.injection_scan import evaluate_seeds, injection_counts, log_band, read_seed_scores
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import write_json


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    result = evaluate_seeds(
        read_seed_scores(args.scores, args.seeds),
        max_rel_unc=params["max_rel_unc"],
        rejections=params["rejections"],
    )
    n_bkg, cr_share = np.mean([injection_counts(p) for p in args.data], axis=0)
    result.update(
        method=args.method,
        injection=args.injection,
        n_bkg_sr=float(n_bkg),
        s_over_sqrt_b=args.injection * float(np.sqrt(n_bkg)),
        signal_in_cr=float(cr_share),
    )
    log_band(log, result, f"{args.method} at S/B {args.injection}")
    write_json(args.out, result)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--method", required=True)
    p.add_argument("--injection", type=float, required=True, help="S/B in the SR")
    p.add_argument("--seeds", type=int, nargs="+", required=True)
    p.add_input("--scores", nargs="+", help="one score file per seed, in the order of --seeds")
    p.add_input(
        "--data", nargs="+", help="the injected data sets (for S/sqrt(B) and the CR signal share)"
    )
    p.add_output("--out")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
