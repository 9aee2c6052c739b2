"""Step ad_generate: the CATHODE template. A conditional flow p(x | c) learned on CR data is
sampled at ``oversample`` x as many SR contexts as there are SR data events; the contexts come
from the MC SR events times the context weights or from a KDE of the SR data contexts
(``context_source``)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.figures import add_loss_output, loss_curve
from hepflows.ad.template_inputs import (
    read_context_weights,
    template_job,
    template_parser,
    write_templates,
)
from hepflows.ad.templates import generated_templates, train_generate_flow
from hepflows.core.cli import StepParser, run_step
from hepflows.core.models import save_model


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    method = params["method"]
    with template_job(args, params, "generate", log) as (inp, training):
        flow, spec, result = train_generate_flow(inp, method, **training)
        save_model(args.out_model[0], flow, spec, trained={"best_epoch": result.best_epoch})
        loss_curve(args, result.history, "CATHODE flow")
        weights = read_context_weights(args.context_weights, len(inp.mc_all))
        states = result.top_states[0] if result.top_states else None
        templates = generated_templates(
            inp, flow, method, params["dataset"], weights, log, epoch_states=states
        )
        write_templates(args, templates, inp, params)


def parser() -> StepParser:
    p = template_parser(__doc__, context_weights=True)
    p.add_output("--out", help="SR template (HDF5)")
    p.add_output("--out-cr", help="samples at the held-out CR contexts, for closure (HDF5)")
    p.add_output(
        "--out-model", nargs=2, metavar=("PT", "JSON"), help="the flow (state_dict and spec)"
    )
    add_loss_output(p)
    return p


if __name__ == "__main__":
    run_step(parser(), main)
