"""The SR context draws of CATHODE's resonant template: a KDE that follows the data up to the
edges of its box and never leaves it."""

from __future__ import annotations

import numpy as np
import pytest

from hepflows.ad import synthetic_lhco
from hepflows.core.box_kde import BoxKDE
from hepflows.core.two_sample import out_of_fold_aucs

LO, HI = 3.3, 3.7


def test_draws_stay_inside_follow_the_data_and_repeat_with_the_seed():
    rng = np.random.default_rng(0)
    values = LO + (HI - LO) * rng.beta(0.7, 3.0, size=(20_000, 1))  # piled up at the low edge
    kde = BoxKDE(values, ["m_jj"], {"m_jj": [LO, HI]})
    drawn = kde.sample(50_000, np.random.default_rng(1))
    assert drawn.shape == (50_000, 1) and ((drawn > LO) & (drawn <= HI)).all()
    quantiles = [0.01, 0.16, 0.5, 0.84, 0.99]
    np.testing.assert_allclose(
        np.quantile(drawn, quantiles), np.quantile(values, quantiles), atol=0.004
    )
    np.testing.assert_array_equal(kde.sample(50_000, np.random.default_rng(1)), drawn)
    # smoothed, not resampled
    assert len(np.intersect1d(drawn, values)) == 0


@pytest.mark.parametrize(
    ("values", "box", "match"),
    [
        (np.full((10, 1), 3.5), {"m_jj": [LO, None]}, r"open: \['m_jj'\]"),
        (np.full((1, 1), 3.5), {"m_jj": [LO, HI]}, "at least 2 events"),
        (np.array([[3.5], [3.9]]), {"m_jj": [LO, HI]}, "must lie inside the box"),
    ],
)
def test_a_box_kde_refuses_what_it_cannot_do(values, box, match):
    with pytest.raises(ValueError, match=match):
        BoxKDE(values, ["m_jj"], box)


def test_the_sr_mjj_of_the_lhco_data_is_matched_up_to_the_sr_edges():
    """At the default size (1M events, ~128k in the SR, 4x as many draws): an m_jj-only classifier
    cannot tell the draws from the data (AUC within 3 sigma of its noise around 0.5), and the
    ratio of the two is flat in the first and last bins. A KDE in m_jj itself, its draws outside
    the SR rejected, gave AUC 0.545 and edge ratios 0.6-0.7."""
    rng = np.random.default_rng(3)
    mjj = synthetic_lhco.background(1_000_000, rng)[:, :1]
    sr = mjj[(mjj[:, 0] > LO) & (mjj[:, 0] <= HI)]
    drawn = BoxKDE(sr, ["m_jj"], {"m_jj": [LO, HI]}).sample(4 * len(sr), rng)
    n_a, n_b = len(drawn), len(sr)
    noise = np.sqrt((n_a + n_b + 1) / (12 * n_a * n_b))
    spec = {"kind": "hgb", "max_iter": 50}
    auc = np.mean(out_of_fold_aucs(drawn, None, sr, None, spec, n_folds=2, seed=1))
    assert abs(auc - 0.5) < 3 * noise, (auc, noise)
    edges = np.linspace(LO, HI, 21)
    d, _ = np.histogram(drawn, edges)
    s, _ = np.histogram(sr, edges)
    ratio = (d / n_a) / (s / n_b)
    error = np.sqrt(1 / d + 1 / s)
    for i in (0, 1, -2, -1):
        assert abs(ratio[i] - 1) < 4 * error[i], (i, ratio[i], error[i])
