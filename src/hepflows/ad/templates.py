"""The background templates of the signal region, one function per method.

* SALAD (``reweight``): MC SR events weighted by a data/MC density ratio learned in the CR on
  context and features.
* context weights: the same ratio in the context variables alone, which gives ``generate`` and
  ``morph`` the data-like distribution of SR contexts.
* CATHODE (``generate``): a conditional flow p(x | c) learned on CR data, sampled at SR contexts.
* FETA (``morph``): on a frozen flow of the MC (the base, trained once per seed), a small top flow
  learns the MC -> data map from CR data; MC SR events pushed through it are the template.

Each method returns the SR template and, for the closure check, its template of the held-out CR
events. Arrays enter the flows and classifiers preprocessed by the dataset's input scaler; the
templates come back in physical units.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hepflows.ad.template_inputs import TemplateInputs, mc_split_indices, seed_of, stream_seed
from hepflows.ad.template_inputs import template_table as _table
from hepflows.core.box_kde import BoxKDE
from hepflows.core.conditional_flows import (
    morph_events,
    sample_flow,
    sample_flow_epochs,
    train_conditional_flow,
    train_top_flow,
)
from hepflows.core.density_ratio import fit_density_ratio, ratio_weights, usable_weights
from hepflows.core.events import EventTable
from hepflows.core.preprocessing import InputScaler
from hepflows.core.seeding import derive_rng
from hepflows.core.training import TrainResult

Templates = tuple[EventTable, EventTable]  # (SR template, template of the held-out CR)


def _cr_data(inp: TemplateInputs) -> tuple[np.ndarray, np.ndarray]:
    """(features, context) of the CR training data, preprocessed: what the flows learn from."""
    return inp.scaler.feat(inp.data.train), inp.scaler.ctx(inp.data.train)


# --------------------------------------------------------------------------- SALAD


def salad_templates(
    inp: TemplateInputs,
    classifier: Mapping[str, Any],
    *,
    device: str,
    checkpoint: Path | None,
    log: logging.Logger,
) -> Templates:
    """MC events weighted by w = f/(1-f) of a data/MC classifier trained in the CR."""
    sc = inp.scaler
    clf = fit_density_ratio(
        sc.both(inp.data.train),
        sc.both(inp.mc.train),
        classifier,
        seed=stream_seed(inp, "reweight"),
        device=device,
        checkpoint=checkpoint,
        log=log,
    )
    w_sr = ratio_weights(clf, sc.both(inp.mc.sr))
    w_cr = ratio_weights(clf, sc.both(inp.mc.holdout))
    log.info(
        f"SALAD weights: SR mean {w_sr.mean():.3f} max {w_sr.max():.2f}; CR mean {w_cr.mean():.3f}"
    )
    return inp.mc.sr.with_weights(w_sr), inp.mc.holdout.with_weights(w_cr)


def context_weights(
    inp: TemplateInputs,
    classifier: Mapping[str, Any],
    *,
    device: str,
    checkpoint: Path | None,
    log: logging.Logger,
) -> np.ndarray:
    """The data/MC density ratio in the context variables, learned in the CR, at every MC event."""
    sc = inp.scaler
    clf = fit_density_ratio(
        sc.ctx(inp.data.train),
        sc.ctx(inp.mc.train),
        classifier,
        seed=stream_seed(inp, "context_weights"),
        device=device,
        checkpoint=checkpoint,
        log=log,
    )
    w = ratio_weights(clf, sc.ctx(inp.mc_all))
    log.info(
        f"context weights: mean {w.mean():.3f}, SR mean {w[inp.mc_sr_index].mean():.3f}, "
        f"max {w.max():.2f}"
    )
    return w


# --------------------------------------------------------------------------- CATHODE


def train_generate_flow(
    inp: TemplateInputs,
    method: Mapping[str, Any],
    *,
    device: str,
    checkpoint: Path | None,
    log: logging.Logger,
) -> tuple[torch.nn.Module, dict[str, Any], TrainResult]:
    """CATHODE's density p(x | c), learned on the CR data (keeping the weights of its
    ``average_epochs`` best epochs)."""
    return train_conditional_flow(
        *_cr_data(inp),
        None,
        method["flow"],
        method["train"],
        seed=stream_seed(inp, "generate", "flow"),
        device=device,
        checkpoint=checkpoint,
        log=log,
        keep_best=method["average_epochs"],
    )


def generated_templates(
    inp: TemplateInputs,
    flow: torch.nn.Module,
    method: Mapping[str, Any],
    dataset_cfg: Mapping[str, Any],
    mc_context_weights: np.ndarray | None,
    log: logging.Logger,
    epoch_states: Sequence[Mapping[str, torch.Tensor]] | None = None,
) -> Templates:
    """``oversample`` x as many flow samples as SR data events, at SR contexts; and one sample at
    each held-out CR data event's context. With ``epoch_states`` (the flow's weights at its best
    epochs) the samples are shared out over them."""
    sc = inp.scaler
    n_sr = int(round(method["oversample"] * len(inp.data.sr)))
    weights = mc_context_weights if method["use_context_weights"] else None
    contexts = sr_contexts(inp, dataset_cfg, weights, n_sr, method["weight_sigma_cut"])
    z_sr, z_cr = sc.context.transform(contexts), sc.ctx(inp.data.holdout)
    seed_sr, seed_cr = stream_seed(inp, "generate", "sr"), stream_seed(inp, "generate", "cr")
    feats = sc.feat_inverse(sample_flow_epochs(flow, epoch_states, z_sr, seed_sr))
    sr = _table(inp, contexts, feats)
    held_ctx = inp.data.holdout.cols(sc.context_columns)
    held = sc.feat_inverse(sample_flow_epochs(flow, epoch_states, z_cr, seed_cr))
    epochs = len(epoch_states) if epoch_states else 1
    log.info(
        f"generated {n_sr} SR events ({method['oversample']} x {len(inp.data.sr)} SR data "
        f"events) from the flow's {epochs} best epoch(s)"
    )
    return sr, _table(inp, held_ctx, held)


def sr_contexts(
    inp: TemplateInputs,
    dataset_cfg: Mapping[str, Any],
    mc_context_weights: np.ndarray | None,
    n: int,
    sigma_cut: float | None = None,
) -> np.ndarray:
    """The SR contexts a template is sampled at, in physical units: the MC SR contexts times the
    context weights (``context_source: mc_weighted``, the non-resonant paper) or draws from a
    KDE of the SR data contexts in logit space of their SR position (``data_kde``, CATHODE's
    resonant m_jj: every draw falls inside the SR, the edges keep their density)."""
    cols = inp.scaler.context_columns
    rng = derive_rng(inp.master_seed, inp.dataset, inp.data_seed, "generate", "contexts")
    if dataset_cfg["context_source"] == "data_kde":
        sr = inp.data.sr.cols(cols)
        return BoxKDE(sr, cols, dataset_cfg["sr"], dataset_cfg["kde_bandwidth"]).sample(n, rng)
    weights = None if mc_context_weights is None else mc_context_weights[inp.mc_sr_index]
    return draw_contexts(inp.mc.sr.cols(cols), weights, n, rng, sigma_cut)


def draw_contexts(
    contexts: np.ndarray,
    weights: np.ndarray | None,
    n: int,
    rng: np.random.Generator,
    sigma_cut: float | None = None,
) -> np.ndarray:
    """Draw ``n`` SR contexts from a (weighted) reference sample, with replacement. Weights
    above mean + ``sigma_cut`` sigma are dropped first, as the template weights of the other
    methods are before the SR classifier sees them."""
    p = None
    if weights is not None:
        p = np.where(usable_weights(weights, sigma_cut), weights, 0.0)
        p = p / p.sum()
    return contexts[rng.choice(len(contexts), size=n, replace=True, p=p)]


# --------------------------------------------------------------------------- FETA


def train_morph_base(
    mc: EventTable,
    scaler: InputScaler,
    params: Mapping[str, Any],
    dataset: str,
    data_seed: int,
    *,
    checkpoint: Path | None,
    log: logging.Logger,
) -> tuple[torch.nn.Module, dict[str, Any], TrainResult]:
    """The base flow p_MC(x | c), learned on the CR MC (``base_region: cr``) or, as FETA does,
    on the CR and the SR MC (``all``: the MC holds no signal, and the SR is where the template
    is drawn). It depends on the MC only, so one per data seed serves every signal and
    injection."""
    method = params["method"]
    cr_train, _, sr = mc_split_indices(mc, params, dataset)
    region = method["base_region"]
    rows = cr_train if region == "cr" else np.sort(np.concatenate([cr_train, sr]))
    train = mc.select(rows)
    log.info(f"training the base flow on {len(train)} MC events ({region})")
    return train_conditional_flow(
        scaler.feat(train),
        scaler.ctx(train),
        None,
        method["base_flow"],
        method["base_train"],
        seed=seed_of(params["seed"], dataset, data_seed, "morph", "base"),
        device=params["device"],
        checkpoint=checkpoint,
        log=log,
    )


def train_morph_top(
    inp: TemplateInputs,
    base: torch.nn.Module,
    base_spec: Mapping[str, Any],
    method: Mapping[str, Any],
    *,
    device: str,
    checkpoint: Path | None,
    log: logging.Logger,
) -> tuple[torch.nn.Module, dict[str, Any], TrainResult]:
    """The top flow that turns the base (MC) density into the CR data's."""
    log.info("training the top flow on CR data")
    return train_top_flow(
        base,
        base_spec,
        method["top_flow"],
        *_cr_data(inp),
        None,
        method["top_train"],
        seed=stream_seed(inp, "morph", "top"),
        device=device,
        checkpoint=checkpoint,
        log=log,
    )


def morphed_templates(
    inp: TemplateInputs,
    model: Any,
    method: Mapping[str, Any],
    mc_context_weights: np.ndarray | None,
    log: logging.Logger,
) -> Templates:
    """MC SR events (or, with ``oversample: k``, k x as many base-flow draws at the MC SR
    contexts) pushed through the MC -> data map, weighted by the context weights; and the
    held-out CR MC pushed the same way."""
    sc = inp.scaler
    weights = mc_context_weights if method["use_context_weights"] else None
    templates = []
    for part, index, oversample in (
        (inp.mc.sr, inp.mc_sr_index, method["oversample"]),
        (inp.mc.holdout, inp.mc_holdout_index, None),
    ):
        w = weights[index] if weights is not None else None
        x, raw_c, w = _morph_inputs(model, inp, part, w, oversample)
        feats = sc.feat_inverse(morph_events(model, x, sc.context.transform(raw_c)))
        templates.append(_table(inp, raw_c, feats, w))
    log.info(
        f"morphed {len(inp.mc.sr)} MC SR events into the SR template "
        f"(oversample: {method['oversample']})"
    )
    return templates[0], templates[1]


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
