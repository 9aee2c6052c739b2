"""The training jobs of the comparison: one cross-validation split of a model (early stopping
on its validation fold) and a block of bootstrap replicas (a fixed epoch count, the training
pool resampled within each label), on the CWoLa labels and weights of ``iso_label``.

Seeds: a split's network starts from the stream ("iso", "cv", split) and replica b's from
("iso", "bootstrap-init", b), the same for every model, so models differ by their inputs and
architecture only; replica b's events are :func:`hepflows.iso.bootstrap.replica_counts`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from hepflows.core.checkpoints import keep_finished, load_or_set_aside
from hepflows.core.events import EventTable
from hepflows.core.seeding import derive_seed
from hepflows.iso.bootstrap import replica_counts
from hepflows.iso.folds import split_masks, training_pool
from hepflows.iso.model_inputs import SampleScorer
from hepflows.iso.models import IsoClassifier, train_model

__all__ = ["BootstrapScores", "bootstrap_scores", "folds_of", "train_split"]


def folds_of(cwola: EventTable) -> np.ndarray:
    """Each event's fold (the iso_label table's one column)."""
    return cwola.col("fold").astype(np.int64)


def train_split(
    kind: str,
    x: Any,
    cwola: EventTable,
    split: int,
    *,
    spec: dict[str, Any],
    seed: int,
    device: str,
    checkpoint: Path | None,
    log: logging.Logger | None,
) -> IsoClassifier:
    """Split ``split``: train on its four training folds, stop early on its validation fold."""
    masks = split_masks(folds_of(cwola), split)
    y, w = cwola.labels, cwola.weights
    if log:
        log.info(
            f"split {split}: {masks.train.sum()} training, {masks.val.sum()} validation, "
            f"{masks.test.sum()} test events"
        )
    return train_model(
        kind, x[masks.train], y[masks.train], w[masks.train], spec=spec,
        seed=derive_seed(seed, "iso", "cv", split), device=device, checkpoint=checkpoint, log=log,
        validation=(x[masks.val], y[masks.val], w[masks.val]),
    )  # fmt: skip


class BootstrapScores(NamedTuple):
    """(replicas, events) scores of the test fold and, if one was given, the holdout sample."""

    test: np.ndarray
    holdout: np.ndarray | None


def bootstrap_scores(
    kind: str,
    x: Any,
    cwola: EventTable,
    replicas: range,
    *,
    epochs: int,
    spec: dict[str, Any],
    seed: int,
    device: str,
    work_dir: Path | None,
    log: logging.Logger | None,
    holdout: SampleScorer | None = None,
) -> BootstrapScores:
    """Scores (len(replicas), n_test) on the test fold, one row per replica, and (if
    ``holdout`` is given) those of every event of the holdout sample it reads.

    Replica b trains on the training pool (every fold but the test fold) with weights = CWoLa
    weight x how often the event was drawn, for ``epochs`` epochs. Events drawn 0 times are left
    out rather than passed with weight 0 (less work, and nothing of theirs enters the
    standardization). A finished replica's scores are kept in ``work_dir``, so a killed job
    resumes at the replica it was training.
    """
    folds = folds_of(cwola)
    pool, test = training_pool(folds), folds == 0
    x_test, n_test = x[np.flatnonzero(test)], int(test.sum())
    n_holdout = holdout.n_events if holdout is not None else 0
    out = np.empty((len(replicas), n_test + n_holdout))  # a replica's row: test, then holdout
    for i, b in enumerate(replicas):
        done = work_dir / f"replica_{b:04d}.npy" if work_dir is not None else None
        logger = log or logging.getLogger(__name__)
        finished = load_or_set_aside(done, np.load, logger) if done is not None else None
        if finished is not None and finished.shape == out[i].shape:
            out[i] = finished
            if log:
                log.info(f"replica {b}: reusing its finished scores")
            continue
        counts = replica_counts(cwola.labels, seed, b, pool)
        drawn = np.flatnonzero(counts)
        if log:
            log.info(f"replica {b}: {len(drawn)} distinct events, {epochs} epochs")
        ckpt = work_dir / f"replica_{b:04d}.ckpt" if work_dir is not None else None
        clf = train_model(
            kind, x[drawn], cwola.labels[drawn], cwola.weights[drawn] * counts[drawn], spec=spec,
            seed=derive_seed(seed, "iso", "bootstrap-init", b), device=device, checkpoint=ckpt,
            log=log, epochs=epochs,
        )  # fmt: skip
        out[i, :n_test] = clf.predict(x_test)
        if holdout is not None:
            out[i, n_test:] = holdout(clf)
        if done is not None:
            keep_finished(done, out[i], ckpt)
    return BootstrapScores(out[:, :n_test], out[:, n_test:] if holdout is not None else None)
