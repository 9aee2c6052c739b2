"""Density ratios from a classifier: p_num(x) / p_den(x) = f / (1 - f) for a classifier f trained
with equal class totals.

SALAD-style reweighting of simulation to data, the context weights of a background template and
the weighting of one event class to another's kinematics all reduce to this.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.core.classifiers import Classifier, make_classifier

__all__ = ["PROB_CLIP", "fit_density_ratio", "ratio_weights", "usable_weights"]

PROB_CLIP = 1e-6  # keeps f/(1-f) finite where the classifier saturates


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
    """Classifier numerator (1) vs denominator (0) with equal class totals, so no prior
    correction is needed in :func:`ratio_weights`."""
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


def usable_weights(weights: np.ndarray, sigma_cut: float | None) -> np.ndarray:
    """Mask of the weights to use: finite, positive and, with ``sigma_cut``, at most mean +
    ``sigma_cut`` standard deviations of those. Extreme ratios come from classifier outputs near
    1 and would let a few events stand for many."""
    w = np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(w) & (w > 0)
    if sigma_cut is not None and keep.any():
        keep &= w <= w[keep].mean() + sigma_cut * w[keep].std()
    return keep
