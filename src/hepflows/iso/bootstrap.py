"""Bootstrap replicas of the training pool, their split over jobs, and the replica summary.

Replica b resamples the training pool (every event outside the test fold) with replacement
within each CWoLa label, keeping each label's count, then trains for a fixed number of epochs
and is scored on the test fold. The paper's error on a bootstrapped AUC is the standard error of
the mean over the R replicas, std / sqrt(R).

Seeds: the original seeded replica b with 123 + b. Here replica b draws from the stream
("iso", "bootstrap", b) of the master seed (:func:`hepflows.core.seeding.derive_rng`), so a
replica's events depend on nothing but the seed, the pool's labels and b: not on how replicas
are split over jobs, and not on the model. Every model therefore trains replica b on the same
events, as in the original, and model differences are compared replica by replica.

A replica is returned as per-event draw counts (:func:`hepflows.core.resampling.bootstrap_counts`,
used as weights: no copied arrays, weight 0 for events not drawn) or, for code that wants the
resampled events themselves, as repeated indices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from hepflows.core.io import DataError
from hepflows.core.resampling import bootstrap_counts
from hepflows.core.seeding import derive_rng

__all__ = [
    "ReplicaSummary",
    "job_replicas",
    "n_jobs",
    "replica_counts",
    "replica_indices",
    "replica_rng",
    "summarize_replicas",
]


def replica_rng(master_seed: int, replica: int) -> np.random.Generator:
    """The random stream of replica ``replica`` (>= 0): ("iso", "bootstrap", replica)."""
    if int(replica) != replica or replica < 0:
        raise ValueError(f"replica index must be an integer >= 0, got {replica!r}")
    return derive_rng(master_seed, "iso", "bootstrap", int(replica))


def replica_counts(
    labels: np.ndarray, master_seed: int, replica: int, pool: np.ndarray | None = None
) -> np.ndarray:
    """How often each event is drawn in replica ``replica`` (int64, shape (n,)).

    Draws with replacement within each label among the events of ``pool`` (a boolean mask, e.g.
    :func:`hepflows.iso.folds.training_pool`; None = all events); events outside it get 0. Per
    label, the counts sum to that label's size in the pool. Train on it as weights: the
    replica's weights are ``counts * cwola_weights``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"labels must be 1-D (n_events,), got shape {labels.shape}")
    if pool is None:
        pool = np.ones(len(labels), dtype=bool)
    pool = np.asarray(pool)
    if pool.dtype != bool or pool.shape != labels.shape:
        raise DataError(f"pool must be a boolean mask of shape {labels.shape}")
    counts = np.zeros(len(labels), dtype=np.int64)
    counts[pool] = bootstrap_counts(labels[pool], replica_rng(master_seed, replica))
    return counts


def replica_indices(
    labels: np.ndarray, master_seed: int, replica: int, pool: np.ndarray | None = None
) -> np.ndarray:
    """The events of replica ``replica`` as sorted indices, repeated as often as drawn.

    The same replica as :func:`replica_counts` (its counts, expanded); prefer the counts as
    weights where the model takes weights.
    """
    counts = replica_counts(labels, master_seed, replica, pool)
    return np.repeat(np.arange(len(counts)), counts)


def n_jobs(n_replicas: int, per_job: int | None) -> int:
    """How many jobs train ``n_replicas`` replicas, ``per_job`` each (None: all in one job)."""
    if n_replicas < 1:
        raise ValueError(f"n_replicas must be >= 1, got {n_replicas}")
    if per_job is None:
        return 1
    if per_job < 1:
        raise ValueError(f"replicas per job must be >= 1 (or None for one job), got {per_job}")
    return -(-n_replicas // per_job)


def job_replicas(job: int, n_replicas: int, per_job: int | None) -> range:
    """The replicas that job ``job`` trains: consecutive blocks of ``per_job``, the last one
    shorter when ``per_job`` does not divide ``n_replicas``. The jobs together cover
    0..n_replicas-1 exactly once (as ad's ``discrim.members_per_job`` parts do)."""
    jobs = n_jobs(n_replicas, per_job)
    if not 0 <= job < jobs:
        raise ValueError(f"job must be in 0..{jobs - 1} for {n_replicas} replicas, got {job}")
    size = n_replicas if per_job is None else per_job
    return range(job * size, min((job + 1) * size, n_replicas))


class ReplicaSummary(NamedTuple):
    """A bootstrapped quantity: ``mean`` +- ``error`` over ``n`` replicas."""

    mean: float
    std: float  # spread of the replicas (ddof=1)
    error: float  # z * std / sqrt(n); z = 1: the standard error of the mean
    n: int


def summarize_replicas(values: Sequence[float] | np.ndarray, z: float = 1.0) -> ReplicaSummary:
    """Mean over replicas +- z * std / sqrt(R): the error on a bootstrapped AUC.

    std with ddof=1, as in the original's summary scripts. z = 1 (the default) is the standard
    error, std / sqrt(R), as shared/reference/iso.md states the paper's error; the original
    summary scripts print z = 1.96 ("95% confidence"), so a caller that wants to match them
    passes that. Needs R >= 2: one replica has no spread.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"need the values of at least 2 replicas, got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError("replica values contain NaN or inf")
    if not z > 0:
        raise ValueError(f"z must be > 0, got {z}")
    std = float(v.std(ddof=1))
    error = z * std / math.sqrt(v.size)
    return ReplicaSummary(mean=float(v.mean()), std=std, error=error, n=int(v.size))
