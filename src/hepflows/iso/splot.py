"""sPlot: the classifier's ROC for prompt and non-prompt muons without truth, as in the original
(arXiv:2306.15737), from the mass fit of :mod:`hepflows.iso.mass_fit`.

Each event gets one weight per species (Pivk and Le Diberder, physics/0402083),

    w_j(e) = sum_k V_jk f_k(m_e) / sum_i N_i f_i(m_e),
    (V^-1)_jk = sum_e f_j(m_e) f_k(m_e) / (sum_i N_i f_i(m_e))^2,

with f the fitted densities (shapes fixed) and N the yields that maximise the extended likelihood
of *these* events for those shapes. Weighted by w_j, any variable independent of the mass within
each species shows species j's distribution; so the classifier score must not depend on the
mass within a species (true of our synthetic data; in the original it is what the CWoLa
training assumes too).

The ROC: TPR(t) and FPR(t) are the prompt and non-prompt sWeights of events with score > t over
their totals. sWeights can be negative, so the curve need not be monotone; the AUC is the signed
trapezoid area with the thresholds in score order, which equals the weighted Mann-Whitney
statistic sum_{a,b} w_p(a) w_n(b) ([s_a > s_b] + [s_a = s_b] / 2) / (W_p W_n) exactly, the same
number the histograms of the original approach as their bins shrink.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from hepflows.core.io import DataError
from hepflows.iso.columns import MASS_WINDOW
from hepflows.iso.mass_fit import LIMITS, PARAMETERS, MassFit, check_masses, component_pdfs

__all__ = [
    "N_DRAWS",
    "SPlotDraws",
    "SWeights",
    "splot_auc",
    "splot_auc_draws",
    "resampled_splot_minus_truth",
    "splot_roc",
    "sweights",
    "tpr_at_fpr",
]

N_DRAWS = 100  # the original: 100 draws of the mass-fit parameters per model
_NEWTON_STEPS = 50


@dataclass(frozen=True)
class SWeights:
    """Per-event sWeights of the prompt (Voigt) and non-prompt (exponential) species; ``yields``
    are the ML yields of these events and ``covariance`` is V, their covariance."""

    prompt: np.ndarray
    nonprompt: np.ndarray
    yields: np.ndarray
    covariance: np.ndarray


def _ml_yields(pdfs: np.ndarray, start: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """The yields maximising the extended likelihood for fixed shapes: Newton on a convex
    function, so a few steps from the fit's yields; halved while a step leaves the region
    where the total density is positive or raises -log L. ``counts``: how often each event
    is in the sample (a resample with replacement), 1 if not given."""
    c = np.ones(len(pdfs)) if counts is None else counts

    def nll(n: np.ndarray) -> float:
        total = pdfs @ n
        return float(n.sum() - c @ np.log(total)) if np.all(total > 0) else np.inf

    n = start.astype(np.float64)
    current = nll(n)
    if not np.isfinite(current):
        raise RuntimeError(f"sPlot: the start yields {start} give a density <= 0 at some events")
    for _ in range(_NEWTON_STEPS):
        inv = 1.0 / (pdfs @ n)
        grad = 1.0 - pdfs.T @ (c * inv)
        hess = (pdfs * (c * inv**2)[:, None]).T @ pdfs
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while nll(n - scale * step) > current and scale > 1e-6:
            scale *= 0.5
        n = n - scale * step
        current = nll(n)
        if np.all(np.abs(scale * step) <= 1e-9 * np.maximum(np.abs(n), 1.0)):
            return n
    raise RuntimeError(f"sPlot: yields did not converge in {_NEWTON_STEPS} Newton steps: {n}")


def _sweights(pdfs: np.ndarray, start: np.ndarray, counts: np.ndarray | None = None) -> SWeights:
    """sWeights of each event (of each copy, with ``counts``: see :func:`_ml_yields`)."""
    c = np.ones(len(pdfs)) if counts is None else counts
    n = _ml_yields(pdfs, start, counts)
    inv = 1.0 / (pdfs @ n)
    v_inv = (pdfs * (c * inv**2)[:, None]).T @ pdfs
    cov = np.linalg.inv(v_inv)
    w = (pdfs @ cov) * inv[:, None]  # (n_events, 2): sum_k V_jk f_k / sum_i N_i f_i
    sums = c @ w
    if not np.allclose(sums, n, rtol=1e-6, atol=1e-6):
        raise RuntimeError(f"sPlot: sWeight sums {sums} differ from the ML yields {n}")
    return SWeights(prompt=w[:, 0], nonprompt=w[:, 1], yields=n, covariance=cov)


def _start_yields(values: Mapping[str, float], n_events: int) -> np.ndarray:
    """The fit's yields, scaled to this sample (the fit may be of a larger one)."""
    n = np.array([values["n_prompt"], values["n_nonprompt"]], dtype=np.float64)
    return n * n_events / n.sum()


def sweights(mass: ArrayLike, fit: MassFit | Mapping[str, float]) -> SWeights:
    """sWeights of ``mass`` with the fit's shapes. The yields are refitted on these events
    with the shapes fixed (Newton), as sPlot requires, so the mass may be a subsample of the
    fitted one (a test fold); for the fitted sample itself they equal the fit's yields."""
    values = fit.values if isinstance(fit, MassFit) else fit
    window = fit.window if isinstance(fit, MassFit) else MASS_WINDOW
    m = check_masses(mass, window=window)
    if m.size == 0:
        raise DataError("mass has 0 events; expected at least 1 event for sWeights")
    pdfs = component_pdfs(m, values, window=window)
    return _sweights(pdfs, _start_yields(values, m.size))


def _scores(score: ArrayLike, n: int) -> np.ndarray:
    s = np.asarray(score, dtype=np.float64)
    if s.shape != (n,):
        raise DataError(f"score must have shape ({n},), one value per event, got {s.shape}")
    if not np.all(np.isfinite(s)):
        i = int(np.argmin(np.isfinite(s)))
        raise DataError(
            f"score is not finite at event {i} ({float(s[i])!r}); expected finite values"
        )
    return s


class _Ranked:
    """A score's events from the highest score down and where each distinct score ends: sorted
    once for every set of weights laid on the same events (fit draws, resamples)."""

    def __init__(self, score: np.ndarray) -> None:
        self.order = np.argsort(score, kind="mergesort")[::-1]
        ranked = score[self.order]
        self.ends = np.r_[np.flatnonzero(ranked[1:] != ranked[:-1]), ranked.size - 1]

    def roc(self, positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(FPR, TPR) at every distinct score for per-event weights of the two classes."""
        tp = np.r_[0.0, np.cumsum(positive[self.order])[self.ends]]
        fp = np.r_[0.0, np.cumsum(negative[self.order])[self.ends]]
        return fp / fp[-1], tp / tp[-1]


def splot_roc(score: ArrayLike, weights: SWeights) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, TPR) at every distinct score, from high to low threshold, starting at (0, 0).

    Each event enters twice, as prompt with its prompt sWeight and as non-prompt with its
    non-prompt sWeight: the weighted ROC of the two species. With negative weights the curve
    may step backwards; nothing is re-sorted."""
    ranked = _Ranked(_scores(score, weights.prompt.size))
    return ranked.roc(weights.prompt, weights.nonprompt)


def splot_auc(score: ArrayLike, weights: SWeights) -> float:
    """The signed trapezoid area under the sPlot ROC, in threshold order (module docstring)."""
    fpr, tpr = splot_roc(score, weights)
    return float(np.trapezoid(tpr, fpr))


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, target: float = 0.5) -> float:
    """TPR where the curve first reaches FPR = ``target`` coming from high thresholds, linear
    between the two points around it (the paper's "TPR at 50% FPR"); well defined also where
    negative sWeights make the curve step back."""
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must be in (0, 1], got {target}")
    fpr, tpr = np.asarray(fpr), np.asarray(tpr)
    hi = int(np.argmax(fpr >= target))
    if fpr[hi] < target:
        raise ValueError(f"the curve never reaches FPR {target} (max {fpr.max()})")
    if hi == 0:
        return float(tpr[0])
    lo = hi - 1
    frac = (target - fpr[lo]) / (fpr[hi] - fpr[lo])
    return float(tpr[lo] + frac * (tpr[hi] - tpr[lo]))


@dataclass(frozen=True)
class SPlotDraws:
    """The sPlot AUC and TPR at 50% FPR for each draw of the fit parameters, with their mean
    and standard deviation: the uncertainty the mass fit brings, as in the original."""

    auc: np.ndarray
    tpr_at_half_fpr: np.ndarray

    @property
    def auc_mean(self) -> float:
        return float(self.auc.mean())

    @property
    def auc_std(self) -> float:
        return float(self.auc.std(ddof=1))

    @property
    def tpr_mean(self) -> float:
        return float(self.tpr_at_half_fpr.mean())

    @property
    def tpr_std(self) -> float:
        return float(self.tpr_at_half_fpr.std(ddof=1))


def _draw_parameters(fit: MassFit, k: int, rng: np.random.Generator) -> np.ndarray:
    """k draws from N(values, covariance), redrawing those outside the parameter limits."""
    mean, cov = fit.vector(), np.asarray(fit.covariance)
    lo = np.array([LIMITS[p][0] for p in PARAMETERS])
    hi = np.array([np.inf if LIMITS[p][1] is None else LIMITS[p][1] for p in PARAMETERS])
    out = rng.multivariate_normal(mean, cov, size=k)
    for _ in range(100):
        bad = np.flatnonzero(np.any((out <= lo) | (out >= hi), axis=1))
        if bad.size == 0:
            return out
        out[bad] = rng.multivariate_normal(mean, cov, size=bad.size)
    raise RuntimeError("could not draw parameters inside the limits: the covariance is too wide")


def splot_auc_draws(
    mass: ArrayLike,
    score: ArrayLike,
    fit: MassFit,
    *,
    n_draws: int = N_DRAWS,
    seed: int = 0,
) -> SPlotDraws:
    """Draw all fit parameters ``n_draws`` times from the fit covariance; per draw, the
    sWeights with the drawn shapes (the yields refitted on these events for those shapes, so
    each set is a proper sPlot, the drawn yields only start Newton), then AUC and TPR at 50%
    FPR. Reproducible for a given ``seed``."""
    if n_draws < 2:
        raise ValueError(f"n_draws must be >= 2 for a standard deviation, got {n_draws}")
    m = check_masses(mass, window=fit.window)
    ranked = _Ranked(_scores(score, m.size))
    draws = _draw_parameters(fit, n_draws, np.random.default_rng(seed))
    aucs, tprs = np.empty(n_draws), np.empty(n_draws)
    for i, p in enumerate(draws):
        values = dict(zip(PARAMETERS, p, strict=True))
        sw = _sweights(component_pdfs(m, values, window=fit.window), _start_yields(values, m.size))
        fpr, tpr = ranked.roc(sw.prompt, sw.nonprompt)
        aucs[i] = np.trapezoid(tpr, fpr)
        tprs[i] = tpr_at_fpr(fpr, tpr, 0.5)
    return SPlotDraws(auc=aucs, tpr_at_half_fpr=tprs)


def resampled_splot_minus_truth(
    mass: ArrayLike,
    score: ArrayLike,
    truth: ArrayLike,
    fit: MassFit | Mapping[str, float],
    *,
    resamples: int,
    seed: int,
) -> np.ndarray:
    """sPlot AUC - truth AUC on ``resamples`` resamples of the events with replacement (the
    fit's shapes held, the yields and sWeights refitted on each): their spread is what the
    sample's statistics alone allow between the two. Each resample is the events weighted by
    how often it drew them, so the score is sorted once."""
    values = fit.values if isinstance(fit, MassFit) else fit
    window = fit.window if isinstance(fit, MassFit) else MASS_WINDOW
    m = check_masses(mass, window=window)
    ranked = _Ranked(_scores(score, m.size))
    t = np.asarray(truth, dtype=np.float64)
    pdfs = component_pdfs(m, values, window=window)
    start = _start_yields(values, m.size)
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    for k in range(resamples):
        c = rng.multinomial(m.size, np.full(m.size, 1.0 / m.size)).astype(np.float64)
        sw = _sweights(pdfs, start, c)
        fpr, tpr = ranked.roc(c * sw.prompt, c * sw.nonprompt)
        fpr_t, tpr_t = ranked.roc(c * t, c * (1.0 - t))
        out[k] = np.trapezoid(tpr, fpr) - np.trapezoid(tpr_t, fpr_t)
    return out
