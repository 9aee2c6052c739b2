"""Relative isolation and cone sum pT against hand-computed and brute-force values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hepflows.iso import isolation
from hepflows.iso.columns import CONE_RADIUS, ISO_RADII
from hepflows.iso.isolation import cone_sum_pt, relative_isolation


def _event(rows: list[tuple[float, float, float, float]], slots: int = 6):
    """One event's particles (pt_rel, d_eta, d_phi, pid), padded with NaN (must be ignored)."""
    p = np.full((slots, 4), np.nan)
    if rows:
        p[: len(rows)] = rows
    m = np.arange(slots) < len(rows)
    return p, m


def _three_events() -> tuple[np.ndarray, np.ndarray]:
    events = [
        # on-axis, exactly on the R = 0.025 and R = 0.45 edges, and outside the cone
        [(0.1, 0.0, 0.01, 22), (0.2, 0.025, 0.0, 211), (0.3, 0.0, 0.45, 130), (5.0, 0.5, 0.0, 22)],
        [(0.05, 0.1, -0.1, -211), (0.07, -0.2, 0.2, 11)],
        [],  # an empty cone
    ]
    parts, masks = zip(*(_event(rows) for rows in events), strict=True)
    return np.stack(parts), np.stack(masks)


def _brute_force(particles: np.ndarray, mask: np.ndarray, radii) -> np.ndarray:
    out = np.zeros((len(particles), len(radii)))
    for i, (event, m) in enumerate(zip(particles, mask, strict=True)):
        for (pt, d_eta, d_phi, _), real in zip(event, m, strict=True):
            if not real:
                continue
            for j, r in enumerate(radii):
                if math.hypot(d_eta, d_phi) <= r:
                    out[i, j] += pt
    return out


def test_hand_computed_example():
    p, m = _three_events()
    iso = relative_isolation(p, m, (0.025, 0.2, CONE_RADIUS))
    # event 0: 0.1 at dR 0.01 and 0.2 at exactly 0.025; 0.3 at exactly 0.45; 5.0 outside
    np.testing.assert_allclose(iso[0], [0.3, 0.3, 0.6])
    # event 1: dR 0.141 and 0.283
    np.testing.assert_allclose(iso[1], [0.0, 0.05, 0.12])
    np.testing.assert_array_equal(iso[2], [0.0, 0.0, 0.0])


def test_matches_brute_force_on_every_radius():
    p, m = _three_events()
    np.testing.assert_allclose(
        relative_isolation(p, m), _brute_force(p, m, ISO_RADII), rtol=0, atol=1e-12
    )


def _random_cones(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    r = CONE_RADIUS * np.sqrt(rng.random((n, 20)))
    a = rng.uniform(0, 2 * np.pi, (n, 20))
    p = np.stack([rng.exponential(0.02, (n, 20)), r * np.cos(a), r * np.sin(a), np.zeros((n, 20))])
    mask = np.arange(20) < rng.integers(0, 21, n)[:, None]
    return np.moveaxis(p, 0, -1), mask, rng.uniform(25, 80, n)


def test_monotone_in_radius_and_equal_to_brute_force():
    p, m, _ = _random_cones(40, seed=1)
    iso = relative_isolation(p, m)
    assert iso.shape == (40, ISO_RADII.size)
    assert np.all(np.diff(iso, axis=1) >= 0)
    np.testing.assert_allclose(iso, _brute_force(p, m, ISO_RADII), atol=1e-12)
    # every real particle is inside the largest cone, so the last column is the masked sum
    np.testing.assert_allclose(iso[:, -1], np.where(m, p[..., 0], 0).sum(axis=1))


def test_chunking_does_not_change_the_result(monkeypatch):
    p, m, _ = _random_cones(50, seed=2)
    whole = relative_isolation(p, m)
    monkeypatch.setattr(isolation, "CHUNK_EVENTS", 7)
    np.testing.assert_array_equal(relative_isolation(p, m), whole)


def test_float32_particles_give_the_same_cut():
    p, m, _ = _random_cones(30, seed=3)
    p32 = p.astype(np.float32)
    np.testing.assert_allclose(
        relative_isolation(p32, m), _brute_force(p32.astype(np.float64), m, ISO_RADII), atol=1e-6
    )


def test_cone_sum_pt_is_largest_isolation_times_muon_pt():
    p, m, pt = _random_cones(30, seed=4)
    expected = relative_isolation(p, m)[:, -1] * pt
    np.testing.assert_allclose(cone_sum_pt(p, m, pt), expected, rtol=1e-12)
    ph, mh = _three_events()
    np.testing.assert_allclose(cone_sum_pt(ph, mh, np.array([50.0, 40.0, 30.0])), [30, 4.8, 0])


def test_bad_shapes_and_radii_raise():
    p, m, pt = _random_cones(5, seed=5)
    with pytest.raises(ValueError, match="particles must have shape"):
        relative_isolation(p[..., :3], m)
    with pytest.raises(ValueError, match="mask must have shape"):
        relative_isolation(p, m[:, :3])
    with pytest.raises(ValueError, match="increasing"):
        relative_isolation(p, m, (0.3, 0.1))
    with pytest.raises(ValueError, match="mu_pt must have shape"):
        cone_sum_pt(p, m, pt[:3])
