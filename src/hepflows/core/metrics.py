"""Figures of merit for weakly supervised anomaly detection.

The significance improvement characteristic SIC = eps_S / sqrt(eps_B) is the factor by
which a cut on the anomaly score multiplies S/sqrt(B). At very small background
efficiency it is dominated by a handful of surviving background events, so every SIC
summary here refuses to look below a statistical floor (``min_fpr``).

The shape comparisons (binned chi2, per-variable KS and Wasserstein) and the response and
resolution of an energy scale judge how well a generated or calibrated sample matches truth.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = [
    "Chi2Result",
    "ResponseResolution",
    "auc",
    "binned_chi2",
    "closure_auc",
    "ks_per_variable",
    "max_sic",
    "min_fpr",
    "percentile_band",
    "response_and_resolution",
    "roc",
    "sic_at_rejection",
    "sic_curve",
    "sic_on_grid",
    "summarize_sic",
    "wasserstein_per_variable",
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


class Chi2Result(NamedTuple):
    chi2: float
    ndf: int
    p_value: float


def _histogram(values: ArrayLike, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    h = np.asarray(values, dtype=float)
    if h.ndim != 1 or (shape is not None and h.shape != shape):
        want = "1-D (one entry per bin)" if shape is None else f"shape {shape}"
        raise ValueError(f"{name} must be {want}, got shape {h.shape}")
    if not np.all(np.isfinite(h) & (h >= 0)):
        raise ValueError(f"{name} must be finite and >= 0 in every bin, got {h}")
    return h


def binned_chi2(
    counts_a: ArrayLike,
    counts_b: ArrayLike,
    *,
    sumw2_a: ArrayLike | None = None,
    sumw2_b: ArrayLike | None = None,
) -> Chi2Result:
    """Compares shapes only: each total is a free normalisation and costs one ndf.

    Counts alone give the Pearson homogeneity chi2 of the 2 x k table (what
    scipy.stats.chi2_contingency computes). With both sum-of-squared-weights arrays the
    weighted-weighted statistic of Gagunashvili (2006), as in ROOT's TH1::Chi2Test("WW"),
    is used. Bins empty in both histograms carry no information and cost no ndf; a bin
    empty in only one is kept, since that is a shape difference.
    """
    a = _histogram(counts_a, "counts_a")
    b = _histogram(counts_b, "counts_b", a.shape)
    if (sumw2_a is None) != (sumw2_b is None):
        raise ValueError("expected both sumw2_a and sumw2_b (weighted) or neither (unweighted)")
    keep = (a + b) > 0
    n_bins = int(np.count_nonzero(keep))
    if n_bins < 2:
        raise ValueError(f"expected at least 2 bins non-empty in either histogram, got {n_bins}")
    total_a, total_b = a.sum(), b.sum()
    if total_a <= 0 or total_b <= 0:
        raise ValueError(f"expected positive totals, got {total_a} and {total_b}")
    if sumw2_a is None:
        a, b = a[keep], b[keep]
        chi2 = np.sum((a * total_b - b * total_a) ** 2 / (a + b)) / (total_a * total_b)
    else:
        var_a = _histogram(sumw2_a, "sumw2_a", a.shape)[keep]
        var_b = _histogram(sumw2_b, "sumw2_b", a.shape)[keep]
        a, b = a[keep], b[keep]
        sigma2 = total_a**2 * var_b + total_b**2 * var_a
        if np.any(sigma2 <= 0):
            raise ValueError("expected sumw2 > 0 in at least one histogram in every non-empty bin")
        chi2 = np.sum((total_b * a - total_a * b) ** 2 / sigma2)
    ndf = n_bins - 1
    return Chi2Result(float(chi2), ndf, float(stats.chi2.sf(chi2, ndf)))


def _per_column(
    a: ArrayLike, b: ArrayLike, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = list(columns)
    if len(set(names)) != len(names):
        raise ValueError(f"expected unique column names, got {names}")
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    for label, arr in (("a", x), ("b", y)):
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise ValueError(
                f"{label} must have shape (n_events, {len(names)}) to match columns, "
                f"got {arr.shape}"
            )
    return x, y, names


def ks_per_variable(
    a: ArrayLike, b: ArrayLike, columns: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """Per variable (statistic, p-value): which input a model gets wrong, not just that one is."""
    x, y, names = _per_column(a, b, columns)
    res = stats.ks_2samp(x, y, axis=0)
    return {
        name: (float(d), float(p))
        for name, d, p in zip(
            names, np.atleast_1d(res.statistic), np.atleast_1d(res.pvalue), strict=True
        )
    }


def _event_weights(w: ArrayLike | None, n: int, name: str) -> np.ndarray | None:
    if w is None:
        return None
    arr = np.asarray(w, dtype=float)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one weight per event, got {arr.shape}")
    return arr


def wasserstein_per_variable(
    a: ArrayLike,
    b: ArrayLike,
    columns: Sequence[str],
    *,
    weights_a: ArrayLike | None = None,
    weights_b: ArrayLike | None = None,
) -> dict[str, float]:
    """Unlike KS, it grows with the size of a shift, in the variable's own units."""
    x, y, names = _per_column(a, b, columns)
    wa = _event_weights(weights_a, x.shape[0], "weights_a")
    wb = _event_weights(weights_b, y.shape[0], "weights_b")
    return {
        name: float(stats.wasserstein_distance(x[:, j], y[:, j], wa, wb))
        for j, name in enumerate(names)
    }


# q16, q50, q84 at exactly -1, 0, +1 sigma, so a Gaussian's resolution is its sigma.
_QUANTILES = stats.norm.cdf([-1.0, 0.0, 1.0])


def _quantile_correlation(p: np.ndarray) -> np.ndarray:
    """Asymptotic correlation of sample quantiles; it depends on p only, not on the density."""
    lo, hi = np.minimum.outer(p, p), np.maximum.outer(p, p)
    v = p * (1 - p)
    return lo * (1 - hi) / np.sqrt(np.outer(v, v))


@dataclass(frozen=True)
class ResponseResolution:
    """One entry per bin of true; NaN where a bin has fewer than min_events events."""

    edges: np.ndarray
    n: np.ndarray
    response: np.ndarray
    response_err: np.ndarray
    resolution: np.ndarray
    resolution_err: np.ndarray
    relative_resolution: np.ndarray
    relative_resolution_err: np.ndarray


def response_and_resolution(
    true: ArrayLike, reco: ArrayLike, edges: ArrayLike, *, min_events: int = 10
) -> ResponseResolution:
    """Quantiles of reco/true, not a Gaussian fit or RMS, so calorimeter tails cannot pull them.

    Per bin of true (np.histogram binning): response = median of reco/true; resolution =
    (q84 - q16) / 2 with q16, q84 at Phi(-1), Phi(+1); relative_resolution = resolution /
    response. Errors are distribution free: each quantile's error is half its 68%
    order-statistic interval (ranks n p +- sqrt(n p (1 - p))), combined with the asymptotic
    correlation of sample quantiles, which depends on p only.
    """
    t, r = np.asarray(true, dtype=float), np.asarray(reco, dtype=float)
    e = np.asarray(edges, dtype=float)
    if t.ndim != 1 or r.shape != t.shape:
        raise ValueError(f"true and reco must be 1-D of equal length, got {t.shape}, {r.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(r))):
        raise ValueError("expected finite true and reco values")
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError(f"edges must be 1-D, strictly increasing, at least 2 values; got {e}")
    if min_events < 6:  # below 6 the q16 interval would reach past the smallest event
        raise ValueError(f"min_events must be >= 6, got {min_events}")
    n_bins = e.size - 1
    idx = np.searchsorted(e, t, side="right") - 1
    idx[t == e[-1]] = n_bins - 1  # last edge inclusive, as np.histogram
    inside = (idx >= 0) & (idx < n_bins)
    t, r, idx = t[inside], r[inside], idx[inside]
    if np.any(t <= 0):
        raise ValueError(f"true must be > 0 inside the edges, got min {t.min()}")
    order = np.argsort(idx, kind="stable")
    ratio = (r / t)[order]
    n = np.bincount(idx, minlength=n_bins)
    bounds = np.concatenate([[0], np.cumsum(n)])

    p = _QUANTILES
    q = np.full((n_bins, 3), np.nan)
    s = np.full((n_bins, 3), np.nan)
    for i in np.flatnonzero(n >= min_events):
        x = ratio[bounds[i] : bounds[i + 1]]
        d = np.sqrt(p * (1 - p) / x.size)
        lo, q[i], hi = np.quantile(x, np.concatenate([p - d, p, p + d])).reshape(3, 3)
        s[i] = (hi - lo) / 2

    cov = _quantile_correlation(p) * s[:, :, None] * s[:, None, :]
    median, width = q[:, 1], (q[:, 2] - q[:, 0]) / 2
    rel = width / median
    g_width = np.broadcast_to([-0.5, 0.0, 0.5], q.shape)
    g_rel = g_width / median[:, None] - np.outer(rel / median, [0.0, 1.0, 0.0])

    def err(g: np.ndarray) -> np.ndarray:
        return np.sqrt(np.einsum("bi,bij,bj->b", g, cov, g))

    return ResponseResolution(
        edges=e,
        n=n,
        response=median,
        response_err=s[:, 1],
        resolution=width,
        resolution_err=err(g_width),
        relative_resolution=rel,
        relative_resolution_err=err(g_rel),
    )


def auc(y_true: ArrayLike, score: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Weighted probability that a signal event outscores a background one (ties count 1/2)."""
    y = np.asarray(y_true)
    labels = np.unique(y)
    if labels.size != 2 or not np.all(np.isin(labels, [0, 1])):
        raise ValueError(f"y_true must hold both classes 0 and 1, got {labels.tolist()}")
    w = _event_weights(weights, y.size, "weights")
    if w is not None and not (w[y == 0].sum() > 0 and w[y == 1].sum() > 0):
        raise ValueError("expected a positive total weight in both classes 0 and 1")
    return float(roc_auc_score(y, np.asarray(score), sample_weight=w))
