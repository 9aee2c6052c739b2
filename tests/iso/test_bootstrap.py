"""Bootstrap replicas within each CWoLa label, their split over jobs, and the summary."""

from __future__ import annotations

import numpy as np
import pytest

from hepflows.core.io import DataError
from hepflows.iso.bootstrap import (
    job_replicas,
    n_jobs,
    replica_counts,
    replica_indices,
    summarize_replicas,
)


def _labels_and_pool(n: int = 30_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.random(n) < 0.25).astype(np.int64), rng.random(n) < 5 / 6


def test_replica_keeps_class_counts_and_the_pool():
    labels, pool = _labels_and_pool()
    counts = replica_counts(labels, master_seed=11, replica=4, pool=pool)
    assert counts.dtype == np.int64 and counts.shape == labels.shape
    assert (counts[~pool] == 0).all()  # the test fold is never drawn
    for cls in (0, 1):
        assert counts[labels == cls].sum() == (pool & (labels == cls)).sum()


def test_replica_draws_with_replacement():
    labels, pool = _labels_and_pool()
    counts = replica_counts(labels, master_seed=11, replica=0, pool=pool)[pool]
    assert counts.max() >= 3  # duplicates
    unique = (counts > 0).mean()
    assert abs(unique - (1 - np.exp(-1))) < 0.01  # ~63.2% of the events drawn at least once
    for cls in (0, 1):  # within each class too
        c = counts[labels[pool] == cls]
        assert abs((c > 0).mean() - (1 - np.exp(-1))) < 0.02


def test_replicas_are_reproducible_and_differ():
    labels, pool = _labels_and_pool(n=5000)
    a = replica_counts(labels, 11, 7, pool)
    np.testing.assert_array_equal(a, replica_counts(labels, 11, 7, pool))
    assert (a != replica_counts(labels, 11, 8, pool)).mean() > 0.3
    assert (a != replica_counts(labels, 12, 7, pool)).mean() > 0.3
    # without a pool every event is eligible
    assert (replica_counts(labels, 11, 7) > 0).sum() > (a > 0).sum()
    with pytest.raises(ValueError, match=">= 0"):
        replica_counts(labels, 11, -1, pool)
    with pytest.raises(DataError, match="boolean mask"):
        replica_counts(labels, 11, 0, pool.astype(int))


def test_replica_indices_expand_the_counts():
    labels, pool = _labels_and_pool(n=2000)
    idx = replica_indices(labels, 5, 2, pool)
    counts = replica_counts(labels, 5, 2, pool)
    assert len(idx) == pool.sum()
    assert (np.diff(idx) >= 0).all()
    np.testing.assert_array_equal(np.bincount(idx, minlength=len(labels)), counts)
    np.testing.assert_array_equal(np.bincount(labels[idx]), np.bincount(labels[pool]))


@pytest.mark.parametrize("n_replicas", [1, 7, 100])
@pytest.mark.parametrize("per_job", [1, 3, 7, 10, 100, 150, None])
def test_jobs_cover_every_replica_once(n_replicas, per_job):
    jobs = n_jobs(n_replicas, per_job)
    got = [b for j in range(jobs) for b in job_replicas(j, n_replicas, per_job)]
    assert got == list(range(n_replicas))
    assert all(len(job_replicas(j, n_replicas, per_job)) > 0 for j in range(jobs))
    assert jobs == (1 if per_job is None else -(-n_replicas // per_job))


def test_job_arguments_are_checked():
    assert n_jobs(100, 10) == 10 and job_replicas(9, 100, 10) == range(90, 100)
    assert job_replicas(2, 7, 3) == range(6, 7)
    with pytest.raises(ValueError, match="0..9"):
        job_replicas(10, 100, 10)
    with pytest.raises(ValueError, match=">= 1"):
        n_jobs(100, 0)
    with pytest.raises(ValueError, match=">= 1"):
        n_jobs(0, 10)


def test_summary_is_mean_and_standard_error():
    s = summarize_replicas([0.85, 0.86, 0.87, 0.88])
    assert s.n == 4
    assert s.mean == pytest.approx(0.865)
    std = np.sqrt(((np.array([-1.5, -0.5, 0.5, 1.5]) * 0.01) ** 2).sum() / 3)  # ddof=1
    assert s.std == pytest.approx(std)
    assert s.error == pytest.approx(std / 2)
    assert summarize_replicas([0.85, 0.86, 0.87, 0.88], z=1.96).error == pytest.approx(
        1.96 * std / 2
    )
    with pytest.raises(ValueError, match="at least 2"):
        summarize_replicas([0.87])
    with pytest.raises(ValueError, match="NaN"):
        summarize_replicas([0.87, np.nan])
