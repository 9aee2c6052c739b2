"""Step: FETA template. On the base flow of MC (step ``morph_base``), a small top flow learns
the MC -> data map from CR data; MC SR events pushed through the map (weighted by the context
weights) are the SR template. With ``oversample: k`` the template is instead k x as many events
drawn from the base flow at the MC SR contexts and pushed through the map, as FETA does."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.template_io import (
    TemplateInputs,
    add_template_arguments,
    checkpoint_path,
    load_inputs,
    read_context_weights,
    stream_seed,
    template_table,
    write_template,
)
from hepflows.ad.templates import morph_events, sample_flow, train_top_flow
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import EventTable
from hepflows.core.models import load_model, save_model

_SAVED_ONLY = ("hepflows_version",)  # written beside a spec, not part of it


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    method = params["method"]
    inp = load_inputs(args.data, args.mc, args.scaler, params, args.dataset, args.data_seed)
    sc = inp.scaler
    ckpt_top = checkpoint_path(
        args.out,
        "morph-top",
        params,
        [args.data, args.mc, args.scaler, args.context_weights, *args.base_model],
    )
    base, saved = load_model(args.base_model[0])
    base_spec = {k: v for k, v in saved.items() if k not in _SAVED_ONLY}
    log.info("training the top flow on CR data")
    model, spec, result = train_top_flow(
        base,
        base_spec,
        method["top_flow"],
        sc.feat(inp.data.train),
        sc.ctx(inp.data.train),
        None,
        method["top_train"],
        seed=stream_seed(inp, "morph", "top"),
        device=params["device"],
        checkpoint=ckpt_top,
        log=log,
    )
    save_model(args.out_model[0], model, {**spec, "best_epoch": result.best_epoch})

    weights = None
    if method["use_context_weights"]:
        weights = read_context_weights(args.context_weights, len(inp.mc_all))
    # The SR template (optionally oversampled), then the held-out CR MC for closure.
    for out, part, index, oversample in (
        (args.out, inp.mc.sr, inp.mc_sr_index, method["oversample"]),
        (args.out_cr, inp.mc.holdout, inp.mc_holdout_index, None),
    ):
        w = weights[index] if weights is not None else None
        x, raw_c, w = _morph_inputs(model, inp, part, w, oversample)
        feats = sc.feat_inverse(morph_events(model, x, sc.context.transform(raw_c)))
        write_template(out, template_table(inp, raw_c, feats, w), inp, params)
    log.info(
        f"morphed {len(inp.mc.sr)} MC SR events into the SR template "
        f"(oversample: {method['oversample']})"
    )
    ckpt_top.unlink(missing_ok=True)


def _morph_inputs(
    model: Any,
    inp: TemplateInputs,
    part: EventTable,
    weights: np.ndarray | None,
    oversample: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Scaled features, physical contexts and weights of the MC events to push through the map.

    Oversampled: each MC context is used about ``oversample`` times (in order, so the context
    distribution and its weights are kept exactly) with features drawn from the base flow, the
    MC model itself, instead of the one simulated event.
    """
    sc = inp.scaler
    contexts = part.cols(sc.context_columns)
    if oversample is None:
        return sc.feat(part), contexts, weights
    pick = np.arange(int(round(oversample * len(part)))) % len(part)
    x = sample_flow(model.base, sc.ctx(part)[pick], stream_seed(inp, "morph", "oversample"))
    return x, contexts[pick], weights[pick] if weights is not None else None


def parser() -> StepParser:
    p = StepParser(__doc__)
    add_template_arguments(p, context_weights=True)
    p.add_argument("--base-model", nargs=2, metavar=("PT", "JSON"), required=True, help="MC flow")
    p.add_output("--out", help="SR template (HDF5)")
    p.add_output("--out-cr", help="morphed held-out CR MC, for closure (HDF5)")
    p.add_output(
        "--out-model", nargs=2, metavar=("PT", "JSON"), help="base + top flow (state_dict and spec)"
    )
    return p


if __name__ == "__main__":
    run_step(parser(), main)
