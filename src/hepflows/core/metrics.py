"""Figures of merit for weakly supervised anomaly detection.

The significance improvement characteristic SIC = eps_S / sqrt(eps_B) is the factor by
which a cut on the anomaly score multiplies S/sqrt(B). At very small background
efficiency it is dominated by a handful of surviving background events, so every SIC
summary here refuses to look below a statistical floor (``min_fpr``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = [
    "closure_auc",
    "max_sic",
    "min_fpr",
    "percentile_band",
    "roc",
    "sic_at_rejection",
    "sic_curve",
    "sic_on_grid",
    "summarize_sic",
]


def roc(
    y_true: ArrayLike, score: ArrayLike, weights: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every threshold is kept so interpolation at tiny FPR is not biased by pruning."""
    fpr, tpr, _ = roc_curve(
        np.asarray(y_true), np.asarray(score), sample_weight=weights, drop_intermediate=False
    )
    return fpr, tpr


def min_fpr(n_bkg: int, max_rel_unc: float = 0.4) -> float:
    """Below this FPR fewer than 1/max_rel_unc**2 (~6) background events survive."""
    if n_bkg <= 0:
        raise ValueError(f"n_bkg must be positive, got {n_bkg}")
    if max_rel_unc <= 0:
        raise ValueError(f"max_rel_unc must be positive, got {max_rel_unc}")
    return 1.0 / (max_rel_unc**2 * n_bkg)


def _n_bkg(y_true: ArrayLike) -> int:
    n = int(np.count_nonzero(np.asarray(y_true) == 0))
    if n == 0:
        raise ValueError("y_true contains no background (y == 0) events")
    return n


def sic_curve(y_true: ArrayLike, score: ArrayLike, weights: ArrayLike | None = None) -> dict:
    """Points with fpr == 0 are dropped because SIC diverges there."""
    fpr, tpr = roc(y_true, score, weights)
    keep = fpr > 0
    fpr, tpr = fpr[keep], tpr[keep]
    return {"tpr": tpr, "fpr": fpr, "sic": tpr / np.sqrt(fpr)}


def max_sic(
    y_true: ArrayLike,
    score: ArrayLike,
    *,
    max_rel_unc: float = 0.4,
    weights: ArrayLike | None = None,
) -> float:
    """Maximum restricted to fpr > min_fpr so a lucky tail fluctuation cannot win."""
    floor = min_fpr(_n_bkg(y_true), max_rel_unc)
    curve = sic_curve(y_true, score, weights)
    sic = curve["sic"][curve["fpr"] > floor]
    return float(sic.max()) if sic.size else float("nan")


def _tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Linear ROC interpolation; on vertical steps take the best (largest) tpr."""
    x = np.asarray(x, dtype=float)
    hi = np.searchsorted(fpr, x, side="right")  # first point strictly right of x
    hi = np.clip(hi, 1, fpr.size - 1)
    lo = hi - 1
    dx = fpr[hi] - fpr[lo]
    frac = np.divide(x - fpr[lo], dx, out=np.ones_like(x), where=dx > 0)
    out = tpr[lo] + np.clip(frac, 0.0, 1.0) * (tpr[hi] - tpr[lo])
    return np.where(x >= fpr[-1], tpr[-1], out)


def _fpr_at_tpr(fpr: np.ndarray, tpr: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Inverse ROC; on horizontal steps take the best (smallest) fpr."""
    t = np.asarray(t, dtype=float)
    hi = np.searchsorted(tpr, t, side="left")  # first point with tpr >= t
    hi = np.clip(hi, 1, tpr.size - 1)
    lo = hi - 1
    dt = tpr[hi] - tpr[lo]
    frac = np.divide(t - tpr[lo], dt, out=np.ones_like(t), where=dt > 0)
    out = fpr[lo] + np.clip(frac, 0.0, 1.0) * (fpr[hi] - fpr[lo])
    return np.where(t <= tpr[0], fpr[0], out)


def sic_at_rejection(
    y_true: ArrayLike,
    score: ArrayLike,
    rejection: float,
    *,
    max_rel_unc: float = 0.4,
    weights: ArrayLike | None = None,
) -> float:
    """NaN when 1/rejection is below the FPR this test set can resolve."""
    target = 1.0 / rejection
    if target < min_fpr(_n_bkg(y_true), max_rel_unc):
        return float("nan")
    fpr, tpr = roc(y_true, score, weights)
    return float(_tpr_at_fpr(fpr, tpr, np.array([target]))[0] / np.sqrt(target))


def sic_on_grid(
    y_true: ArrayLike,
    score: ArrayLike,
    tpr_grid: np.ndarray,
    *,
    max_rel_unc: float = 0.4,
    weights: ArrayLike | None = None,
) -> np.ndarray:
    """A common signal-efficiency grid lets curves from different seeds be banded."""
    floor = min_fpr(_n_bkg(y_true), max_rel_unc)
    fpr, tpr = roc(y_true, score, weights)
    grid = np.asarray(tpr_grid, dtype=float)
    f = _fpr_at_tpr(fpr, tpr, grid)
    ok = f > floor
    return np.divide(grid, np.sqrt(np.where(ok, f, 1.0)), out=np.full_like(grid, np.nan), where=ok)


def closure_auc(
    score_template: ArrayLike,
    score_truth: ArrayLike,
    w_template: ArrayLike | None = None,
    w_truth: ArrayLike | None = None,
) -> float:
    """0.5 means the classifier cannot tell the background template from the truth."""
    s0 = np.asarray(score_template, dtype=float)
    s1 = np.asarray(score_truth, dtype=float)
    w0 = np.ones_like(s0) if w_template is None else np.asarray(w_template, dtype=float)
    w1 = np.ones_like(s1) if w_truth is None else np.asarray(w_truth, dtype=float)
    y = np.concatenate([np.zeros(s0.size), np.ones(s1.size)])
    return float(roc_auc_score(y, np.concatenate([s0, s1]), sample_weight=np.concatenate([w0, w1])))


def _rejection_key(rejection: float) -> str:
    """1e3 -> 'sic_at_1e3', 2500 -> 'sic_at_2.5e3' (stable, filename-friendly keys)."""
    mantissa, exponent = f"{rejection:.6e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"sic_at_{mantissa}e{int(exponent)}"


def summarize_sic(
    y_true: ArrayLike,
    score: ArrayLike,
    *,
    rejections: Sequence[float] = (1e3, 1e4),
    max_rel_unc: float = 0.4,
    weights: ArrayLike | None = None,
) -> dict:
    """One flat, JSON-serialisable record per (method, seed) for aggregation tables."""
    y = np.asarray(y_true)
    n_bkg = _n_bkg(y)
    out = {
        "auc": float(roc_auc_score(y, score, sample_weight=weights)),
        "max_sic": max_sic(y, score, max_rel_unc=max_rel_unc, weights=weights),
    }
    for r in rejections:
        out[_rejection_key(r)] = sic_at_rejection(
            y, score, r, max_rel_unc=max_rel_unc, weights=weights
        )
    out.update(
        n_sig=int(np.count_nonzero(y == 1)),
        n_bkg=n_bkg,
        min_fpr=min_fpr(n_bkg, max_rel_unc),
    )
    return out


def percentile_band(values: ArrayLike, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and 68% band over seeds; failed seeds (NaN) are ignored, not propagated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices -> NaN, silently
        med, p16, p84 = np.nanpercentile(np.asarray(values, dtype=float), [50, 16, 84], axis=axis)
    return med, p16, p84
