"""Classifier two-sample test: can a classifier tell sample A from sample B?

The AUC of a classifier scored out of fold (no event is scored by a classifier that saw it) is
0.5 when the samples agree and grows with any difference a classifier can find. It is the
closure test of a background template and the C2ST of a corrected or generated sample.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from hepflows.core.classifiers import make_classifier
from hepflows.core.metrics import closure_auc

__all__ = ["out_of_fold_aucs"]


def out_of_fold_aucs(
    x_a: np.ndarray,
    w_a: np.ndarray | None,
    x_b: np.ndarray,
    w_b: np.ndarray | None,
    spec: Mapping[str, Any],
    *,
    n_folds: int,
    seed: int,
    device: str = "auto",
    log: logging.Logger | None = None,
) -> list[float]:
    """One AUC of B (1) against A (0) per fold, each from a classifier that never saw the fold.

    A's weights are scaled to B's total, so the classes count equally.
    """
    # scikit-learn is imported only by the jobs that need it (it costs seconds per job).
    from sklearn.model_selection import StratifiedKFold

    n_a, n_b = len(x_a), len(x_b)
    wa = np.ones(n_a) if w_a is None else np.asarray(w_a, dtype=np.float64)
    wa = wa * (n_b / wa.sum())
    wb = np.ones(n_b) if w_b is None else np.asarray(w_b, dtype=np.float64)
    x = np.concatenate([x_a, x_b])
    y = np.concatenate([np.zeros(n_a), np.ones(n_b)])
    w = np.concatenate([wa, wb])
    # Weights that are constant within each class only shift the class prior, which leaves the
    # ranking, and so the AUC, unchanged; without them scikit-learn's HGB skips its ~10x slower
    # weighted binning. Event weights (a reweighted sample) are always used.
    w_fit = None if np.ptp(wa) == 0 and np.ptp(wb) == 0 else w
    aucs = []
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed % 2**32)
    for k, (train, test) in enumerate(folds.split(x, y)):
        clf = make_classifier(dict(spec), seed=seed + k, device=device, log=log)
        clf.fit(x[train], y[train], None if w_fit is None else w_fit[train])
        score = clf.predict(x[test])
        is_b = y[test] == 1
        aucs.append(closure_auc(score[~is_b], score[is_b], w[test][~is_b], w[test][is_b]))
        if log:
            log.info(f"fold {k + 1}/{n_folds}: AUC = {aucs[-1]:.4f}")
    return aucs
