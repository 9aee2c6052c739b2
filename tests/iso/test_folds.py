"""The 6-fold stratified cross-validation of the paper, and the bootstrap's fixed epoch count."""

from __future__ import annotations

import numpy as np
import pytest

from hepflows.core.io import DataError
from hepflows.iso.folds import (
    N_FOLDS,
    TEST_FOLD,
    assign_folds,
    fixed_epoch_count,
    n_splits,
    split_indices,
    split_masks,
    training_pool,
)


def _labels(n: int = 1003, frac: float = 0.3, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random(n) < frac).astype(np.int64)


def test_folds_are_stratified_and_cover_every_event():
    labels = _labels()
    folds = assign_folds(labels, master_seed=7)
    assert folds.shape == labels.shape
    assert set(np.unique(folds)) == set(range(N_FOLDS))
    for cls in (0, 1):
        per_fold = np.bincount(folds[labels == cls], minlength=N_FOLDS)
        assert per_fold.sum() == (labels == cls).sum()
        assert per_fold.max() - per_fold.min() <= 1  # class counts equal within one event


def test_splits_partition_the_events():
    labels = _labels()
    folds = assign_folds(labels, master_seed=7)
    assert n_splits() == N_FOLDS - 1 == 5
    tests = []
    for k in range(n_splits()):
        m = split_masks(folds, k)
        total = m.train.astype(int) + m.val.astype(int) + m.test.astype(int)
        np.testing.assert_array_equal(total, 1)  # disjoint, and together everything
        np.testing.assert_array_equal(m.val, folds == k + 1)
        np.testing.assert_array_equal(m.test, folds == TEST_FOLD)
        np.testing.assert_array_equal(m.train, (folds != TEST_FOLD) & (folds != k + 1))
        idx = split_indices(folds, k)
        for mask, index in zip(m, idx, strict=True):
            np.testing.assert_array_equal(index, np.flatnonzero(mask))
        tests.append(m.test)
    # the test fold is the same for every k, and every non-test fold validates exactly once
    assert all((t == tests[0]).all() for t in tests)
    val_count = sum(split_masks(folds, k).val.astype(int) for k in range(n_splits()))
    np.testing.assert_array_equal(val_count, (folds != TEST_FOLD).astype(int))
    np.testing.assert_array_equal(training_pool(folds), folds != TEST_FOLD)


def test_folds_are_deterministic_seeded_and_shuffled():
    labels = _labels()
    a = assign_folds(labels, master_seed=7)
    np.testing.assert_array_equal(a, assign_folds(labels, master_seed=7))
    b = assign_folds(labels, master_seed=8)
    assert (a != b).mean() > 0.5  # another seed reshuffles most events
    # shuffled: unshuffled folds are contiguous blocks per class (consecutive events of a class
    # share a fold); shuffled, 5 in 6 neighbours are in different folds
    assert (np.diff(a[labels == 0]) != 0).mean() > 0.7


def test_too_few_events_of_a_class_is_an_error():
    labels = np.array([0] * 20 + [1] * 5)
    with pytest.raises(DataError, match="at least 6 events of each label.*5 with label 1"):
        assign_folds(labels, master_seed=0)
    assign_folds(np.array([0] * 20 + [1] * 6), master_seed=0)  # 6 is enough
    with pytest.raises(DataError, match="0 with label 1"):
        assign_folds(np.zeros(30, dtype=int), master_seed=0)
    with pytest.raises(DataError, match="0/1"):
        assign_folds(np.array([0, 1, 2] * 10), master_seed=0)


def test_split_index_is_checked():
    folds = assign_folds(_labels(), master_seed=0)
    for bad in (-1, 5):
        with pytest.raises(ValueError, match="0..4"):
            split_masks(folds, bad)
    with pytest.raises(DataError, match="fold ids"):
        split_masks(np.array([0, 1, 6]), 0)


def test_fixed_epoch_count_rounds_the_mean_half_up():
    assert fixed_epoch_count([10, 11, 12, 12, 13]) == 12  # mean 11.6
    assert fixed_epoch_count([10, 11, 11, 11, 11]) == 11  # mean 10.8
    assert fixed_epoch_count([12, 13]) == 13  # 12.5: half up, not numpy's half to even (12)
    assert fixed_epoch_count(np.array([26])) == 26
    for bad in ([], [0, 3], [2.5, 3]):
        with pytest.raises(ValueError):
            fixed_epoch_count(bad)
