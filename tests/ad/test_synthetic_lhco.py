"""The synthetic LHC Olympics stand-in reproduces the figures of the R&D set it replaces."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from hepflows.ad import synthetic_lhco as lhco


@pytest.fixture(scope="module")
def bkg() -> np.ndarray:
    return lhco.background(400_000, np.random.default_rng(0))


def in_sr(events: np.ndarray) -> np.ndarray:
    return (events[:, 0] > 3.3) & (events[:, 0] <= 3.7)


def test_mjj_spectrum_follows_the_quoted_fractions(bkg):
    edges = [2.0, 2.5, 3.0, 3.3, 3.7, 4.0, 5.0, np.inf]
    fractions = np.histogram(bkg[:, 0], edges)[0] / len(bkg)
    quoted = [0.14, 0.43, 0.14, 0.13, 0.05, 0.07, 0.015]
    np.testing.assert_allclose(fractions, quoted, atol=0.04)
    assert 0.12 <= in_sr(bkg).mean() <= 0.14
    counts, bins = np.histogram(bkg[:, 0], np.arange(2.0, 4.0, 0.05))
    assert 2.5 <= bins[np.argmax(counts)] <= 2.8  # the peak


@pytest.mark.parametrize(
    ("column", "quantiles"),
    [
        (1, (0.058, 0.108, 0.215)),  # m_jmin
        (2, (0.032, 0.126, 0.326)),  # dm_j
        (3, (0.39, 0.600, 0.76)),  # tau21 lighter jet
        (4, (0.26, 0.491, 0.68)),  # tau21 heavier jet
    ],
)
def test_sr_background_quantiles(bkg, column, quantiles):
    measured = np.quantile(bkg[in_sr(bkg), column], [0.16, 0.5, 0.84])
    np.testing.assert_allclose(measured, quantiles, rtol=0.06)


def test_correlations_with_mjj_and_within_the_sr(bkg):
    sr = bkg[in_sr(bkg)]
    assert np.corrcoef(sr[:, 1], sr[:, 3])[0, 1] == pytest.approx(-0.27, abs=0.04)
    assert np.corrcoef(sr[:, 2], sr[:, 4])[0, 1] == pytest.approx(-0.44, abs=0.04)
    # The features move with m_jj, so a sideband fit must extrapolate, if mildly.
    assert np.corrcoef(bkg[:, 0], bkg[:, 2])[0, 1] == pytest.approx(0.11, abs=0.04)


def test_signal_sits_in_the_sr_with_its_resonance_shapes():
    sig = lhco.signal(100_000, np.random.default_rng(1))
    sr = in_sr(sig)
    assert sr.mean() == pytest.approx(0.75, abs=0.02)
    np.testing.assert_allclose(
        np.median(sig[sr, 1:], axis=0), [0.111, 0.383, 0.380, 0.189], rtol=0.03
    )


def test_herwig_like_mc_is_separable_with_auc_059():
    rng = np.random.default_rng(2)
    data = lhco.background(300_000, rng)
    mc = lhco.background(300_000, rng, variant="mc_reg")
    x = np.concatenate([data[in_sr(data), 1:], mc[in_sr(mc), 1:]])
    y = np.r_[np.zeros(in_sr(data).sum()), np.ones(in_sr(mc).sum())]
    order = rng.permutation(len(x))
    train, test = order[: len(x) // 2], order[len(x) // 2 :]
    clf = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(x[train], y[train])
    auc = roc_auc_score(y[test], clf.predict_proba(x[test])[:, 1])
    assert auc == pytest.approx(0.59, abs=0.02)


def test_shift_moves_both_jet_masses_by_a_fraction_of_mjj(bkg):
    shifted = lhco.shift_jet_masses(bkg, 0.1)
    np.testing.assert_allclose(shifted[:, 1], bkg[:, 1] + 0.1 * bkg[:, 0])
    np.testing.assert_array_equal(shifted[:, [0, 2, 3, 4]], bkg[:, [0, 2, 3, 4]])
    assert lhco.shift_jet_masses(bkg, 0.0) is bkg


def test_same_seed_same_events_and_bad_variant_named():
    a = lhco.background(1000, np.random.default_rng(5), variant="mc_mod")
    b = lhco.background(1000, np.random.default_rng(5), variant="mc_mod")
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all() and (a[:, 3:] > 0).all() and (a[:, 3:] < 1).all()
    with pytest.raises(ValueError, match="unknown variant 'herwig'"):
        lhco.background(10, np.random.default_rng(0), variant="herwig")
