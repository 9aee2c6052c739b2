"""sPlot weights and the sPlot ROC against the truth of the synthetic events.

The classifier score here is synthetic: drawn from one normal law per truth class, independent
of the mass within each class (as sPlot requires), so the truth AUC and the score's laws are
known and the sPlot can be checked against both.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from hepflows.core.io import DataError
from hepflows.iso.columns import MASS_WINDOW, TRUTH_COLUMN
from hepflows.iso.mass_fit import REFERENCE, component_pdfs, fit_mass
from hepflows.iso.splot import (
    SWeights,
    resampled_splot_minus_truth,
    splot_auc,
    splot_auc_draws,
    splot_roc,
    sweights,
    tpr_at_fpr,
)
from hepflows.iso.synthetic import dimuon_kinematics

# score ~ N(1.6, 1) for prompt, N(0, 1.2) for non-prompt: AUC = Phi(1.6 / sqrt(2.44)) = 0.847
SCORE_LAW = {1: (1.6, 1.0), 0: (0.0, 1.2)}
N_EVENTS = 100_000


def _sample(n: int, seed: int, prompt_fraction: float = REFERENCE["s"]):
    rng = np.random.default_rng(seed)
    cols = dimuon_kinematics(n, rng, prompt_fraction=prompt_fraction)
    y = cols[TRUTH_COLUMN]
    (mp, sp), (mn, sn) = SCORE_LAW[1], SCORE_LAW[0]
    score = np.where(y == 1, rng.normal(mp, sp, n), rng.normal(mn, sn, n))
    return cols["mass"], y, score


@pytest.fixture(scope="module")
def reference():
    """The reference mix (4.4% non-prompt), fitted."""
    mass, y, score = _sample(N_EVENTS, 5)
    fit = fit_mass(mass)
    return mass, y, score, fit, sweights(mass, fit)


def test_sweights_sum_to_the_yields(reference):
    mass, _, _, fit, sw = reference
    assert sw.prompt.shape == sw.nonprompt.shape == mass.shape
    # the yields refitted with the shapes fixed are the fit's own (same events)
    for j, name in enumerate(("n_prompt", "n_nonprompt")):
        assert abs(sw.yields[j] - fit.values[name]) < 0.01 * fit.errors[name]
    assert sw.prompt.sum() == pytest.approx(sw.yields[0], rel=1e-9)
    assert sw.nonprompt.sum() == pytest.approx(sw.yields[1], rel=1e-9)
    # per event the two sWeights add to 1 (the yields' covariance rows add to the yields)
    np.testing.assert_allclose(sw.prompt + sw.nonprompt, 1.0, atol=1e-6)
    # non-prompt weights are negative under the peak, positive in the sidebands
    assert sw.nonprompt[np.abs(mass - 90.8) < 2].max() < 0 < sw.nonprompt[mass < 75].min()


def test_sweights_of_a_subsample_use_its_own_yields(reference):
    """A test fold weighted with the shapes of the full fit: yields follow the fold."""
    mass, y, _, fit, _ = reference
    fold = mass[:20_000]
    sw = sweights(fold, fit)
    assert sw.yields.sum() == pytest.approx(fold.size, abs=1e-3)
    assert abs(sw.yields[0] - y[:20_000].sum()) < 3 * np.sqrt(sw.covariance[0, 0])


def test_sweighted_score_histograms_reproduce_each_species(reference):
    """The sPlot property: a variable independent of the mass within each species, weighted by
    w_j, follows species j's law. Compared with the score's known laws (not with the truth
    labels of the same events, which would share their fluctuations)."""
    _, _, score, _, sw = reference
    edges = np.concatenate([[-np.inf], np.linspace(-3.0, 5.0, 17), [np.inf]])
    for j, w in ((1, sw.prompt), (0, sw.nonprompt)):
        counts = np.histogram(score, edges, weights=w)[0]
        var = np.histogram(score, edges, weights=w**2)[0]
        expected = w.sum() * np.diff(norm.cdf(edges, *SCORE_LAW[j]))
        chi2 = np.sum((counts - expected) ** 2 / var)
        ndf = edges.size - 2
        assert chi2 < ndf + 5 * np.sqrt(2 * ndf), (j, chi2)
    # the swapped law is far off (the check has power)
    counts = np.histogram(score, edges, weights=sw.nonprompt)[0]
    var = np.histogram(score, edges, weights=sw.nonprompt**2)[0]
    swapped = sw.nonprompt.sum() * np.diff(norm.cdf(edges, *SCORE_LAW[1]))
    assert np.sum((counts - swapped) ** 2 / var) > 10 * (edges.size - 2)


def test_sweighted_mass_histograms_follow_the_covariance_mix(reference):
    """On the mass itself sPlot does not give N_j f_j: E[sum of w_j in a bin] =
    sum_k V_jk F_k(bin), F_k the bin's share of species k. Checked here, and that the
    non-prompt histogram is negative under the peak (so it is not N_np f_np, which is > 0)."""
    mass, _, _, fit, sw = reference
    edges = np.linspace(*MASS_WINDOW, 21)
    fine = np.linspace(*MASS_WINDOW, 40_001)
    pdf = component_pdfs(fine, fit.values)
    cdf = np.concatenate([[[0.0, 0.0]], np.cumsum((pdf[1:] + pdf[:-1]) / 2, axis=0) * 1e-3])
    share = np.diff(np.interp(edges, fine, cdf[:, 0])), np.diff(np.interp(edges, fine, cdf[:, 1]))
    share = np.column_stack(share)
    for j, w in enumerate((sw.prompt, sw.nonprompt)):
        counts = np.histogram(mass, edges, weights=w)[0]
        var = np.histogram(mass, edges, weights=w**2)[0]
        expected = share @ sw.covariance[j]
        assert np.sum((counts - expected) ** 2 / var) < 20 + 5 * np.sqrt(40), j
    peak = np.histogram(mass, edges, weights=sw.nonprompt)[0][(edges[:-1] > 88) & (edges[1:] < 94)]
    assert np.all(peak < 0)


def _brute_force_auc(score, wp, wn):
    """Weighted Mann-Whitney over all pairs, ties 1/2."""
    diff = score[:, None] - score[None, :]
    h = (diff > 0) + 0.5 * (diff == 0)
    return float(wp @ h @ wn / (wp.sum() * wn.sum()))


def test_splot_auc_is_the_weighted_mann_whitney_statistic():
    rng = np.random.default_rng(3)
    score = np.round(rng.normal(size=60), 1)  # ties
    wp, wn = rng.normal(0.6, 0.8, 60), rng.normal(0.4, 0.8, 60)  # negative weights
    sw = SWeights(prompt=wp, nonprompt=wn, yields=np.array([wp.sum(), wn.sum()]), covariance=None)
    fpr, tpr = splot_roc(score, sw)
    assert np.any(np.diff(fpr) < 0)  # the curve steps back: the case to get right
    assert splot_auc(score, sw) == pytest.approx(_brute_force_auc(score, wp, wn), abs=1e-12)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)


def test_a_weighted_resample_is_the_resample_itself(reference):
    """The spread of sPlot - truth weights the events by how often a resample drew them (one
    sort for all resamples); each value is what the drawn events themselves give."""
    mass, y, score, fit, _ = reference
    mass, y, score = mass[:8000], y[:8000], score[:8000]
    diffs = resampled_splot_minus_truth(mass, score, y, fit, resamples=3, seed=4)
    rng = np.random.default_rng(4)
    for d in diffs:
        c = rng.multinomial(mass.size, np.full(mass.size, 1.0 / mass.size))
        i = np.repeat(np.arange(mass.size), c)
        explicit = splot_auc(score[i], sweights(mass[i], fit)) - roc_auc_score(y[i], score[i])
        assert d == pytest.approx(explicit, abs=1e-8)  # the yields converge to 1e-9
    assert np.ptp(diffs) > 0


def test_tpr_at_fpr_takes_the_first_crossing():
    fpr = np.array([0.0, 0.2, 0.6, 0.4, 0.8, 1.0])
    tpr = np.array([0.0, 0.5, 0.9, 0.95, 0.97, 1.0])
    assert tpr_at_fpr(fpr, tpr, 0.5) == pytest.approx(0.5 + 0.4 * 0.75)
    assert tpr_at_fpr(fpr, tpr, 1.0) == 1.0
    with pytest.raises(ValueError, match="target"):
        tpr_at_fpr(fpr, tpr, 0.0)


def test_splot_auc_matches_truth_at_the_reference_mix():
    """1M events at 4.4% non-prompt with the reference shapes (the fit is tested apart): the
    sPlot AUC's statistical spread around the truth AUC is ~0.003 here (~0.008 at 200k)."""
    n = 1_000_000
    mass, y, score = _sample(n, 21)
    shapes = {k: REFERENCE[k] for k in ("mu", "sigma", "gamma", "tau")}
    sw = sweights(mass, dict(shapes, n_prompt=REFERENCE["s"] * n, n_nonprompt=0.044 * n))
    fpr, tpr = splot_roc(score, sw)
    assert splot_auc(score, sw) == pytest.approx(roc_auc_score(y, score), abs=0.01)
    # TPR at 50% FPR: truth = P(N(1.6, 1) > 0) at the non-prompt median 0
    assert tpr_at_fpr(fpr, tpr, 0.5) == pytest.approx(norm.sf(0.0, *SCORE_LAW[1]), abs=0.01)


def test_splot_auc_with_a_fitted_mass_matches_truth():
    """Fitted shapes, a mix with more non-prompt muons so that 0.01 is ~4 standard deviations
    of the sPlot's spread at 100k events; the sPlot AUC is also near the score's true 0.847."""
    mass, y, score = _sample(N_EVENTS, 8, prompt_fraction=0.5)
    sw = sweights(mass, fit_mass(mass))
    auc = splot_auc(score, sw)
    assert auc == pytest.approx(roc_auc_score(y, score), abs=0.01)
    assert auc == pytest.approx(norm.cdf(1.6 / np.sqrt(1.0 + 1.2**2)), abs=0.01)


def test_draws_of_the_fit_parameters_give_a_small_positive_spread(reference):
    mass, _, score, fit, sw = reference
    draws = splot_auc_draws(mass, score, fit, n_draws=8, seed=1)
    assert draws.auc.shape == draws.tpr_at_half_fpr.shape == (8,)
    assert 1e-4 < draws.auc_std < 0.02
    assert 0.0 < draws.tpr_std < 0.02
    assert draws.auc_mean == pytest.approx(splot_auc(score, sw), abs=3 * draws.auc_std)
    again = splot_auc_draws(mass, score, fit, n_draws=8, seed=1)
    np.testing.assert_array_equal(draws.auc, again.auc)
    other = splot_auc_draws(mass, score, fit, n_draws=8, seed=2)
    assert not np.array_equal(draws.auc, other.auc)


def test_splot_refuses_bad_input(reference):
    mass, _, score, fit, sw = reference
    with pytest.raises(DataError, match=r"0 events; expected at least 1"):
        sweights(np.array([]), fit)
    with pytest.raises(DataError, match=r"expected 70\.0 <= m <= 110\.0 GeV"):
        sweights(np.array([90.0, 120.0]), fit)
    with pytest.raises(DataError, match=rf"score must have shape \({mass.size},\)"):
        splot_auc(score[:-1], sw)
    bad = score.copy()
    bad[7] = np.nan
    with pytest.raises(DataError, match=r"score is not finite at event 7"):
        splot_auc(bad, sw)
    with pytest.raises(ValueError, match="n_draws must be >= 2"):
        splot_auc_draws(mass, score, fit, n_draws=1)
