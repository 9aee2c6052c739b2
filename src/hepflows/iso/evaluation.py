"""The figures of merit of a model on the test fold, as the paper evaluates them without truth
(the sPlot ROC of the mass fit's sWeights, averaged over draws of the fit parameters) and, where
the events know it, with the truth beside it; per CV split, per bootstrap replica, and the
median ROC with its 16-84% band over replicas on a common FPR grid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from hepflows.core.event_files import read_table, table_columns
from hepflows.core.io import PathLike
from hepflows.core.metrics import auc, roc
from hepflows.core.seeding import derive_seed
from hepflows.iso.bootstrap import summarize_replicas
from hepflows.iso.columns import TRUTH_COLUMN
from hepflows.iso.mass_fit import MassFit
from hepflows.iso.splot import (
    resampled_splot_minus_truth,
    splot_auc_draws,
    splot_roc,
    sweights,
    tpr_at_fpr,
)

__all__ = [
    "FPR_GRID",
    "TestFold",
    "curve_band",
    "read_sample",
    "read_test_fold",
    "read_truth",
    "replica_metrics",
    "score_metrics",
    "splot_truth_spread",
    "summary",
]

FPR_GRID = np.linspace(0.0, 1.0, 201)  # where replica ROC curves are compared


class TestFold(NamedTuple):
    """The test fold's events: their indices in the event table, masses and truth (or None)."""

    index: np.ndarray
    mass: np.ndarray
    truth: np.ndarray | None


def read_truth(events: PathLike) -> np.ndarray | None:
    """The generator's truth (1 = prompt) of every event, or None for real data."""
    if TRUTH_COLUMN not in table_columns(events):
        return None
    return read_table(events, columns=[TRUTH_COLUMN], particles=False).col(TRUTH_COLUMN)


def read_test_fold(events: PathLike, cwola: PathLike) -> TestFold:
    fold = read_table(cwola, columns=["fold"]).col("fold")
    index = np.flatnonzero(fold == 0)
    mass = read_table(events, columns=["mass"], particles=False).col("mass")
    truth = read_truth(events)
    return TestFold(index, mass[index], None if truth is None else truth[index])


def read_sample(events: PathLike) -> TestFold:
    """Every event of a sample that was only scored (the synthetic holdout) as a test fold."""
    mass = read_table(events, columns=["mass"], particles=False).col("mass")
    return TestFold(np.arange(len(mass)), mass, read_truth(events))


def _monotone(fpr: np.ndarray, tpr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A curve that may step back (negative sWeights) as its running maximum, for
    interpolation at fixed FPR; its AUC is taken from the curve as it is, elsewhere."""
    return np.maximum.accumulate(fpr), np.maximum.accumulate(tpr)


def tpr_on_grid(fpr: np.ndarray, tpr: np.ndarray, grid: np.ndarray = FPR_GRID) -> np.ndarray:
    f, t = _monotone(np.asarray(fpr), np.asarray(tpr))
    f, first = np.unique(f, return_index=True)  # np.interp needs increasing x: first TPR per FPR
    last = np.r_[first[1:] - 1, len(t) - 1]
    return np.interp(grid, f, t[last])


def score_metrics(score: np.ndarray, test: TestFold, fit: MassFit) -> dict[str, Any]:
    """sPlot AUC and TPR at 50% FPR with the fit's own parameters; truth ones where known."""
    fpr, tpr = splot_roc(score, sweights(test.mass, fit))
    out: dict[str, Any] = {
        "splot_auc": float(np.trapezoid(tpr, fpr)),
        "splot_tpr_at_50fpr": tpr_at_fpr(fpr, tpr, 0.5),
        "splot_roc": tpr_on_grid(fpr, tpr),
    }
    if test.truth is not None:
        fpr_t, tpr_t = roc(test.truth, score)
        out["truth_auc"] = auc(test.truth, score)
        out["truth_tpr_at_50fpr"] = tpr_at_fpr(fpr_t, tpr_t, 0.5)
        out["truth_roc"] = tpr_on_grid(fpr_t, tpr_t)
    return out


def replica_metrics(
    scores: np.ndarray, test: TestFold, fit: MassFit, *, draws: int, seed: int, model: str
) -> list[dict[str, Any]]:
    """Per replica (row of ``scores``): :func:`score_metrics`, with the sPlot AUC and TPR
    replaced by their means over ``draws`` draws of the fit parameters (the paper's)."""
    rows = []
    for b, score in enumerate(scores):
        m = score_metrics(score, test, fit)
        d = splot_auc_draws(test.mass, score, fit, n_draws=draws,
                            seed=derive_seed(seed, "iso", "fit-draws", model, b))  # fmt: skip
        m.update(splot_auc=d.auc_mean, splot_auc_fit_std=d.auc_std,
                 splot_tpr_at_50fpr=d.tpr_mean)  # fmt: skip
        rows.append(m)
    return rows


def splot_truth_spread(
    score: np.ndarray,
    sample: TestFold,
    fit: MassFit | Mapping[str, float],
    *,
    resamples: int,
    seed: int,
) -> float:
    """The standard deviation of sPlot AUC - truth AUC over ``resamples`` resamples of the
    events with replacement: how far the two may differ by the sample's statistics alone. The
    sPlot estimate is noisier than the truth's (prompt events in the peak carry non-prompt
    sWeights), so this, not the AUC error over replicas, says whether a difference is a bias."""
    if sample.truth is None:
        raise ValueError("the spread of sPlot - truth needs the truth")
    diffs = resampled_splot_minus_truth(sample.mass, score, sample.truth, fit,
                                        resamples=resamples, seed=seed)  # fmt: skip
    return float(np.std(diffs, ddof=1))


def curve_band(curves: Sequence[np.ndarray]) -> dict[str, list[float]]:
    """Median and 16-84% of TPR at each FPR of ``FPR_GRID`` over replicas."""
    lo, mid, hi = np.percentile(np.asarray(curves), [16, 50, 84], axis=0)
    return {"fpr": FPR_GRID.tolist(), "median": mid.tolist(), "p16": lo.tolist(),
            "p84": hi.tolist()}  # fmt: skip


def summary(rows: Sequence[dict[str, Any]], key: str) -> dict[str, float]:
    """Mean +- std/sqrt(R) of ``key`` over replicas (the paper's bootstrapped error)."""
    s = summarize_replicas([r[key] for r in rows])
    return {"mean": s.mean, "error": s.error, "std": s.std, "n": s.n}
