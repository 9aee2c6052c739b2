"""Shape comparisons, energy response/resolution and weighted AUC against scipy and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hepflows.core.metrics import (
    auc,
    binned_chi2,
    ks_per_variable,
    response_and_resolution,
    roc,
    wasserstein_per_variable,
)

P16, P84 = stats.norm.cdf([-1.0, 1.0])


# --- binned chi2 ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unweighted_chi2_equals_scipy_contingency(seed):
    rng = np.random.default_rng(seed)
    shape = np.array([0.0, 0.2, 1.0, 5.0, 20.0, 40.0, 20.0, 5.0, 1.0, 0.2, 0.0, 0.05])
    a = rng.poisson(3.0 * shape)
    b = rng.poisson(7.5 * shape)  # same shape, 2.5 times the total
    filled = (a + b) > 0
    assert (~filled).any() and ((a == 0) ^ (b == 0)).any()  # both kinds of empty bin occur
    ref = stats.chi2_contingency(np.vstack([a, b])[:, filled], correction=False)
    res = binned_chi2(a, b)
    assert res.chi2 == pytest.approx(ref.statistic, rel=1e-12)
    assert res.ndf == ref.dof == np.count_nonzero(filled) - 1
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-10)


def test_chi2_hand_computed_three_bins():
    # N = 60, M = 40: chi2 = sum (n M - m N)^2 / (N M (n + m)) = 5/18 + 245/54 + 15/4 = 925/108
    res = binned_chi2([10, 20, 30], [5, 25, 10])
    assert res.chi2 == pytest.approx(925 / 108)
    assert res.ndf == 2
    assert res.p_value == pytest.approx(math.exp(-925 / 216))  # chi2 sf for ndf = 2


def test_chi2_same_shape_different_totals_is_zero():
    a = np.array([3, 0, 12, 40, 7])
    res = binned_chi2(a, 25 * a)
    assert res.chi2 == pytest.approx(0.0, abs=1e-9)
    assert res.ndf == 3  # the bin empty in both is not counted
    assert res.p_value == pytest.approx(1.0)
    big = 100 * a  # enough events that a 50% excess in the last bin is significant
    assert binned_chi2(big, 2 * big + [0, 0, 0, 0, 700]).p_value < 1e-6


def test_weighted_chi2_hand_computed_and_empty_bin_skipped():
    # W1 = 12, W2 = 10: chi2 = sum (W2 w1 - W1 w2)^2 / (W1^2 s2 + W2^2 s1) = 4/17 + 0 + 4/13
    res = binned_chi2([4, 6, 2, 0], [2, 5, 3, 0], sumw2_a=[8, 10, 4, 0], sumw2_b=[2, 5, 3, 0])
    assert res.chi2 == pytest.approx(4 / 17 + 4 / 13)
    assert res.ndf == 2
    assert res.p_value == pytest.approx(math.exp(-(4 / 17 + 4 / 13) / 2))


def test_weighted_chi2_unit_weights_and_rescaling():
    rng = np.random.default_rng(3)
    a, b = rng.poisson(50, 8), rng.poisson(50, 8)
    b[-1] += a.sum() - b.sum()  # equal totals: then WW with unit weights is the count chi2
    assert binned_chi2(a, b, sumw2_a=a, sumw2_b=b).chi2 == pytest.approx(binned_chi2(a, b).chi2)
    # shape only: w -> c w, sumw2 -> c^2 sumw2 (a luminosity scale) changes nothing
    wa, va = rng.uniform(5, 50, 8), rng.uniform(5, 50, 8)
    wb, vb = rng.uniform(5, 50, 8), rng.uniform(5, 50, 8)
    ref = binned_chi2(wa, wb, sumw2_a=va, sumw2_b=vb)
    scaled = binned_chi2(0.01 * wa, wb, sumw2_a=1e-4 * va, sumw2_b=vb)
    assert scaled.chi2 == pytest.approx(ref.chi2)
    assert scaled.p_value == pytest.approx(ref.p_value)


def test_weighted_chi2_follows_chi2_distribution_under_null():
    rng = np.random.default_rng(4)
    shape = np.array([1, 3, 6, 10, 12, 10, 6, 3, 1, 0.5])
    shape /= shape.sum()
    chi2 = []
    for _ in range(400):  # toys, not events
        hists = []
        for n_ev, w_max in ((3000, 1.5), (1500, 3.0)):
            b = rng.choice(shape.size, size=n_ev, p=shape)
            w = rng.uniform(0.1, w_max, n_ev)
            hists.append((np.bincount(b, w, shape.size), np.bincount(b, w * w, shape.size)))
        (wa, va), (wb, vb) = hists
        chi2.append(binned_chi2(wa, wb, sumw2_a=va, sumw2_b=vb).chi2)
    # mean of chi2(9) is 9 with a standard error sqrt(18 / 400) = 0.21
    assert np.mean(chi2) == pytest.approx(9.0, abs=0.85)
    assert np.mean(stats.chi2.sf(chi2, 9) < 0.05) == pytest.approx(0.05, abs=0.035)


def test_chi2_validation():
    with pytest.raises(ValueError, match="shape"):
        binned_chi2([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match=">= 0"):
        binned_chi2([1, -2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="at least 2 bins"):
        binned_chi2([0, 5, 0], [0, 7, 0])
    with pytest.raises(ValueError, match="both sumw2_a and sumw2_b"):
        binned_chi2([1, 2], [1, 2], sumw2_a=[1, 2])
    with pytest.raises(ValueError, match="positive totals"):
        binned_chi2([0, 0, 0], [1, 2, 3])
    with pytest.raises(ValueError, match="sumw2 > 0"):
        binned_chi2([1, 2], [1, 2], sumw2_a=[0, 2], sumw2_b=[0, 2])


# --- per-variable KS and Wasserstein ---------------------------------------------------------


@pytest.fixture(scope="module")
def shifted() -> tuple[np.ndarray, np.ndarray]:
    """Columns: identical N(0,1); N(0,1) vs N(0.5,1); N(0,1) vs N(0,2)."""
    rng = np.random.default_rng(5)
    a = rng.normal(size=(20_000, 3))
    b = rng.normal(size=(20_000, 3)) * [1.0, 1.0, 2.0] + [0.0, 0.5, 0.0]
    return a, b


def test_ks_per_variable_matches_scipy_and_known_shift(shifted):
    a, b = shifted
    out = ks_per_variable(a, b, ["same", "shift", "wide"])
    assert list(out) == ["same", "shift", "wide"]
    for j, name in enumerate(out):
        ref = stats.ks_2samp(a[:, j], b[:, j])
        assert out[name] == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
    # sup |Phi(x) - Phi(x - 0.5)| = 2 Phi(0.25) - 1; sigma of D is ~ 1/sqrt(n) ~ 0.01
    assert out["shift"][0] == pytest.approx(2 * stats.norm.cdf(0.25) - 1, abs=0.02)
    assert out["shift"][1] < 1e-100 and out["same"][1] > 1e-3


def test_wasserstein_per_variable_matches_scipy_and_known_shift(shifted):
    a, b = shifted
    out = wasserstein_per_variable(a, b, ["same", "shift", "wide"])
    for j, name in enumerate(out):
        assert out[name] == pytest.approx(stats.wasserstein_distance(a[:, j], b[:, j]))
    assert out["shift"] == pytest.approx(0.5, abs=0.03)  # a pure shift moves all mass by 0.5
    # N(0,1) vs N(0,2): W1 = E|X| (2 - 1) = sqrt(2 / pi)
    assert out["wide"] == pytest.approx(math.sqrt(2 / math.pi), abs=0.03)
    assert out["same"] < 0.03


def test_wasserstein_weights_equal_repeated_events():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(300, 2)), rng.normal(0.3, 1.0, size=(200, 2))
    wa, wb = rng.integers(1, 4, 300), rng.integers(1, 4, 200)
    weighted = wasserstein_per_variable(a, b, ["x", "y"], weights_a=wa, weights_b=wb)
    repeated = wasserstein_per_variable(np.repeat(a, wa, 0), np.repeat(b, wb, 0), ["x", "y"])
    assert weighted == pytest.approx(repeated, rel=1e-10)
    assert weighted != pytest.approx(wasserstein_per_variable(a, b, ["x", "y"]))


def test_per_variable_validation():
    a = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"shape \(n_events, 3\)"):
        ks_per_variable(a, a, ["x", "y", "z"])
    with pytest.raises(ValueError, match="unique"):
        wasserstein_per_variable(a, a, ["x", "x"])
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        wasserstein_per_variable(a, a, ["x", "y"], weights_a=np.ones(9))


# --- response and resolution -----------------------------------------------------------------


def _gaussian_response(mu, sigma, n_per_bin, edges, seed):
    rng = np.random.default_rng(seed)
    true = rng.uniform(edges[:-1], edges[1:], size=(n_per_bin, edges.size - 1)).ravel()
    return true, true * rng.normal(mu, sigma, true.size)


def _asymptotic_resolution_err(sigma: float, n: int) -> float:
    """Var of (q84 - q16)/2 from Var(q_p) = p(1-p)/(n f^2), Cov = p1(1-p2)/(n f1 f2)."""
    f2 = (stats.norm.pdf(1.0) / sigma) ** 2
    var16 = P16 * (1 - P16) / (n * f2)
    cov = P16 * (1 - P84) / (n * f2)
    return math.sqrt((2 * var16 - 2 * cov) / 4)


def test_gaussian_response_resolution_and_error_size():
    mu, sigma, n = 0.95, 0.1, 20_000
    edges = np.array([10.0, 20.0, 50.0, 100.0, 200.0])
    rr = response_and_resolution(*_gaussian_response(mu, sigma, n, edges, 7), edges)
    np.testing.assert_array_equal(rr.n, n)
    assert np.all(np.abs(rr.response - mu) < 4 * rr.response_err)
    assert np.all(np.abs(rr.resolution - sigma) < 4 * rr.resolution_err)
    assert np.all(np.abs(rr.relative_resolution - sigma / mu) < 4 * rr.relative_resolution_err)
    # median of a normal: sigma sqrt(pi / (2 n))
    np.testing.assert_allclose(rr.response_err, sigma * math.sqrt(math.pi / (2 * n)), rtol=0.3)
    np.testing.assert_allclose(rr.resolution_err, _asymptotic_resolution_err(sigma, n), rtol=0.3)
    # symmetric: width and median uncorrelated, so relative errors add in quadrature
    rel = np.hypot(rr.resolution_err / rr.resolution, rr.response_err / rr.response)
    np.testing.assert_allclose(rr.relative_resolution_err, rr.relative_resolution * rel, rtol=0.05)


def test_errors_cover_truth_over_many_bins():
    mu, sigma = 1.02, 0.15
    edges = np.linspace(10.0, 210.0, 201)
    rr = response_and_resolution(*_gaussian_response(mu, sigma, 2000, edges, 8), edges)
    for pull in ((rr.response - mu) / rr.response_err, (rr.resolution - sigma) / rr.resolution_err):
        assert abs(pull.mean()) < 0.3  # 200 bins: standard error of the mean 0.07
        assert 0.85 < pull.std() < 1.15  # errors neither too small nor too large


def test_response_resolution_hand_computed():
    # one bin, reco/true = 1, 2, ..., 11: linear quantile Q(p) = 1 + 10 p
    n = 11
    true = np.full(n, 2.0)
    reco = 2.0 * np.arange(1, n + 1)
    rr = response_and_resolution(true, reco, [1.0, 3.0])
    assert rr.n.tolist() == [n]
    assert rr.response[0] == pytest.approx(6.0)
    assert rr.resolution[0] == pytest.approx(10 * (P84 - P16) / 2)
    assert rr.relative_resolution[0] == pytest.approx(10 * (P84 - P16) / 12)
    # order-statistic interval: ranks n p +- sqrt(n p (1-p)) -> Q(p +- sqrt(p (1-p) / n))
    assert rr.response_err[0] == pytest.approx(10 * math.sqrt(0.25 / n))
    s16 = 10 * math.sqrt(P16 * (1 - P16) / n)
    cov = s16**2 * P16 * (1 - P84) / (P16 * (1 - P16))
    assert rr.resolution_err[0] == pytest.approx(math.sqrt((2 * s16**2 - 2 * cov) / 4))
    # symmetric sample: width and median uncorrelated, relative errors add in quadrature
    rel = math.hypot(rr.resolution_err[0] / rr.resolution[0], rr.response_err[0] / 6.0)
    assert rr.relative_resolution_err[0] == pytest.approx(rr.relative_resolution[0] * rel)


def test_sparse_and_out_of_range_bins():
    rng = np.random.default_rng(9)
    true = np.concatenate([rng.uniform(0.0, 1.0, 50), rng.uniform(2.0, 3.0, 5), [4.0, 9.0, 0.5]])
    reco = true * rng.normal(1.0, 0.1, true.size)
    edges = np.array([0.5, 1.0, 2.0, 3.0, 4.0])
    rr = response_and_resolution(true, reco, edges, min_events=10)
    np.testing.assert_array_equal(rr.n, np.histogram(true, edges)[0])  # last edge inclusive
    assert rr.n[1] == 0 and rr.n[2] == 5
    for arr in (rr.response, rr.response_err, rr.resolution, rr.resolution_err):
        assert np.isfinite(arr[0]) and np.isnan(arr[1:]).all()


def test_response_resolution_validation():
    with pytest.raises(ValueError, match="equal length"):
        response_and_resolution([1.0, 2.0], [1.0], [0.0, 3.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        response_and_resolution([1.0], [1.0], [3.0, 0.0])
    with pytest.raises(ValueError, match="true must be > 0"):
        response_and_resolution([0.0, 1.0], [1.0, 1.0], [-1.0, 3.0])
    with pytest.raises(ValueError, match="min_events must be >= 6"):
        response_and_resolution([1.0], [1.0], [0.0, 3.0], min_events=3)


# --- weighted ROC and AUC --------------------------------------------------------------------


def _pairwise_auc(y, s, w):
    """P(s_sig > s_bkg) + P(equal) / 2 over all weighted signal-background pairs."""
    sig, bkg = y == 1, y == 0
    diff = s[sig][:, None] - s[bkg][None, :]
    wins = (diff > 0) + 0.5 * (diff == 0)
    pair_w = np.outer(w[sig], w[bkg])
    return float((wins * pair_w).sum() / pair_w.sum())


def test_weighted_auc_equals_pairwise_probability():
    rng = np.random.default_rng(10)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(size=200) + y, 1)  # rounding makes ties
    w = rng.uniform(0.1, 3.0, 200)
    assert auc(y, s, w) == pytest.approx(_pairwise_auc(y, s, w), rel=1e-12)
    assert auc(y, s) == pytest.approx(_pairwise_auc(y, s, np.ones(200)), rel=1e-12)
    assert auc(y, s, w) != pytest.approx(auc(y, s))


def test_auc_integer_weights_equal_repeated_events():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 300)
    s = rng.normal(size=300) + 0.5 * y
    w = rng.integers(1, 5, 300)
    assert auc(y, s, w) == pytest.approx(auc(np.repeat(y, w), np.repeat(s, w)), rel=1e-12)


def test_weighted_roc_hand_computed():
    y = np.array([1, 0, 1, 0, 1])
    s = np.array([0.9, 0.8, 0.8, 0.6, 0.5])
    w = np.array([2.0, 1.0, 1.0, 3.0, 0.5])  # signal total 3.5, background total 4
    fpr, tpr = roc(y, s, w)
    np.testing.assert_allclose(fpr, [0, 0, 1 / 4, 1, 1])
    np.testing.assert_allclose(tpr, [0, 2 / 3.5, 3 / 3.5, 3 / 3.5, 1])
    # AUC: trapezoid of that curve = 4/7 * 1/4 (tie: half of the 2/7 rise) + 6/7 * 3/4
    assert auc(y, s, w) == pytest.approx(4 / 7 / 4 + 1 / 7 / 4 + 6 / 7 * 3 / 4)


def test_auc_validation():
    with pytest.raises(ValueError, match="both classes 0 and 1"):
        auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="both classes 0 and 1"):
        auc([0, 2, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="positive total weight"):
        auc([0, 1, 1], [0.1, 0.2, 0.3], [0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        auc([0, 1, 1], [0.1, 0.2, 0.3], [1.0, 1.0])
