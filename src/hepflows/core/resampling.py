"""Bootstrap replicas as per-event integer weights instead of resampled copies of the data.

A replica drawn with replacement is fully described by how often each event was drawn. Passing
those counts as the weights ``w`` of a classifier's ``fit`` *is* training on the replica (the
weighted loss equals the loss on the duplicated events), with three advantages over copying:
no duplicated arrays for 100 replicas, a validation split that can never hold a copy of a
training event, and events drawn 0 times that provably do nothing (weight 0). If the events
already carry weights (MC), the replica's weights are ``weights * counts``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_counts"]


def bootstrap_counts(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """How often each event is drawn in one bootstrap replica, sampled within each class.

    Each class keeps its size (a replica of an imbalanced training set keeps its balance, so
    replicas differ by sampling only, not by class fractions). Returns int64 of shape (n,);
    the counts sum to n and, per class, to the class size.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (n_events,), got shape {labels.shape}")
    n = len(labels)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    grouped = np.argsort(inverse.reshape(-1), kind="stable")  # event indices, class by class
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)  # where each draw's class starts
    draws = grouped[first + rng.integers(0, np.repeat(sizes, sizes))]
    return np.bincount(draws, minlength=n).astype(np.int64, copy=False)
