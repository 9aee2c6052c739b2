"""The synthetic dimuon generator against the reference shapes (shared/reference/iso.md)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import voigt_profile

from hepflows.iso import synthetic
from hepflows.iso.columns import (
    CONE_RADIUS,
    CONE_SUM_PT,
    ISO_COLUMNS,
    ISO_RADII,
    MASS_WINDOW,
    N_SLOTS,
    PARTICLE_COLUMNS,
    TABLE_COLUMNS,
    TRUTH_COLUMN,
)
from hepflows.iso.isolation import relative_isolation
from hepflows.iso.synthetic import dimuon_events, dimuon_kinematics

N_KIN = 200_000


@pytest.fixture(scope="module")
def kin() -> dict[str, np.ndarray]:
    return dimuon_kinematics(N_KIN, np.random.default_rng(1))


@pytest.fixture(scope="module")
def events():
    """The reference mix (95.6% prompt)."""
    return dimuon_events(20_000, np.random.default_rng(0))


@pytest.fixture(scope="module")
def balanced():
    """Half non-prompt: enough non-prompt cones for their shapes (the cone model is per class)."""
    return dimuon_events(10_000, np.random.default_rng(2), prompt_fraction=0.5)


def _median_share(part: np.ndarray, whole: np.ndarray) -> float:
    """Median of part / whole over the cones that hold anything."""
    some = whole > 0
    return float(np.median(part[some] / whole[some]))


def _ss(cols) -> np.ndarray:
    return cols["mu1_charge"] == cols["mu2_charge"]


def test_same_sign_share_is_the_reference_one(kin):
    ss = _ss(kin)
    p = synthetic.SS_SHARE
    assert abs(ss.mean() - p) < 3 * np.sqrt(p * (1 - p) / N_KIN)
    prompt = kin[TRUTH_COLUMN] == 1
    assert not np.any(ss & prompt), "prompt (Z) pairs are always opposite-sign"
    assert abs(prompt.mean() - synthetic.PROMPT_FRACTION) < 3 * np.sqrt(0.956 * 0.044 / N_KIN)
    assert set(np.unique(kin["mu1_charge"])) == {-1.0, 1.0}


def _voigt_median_abs() -> float:
    """Median of |m - m_Z| for the Voigt truncated to the window, by numerical integration."""
    lo, hi = MASS_WINDOW[0] - synthetic.M_Z, MASS_WINDOW[1] - synthetic.M_Z

    def mass(a: float) -> float:
        return quad(voigt_profile, max(-a, lo), min(a, hi), args=(0.86, 1.71), limit=200)[0]

    total = mass(50.0)
    return brentq(lambda a: mass(a) / total - 0.5, 0.1, 10.0)


def test_mass_window_voigt_peak_and_exponential_continuum(kin):
    m = kin["mass"]
    assert np.all((m > MASS_WINDOW[0]) & (m < MASS_WINDOW[1]))
    prompt = kin[TRUTH_COLUMN] == 1
    dm = m[prompt] - synthetic.M_Z
    assert abs(np.median(dm)) < 0.02  # centred on 90.8
    assert np.median(np.abs(dm)) == pytest.approx(_voigt_median_abs(), abs=0.03)  # 1.76 GeV
    # exp(-m / 15) truncated to 70-110: mean 70 + tau - 40 e^(-40/tau) / (1 - e^(-40/tau))
    tau, span = synthetic.NONPROMPT_TAU, MASS_WINDOW[1] - MASS_WINDOW[0]
    mean = MASS_WINDOW[0] + tau - span * np.exp(-span / tau) / -np.expm1(-span / tau)
    np_m = m[~prompt]
    assert abs(np_m.mean() - mean) < 4 * np_m.std() / np.sqrt(np_m.size)


def test_muon_acceptance_and_pt_spectra(kin):
    for mu in ("mu1", "mu2"):
        assert np.all(kin[f"{mu}_pt"] > 25.0)
        assert np.all(np.abs(kin[f"{mu}_eta"]) < 2.1)
        assert np.all(np.abs(kin[f"{mu}_phi"]) <= np.pi)
    prompt = kin[TRUTH_COLUMN] == 1
    hist, edges = np.histogram(kin["mu1_pt"][prompt], bins=np.arange(25.0, 81.0, 2.0))
    assert 40.0 <= edges[np.argmax(hist)] <= 46.0  # the Jacobian peak near 43 GeV
    assert np.median(kin["mu1_pt"][~prompt]) < np.median(kin["mu1_pt"][prompt]) - 4.0


def test_same_sign_muons_have_other_kinematics_than_opposite_sign():
    k = dimuon_kinematics(40_000, np.random.default_rng(3), prompt_fraction=0.0)
    ss = _ss(k)
    eta, pt = np.abs(k["mu1_eta"]), k["mu1_pt"]
    # the SS -> OS reweighting in (eta, pT) has something to do
    assert np.median(eta[ss]) < np.median(eta[~ss]) - 0.15
    assert np.median(pt[ss]) < np.median(pt[~ss]) - 1.5


def test_table_contract(events):
    assert events.columns == [*TABLE_COLUMNS, TRUTH_COLUMN]
    assert events.particle_columns == list(PARTICLE_COLUMNS)
    assert events.particles.shape == (len(events), N_SLOTS, 4)
    assert events.particles.dtype == np.float32 and events.mask.dtype == bool
    assert set(np.unique(events.col(TRUTH_COLUMN))) == {0.0, 1.0}


def test_mask_padding_and_cone(events):
    p, mask = events.particles, events.mask
    assert np.all(p[~mask] == 0.0), "padding slots are zero"
    assert np.all(mask[:, :-1] >= mask[:, 1:]), "real particles first"
    real = p[mask]
    assert np.all(np.hypot(real[:, 1].astype(float), real[:, 2].astype(float)) <= CONE_RADIUS)
    assert np.all(real[:, 0] > 0)
    assert set(np.unique(real[:, 3])) <= {211.0, -211.0, 22.0, 130.0, 11.0, -11.0}
    pt = np.where(mask, p[..., 0], -1.0)
    assert np.all(pt[:, :-1] >= pt[:, 1:]), "ordered by decreasing pT"


def test_multiplicity_near_sixteen(events):
    count = events.mask.sum(axis=1)
    assert 15.0 < count.mean() < 17.5
    assert count.max() <= N_SLOTS
    prompt = events.col(TRUTH_COLUMN) == 1
    assert count[~prompt].mean() > count[prompt].mean() + 2  # the jet core


def test_isolation_columns_are_computed_from_the_particles(events):
    iso = events.cols(list(ISO_COLUMNS))
    np.testing.assert_allclose(iso, relative_isolation(events.particles, events.mask), rtol=1e-12)
    np.testing.assert_allclose(
        events.col(CONE_SUM_PT), iso[:, -1] * events.col("mu1_pt"), rtol=1e-12
    )
    assert np.all(np.diff(iso, axis=1) >= 0)


def test_prompt_isolation_shape(events):
    prompt = events.col(TRUTH_COLUMN) == 1
    iso = events.cols(list(ISO_COLUMNS))[prompt]
    hist, edges = np.histogram(iso[:, -1], bins=np.arange(0.0, 0.6, 0.02))
    assert 0.06 <= edges[np.argmax(hist)] <= 0.12  # peak near 0.08-0.1
    assert np.mean(iso[:, 0] == 0) > 0.8  # R = 0.025: mostly empty
    assert np.median(events.col(CONE_SUM_PT)[prompt]) < 15.0
    # pileup is flat in area: half the radius holds about a quarter of the energy
    half = np.flatnonzero(np.isclose(ISO_RADII, 0.225))[0]
    assert 0.2 < _median_share(iso[:, half], iso[:, -1]) < 0.4


def test_nonprompt_cone_sum_and_core(balanced):
    prompt = balanced.col(TRUTH_COLUMN) == 1
    cs = balanced.col(CONE_SUM_PT)
    assert np.median(cs[prompt]) < 15.0 < np.median(cs[~prompt])
    hard = ~prompt & (cs > 15.0)
    hist, edges = np.histogram(cs[hard], bins=np.arange(15.0, 160.0, 10.0))
    assert 25.0 <= edges[np.argmax(hist)] <= 35.0  # the non-isolated ones peak near 35 GeV
    assert np.quantile(cs[~prompt], 0.99) > 80.0  # a tail towards 150
    iso = balanced.cols(list(ISO_COLUMNS))
    r01 = np.flatnonzero(np.isclose(ISO_RADII, 0.1))[0]
    assert _median_share(iso[hard, r01], iso[hard, -1]) > 0.5  # energy at dR < 0.1
    assert _median_share(iso[prompt, r01], iso[prompt, -1]) < 0.1  # (0.1 / 0.45)^2 = 0.05 if flat
    # some non-prompt muons look isolated, so no classifier reaches AUC 1
    assert 0.2 < np.mean(cs[~prompt] < np.quantile(cs[prompt], 0.9)) < 0.6


def test_particles_hold_what_cone_sums_do_not(balanced):
    """Energy near the muon (dR < 0.1): for prompt muons one FSR photon, for non-prompt ones
    several particles of mixed species; the cone sums see the same thing in both."""
    p, mask = balanced.particles, balanced.mask
    prompt = balanced.col(TRUTH_COLUMN) == 1
    near = mask & (np.hypot(p[..., 1], p[..., 2]) < 0.1)
    pt_near = np.where(near, p[..., 0], 0.0).sum(axis=1)
    photons = np.where(near & (p[..., 3] == 22), p[..., 0], 0.0).sum(axis=1)
    hard_near = (near & (p[..., 0] > 0.01)).sum(axis=1)
    sel = (pt_near > 0.1) & (pt_near < 0.5)  # a soft core or a hard FSR photon
    assert (sel & prompt).sum() > 100 and (sel & ~prompt).sum() > 100
    share = photons / np.maximum(pt_near, 1e-12)
    assert np.median(share[sel & prompt]) > 0.9 > 0.5 > np.median(share[sel & ~prompt])
    assert hard_near[sel & ~prompt].mean() > hard_near[sel & prompt].mean() + 1


def test_same_seed_same_events_other_seed_other_events():
    a = dimuon_events(300, np.random.default_rng(7))
    b = dimuon_events(300, np.random.default_rng(7))
    c = dimuon_events(300, np.random.default_rng(8))
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.particles, b.particles)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.data, c.data)
    assert not np.array_equal(a.particles, c.particles)


def test_chunked_generation_keeps_the_contract():
    t = dimuon_events(250, np.random.default_rng(9), chunk_events=60)
    assert np.all(t.particles[~t.mask] == 0.0)
    np.testing.assert_allclose(
        t.cols(list(ISO_COLUMNS)), relative_isolation(t.particles, t.mask), rtol=1e-12
    )


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="n must be >= 1"):
        dimuon_events(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="prompt_fraction"):
        dimuon_kinematics(10, np.random.default_rng(0), prompt_fraction=1.5)
