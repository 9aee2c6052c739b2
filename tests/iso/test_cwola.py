"""CWoLa labels and weights: the mixed samples of the original and the SS -> OS reweighting."""

from __future__ import annotations

import numpy as np
import pytest

from hepflows.core.events import EventTable
from hepflows.core.io import DataError
from hepflows.iso.columns import EVENT_COLUMNS
from hepflows.iso.cwola import cwola_labels, cwola_table, cwola_weights, same_sign, ss_weights

ETA = np.linspace(-2.1, 2.1, 5)
PT = np.array([25.0, 35.0, 50.0, 80.0])


def test_labels_on_hand_made_events():
    mass = np.array([90.0, 90.0, 80.0, 100.0, 84.0, 96.0, 84.01, 95.99, 70.0, 110.0])
    q1 = np.array([1, 1, -1, 1, 1, -1, -1, 1, 1, -1])
    q2 = np.array([-1, 1, 1, -1, -1, 1, 1, -1, -1, 1])
    # OS in the window -> 1; SS anywhere, OS sidebands and the window edges -> 0
    expected = [1, 0, 0, 0, 0, 0, 1, 1, 0, 0]
    np.testing.assert_array_equal(cwola_labels(mass, q1, q2), expected)
    np.testing.assert_array_equal(same_sign(q1, q2), q1 == q2)
    # the window is a parameter
    np.testing.assert_array_equal(cwola_labels(mass, q1, q2, window=(79.0, 81.0))[2], 1)


def _os_ss(seed: int, n_os: int = 5000, n_ss: int = 2000):
    """OS and SS muons with different (eta, pT) spectra, all inside the bin edges."""
    rng = np.random.default_rng(seed)
    eta = np.concatenate([rng.uniform(-2.0, 2.0, n_os), np.clip(rng.normal(0, 0.7, n_ss), -2, 2)])
    pt = np.concatenate([rng.uniform(26, 79, n_os), 26 + rng.exponential(12, n_ss).clip(0, 53)])
    ss = np.arange(n_os + n_ss) >= n_os
    return eta, pt, ss


def test_ss_weights_make_the_ss_histogram_match_os():
    eta, pt, ss = _os_ss(0)
    w = ss_weights(eta, pt, ss, eta_edges=ETA, pt_edges=PT)
    assert np.all(w[~ss] == 1.0)
    assert w[ss].mean() == pytest.approx(1.0)
    h_os = np.histogram2d(eta[~ss], pt[~ss], bins=(ETA, PT))[0]
    h_ss = np.histogram2d(eta[ss], pt[ss], bins=(ETA, PT), weights=w[ss])[0]
    np.testing.assert_allclose(h_ss / h_ss.sum(), h_os / h_os.sum(), atol=1e-12)
    # and before reweighting they did differ
    raw = np.histogram2d(eta[ss], pt[ss], bins=(ETA, PT))[0]
    assert np.abs(raw / raw.sum() - h_os / h_os.sum()).max() > 0.05


def test_ss_bin_without_os_gets_weight_zero_not_inf():
    eta, pt, ss = _os_ss(1)
    # a few SS events far out in pT (overflow bin) where there is no OS event
    eta = np.append(eta, [0.1, 0.2])
    pt = np.append(pt, [300.0, 400.0])
    ss = np.append(ss, [True, True])
    w = ss_weights(eta, pt, ss, eta_edges=ETA, pt_edges=PT)
    assert np.all(np.isfinite(w))
    np.testing.assert_array_equal(w[-2:], 0.0)
    assert w[ss].sum() == pytest.approx(ss.sum())


def test_overflow_bins_are_reweighted_like_any_other():
    eta, pt, ss = _os_ss(2)
    pt = np.where(np.arange(pt.size) % 10 == 0, 150.0, pt)  # a tenth of each sample above 80
    w = ss_weights(eta, pt, ss, eta_edges=ETA, pt_edges=PT)
    above = pt > PT[-1]
    share_os = above[~ss].mean()
    assert w[ss & above].sum() / w[ss].sum() == pytest.approx(share_os, rel=1e-9)


@pytest.mark.parametrize("n_ss", [300, 4000])
def test_weights_sum_to_one_and_labels_are_balanced(n_ss):
    eta, pt, ss = _os_ss(3, n_ss=n_ss)
    rng = np.random.default_rng(4)
    labels = np.where(ss, 0, (rng.random(ss.size) < 0.7).astype(int))
    w = cwola_weights(labels, eta, pt, ss, eta_edges=ETA, pt_edges=PT)
    assert w.sum() == pytest.approx(1.0)
    assert w[labels == 1].sum() == pytest.approx(0.5)
    assert w[labels == 0].sum() == pytest.approx(0.5)
    # within a label the relative weights are the SS weights: OS events all weigh the same
    base = ss_weights(eta, pt, ss, eta_edges=ETA, pt_edges=PT)
    zero = labels == 0
    np.testing.assert_allclose(w[zero] / w[zero & ~ss][0], base[zero], rtol=1e-9)
    # the label with fewer (weighted) events is the one scaled up
    n1, n0 = (labels == 1).sum(), base[zero].sum()
    minority = 1 if n1 < n0 else 0
    assert w[(labels == minority) & ~ss][0] > w[(labels != minority) & ~ss][0]


def _table(n: int, seed: int, source: str | None = None) -> EventTable:
    rng = np.random.default_rng(seed)
    q1 = rng.choice([-1.0, 1.0], n)
    q2 = np.where(rng.random(n) < 0.1, q1, -q1)
    cols = {
        "mass": rng.uniform(70.5, 109.5, n),
        "mu1_pt": rng.uniform(26, 79, n),
        "mu1_eta": rng.uniform(-2.0, 2.0, n),
        "mu1_phi": rng.uniform(-3, 3, n),
        "mu1_charge": q1,
        "mu2_pt": rng.uniform(26, 79, n),
        "mu2_eta": rng.uniform(-2.0, 2.0, n),
        "mu2_phi": rng.uniform(-3, 3, n),
        "mu2_charge": q2,
    }
    data = np.column_stack([cols[c] for c in EVENT_COLUMNS])
    return EventTable(data=data, columns=list(EVENT_COLUMNS), source=source)


def test_cwola_table_sets_labels_and_weights():
    t = _table(3000, seed=5)
    out = cwola_table(t, eta_edges=ETA, pt_edges=PT)
    assert out.columns == t.columns and np.shares_memory(out.data, t.data)
    np.testing.assert_array_equal(
        out.labels, cwola_labels(t.col("mass"), t.col("mu1_charge"), t.col("mu2_charge"))
    )
    assert out.weights.sum() == pytest.approx(1.0)
    assert out.weights[out.labels == 1].sum() == pytest.approx(0.5)


def test_bad_charges_and_masses_raise_data_errors():
    mass = np.array([90.0, 91.0, 92.0])
    q = np.array([1.0, -1.0, 1.0])
    with pytest.raises(DataError, match=r"mu1_charge has 1 bad value.*event 1 .*\+1 or -1"):
        cwola_labels(mass, np.array([1.0, 0.0, -1.0]), q)
    with pytest.raises(DataError, match=r"mass has 2 bad value.*70.0 <= m <= 110.0 GeV"):
        cwola_labels(np.array([65.0, 90.0, np.nan]), q, -q)
    t = _table(100, seed=6, source="events.h5")
    t.data[3, t.columns.index("mu2_charge")] = 2.0
    with pytest.raises(DataError, match=r"^events.h5: mu2_charge .*event 3"):
        cwola_table(t)


def test_missing_samples_raise_data_errors():
    eta, pt, ss = _os_ss(7)
    labels = np.where(ss, 0, np.arange(ss.size) % 2)
    with pytest.raises(DataError, match="no same-sign events"):
        cwola_weights(labels[~ss], eta[~ss], pt[~ss], ss[~ss])
    with pytest.raises(DataError, match="no opposite-sign events"):
        ss_weights(eta[ss], pt[ss], ss[ss])
    with pytest.raises(DataError, match="no events with label 1"):
        cwola_weights(np.zeros_like(labels), eta, pt, ss)
    with pytest.raises(DataError, match="0 for every same-sign event"):
        cwola_weights(np.where(ss, 1, labels), eta, pt, ss)
    with pytest.raises(DataError, match="no same-sign event shares an"):
        ss_weights(np.where(ss, 0.0, 1.0), pt, ss, eta_edges=[-1.0, 0.5, 2.0], pt_edges=PT)
    with pytest.raises(DataError, match=r"mu1_pt .*finite pT > 0"):
        ss_weights(eta, np.where(ss, np.inf, pt), ss)
