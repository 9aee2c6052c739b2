"""Step ad_evaluate_supervised: the fully supervised classifier scored over all data seeds on
the labelled test set, the reference line of every max SIC figure."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.injection_scan import evaluate_seeds, log_band, read_seed_scores
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import write_json


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    result = evaluate_seeds(
        read_seed_scores(args.scores, args.seeds),
        max_rel_unc=params["max_rel_unc"],
        rejections=params["rejections"],
    )
    result.update(method="supervised", injection=None)
    log_band(log, result, "supervised")
    write_json(args.out, result)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--seeds", type=int, nargs="+", required=True)
    p.add_input("--scores", nargs="+", help="one score file per seed, in the order of --seeds")
    p.add_output("--out")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
