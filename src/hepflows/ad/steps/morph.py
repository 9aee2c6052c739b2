"""Step ad_morph: the FETA template. On the base flow of MC (ad_morph_base), a small top flow
learns the MC -> data map from CR data; MC SR events pushed through the map (weighted by the
context weights) are the SR template. With ``oversample: k`` the template is k x as many events
drawn from the base flow at the MC SR contexts and pushed through the map, as FETA does."""

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
from hepflows.ad.templates import morphed_templates, train_morph_top
from hepflows.core.cli import StepParser, run_step
from hepflows.core.models import architecture, load_model, save_model


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    method = params["method"]
    base, saved = load_model(args.base_model[0])
    base_spec = architecture(saved)
    with template_job(args, params, "morph", log) as (inp, training):
        model, spec, result = train_morph_top(inp, base, base_spec, method, **training)
        save_model(args.out_model[0], model, spec, trained={"best_epoch": result.best_epoch})
        loss_curve(args, result.history, "FETA top flow")
        weights = read_context_weights(args.context_weights, len(inp.mc_all))
        write_templates(args, morphed_templates(inp, model, method, weights, log), inp, params)


def parser() -> StepParser:
    p = template_parser(__doc__, context_weights=True)
    p.add_input("--base-model", nargs=2, metavar=("PT", "JSON"), help="the MC base flow")
    p.add_output("--out", help="SR template (HDF5)")
    p.add_output("--out-cr", help="morphed held-out CR MC, for closure (HDF5)")
    p.add_output(
        "--out-model", nargs=2, metavar=("PT", "JSON"), help="base + top flow (state_dict and spec)"
    )
    add_loss_output(p)
    return p


if __name__ == "__main__":
    run_step(parser(), main)
