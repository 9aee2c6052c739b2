"""The iso analysis' third-party packages import and work under the numpy we run: energyflow
(whose wasserstein backend must be built against numpy 2, see scripts/setup.sh), lmdb, iminuit."""

from __future__ import annotations

import numpy as np
import pytest


def test_energyflow_efps_match_a_hand_computed_event():
    """Two particles of pT 1 and 3 at dR = 0.5 (kappa 1, beta 2, normed): z = (1/4, 3/4);
    the one-edge graph is sum_ij z_i z_j theta_ij^2 = 2 * 1/4 * 3/4 * 0.25 = 0.09375, the
    two-edge dimer 2 * 3/16 * 0.0625 = 0.0234375, the one-vertex graph sum z = 1."""
    import energyflow

    assert energyflow.__version__ == "1.4.0"
    efps = energyflow.EFPSet(
        ("d<=", 2), ("n<=", 2), ("p<=", 1), measure="hadr", beta=2, kappa=1, normed=True
    )
    assert [sorted(e.graph) for e in efps.efps] == [[], [(0, 1)], [(0, 1), (0, 1)]]
    event = np.array([[1.0, 0.0, 0.0], [3.0, 0.3, 0.4]])
    np.testing.assert_allclose(efps.compute(event), [1.0, 0.09375, 0.0234375], rtol=1e-12)


def test_wasserstein_backend_loads_under_numpy_2():
    """A wasserstein built against numpy 1 imports lazily and fails only here: the EMD of a
    particle moved by 0.5 is its energy fraction times the distance."""
    import energyflow

    ev0 = np.array([[1.0, 0.0, 0.0]])
    ev1 = np.array([[1.0, 0.3, 0.4]])
    assert energyflow.emd.emd(ev0, ev1, R=1.0) == pytest.approx(0.5)


def test_lmdb_and_iminuit_work(tmp_path):
    import iminuit
    import lmdb

    env = lmdb.open(str(tmp_path / "db"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"0", np.arange(3.0).tobytes())
    with env.begin() as txn:
        np.testing.assert_array_equal(np.frombuffer(txn.get(b"0")), [0.0, 1.0, 2.0])
    env.close()

    m = iminuit.Minuit(lambda x: (x - 2.0) ** 2, x=0.0)
    m.errordef = iminuit.Minuit.LEAST_SQUARES
    m.migrad()
    assert m.valid and m.values["x"] == pytest.approx(2.0, abs=1e-6)
