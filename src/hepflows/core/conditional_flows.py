"""Conditional flows on numpy arrays: fit p(x | c), draw from it, move events between conditions.

The analyses hand over preprocessed arrays and get arrays back; the torch side (zuko flows, the
training loop, checkpoints) stays here. CATHODE-style generation trains p(x | c) on one region and
samples it at the contexts of another; FETA-style morphing keeps a flow of simulation frozen and
learns the bijection on top of it that turns simulation into data; simulation correction and
parameter interpolation use the same pieces.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hepflows.core.flows import (
    TopFlowModel,
    build_flow,
    build_top_model,
    nll_loss,
    sample,
    top_flow_nll,
)
from hepflows.core.seeding import derive_seed
from hepflows.core.training import LossFn, TrainConfig, TrainResult, fit

__all__ = [
    "fit_density",
    "morph_events",
    "sample_flow",
    "sample_flow_epochs",
    "train_conditional_flow",
    "train_top_flow",
]


def _validation_split(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(val_fraction * n))
    return order[n_val:], order[:n_val]


def _tensors(idx: np.ndarray, *arrays: np.ndarray) -> tuple[torch.Tensor, ...]:
    return tuple(torch.as_tensor(a[idx], dtype=torch.float32) for a in arrays)


def fit_density(
    model: torch.nn.Module,
    loss_fn: LossFn,
    x: np.ndarray,
    c: np.ndarray,
    w: np.ndarray | None,
    train: Mapping[str, Any],
    *,
    seed: int,
    device: str = "auto",
    checkpoint: Path | None = None,
    log: logging.Logger | None = None,
    params: Any = None,
    keep_best: int = 1,
) -> TrainResult:
    """Weighted maximum likelihood on (x, c) with a validation split drawn from ``seed``.

    ``train`` is a training block of the config (``TrainConfig`` keys without seed and device);
    ``keep_best`` > 1 keeps the weights of the best epochs (:func:`sample_flow_epochs`).
    """
    cfg = TrainConfig.from_dict({**train, "seed": seed, "device": device})
    w = np.ones(len(x), dtype=np.float32) if w is None else w.astype(np.float32)
    tr, va = _validation_split(len(x), cfg.val_fraction, seed)
    val = _tensors(va, x, c, w) if len(va) else None
    return fit(
        model,
        loss_fn,
        _tensors(tr, x, c, w),
        val,
        cfg,
        checkpoint=checkpoint,
        log=log,
        params=params,
        keep_best=keep_best,
    )


def train_conditional_flow(
    x: np.ndarray,
    c: np.ndarray,
    w: np.ndarray | None,
    flow_spec: Mapping[str, Any],
    train: Mapping[str, Any],
    *,
    seed: int,
    device: str = "auto",
    checkpoint: Path | None = None,
    log: logging.Logger | None = None,
    keep_best: int = 1,
) -> tuple[torch.nn.Module, dict[str, Any], TrainResult]:
    """Fit p(x | c) by weighted maximum likelihood; returns the flow (its best epoch), its full
    spec and history (with ``keep_best`` > 1, the weights of that many best epochs)."""
    spec = {**flow_spec, "kind": "flow", "features": x.shape[1], "context": c.shape[1]}
    torch.manual_seed(seed)
    flow = build_flow(spec)
    run = {
        "seed": seed, "device": device, "checkpoint": checkpoint, "log": log,
        "keep_best": keep_best,
    }  # fmt: skip
    return flow, spec, fit_density(flow, nll_loss, x, c, w, train, **run)


def train_top_flow(
    base: torch.nn.Module,
    base_spec: Mapping[str, Any],
    top_spec: Mapping[str, Any],
    x: np.ndarray,
    c: np.ndarray,
    w: np.ndarray | None,
    train: Mapping[str, Any],
    *,
    seed: int,
    device: str = "auto",
    checkpoint: Path | None = None,
    log: logging.Logger | None = None,
) -> tuple[TopFlowModel, dict[str, Any], TrainResult]:
    """FETA: keep the simulation's flow frozen and learn the bijection that turns it into data."""
    top_full = {**top_spec, "kind": "flow", "features": x.shape[1], "context": c.shape[1]}
    spec = {"kind": "top_flow", "base": dict(base_spec), "top": top_full}
    torch.manual_seed(seed)
    model = build_top_model(dict(base_spec), top_full)
    model.base.load_state_dict(base.state_dict())
    for p in model.base.parameters():
        p.requires_grad_(False)
    run = {"seed": seed, "device": device, "checkpoint": checkpoint, "log": log}
    params = model.trainable_parameters()
    return model, spec, fit_density(model, top_flow_nll, x, c, w, train, **run, params=params)


def sample_flow(flow: torch.nn.Module, contexts: np.ndarray, seed: int) -> np.ndarray:
    """One flow sample per context row."""
    with torch.no_grad():
        out = sample(flow, torch.as_tensor(contexts, dtype=torch.float32), generator_seed=seed)
    return out.numpy().astype(np.float64)


def sample_flow_epochs(
    flow: torch.nn.Module,
    states: Sequence[Mapping[str, torch.Tensor]] | None,
    contexts: np.ndarray,
    seed: int,
) -> np.ndarray:
    """One sample per context row, the rows shared out in equal blocks over the flow's weights
    at several epochs (CATHODE samples from its 10 best epochs: a sample less tied to one
    epoch's fluctuations). ``states`` None or one state: :func:`sample_flow` with ``flow``."""
    if not states or len(states) == 1:
        return sample_flow(flow, contexts, seed)
    model = copy.deepcopy(flow)
    parts = []
    for k, (state, block) in enumerate(
        zip(states, np.array_split(contexts, len(states)), strict=True)
    ):
        model.load_state_dict(state)
        parts.append(sample_flow(model, block, derive_seed(seed, "epoch", k)))
    return np.concatenate(parts)


def morph_events(model: TopFlowModel, x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Push simulated events through the learned simulation -> data map."""
    out = model.morph(
        torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(c, dtype=torch.float32)
    )
    return out.numpy().astype(np.float64)
