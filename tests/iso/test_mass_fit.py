"""The dimuon mass fit against the generator's truth (shared/reference/iso.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import voigt_profile

from hepflows.core.io import DataError
from hepflows.iso import synthetic
from hepflows.iso.columns import MASS_WINDOW, TRUTH_COLUMN
from hepflows.iso.mass_fit import (
    PARAMETERS,
    REFERENCE,
    _ExtendedNLL,
    binned_pulls,
    component_pdfs,
    fit_mass,
)
from hepflows.iso.synthetic import dimuon_kinematics

N_FIT = 100_000
TRUTH = {
    "mu": synthetic.M_Z,
    "sigma": synthetic.VOIGT_SIGMA,
    "gamma": synthetic.VOIGT_GAMMA,
    "tau": synthetic.NONPROMPT_TAU,
}


@pytest.fixture(scope="module")
def sample() -> dict[str, np.ndarray]:
    return dimuon_kinematics(N_FIT, np.random.default_rng(11))


@pytest.fixture(scope="module")
def fit(sample):
    return fit_mass(sample["mass"])


def test_generator_matches_the_reference_fit():
    """The truth we compare to is the reference's fit (else the pulls test the wrong thing)."""
    assert TRUTH == {k: REFERENCE[k] for k in TRUTH}
    assert synthetic.PROMPT_FRACTION == REFERENCE["s"]


@pytest.mark.parametrize(
    "shape",
    [
        (90.8, 0.86, 1.71, 15.0),
        (85.0, 0.05, 0.05, 1.0),
        (95.0, 10.0, 0.05, 1000.0),
        (99.0, 0.05, 10.0, 5.0),
    ],  # fmt: skip
)
def test_component_pdfs_are_normalised_on_the_window(shape):
    """Also at the parameter limits, where a narrow core or a window edge within a few sigma
    would break a naive quadrature."""
    values = dict(zip(("mu", "sigma", "gamma", "tau"), shape, strict=True))
    lo, hi = MASS_WINDOW
    for j in range(2):
        total = quad(
            lambda x, j=j: component_pdfs(np.array([x]), values)[0, j],
            lo, hi, points=[values["mu"]], limit=500, epsabs=1e-13, epsrel=1e-11,
        )[0]  # fmt: skip
        assert total == pytest.approx(1.0, rel=1e-9)
    # the prompt density is the Voigt, only rescaled
    m = np.linspace(lo, hi, 7)
    ratio = component_pdfs(m, values)[:, 0] / voigt_profile(m - shape[0], shape[1], shape[2])
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


def test_gradient_is_the_derivative_of_the_nll(sample):
    """Migrad trusts the analytic gradient: a wrong one gives a wrong minimum silently."""
    nll = _ExtendedNLL(sample["mass"][:20_000], MASS_WINDOW)
    p = np.array([18_900.0, 1_200.0, 90.6, 0.95, 1.6, 13.0])
    numeric = []
    for j in range(p.size):
        h = np.zeros_like(p)
        h[j] = 1e-6 * abs(p[j])
        numeric.append((nll(p + h) - nll(p - h)) / (2 * h[j]))
    np.testing.assert_allclose(nll.grad(p), numeric, rtol=2e-5, atol=1e-4)


def test_fit_recovers_the_generator(fit, sample):
    assert fit.flags["is_valid"] and fit.flags["has_accurate_covar"]
    assert not fit.flags["has_parameters_at_limit"]
    for name, true in TRUTH.items():
        assert abs(fit.values[name] - true) < 3 * fit.errors[name], name
    # errors of the right size for 100k events (a fit returning huge errors passes pulls)
    assert fit.errors["mu"] < 0.02 and fit.errors["gamma"] < 0.05 and fit.errors["tau"] < 4.0
    n_prompt = sample[TRUTH_COLUMN].sum()
    assert abs(fit.values["n_prompt"] - n_prompt) < 3 * fit.errors["n_prompt"]
    assert abs(fit.prompt_fraction - REFERENCE["s"]) < 3 * fit.prompt_fraction_error
    assert 0.002 < fit.prompt_fraction_error < 0.01
    # extended ML: the yields add up to the events
    assert fit.values["n_prompt"] + fit.values["n_nonprompt"] == pytest.approx(N_FIT, abs=1.0)
    assert fit.n_events == N_FIT and np.isfinite(fit.nll)


def test_covariance_is_a_named_symmetric_positive_matrix(fit):
    cov = fit.covariance
    assert cov.shape == (len(PARAMETERS), len(PARAMETERS))
    np.testing.assert_allclose(cov, cov.T, rtol=1e-10)
    assert np.all(np.linalg.eigvalsh(np.asarray(cov)) > 0)
    assert cov["mu", "mu"] == pytest.approx(fit.errors["mu"] ** 2, rel=1e-6)
    assert cov["n_prompt", "tau"] == cov[0, 5]
    # the non-prompt yield and the slope are correlated: the exponential trades with the tails
    corr = cov["n_nonprompt", "tau"] / (fit.errors["n_nonprompt"] * fit.errors["tau"])
    assert abs(corr) > 0.1
    np.testing.assert_array_equal(fit.vector(), [fit.values[k] for k in PARAMETERS])


def test_binned_pulls_describe_the_data(fit, sample):
    b = binned_pulls(sample["mass"], fit, bins=80)
    assert b.edges.shape == (81,) and b.counts.shape == b.expected.shape == b.pulls.shape == (80,)
    assert b.counts.sum() == N_FIT
    assert b.expected.sum() == pytest.approx(N_FIT, abs=1.0)
    # 80 bins, 6 parameters: chi2 / ndf near 1 (a wrong Voigt normalisation or bin integral
    # shows up as a slope or a peak in the pulls and a chi2 of hundreds)
    chi2 = np.sum(b.pulls**2)
    assert chi2 < 74 + 5 * np.sqrt(2 * 74)
    assert np.max(np.abs(b.pulls)) < 4.0
    # the check has power: a Lorentzian width 25% too small is seen
    wrong = dataclasses.replace(fit, values={**fit.values, "gamma": 0.75 * fit.values["gamma"]})
    assert np.sum(binned_pulls(sample["mass"], wrong, bins=80).pulls ** 2) > 10 * chi2


def test_fit_refuses_bad_input():
    with pytest.raises(DataError, match=r"0 events; expected at least 100"):
        fit_mass(np.array([]))
    with pytest.raises(DataError, match=r"mass has 2 value\(s\) outside .* first at event 1 "
                       r"\(65\.0\); expected 70\.0 <= m <= 110\.0 GeV"):  # fmt: skip
        fit_mass(np.array([90.0, 65.0, 111.0]))
    with pytest.raises(DataError, match=r"events\.h5: mass has 1 value.*nan"):
        fit_mass(np.array([90.0, np.nan]), source="events.h5")
    with pytest.raises(DataError, match="1-D"):
        fit_mass(np.full((200, 2), 90.0))


def test_fit_that_cannot_describe_the_data_raises():
    """Flat masses: no peak, so the Voigt runs to its limits; that must not pass silently."""
    flat = np.random.default_rng(0).uniform(*MASS_WINDOW, 2_000)
    with pytest.raises(RuntimeError, match=r"mass fit on 2000 events failed \(.*at the limits"):
        fit_mass(flat)
