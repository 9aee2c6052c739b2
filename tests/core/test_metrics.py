"""Checks of the SIC figures of merit against cases with known answers."""

from __future__ import annotations

import json
import math
import warnings
from statistics import NormalDist

import numpy as np
import pytest

from hepflows.core.metrics import (
    closure_auc,
    max_sic,
    min_fpr,
    percentile_band,
    roc,
    sic_at_rejection,
    sic_curve,
    sic_on_grid,
    summarize_sic,
)

PHI = NormalDist()


def _labels(n_sig: int, n_bkg: int) -> np.ndarray:
    return np.concatenate([np.ones(n_sig, dtype=int), np.zeros(n_bkg, dtype=int)])


@pytest.fixture(scope="module")
def gauss() -> tuple[np.ndarray, np.ndarray]:
    """Signal N(1,1) vs background N(0,1): tpr(c) = 1 - Phi(c - 1), fpr(c) = 1 - Phi(c)."""
    rng = np.random.default_rng(7)
    n = 400_000
    score = np.concatenate([rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n)])
    return _labels(n, n), score


def _analytic_sic_at_fpr(fpr: float) -> float:
    cut = PHI.inv_cdf(1.0 - fpr)
    return (1.0 - PHI.cdf(cut - 1.0)) / math.sqrt(fpr)


def _analytic_sic_at_tpr(tpr: float) -> float:
    cut = 1.0 + PHI.inv_cdf(1.0 - tpr)
    return tpr / math.sqrt(1.0 - PHI.cdf(cut))


def test_min_fpr_value_and_validation():
    assert min_fpr(10_000) == pytest.approx(6.25e-4)
    assert min_fpr(100, max_rel_unc=0.5) == pytest.approx(0.04)
    with pytest.raises(ValueError):
        min_fpr(0)


def test_roc_integer_weights_equal_duplicated_events():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = rng.normal(size=300) + y
    w = rng.integers(1, 4, 300)
    fpr_w, tpr_w = roc(y, s, w)
    fpr_d, tpr_d = roc(np.repeat(y, w), np.repeat(s, w))
    np.testing.assert_allclose(fpr_w, fpr_d)
    np.testing.assert_allclose(tpr_w, tpr_d)
    assert fpr_w[0] == 0.0 and fpr_w[-1] == 1.0


def test_sic_curve_drops_zero_fpr():
    y = np.array([1, 1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    c = sic_curve(y, s)
    assert np.all(c["fpr"] > 0)
    # thresholds 0.7, 0.6, 0.5 -> (tpr, fpr) = (2/3, 1/2), (1, 1/2), (1, 1)
    np.testing.assert_allclose(c["tpr"], [2 / 3, 1, 1])
    np.testing.assert_allclose(c["sic"], [2 / 3 / math.sqrt(0.5), 1 / math.sqrt(0.5), 1.0])


def test_random_scores_give_sic_about_one():
    rng = np.random.default_rng(1)
    n = 100_000
    y = _labels(n, n)
    s = rng.random(2 * n)
    value = max_sic(y, s)
    # SIC(fpr=1) = 1 exactly; fluctuations of tpr/sqrt(fpr) above the floor are
    # O(few / sqrt(n_sig * fpr)) < 2% for 100k signal and fpr > 6.25e-5.
    assert 1.0 <= value < 1.03


def test_floor_removes_lucky_tail_with_few_signal_events():
    rng = np.random.default_rng(3)
    n_sig, n_bkg = 30, 20_000
    y = _labels(n_sig, n_bkg)
    s = rng.random(n_sig + n_bkg)
    s[:2] = 2.0  # two signal events above every background event by chance
    raw = sic_curve(y, s)["sic"].max()
    # the first background event lands at fpr = 1/n_bkg with tpr >= 2/30
    assert raw >= (2 / n_sig) / math.sqrt(1 / n_bkg) > 9
    assert max_sic(y, s) < 4  # ~1 + noise of 30 signal events


def test_perfect_classifier_sic_set_by_floor():
    n_bkg = 10_000
    y = _labels(500, n_bkg)
    s = np.concatenate([np.full(500, 2.0), np.linspace(0, 1, n_bkg)])
    # tpr = 1 everywhere with fpr > 0; first fpr strictly above 6.25e-4 is 7 / 1e4
    assert max_sic(y, s) == pytest.approx(1 / math.sqrt(7 / n_bkg))
    assert max_sic(y, s) <= 1 / math.sqrt(min_fpr(n_bkg))
    assert sic_at_rejection(y, s, 1e3 / 5) == pytest.approx(math.sqrt(200.0))


@pytest.mark.parametrize("fpr", [1e-1, 1e-2, 1e-3])
def test_gaussian_sic_at_rejection_matches_analytic(gauss, fpr):
    y, s = gauss
    expected = _analytic_sic_at_fpr(fpr)
    # binomial errors on tpr and on the cut position: < 1% at 1e-2, ~3% at 1e-3
    rtol = {1e-1: 0.01, 1e-2: 0.02, 1e-3: 0.06}[fpr]
    assert sic_at_rejection(y, s, 1 / fpr) == pytest.approx(expected, rel=rtol)


def test_gaussian_max_sic_near_analytic_peak(gauss):
    y, s = gauss
    fprs = np.logspace(-4, -1e-3, 400)
    peak = max(_analytic_sic_at_fpr(f) for f in fprs)
    # the maximum of noisy estimates is biased up a little, never far
    assert max_sic(y, s) == pytest.approx(peak, rel=0.03)


def test_gaussian_sic_on_grid_matches_analytic(gauss):
    y, s = gauss
    grid = np.array([0.2, 0.5, 0.8])
    expected = [_analytic_sic_at_tpr(t) for t in grid]
    np.testing.assert_allclose(sic_on_grid(y, s, grid), expected, rtol=0.01)


def test_sic_on_grid_nan_below_floor():
    rng = np.random.default_rng(4)
    y = _labels(2000, 2000)
    s = np.concatenate([rng.normal(3, 1, 2000), rng.normal(0, 1, 2000)])
    grid = np.linspace(0, 1, 101)
    sic = sic_on_grid(y, s, grid)
    assert np.isnan(sic[0])  # tpr = 0 sits at fpr = 0
    floor = min_fpr(2000)
    fpr, tpr = roc(y, s)
    measurable = np.interp(grid, tpr, fpr) > floor * 1.5  # well above the floor
    assert np.all(np.isfinite(sic[measurable]))
    assert np.isnan(sic[grid < 0.3]).all()  # at 3 sigma separation these cuts keep < 6 bkg
    # tpr = 1 is reached before fpr = 1, with the smallest fpr that keeps all signal
    fpr_all_sig = fpr[np.argmax(tpr >= 1.0)]
    assert fpr_all_sig < 1.0
    assert sic[-1] == pytest.approx(1 / math.sqrt(fpr_all_sig))


def test_sic_at_rejection_nan_when_unmeasurable():
    rng = np.random.default_rng(5)
    y = _labels(1000, 1000)
    s = rng.normal(size=2000) + y
    assert math.isnan(sic_at_rejection(y, s, 1e3))  # 1e-3 < 6.25e-3
    assert math.isfinite(sic_at_rejection(y, s, 100.0))


def test_closure_auc():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=200_000), rng.normal(size=200_000)
    assert closure_auc(a, b) == pytest.approx(0.5, abs=0.01)
    # shifted by 1: AUC = Phi(1 / sqrt(2))
    assert closure_auc(a, b + 1.0) == pytest.approx(PHI.cdf(1 / math.sqrt(2)), abs=0.005)
    # a template from N(0,1) reweighted to N(0.5,1) closes against N(0.5,1) truth
    w = np.exp(0.5 * a - 0.125)
    assert closure_auc(a, b + 0.5) > 0.62
    assert closure_auc(a, b + 0.5, w_template=w) == pytest.approx(0.5, abs=0.01)


def test_summarize_sic_keys_and_consistency(gauss):
    y, s = gauss
    out = summarize_sic(y, s, rejections=(1e2, 1e3, 1e6))
    assert set(out) == {
        "auc",
        "max_sic",
        "sic_at_1e2",
        "sic_at_1e3",
        "sic_at_1e6",
        "n_sig",
        "n_bkg",
        "min_fpr",
    }
    assert out["auc"] == pytest.approx(PHI.cdf(1 / math.sqrt(2)), abs=0.005)
    assert out["sic_at_1e3"] == sic_at_rejection(y, s, 1e3)
    assert math.isnan(out["sic_at_1e6"])  # 1e-6 < 6.25 / 4e5
    assert out["n_sig"] == out["n_bkg"] == 400_000
    assert out["min_fpr"] == pytest.approx(6.25 / 400_000)
    assert out["max_sic"] >= out["sic_at_1e2"]
    json.dumps(out)  # plain Python types
    assert "sic_at_2.5e3" in summarize_sic(y[::100], s[::100], rejections=(2500,))


def test_percentile_band_values_and_nan():
    vals = np.column_stack([np.arange(101.0), np.full(101, np.nan), np.arange(101.0)])
    vals[:50, 2] = np.nan  # remaining column entries 50..100
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        med, lo, hi = percentile_band(vals, axis=0)
    np.testing.assert_allclose(med[[0, 2]], [50, 75])
    np.testing.assert_allclose(lo[[0, 2]], [16, 58])
    np.testing.assert_allclose(hi[[0, 2]], [84, 92])
    assert np.isnan([med[1], lo[1], hi[1]]).all()
    med_t, _, _ = percentile_band(vals.T, axis=1)
    np.testing.assert_allclose(med_t, med, equal_nan=True)


def test_weighted_sic_equals_duplicated_events():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 4000)
    s = rng.normal(size=4000) + y
    w = rng.integers(1, 4, 4000)
    grid = np.array([0.3, 0.6, 0.9])
    dup = (np.repeat(y, w), np.repeat(s, w))
    assert sic_at_rejection(y, s, 10.0, weights=w) == pytest.approx(sic_at_rejection(*dup, 10.0))
    np.testing.assert_allclose(sic_on_grid(y, s, grid, weights=w), sic_on_grid(*dup, grid))
    assert sic_at_rejection(y, s, 10.0, weights=w) != pytest.approx(sic_at_rejection(y, s, 10.0))
