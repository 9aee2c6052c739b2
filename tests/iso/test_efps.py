"""EFPs of the muon's cone particles (hepflows.iso.efps) against energyflow itself."""

from __future__ import annotations

import energyflow
import numpy as np
import pytest

from hepflows.iso.efps import (
    BETAS,
    KAPPAS,
    compute_efp_columns,
    compute_efps,
    describe_graphs,
    efp_columns,
    efp_set,
)

from helpers import random_cones


def cones(n: int, slots: int = 24, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Padded (pt_rel, d_eta, d_phi, pid) with 0 .. slots - 4 real particles per event (event 0
    has none); the padding holds NaN, which no consumer may read."""
    return random_cones(n, slots, seed, max_count=slots - 3, padding=np.nan)


def direct(particles: np.ndarray, mask: np.ndarray, kappa: float, beta: float, dmax: int):
    efps = energyflow.EFPSet(
        ("d<=", dmax), ("n<=", dmax), ("p<=", 1),
        measure="hadr", beta=beta, kappa=kappa, normed=True,
    )  # fmt: skip
    return efps.batch_compute([p[m, :3] for p, m in zip(particles, mask, strict=True)], n_jobs=1)


def test_grid_is_the_papers():
    assert KAPPAS == (-1.0, 0.0, 0.25, 0.5, 1.0, 2.0)
    assert BETAS == (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)


@pytest.mark.parametrize("dmax", [3, 5])
def test_shape_and_graph_count_match_energyflow(dmax):
    particles, mask = cones(6)
    out = compute_efps(particles, mask, kappa=1.0, beta=1.0, dmax=dmax)
    expected = energyflow.EFPSet(("d<=", dmax), ("n<=", dmax), ("p<=", 1)).count()
    assert out.shape == (6, expected) and out.dtype == np.float64
    assert expected == {3: 7, 5: 48}[dmax]
    assert len(efp_columns(1.0, 1.0, dmax)) == expected


@pytest.mark.parametrize("kappa", KAPPAS)
def test_agrees_with_energyflow_called_directly(kappa):
    particles, mask = cones(5)
    has = mask.any(axis=1)
    out = compute_efps(particles, mask, kappa=kappa, beta=0.5, dmax=4)
    np.testing.assert_allclose(
        out[has], direct(particles[has], mask[has], kappa, 0.5, 4), rtol=1e-12, atol=0
    )
    assert np.isfinite(out).all()


def test_hand_computed_values():
    """pT (1, 3) / 4 at dR = 0.5, beta 1: one edge 2 z1 z2 theta = 0.1875; kappa 0 makes every
    z 1, so the one-vertex graph counts the particles."""
    particles = np.array([[[0.25, 0.0, 0.0, 22.0], [0.75, 0.3, 0.4, 22.0]]])
    mask = np.ones((1, 2), dtype=bool)
    np.testing.assert_allclose(compute_efps(particles, mask, 1.0, 1.0, 2)[0, :2], [1, 0.1875])
    np.testing.assert_allclose(compute_efps(particles, mask, 0.0, 1.0, 2)[0, :2], [2, 1.0])


def test_empty_events_are_zero():
    particles, mask = cones(4)
    mask[2] = False
    out = compute_efps(particles, mask, kappa=-1.0, beta=1.0, dmax=3)
    assert (out[[0, 2]] == 0).all() and (out[[1, 3], 0] > 0).all()
    assert compute_efps(particles[:0], mask[:0], -1.0, 1.0, 3).shape == (0, 7)
    assert (compute_efps(particles, np.zeros_like(mask), 1.0, 1.0, 3) == 0).all()


def test_chosen_columns_are_the_full_sets_columns():
    """The holdout sample computes only the EFPs its models read: the same numbers, in the order
    asked, across (kappa, beta) sets."""
    particles, mask = cones(40)
    full = {}
    for k in (2.0, 0.5):
        full.update(
            zip(efp_columns(k, 1.0, 3), compute_efps(particles, mask, k, 1.0, 3).T, strict=True)
        )
    chosen = ["efp_k2_b1_0", "efp_k0.5_b1_3", "efp_k2_b1_4"]
    out = compute_efp_columns(particles, mask, chosen, dmax=3)
    np.testing.assert_array_equal(out, np.column_stack([full[c] for c in chosen]))
    assert (out[0] == 0).all()  # the event without particles
    with pytest.raises(ValueError, match="has 7 EFPs; asked for index 9"):
        compute_efp_columns(particles, mask, ["efp_k2_b1_9"], dmax=3)
    with pytest.raises(ValueError, match="'iso_r100' is not an EFP column"):
        compute_efp_columns(particles, mask, ["iso_r100"], dmax=3)


def test_invariant_to_particle_order_and_padding():
    particles, mask = cones(6)
    reference = compute_efps(particles, mask, kappa=0.5, beta=2.0, dmax=4)
    rng = np.random.default_rng(0)
    order = np.stack([rng.permutation(particles.shape[1]) for _ in range(len(particles))])
    shuffled_p = np.take_along_axis(particles, order[:, :, None], axis=1)
    shuffled_m = np.take_along_axis(mask, order, axis=1)
    np.testing.assert_allclose(compute_efps(shuffled_p, shuffled_m, 0.5, 2.0, 4), reference)
    padded_p = np.concatenate([particles, np.zeros((6, 40, 4))], axis=1)
    padded_m = np.concatenate([mask, np.zeros((6, 40), dtype=bool)], axis=1)
    np.testing.assert_array_equal(compute_efps(padded_p, padded_m, 0.5, 2.0, 4), reference)


@pytest.mark.parametrize("kappa", [-1.0, 0.25, 2.0])
def test_normed_efps_invariant_to_scaling_pt(kappa):
    particles, mask = cones(5)
    scaled = particles.copy()
    scaled[..., 0] *= 37.5
    np.testing.assert_allclose(
        compute_efps(scaled, mask, kappa, 3.0, 4),
        compute_efps(particles, mask, kappa, 3.0, 4),
        rtol=1e-10,
    )


def test_describe_graphs_names_each_column():
    graphs = describe_graphs(-1.0, 0.25, 3)
    assert [g["column"] for g in graphs] == efp_columns(-1.0, 0.25, 3)
    assert graphs[0]["column"] == "efp_k-1_b0.25_0"
    assert (graphs[0]["n"], graphs[0]["d"], graphs[0]["edges"]) == (1, 0, [])
    assert (graphs[1]["n"], graphs[1]["d"], graphs[1]["edges"]) == (2, 1, [[0, 1]])
    assert all(len(g["edges"]) == g["d"] and g["n"] <= 3 for g in graphs)
    assert {(g["kappa"], g["beta"]) for g in graphs} == {(-1.0, 0.25)}


def test_efp_set_is_the_original_spec():
    efps = efp_set(0.25, 4.0, 5)
    assert efps is efp_set(0.25, 4.0, 5)  # cached
    assert (efps.kappa, efps.beta, efps.normed, efps.measure) == (0.25, 4.0, True, "hadr")
    assert max(e.d for e in efps.efps) == 5 and max(e.n for e in efps.efps) == 5


def test_bad_shapes_are_refused():
    particles, mask = cones(3)
    with pytest.raises(ValueError, match="mask"):
        compute_efps(particles, mask[:, :5], 1.0, 1.0, 3)
    with pytest.raises(ValueError, match="particles"):
        compute_efps(particles[..., :2], mask, 1.0, 1.0, 3)
