"""Step ad_reweight: the SALAD template, MC SR events weighted by w = f/(1-f) of a data/MC
classifier trained in the CR on context and features."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.template_inputs import template_job, template_parser, write_templates
from hepflows.ad.templates import salad_templates
from hepflows.core.cli import StepParser, run_step


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    with template_job(args, params, "reweight", log) as (inp, training):
        templates = salad_templates(inp, params["method"]["classifier"], **training)
        write_templates(args, templates, inp, params)


def parser() -> StepParser:
    p = template_parser(__doc__, context_weights=False)
    p.add_output("--out", help="SR template (HDF5)")
    p.add_output("--out-cr", help="template of the held-out CR events, for closure (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
