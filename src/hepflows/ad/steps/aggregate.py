"""Step ad_aggregate: the summary tables of one (dataset, signal): max SIC per method and
injection, and closure AUC per method and region."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.injection_scan import closure_table, read_closure, read_evaluation, summary_table
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import write_csv


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    table = summary_table([read_evaluation(p) for p in args.evaluations])
    write_csv(args.out_sic, table)
    closure = closure_table([read_closure(p) for p in args.closures])
    write_csv(args.out_closure, closure)
    cols = ["method", "injection", "max_sic_median", "max_sic_p16", "max_sic_p84"]
    log.info("max SIC:\n" + table[cols].to_string(index=False))
    log.info("closure AUC:\n" + closure.to_string(index=False))


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_input("--evaluations", nargs="+")
    p.add_input("--closures", nargs="+")
    p.add_output("--out-sic")
    p.add_output("--out-closure")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
