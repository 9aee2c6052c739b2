"""Background templates for the signal region: SALAD reweighting, context weights, CATHODE
generation and FETA morphing.

Every function works on preprocessed numpy arrays and returns numpy arrays; file handling is
left to the step modules. Weights from a classifier are the density ratio f/(1-f) of a
classifier trained with balanced classes, so no prior correction is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.neighbors import KernelDensity

from hepflows.core.classifiers import Classifier, make_classifier
from hepflows.core.flows import (
    TopFlowModel,
    build_flow,
    build_top_model,
    nll_loss,
    sample,
    top_flow_nll,
)
from hepflows.core.training import TrainConfig, TrainResult, fit

PROB_CLIP = 1e-6


def fit_density_ratio(
    numerator: np.ndarray,
    denominator: np.ndarray,
    spec: Mapping[str, Any],
    *,
    seed: int,
    device: str = "auto",
    checkpoint: Path | None = None,
    log: logging.Logger | None = None,
) -> Classifier:
    """Classifier numerator (1) vs denominator (0) with equal class totals."""
    x = np.concatenate([numerator, denominator])
    y = np.concatenate([np.ones(len(numerator)), np.zeros(len(denominator))])
    w = np.concatenate(
        [np.ones(len(numerator)), np.full(len(denominator), len(numerator) / len(denominator))]
    )
    clf = make_classifier(dict(spec), seed=seed, device=device, checkpoint=checkpoint, log=log)
    return clf.fit(x, y, w)


def ratio_weights(clf: Classifier, x: np.ndarray) -> np.ndarray:
    """w = f / (1 - f): the numerator/denominator density ratio at each event."""
    f = np.clip(clf.predict(x), PROB_CLIP, 1.0 - PROB_CLIP)
    return f / (1.0 - f)


def _train_config(train: Mapping[str, Any], seed: int, device: str) -> TrainConfig:
    return TrainConfig.from_dict({**train, "seed": seed, "device": device})


def _split(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(val_fraction * n))
    return order[n_val:], order[:n_val]


def _tensors(idx: np.ndarray, *arrays: np.ndarray) -> tuple[torch.Tensor, ...]:
    return tuple(torch.as_tensor(a[idx], dtype=torch.float32) for a in arrays)


def _fit_density(
    model: torch.nn.Module,
    loss_fn: Any,
    x: np.ndarray,
    c: np.ndarray,
    w: np.ndarray | None,
    train: Mapping[str, Any],
    seed: int,
    device: str,
    checkpoint: Path | None,
    log: logging.Logger | None,
    params: Any,
) -> TrainResult:
    """Weighted maximum likelihood on (x, c) with a seeded validation split."""
    cfg = _train_config(train, seed, device)
    w = np.ones(len(x), dtype=np.float32) if w is None else w.astype(np.float32)
    tr, va = _split(len(x), cfg.val_fraction, seed)
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
) -> tuple[torch.nn.Module, dict[str, Any], TrainResult]:
    """Fit p(x | c) by weighted maximum likelihood; returns the flow, its full spec and history."""
    spec = {**flow_spec, "kind": "flow", "features": x.shape[1], "context": c.shape[1]}
    torch.manual_seed(seed)
    flow = build_flow(spec)
    result = _fit_density(flow, nll_loss, x, c, w, train, seed, device, checkpoint, log, None)
    return flow, spec, result


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
    """FETA: keep the MC flow frozen and learn the bijection that turns MC into data."""
    top_full = {**top_spec, "kind": "flow", "features": x.shape[1], "context": c.shape[1]}
    spec = {"kind": "top_flow", "base": dict(base_spec), "top": top_full}
    torch.manual_seed(seed)
    model = build_top_model(dict(base_spec), top_full)
    model.base.load_state_dict(base.state_dict())
    for p in model.base.parameters():
        p.requires_grad_(False)
    params = model.trainable_parameters()
    result = _fit_density(
        model, top_flow_nll, x, c, w, train, seed, device, checkpoint, log, params
    )
    return model, spec, result


def draw_contexts(
    contexts: np.ndarray, weights: np.ndarray | None, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``n`` SR contexts from a (weighted) reference sample, with replacement."""
    p = None
    if weights is not None:
        p = np.clip(weights, 0.0, None)
        p = p / p.sum()
    return contexts[rng.choice(len(contexts), size=n, replace=True, p=p)]


def draw_kde_contexts(
    contexts: np.ndarray,
    n: int,
    rng: np.random.Generator,
    *,
    bandwidth: float | str,
    inside: Callable[[np.ndarray], np.ndarray],
    max_rounds: int = 100,
) -> np.ndarray:
    """Draw ``n`` contexts from a Gaussian KDE of ``contexts`` (CATHODE's SR m_jj), keeping
    only draws for which ``inside`` holds, so the kernel tails never leave the SR."""
    if len(contexts) < 2:
        raise ValueError(f"a KDE of the SR contexts needs at least 2 events, got {len(contexts)}")
    kde = KernelDensity(kernel="gaussian", bandwidth=bandwidth).fit(contexts)
    kept, have = [], 0
    for _ in range(max_rounds):
        draw = kde.sample(max(n - have, 1000), random_state=int(rng.integers(2**31 - 1)))
        draw = draw[inside(draw)]
        kept.append(draw)
        have += len(draw)
        if have >= n:
            return np.concatenate(kept)[:n]
    raise ValueError(f"KDE draws fell inside the SR too rarely to collect {n} contexts")


def sample_flow(flow: torch.nn.Module, contexts: np.ndarray, seed: int) -> np.ndarray:
    """One flow sample per context row."""
    with torch.no_grad():
        out = sample(flow, torch.as_tensor(contexts, dtype=torch.float32), generator_seed=seed)
    return out.numpy().astype(np.float64)


def morph_events(model: TopFlowModel, x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Push MC events through the learned MC -> data map."""
    out = model.morph(
        torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(c, dtype=torch.float32)
    )
    return out.numpy().astype(np.float64)
