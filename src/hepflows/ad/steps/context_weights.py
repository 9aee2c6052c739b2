"""Step ad_context_weights: the MC -> data density ratio in the context variables alone
(learned in the CR) at every MC event; generate and morph draw their SR contexts with it."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.template_inputs import template_job, template_parser
from hepflows.ad.templates import context_weights
from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import write_table
from hepflows.core.events import EventTable
from hepflows.core.io import config_hash


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    with template_job(args, params, "context_weights", log) as (inp, training):
        w = context_weights(inp, params["method"]["classifier"], **training)
        table = EventTable(w[:, None].astype(np.float64), ["weight"])
        write_table(args.out, table, seed=args.data_seed, config_hash=config_hash(params))


def parser() -> StepParser:
    p = template_parser(__doc__, context_weights=False)
    p.add_output("--out", help="one weight per MC event (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
