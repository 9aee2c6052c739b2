"""The paper's 6-fold stratified cross-validation, and the epoch count it hands to bootstrapping.

Every event gets a fold 0..5, stratified by its CWoLa label (each fold holds the same share of
label 1 up to one event per class) and shuffled with a seed derived from the master seed. Fold 0
is the fixed test set of every model; split k = 0..4 validates on fold k + 1 and trains on the
other four non-test folds. Fold ids, not index lists, are what a step stores: one small int
column says where every event went in every split.

The bootstrap replicas train for a fixed number of epochs, the mean of the five splits' best
(early-stopping) epochs: :func:`fixed_epoch_count`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from hepflows.core.io import DataError
from hepflows.core.seeding import derive_seed

__all__ = [
    "N_FOLDS",
    "TEST_FOLD",
    "FoldSplit",
    "assign_folds",
    "fixed_epoch_count",
    "n_splits",
    "split_indices",
    "split_masks",
    "training_pool",
]

N_FOLDS = 6  # the paper's: fold 0 for testing, 5 train/validation splits
TEST_FOLD = 0


class FoldSplit(NamedTuple):
    """One cross-validation split: boolean masks or index arrays over all events."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def assign_folds(labels: np.ndarray, master_seed: int, n_folds: int = N_FOLDS) -> np.ndarray:
    """Each event's fold 0..n_folds-1 (int8, shape (n,)), stratified by the 0/1 CWoLa label.

    sklearn's StratifiedKFold with shuffling; its seed is the stream ("iso", "folds") of
    ``master_seed``, so the same seed and labels always give the same folds. Per class, fold
    sizes differ by at most one event. A class with fewer events than folds is an error (some
    fold would miss it, and its split could not be trained or scored).
    """
    from sklearn.model_selection import StratifiedKFold  # seconds to import: only when used

    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"labels must be 1-D (n_events,), got shape {labels.shape}")
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    if not np.isin(labels, (0, 1)).all():
        raise DataError("labels must be the 0/1 CWoLa labels")
    counts = np.bincount(labels.astype(np.int64), minlength=2)
    if counts.min() < n_folds:
        raise DataError(
            f"stratified {n_folds}-fold split needs at least {n_folds} events of each label, "
            f"got {counts[0]} with label 0 and {counts[1]} with label 1"
        )
    kfold = StratifiedKFold(
        n_splits=n_folds, shuffle=True, random_state=derive_seed(master_seed, "iso", "folds")
    )
    folds = np.empty(len(labels), dtype=np.int8)
    for fold, (_, members) in enumerate(kfold.split(np.zeros((len(labels), 1)), labels)):
        folds[members] = fold
    return folds


def n_splits(n_folds: int = N_FOLDS) -> int:
    """How many train/validation splits there are: every fold but the test fold validates once."""
    return n_folds - 1


def _check_folds(folds: np.ndarray, n_folds: int) -> np.ndarray:
    folds = np.asarray(folds)
    if folds.ndim != 1:
        raise DataError(f"folds must be 1-D (n_events,), got shape {folds.shape}")
    if folds.size and (folds.min() < 0 or folds.max() >= n_folds):
        raise DataError(f"fold ids must lie in 0..{n_folds - 1}")
    return folds


def training_pool(folds: np.ndarray, n_folds: int = N_FOLDS) -> np.ndarray:
    """Mask of every event outside the test fold (the pool that bootstrap replicas resample)."""
    return _check_folds(folds, n_folds) != TEST_FOLD


def split_masks(folds: np.ndarray, k: int, n_folds: int = N_FOLDS) -> FoldSplit:
    """Boolean masks of split ``k``: validation = fold k + 1, test = fold 0, train = the rest."""
    folds = _check_folds(folds, n_folds)
    if not 0 <= k < n_splits(n_folds):
        raise ValueError(f"split k must be in 0..{n_splits(n_folds) - 1}, got {k}")
    test = folds == TEST_FOLD
    val = folds == k + 1
    return FoldSplit(train=~(test | val), val=val, test=test)


def split_indices(folds: np.ndarray, k: int, n_folds: int = N_FOLDS) -> FoldSplit:
    """Sorted event indices of split ``k`` (see :func:`split_masks`)."""
    return FoldSplit(*(np.flatnonzero(m) for m in split_masks(folds, k, n_folds)))


def fixed_epoch_count(best_epochs: Sequence[int] | np.ndarray) -> int:
    """The bootstrap's fixed epoch count: the mean best epoch of the splits, rounded half up.

    ``best_epochs`` are 1-based epoch numbers as :class:`hepflows.core.training.TrainResult`
    reports them, so epoch e means e epochs of training. Half up, not numpy's half to even, so
    that 12.5 gives 13 whatever the parity (with 5 splits the mean is a multiple of 0.2 and never
    lands on a half anyway).
    """
    epochs = np.asarray(best_epochs, dtype=np.float64)
    if epochs.ndim != 1 or epochs.size == 0:
        raise ValueError("best_epochs must be a non-empty list of epoch numbers")
    if not np.isfinite(epochs).all() or (epochs < 1).any() or (epochs != np.round(epochs)).any():
        raise ValueError(f"best epochs must be whole numbers >= 1, got {epochs.tolist()}")
    return int(np.floor(epochs.mean() + 0.5))
