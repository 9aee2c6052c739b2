"""Weakly supervised SR classifiers and closure classifiers.

SR discrimination: an ensemble of classifiers, SR data (1) against the background template (0),
whose mean output on the labelled test set is the anomaly score. Closure: classifiers template
(0) against truth (1) evaluated out of fold, so that no event is scored by a classifier that saw it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.core.classifiers import make_classifier
from hepflows.core.ensembles import make_mlp_ensemble


def clean_template_weights(
    weights: np.ndarray | None, n_template: int, n_target: float, sigma_cut: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Drop events with extreme weights and scale the rest to a total of ``n_target``.

    Returns (mask of kept template events, their weights). Extreme weights (above mean +
    ``sigma_cut`` standard deviations) come from classifier outputs near 1 and would let a few
    events dominate the training.
    """
    w = np.ones(n_template) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(w) & (w > 0)
    if sigma_cut is not None and keep.any():
        cut = w[keep].mean() + sigma_cut * w[keep].std()
        keep &= w <= cut
    if not keep.any():
        raise ValueError("no template event survives the weight cut")
    kept = w[keep]
    return keep, kept * (n_target / kept.sum())


def member_columns(start: int, stop: int) -> list[str]:
    """Column names of members start..stop-1 in a part of a split ensemble's scores."""
    return [f"member_{k:03d}" for k in range(start, stop)]


def _member_path(directory: Path, k: int) -> Path:
    return directory / f"member_{k:03d}.npy"


def train_member_scores(
    x_signal_like: np.ndarray,
    x_template: np.ndarray,
    w_template: np.ndarray,
    x_eval: np.ndarray,
    spec: Mapping[str, Any],
    *,
    n_members: int,
    seeds: list[int],
    device: str = "auto",
    work_dir: Path | None = None,
    log: logging.Logger | None = None,
    average_epochs: int = 1,
    batch_seed: int | None = None,
) -> np.ndarray:
    """Each member's score on ``x_eval``, shape (n_members, n).

    ``average_epochs`` = k > 1: each MLP member scores with the mean of its k best epochs.
    ``batch_seed`` orders the MLP mini-batches (default: the first member's seed); with the
    whole ensemble's first seed, a slice of its members scores exactly as in the whole.

    MLP members train side by side as one stacked network (checkpointed every epoch); other
    kinds train one after the other, each member's scores kept in ``work_dir`` as soon as it
    finishes. Either way a killed job resumes where it stopped.
    """
    if len(seeds) != n_members:
        raise ValueError(f"need one seed per ensemble member ({n_members}), got {len(seeds)}")
    x = np.concatenate([x_signal_like, x_template])
    y = np.concatenate([np.ones(len(x_signal_like)), np.zeros(len(x_template))])
    w = np.concatenate([np.ones(len(x_signal_like)), w_template])
    if spec.get("kind") == "mlp":
        if log:
            log.info(f"training {n_members} MLP members side by side (seeds {seeds})")
        ckpt = work_dir / "ensemble.ckpt" if work_dir is not None else None
        ensemble = make_mlp_ensemble(
            dict(spec),
            seeds=seeds,
            device=device,
            checkpoint=ckpt,
            log=log,
            average_epochs=average_epochs,
            batch_seed=batch_seed,
        )
        scores = ensemble.fit(x, y, w).predict_members(x_eval)
        if log and ensemble.result is not None:
            log.info(f"best epoch per member: {ensemble.result.best_epochs}")
        return scores
    if average_epochs != 1:
        raise ValueError(
            f"average_epochs = {average_epochs} needs an 'mlp' classifier (it averages "
            f"epochs), not {spec.get('kind')!r}"
        )
    scores = np.empty((n_members, len(x_eval)))
    for k, seed in enumerate(seeds):
        done = _member_path(work_dir, k) if work_dir is not None else None
        if done is not None and done.exists():
            scores[k] = np.load(done)
            if log:
                log.info(f"member {k + 1}/{n_members}: reusing finished scores")
            continue
        if log:
            log.info(f"member {k + 1}/{n_members}: training (seed {seed})")
        ckpt = work_dir / f"member_{k:03d}.ckpt" if work_dir is not None else None
        clf = make_classifier(dict(spec), seed=seed, device=device, checkpoint=ckpt, log=log)
        clf.fit(x, y, w)
        scores[k] = clf.predict(x_eval)
        if done is not None:
            tmp = done.with_suffix(".tmp.npy")
            np.save(tmp, scores[k])
            tmp.replace(done)
            if ckpt is not None and ckpt.exists():
                ckpt.unlink()
    return scores


def out_of_fold_closure_aucs(
    x_template: np.ndarray,
    w_template: np.ndarray | None,
    x_truth: np.ndarray,
    w_truth: np.ndarray | None,
    spec: Mapping[str, Any],
    *,
    n_folds: int,
    seed: int,
    device: str = "auto",
    log: logging.Logger | None = None,
) -> list[float]:
    """One closure AUC per fold, each from a classifier that never saw the fold's events."""
    # scikit-learn is imported only by the jobs that need it (it costs seconds per job).
    from sklearn.model_selection import StratifiedKFold

    from hepflows.core.metrics import closure_auc

    n_t, n_d = len(x_template), len(x_truth)
    wt = np.ones(n_t) if w_template is None else np.asarray(w_template, dtype=np.float64)
    wt = wt * (n_d / wt.sum())
    wd = np.ones(n_d) if w_truth is None else np.asarray(w_truth, dtype=np.float64)
    x = np.concatenate([x_template, x_truth])
    y = np.concatenate([np.zeros(n_t), np.ones(n_d)])
    w = np.concatenate([wt, wd])
    # Weights that are constant within each class only shift the class prior, which leaves the
    # ranking, and so the AUC, unchanged; without them scikit-learn's HGB skips its ~10x slower
    # weighted binning. Event weights (a reweighted template) are always used.
    w_fit = None if np.ptp(wt) == 0 and np.ptp(wd) == 0 else w
    aucs = []
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed % 2**32)
    for k, (train, test) in enumerate(folds.split(x, y)):
        clf = make_classifier(dict(spec), seed=seed + k, device=device, log=log)
        clf.fit(x[train], y[train], None if w_fit is None else w_fit[train])
        score = clf.predict(x[test])
        is_truth = y[test] == 1
        aucs.append(
            closure_auc(score[~is_truth], score[is_truth], w[test][~is_truth], w[test][is_truth])
        )
        if log:
            log.info(f"closure fold {k + 1}/{n_folds}: AUC = {aucs[-1]:.4f}")
    return aucs
