"""Step: CATHODE template. A conditional flow p(x | c) learned on CR data is sampled at
``oversample`` x as many SR contexts as there are SR data events. The contexts come from the MC SR
events times the context weights (``context_source: mc_weighted``, the non-resonant paper) or
from a KDE of the SR data contexts (``data_kde``, CATHODE's resonant m_jj)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.generators import in_box
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
from hepflows.ad.templates import (
    draw_contexts,
    draw_kde_contexts,
    sample_flow,
    train_conditional_flow,
)
from hepflows.core.cli import StepParser, run_step
from hepflows.core.models import save_model
from hepflows.core.seeding import derive_rng


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    method = params["method"]
    inp = load_inputs(args.data, args.mc, args.scaler, params, args.dataset, args.data_seed)
    sc = inp.scaler
    ckpt = checkpoint_path(
        args.out, "generate", params, [args.data, args.mc, args.scaler, args.context_weights]
    )
    flow, spec, result = train_conditional_flow(
        sc.feat(inp.data.train),
        sc.ctx(inp.data.train),
        None,
        method["flow"],
        method["train"],
        seed=stream_seed(inp, "generate", "flow"),
        device=params["device"],
        checkpoint=ckpt,
        log=log,
    )
    save_model(args.out_model[0], flow, {**spec, "best_epoch": result.best_epoch})

    n_sr = int(round(method["oversample"] * len(inp.data.sr)))
    contexts = _sr_contexts(args, params, inp, n_sr)
    feats = sc.feat_inverse(
        sample_flow(flow, sc.context.transform(contexts), stream_seed(inp, "generate", "sr"))
    )
    write_template(args.out, template_table(inp, contexts, feats), inp, params)

    held_ctx = inp.data.holdout.cols(sc.context_columns)
    held = sc.feat_inverse(
        sample_flow(flow, sc.ctx(inp.data.holdout), stream_seed(inp, "generate", "cr"))
    )
    write_template(args.out_cr, template_table(inp, held_ctx, held), inp, params)
    log.info(
        f"generated {n_sr} SR events ({method['oversample']} x {len(inp.data.sr)} SR data events)"
    )
    ckpt.unlink(missing_ok=True)


def _sr_contexts(
    args: argparse.Namespace, params: dict[str, Any], inp: TemplateInputs, n: int
) -> np.ndarray:
    """The SR contexts the flow is sampled at, in physical units."""
    cfg, sc, cols = params["dataset"], inp.scaler, inp.scaler.context_columns
    rng = derive_rng(inp.master_seed, inp.dataset, inp.data_seed, "generate", "contexts")
    if cfg["context_source"] == "data_kde":
        # The KDE lives in the scaler's context space, where one bandwidth suits every column.
        def inside(z: np.ndarray) -> np.ndarray:
            return in_box(sc.context.inverse(z), cols, cfg["sr"])

        z = draw_kde_contexts(
            sc.ctx(inp.data.sr), n, rng, bandwidth=cfg["kde_bandwidth"], inside=inside
        )
        return sc.context.inverse(z)
    weights = None
    if params["method"]["use_context_weights"]:
        weights = read_context_weights(args.context_weights, len(inp.mc_all))[inp.mc_sr_index]
    return draw_contexts(inp.mc.sr.cols(cols), weights, n, rng)


def parser() -> StepParser:
    p = StepParser(__doc__)
    add_template_arguments(p, context_weights=True)
    p.add_output("--out", help="SR template (HDF5)")
    p.add_output("--out-cr", help="samples at the held-out CR contexts, for closure (HDF5)")
    p.add_output(
        "--out-model", nargs=2, metavar=("PT", "JSON"), help="the flow (state_dict and spec)"
    )
    return p


if __name__ == "__main__":
    run_step(parser(), main)
