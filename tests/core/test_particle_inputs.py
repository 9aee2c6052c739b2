"""Particle-level inputs in the event-table contract: EventTable fields and the HDF5 layout."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import DataError

FEATURES = ["pt_rel", "deta", "dphi", "pid"]


def particle_table(n: int = 20, slots: int = 6, seed: int = 0, dtype=np.float32) -> EventTable:
    """Events with 0..slots real particles at random slots; padding holds NaN garbage."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n, slots)) < 0.5
    mask[0] = False  # an event without particles
    values = rng.normal(size=(n, slots, len(FEATURES))).astype(dtype)
    values[~mask] = np.nan
    return EventTable(
        data=rng.normal(size=(n, 2)),
        columns=["pt_mu", "eta_mu"],
        labels=rng.integers(0, 2, size=n),
        particles=values,
        mask=mask,
        particle_columns=FEATURES,
    )


def write(path: Path, table: EventTable) -> Path:
    write_table(path, table, seed=1, config_hash="abc")
    return path


def assert_same_particles(a: EventTable, b: EventTable) -> None:
    assert a.particle_columns == b.particle_columns
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.particles[a.mask], b.particles[b.mask])


# --------------------------------------------------------------------------- EventTable


def test_particle_fields_validated():
    t = particle_table()
    assert t.has_particles and t.particles.dtype == np.float32 and t.mask.dtype == bool
    base = {"data": np.zeros((3, 1)), "columns": ["a"]}
    p, m = np.zeros((3, 4, 2)), np.ones((3, 4), dtype=bool)
    assert not EventTable(**base).has_particles
    with pytest.raises(ValueError, match="given together"):
        EventTable(**base, particles=p, particle_columns=["x", "y"])
    with pytest.raises(ValueError, match=r"particles must have shape \(3, n_slots"):
        EventTable(**base, particles=p[:2], mask=m[:2], particle_columns=["x", "y"])
    with pytest.raises(ValueError, match=r"mask must have shape \(3, 4\)"):
        EventTable(**base, particles=p, mask=m[:, :3], particle_columns=["x", "y"])
    with pytest.raises(ValueError, match="boolean or 0/1"):
        EventTable(**base, particles=p, mask=np.full((3, 4), 2), particle_columns=["x", "y"])
    with pytest.raises(ValueError, match="1 particle column names for particles with 2"):
        EventTable(**base, particles=p, mask=m, particle_columns=["x"])
    with pytest.raises(ValueError, match="duplicate particle column names: x"):
        EventTable(**base, particles=p, mask=m, particle_columns=["x", "x"])
    t = EventTable(**base, particles=p, mask=m.astype(np.uint8), particle_columns=["x", "y"])
    assert t.mask.dtype == bool and t.particles.dtype == np.float64


def test_select_and_with_weights_carry_particles():
    t = particle_table()
    idx = np.array([5, 0, 5])
    sub = t.select(idx)
    np.testing.assert_array_equal(sub.mask, t.mask[idx])
    np.testing.assert_array_equal(sub.particles, t.particles[idx])  # NaN padding compares equal
    assert sub.particle_columns == FEATURES
    by_mask = t.select(t.labels == 1)
    assert len(by_mask.particles) == int((t.labels == 1).sum())
    w = t.with_weights(np.ones(len(t)))
    assert w.particles is t.particles and w.mask is t.mask and w.particle_columns == FEATURES


def test_concat_carries_particles_and_refuses_mismatches():
    a, b = particle_table(n=5, seed=1), particle_table(n=7, seed=2)
    c = EventTable.concat([a, b])
    assert len(c) == 12 and c.particles.shape == (12, 6, 4) and c.particle_columns == FEATURES
    np.testing.assert_array_equal(c.mask, np.concatenate([a.mask, b.mask]))
    plain = EventTable(a.data, a.columns, labels=a.labels)
    with pytest.raises(ValueError, match=r"tables \[1\] have no particles while others do"):
        EventTable.concat([a, plain])
    renamed = EventTable(
        b.data, b.columns, labels=b.labels, particles=b.particles, mask=b.mask,
        particle_columns=["pt_rel", "dphi", "deta", "pid"],
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"table 1 has particle columns \[pt_rel, dphi"):
        EventTable.concat([a, renamed])
    with pytest.raises(ValueError, match="table 1 has 8 particle slots, expected 6"):
        EventTable.concat([a, particle_table(n=3, slots=8)])
    assert EventTable.concat([plain, plain]).particles is None


# --------------------------------------------------------------------------- HDF5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_and_layout(tmp_path, dtype):
    t = particle_table(dtype=dtype)
    path = write(tmp_path / "t.h5", t)
    back = read_table(path)
    assert_same_particles(t, back)
    assert back.particles.dtype == dtype and back.mask.dtype == bool
    assert np.all(back.particles[~back.mask] == 0)  # NaN padding was written as 0
    np.testing.assert_array_equal(back.labels, t.labels)
    with h5py.File(path) as f:
        assert f["particles"].shape == (20, 6, 4) and f["mask"].shape == (20, 6)
        assert list(f["particles"].attrs["columns"]) == FEATURES
        assert f["particles"].compression == "gzip"
    skipped = read_table(path, particles=False)
    assert skipped.particles is None and skipped.mask is None
    assert read_table(path, columns=["eta_mu"]).particles.shape == (20, 6, 4)


def test_round_trip_zero_events_and_old_files(tmp_path):
    empty = particle_table().select(np.zeros(0, dtype=int))
    back = read_table(write(tmp_path / "empty.h5", empty))
    assert back.particles.shape == (0, 6, 4) and back.mask.shape == (0, 6)
    assert back.particle_columns == FEATURES
    old = read_table(write(tmp_path / "old.h5", EventTable(np.zeros((3, 1)), ["a"])))
    assert old.particles is None and old.mask is None and old.particle_columns is None


def test_write_refuses_non_finite_real_particles(tmp_path):
    t = particle_table()
    rows, slots = np.nonzero(t.mask)
    t.particles[rows[:3], slots[:3], 2] = np.inf
    t.particles[rows[0], slots[0], 1] = np.nan
    path = tmp_path / "bad.h5"
    with pytest.raises(
        DataError, match=r"bad\.h5.*particle feature\(s\) 'deta' \(1\), 'dphi' \(3\)"
    ):
        write(path, t)
    assert not path.exists()


def rewrite(path: Path, name: str, data=None, **attrs) -> None:
    """Replace (or with data=None delete) one dataset of a written file."""
    with h5py.File(path, "a") as f:
        del f[name]
        if data is not None:
            ds = f.create_dataset(name, data=data)
            for k, v in attrs.items():
                ds.attrs[k] = v


def test_read_rejects_malformed_particle_datasets(tmp_path):
    t = particle_table()
    cols = np.array(FEATURES, dtype=h5py.string_dtype())

    def fails(name: str, match: str, data=None, **attrs) -> None:
        path = write(tmp_path / f"{name}.h5", t)
        rewrite(path, name, data, **attrs)
        with pytest.raises(DataError, match=rf"{name}\.h5: .*{match}"):
            read_table(path)
        assert read_table(path, particles=False).particles is None  # rest still readable

    fails("mask", r"dataset 'mask' must have shape \(20, 6\), got \(20, 5\)", t.mask[:, :5])
    fails("mask", r"dataset 'mask' must hold only 0/1", np.full((20, 6), 3, dtype=np.int8))
    fails("mask", r"dataset 'mask' must be boolean or 0/1, got dtype float", t.mask * 1.0)
    fails("mask", r"dataset 'mask' missing")
    fails("particles", r"dataset 'particles' has no attribute 'columns'", t.particles)
    fails("particles", r"attribute 'columns' of dataset 'particles'", t.particles, columns=cols[:3])
    fails("particles", r"dataset 'particles' must have shape \(20, n_slots", t.particles[:, 0])
    fails("particles", r"dataset 'mask' present but dataset 'particles' missing")
    nan_real = t.particles.copy()
    rows, slots = np.nonzero(t.mask)
    nan_real[rows[:2], slots[:2], 3] = np.nan
    n_events = len(set(rows[:2]))
    fails("particles", rf"particle feature 'pid' has {n_events} bad value\(s\), first at event "
          rf"{rows[0]} \(nan\); expected a finite number in every real slot", nan_real,
          columns=cols)  # fmt: skip


def test_read_accepts_integer_mask_and_nan_padding(tmp_path):
    """Files from other tools: 0/1 integer mask, NaN (not 0) in the padding."""
    t = particle_table()
    path = write(tmp_path / "foreign.h5", t)
    rewrite(path, "mask", t.mask.astype(np.uint8))
    rewrite(path, "particles", t.particles, columns=np.array(FEATURES, dtype=h5py.string_dtype()))
    back = read_table(path)
    assert back.mask.dtype == bool
    assert_same_particles(t, back)
