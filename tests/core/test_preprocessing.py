"""Tests for hepflows.core.preprocessing: invertibility, out-of-range safety, persistence."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from hepflows.core.io import DataError
from hepflows.core.preprocessing import Preprocessor

# Every subset in every order, except standardize before logit: that feeds logit values
# outside (0, 1), where it clips by design and so cannot be inverted.
ALL_SUBSETS = [
    list(c)
    for r in range(4)
    for c in itertools.permutations(["minmax", "logit", "standardize"], r)
    if not ("standardize" in c and "logit" in c and c.index("standardize") < c.index("logit"))
]


@pytest.fixture
def x() -> np.ndarray:
    """HEP-like features: a steep mass spectrum, a bounded angle, a Gaussian."""
    rng = np.random.default_rng(0)
    n = 2000
    return np.column_stack(
        [
            rng.exponential(300.0, n) + 500.0,
            rng.uniform(-np.pi, np.pi, n),
            rng.normal(2.0, 0.1, n),
        ]
    )


def test_default_round_trip(x):
    pre = Preprocessor().fit(x)
    assert pre.fitted and pre.n_features == 3
    y = pre.transform(x)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-8)  # standardize is last
    np.testing.assert_allclose(y.std(axis=0), 1.0, rtol=1e-8)
    np.testing.assert_allclose(pre.inverse(y), x, rtol=1e-6)
    np.testing.assert_allclose(pre.transform(pre.inverse(y)), y, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("steps", ALL_SUBSETS, ids=lambda s: "+".join(s) or "none")
def test_any_chain_round_trips(steps):
    """Data inside (0, 1) is in every step's invertible domain."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0.05, 0.95, size=(500, 2))
    pre = Preprocessor(steps=steps).fit(x)
    y = pre.transform(x)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(pre.inverse(y), x, rtol=1e-6)
    if steps == []:
        np.testing.assert_array_equal(y, x)


def test_minmax_maps_widened_range_to_unit_interval():
    x = np.array([[0.0], [10.0]])
    pre = Preprocessor(steps=["minmax"], margin=0.1).fit(x)
    # fitted [0, 10] widened by 1 on each side -> [-1, 11] onto [0, 1]
    y = pre.transform(np.array([[-1.0], [0.0], [11.0]])).ravel()
    np.testing.assert_allclose(y, [0.0, 1 / 12, 1.0])


@pytest.mark.parametrize("steps", [["minmax", "logit", "standardize"], ["minmax", "logit"]])
def test_out_of_range_stays_finite(x, steps):
    pre = Preprocessor(steps=steps).fit(x)
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    far = np.vstack([lo - 100 * span, hi + 100 * span, lo - 1e6 * span, hi + 1e12 * span])
    y = pre.transform(far)
    assert np.isfinite(y).all()
    back = pre.inverse(y)
    assert np.isfinite(back).all()
    # values beyond the range saturate at the edges of the widened range
    assert (back[0] < lo).all() and (back[1] > hi).all()
    assert (back >= lo - 0.06 * span).all() and (back <= hi + 0.06 * span).all()
    assert np.isfinite(pre.transform(np.array([[np.inf, -np.inf, np.inf]]))).all()
    assert np.isfinite(pre.log_abs_det_jacobian(far)).all()


def test_inverse_of_extreme_network_outputs_is_finite(x):
    """A flow can sample far in the tails; the inverse must still give finite values."""
    pre = Preprocessor().fit(x)
    y = np.array([[1e6, -1e6, 0.0], [-800.0, 800.0, 1e300]])
    back = pre.inverse(y)
    assert np.isfinite(back).all()


def test_constant_column_no_division_by_zero():
    x = np.column_stack([np.full(100, 3.0), np.linspace(0, 1, 100)])
    with np.errstate(all="raise"):
        pre = Preprocessor().fit(x)
        y = pre.transform(x)
        np.testing.assert_allclose(pre.inverse(y), x, rtol=1e-6, atol=1e-12)
        # far from the constant value stays finite and moderate
        z = pre.transform(np.array([[1e3, 0.5]]))
    assert np.isfinite(y).all() and np.abs(z).max() < 20
    std_only = Preprocessor(steps=["standardize"]).fit(x)
    np.testing.assert_array_equal(std_only.transform(x)[:, 0], 0.0)


def test_weighted_standardize():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1000, 2)) * [1.0, 5.0] + [3.0, -1.0]
    w = rng.uniform(0.1, 3.0, size=1000)
    pre = Preprocessor(steps=["standardize"]).fit(x, weights=w)
    y = pre.transform(x)
    np.testing.assert_allclose(np.average(y, axis=0, weights=w), 0.0, atol=1e-10)
    np.testing.assert_allclose(np.average(y**2, axis=0, weights=w), 1.0, rtol=1e-10)
    unweighted = Preprocessor(steps=["standardize"]).fit(x).transform(x)
    assert not np.allclose(unweighted, y)
    # integer weights are equivalent to repeating events
    wi = rng.integers(1, 4, size=1000)
    rep = Preprocessor(steps=["standardize"]).fit(np.repeat(x, wi, axis=0))
    np.testing.assert_allclose(
        Preprocessor(steps=["standardize"]).fit(x, weights=wi).transform(x),
        rep.transform(x),
        rtol=1e-10,
        atol=1e-12,
    )


def test_fit_input_validation(x):
    with pytest.raises(ValueError, match="weights must have shape"):
        Preprocessor().fit(x, weights=np.ones(3))
    with pytest.raises(ValueError, match="positive sum"):
        Preprocessor().fit(x, weights=np.zeros(len(x)))
    bad = x.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"non-finite values in feature\(s\) \[2\]"):
        Preprocessor().fit(bad)
    with pytest.raises(ValueError, match="non-empty"):
        Preprocessor().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="unknown preprocessing step"):
        Preprocessor(steps=["minmax", "boxcox"])
    with pytest.raises(ValueError, match="eps"):
        Preprocessor(eps=0.0)


def test_use_before_fit_and_wrong_shape(x):
    pre = Preprocessor()
    assert not pre.fitted
    for method in (pre.transform, pre.inverse, pre.log_abs_det_jacobian):
        with pytest.raises(RuntimeError, match="before fit"):
            method(x)
    with pytest.raises(RuntimeError, match="before fit"):
        pre.to_dict()
    pre.fit(x)
    with pytest.raises(ValueError, match=r"expected shape \(n, 3\)"):
        pre.transform(x[:, :2])


JACOBIAN_CHAINS = [
    ["minmax", "logit", "standardize"],
    ["minmax", "logit"],
    ["standardize"],
    ["minmax"],
]


@pytest.mark.parametrize("steps", JACOBIAN_CHAINS)
def test_log_abs_det_jacobian_matches_finite_differences(x, steps):
    pre = Preprocessor(steps=steps).fit(x)
    pts = x[:50]
    ladj = pre.log_abs_det_jacobian(pts)
    assert ladj.shape == (50,)
    # Every step is elementwise, so the Jacobian is diagonal: perturb all features at once.
    h = 1e-6 * (x.max(axis=0) - x.min(axis=0))
    diag = (pre.transform(pts + h) - pre.transform(pts - h)) / (2 * h)
    np.testing.assert_allclose(ladj, np.log(np.abs(diag)).sum(axis=1), rtol=1e-5, atol=1e-5)


def test_jacobian_converts_densities():
    """Change of variables: a standard normal in y maps back to N(mu, sigma) in x."""
    rng = np.random.default_rng(3)
    x = rng.normal(5.0, 2.0, size=(5000, 1))
    pre = Preprocessor(steps=["standardize"]).fit(x)
    y = pre.transform(x)
    pts = np.array([[3.0], [5.0], [8.0]])
    yp = pre.transform(pts)
    log_py = -0.5 * yp[:, 0] ** 2 - 0.5 * np.log(2 * np.pi)
    log_px = log_py + pre.log_abs_det_jacobian(pts)
    mu, sigma = x.mean(), x.std()
    expected = -0.5 * ((pts[:, 0] - mu) / sigma) ** 2 - np.log(sigma * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(log_px, expected, rtol=1e-12)
    assert abs(y.std() - 1.0) < 1e-12


def test_dict_and_json_round_trip_identical(tmp_path, x):
    rng = np.random.default_rng(4)
    pre = Preprocessor(eps=1e-5, margin=0.1).fit(x, weights=rng.uniform(0.5, 1.5, len(x)))
    d = pre.to_dict()
    json.dumps(d)  # plain JSON types only
    path = tmp_path / "models" / "pre.json"
    pre.save(path)
    loaded = Preprocessor.load(path)
    assert loaded.steps == pre.steps and loaded.eps == 1e-5 and loaded.margin == 0.1
    probe = np.vstack([x[:100], x[:5] * 50.0])
    np.testing.assert_array_equal(loaded.transform(probe), pre.transform(probe))
    np.testing.assert_array_equal(loaded.inverse(probe), pre.inverse(probe))
    ladj = pre.log_abs_det_jacobian(probe)
    np.testing.assert_array_equal(loaded.log_abs_det_jacobian(probe), ladj)
    np.testing.assert_array_equal(Preprocessor.from_dict(d).transform(probe), pre.transform(probe))


def test_load_errors(tmp_path, x):
    missing = tmp_path / "none.json"
    with pytest.raises(DataError, match=r"none\.json: file not found"):
        Preprocessor.load(missing)
    d = Preprocessor().fit(x).to_dict()
    d["params"][0]["low"] = d["params"][0]["low"][:2]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(DataError, match=r"bad\.json: invalid preprocessor .*'low' must be 3"):
        Preprocessor.load(bad)
    other = tmp_path / "other.json"
    other.write_text('{"kind": "mlp"}')
    with pytest.raises(DataError, match=r"other\.json: key 'format' missing"):
        Preprocessor.load(other)


@pytest.mark.parametrize("steps", [["minmax"], ["standardize"], ["minmax", "standardize"]])
def test_linear_chains_finite_far_outside_range(x, steps):
    pre = Preprocessor(steps=steps).fit(x)
    far = np.vstack([x.min(axis=0) * 1e6 - 1e6, x.max(axis=0) * 1e6 + 1e6])
    y = pre.transform(far)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(pre.inverse(y), far, rtol=1e-9)


@pytest.fixture
def energies() -> np.ndarray:
    """Positive, steeply falling quantities (a mass spectrum and a missing-energy tail)."""
    rng = np.random.default_rng(5)
    return np.column_stack([500.0 + rng.pareto(4.0, 3000) * 400.0, rng.gamma(2.0, 20.0, 3000)])


def test_log_chain_round_trip_and_jacobian(energies):
    pre = Preprocessor(steps=["log", "standardize"]).fit(energies)
    y = pre.transform(energies)
    # The log removes most of the power-law skew that a flow's conditioner would see.
    skew = lambda a: ((a - a.mean(0)) ** 3).mean(0) / a.std(0) ** 3  # noqa: E731
    assert (np.abs(skew(y)) < np.abs(skew(energies))).all()
    np.testing.assert_allclose(pre.inverse(y), energies, rtol=1e-9)
    pts = energies[:50]
    h = 1e-6 * pts
    diag = (pre.transform(pts + h) - pre.transform(pts - h)) / (2 * h)
    ladj = pre.log_abs_det_jacobian(pts)
    np.testing.assert_allclose(ladj, np.log(np.abs(diag)).sum(axis=1), rtol=1e-5, atol=1e-5)


def test_log_needs_positive_fit_input(x):
    with pytest.raises(ValueError, match=r"log step needs positive values; feature\(s\) \[1\]"):
        Preprocessor(steps=["log"]).fit(x)


def test_log_stays_finite_outside_fitted_range(tmp_path, energies):
    pre = Preprocessor(steps=["log", "standardize"]).fit(energies)
    far = np.array([[0.0, -5.0], [-np.inf, 1e300], [np.inf, 1e-300]])
    y = pre.transform(far)
    assert np.isfinite(y).all() and np.isfinite(pre.log_abs_det_jacobian(far)).all()
    # Below the floor (half the smallest fitted value) everything maps to the floor.
    floor = 0.5 * energies.min(axis=0)
    np.testing.assert_allclose(pre.inverse(y[:1]), floor[None, :], rtol=1e-9)
    assert np.isfinite(pre.inverse(np.array([[1e6, -1e6]]))).all()
    pre.save(tmp_path / "log.json")
    loaded = Preprocessor.load(tmp_path / "log.json")
    np.testing.assert_array_equal(loaded.transform(energies), pre.transform(energies))
