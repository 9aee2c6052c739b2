"""The public CMS layout (hepflows.iso.readers): a round trip through files the tests write, and
one clear error for each way the files can be broken.

(Named test_cms_readers.py: tests/ad/test_readers.py holds the basename, and pytest's default
import mode refuses two test modules of one name.)"""

from __future__ import annotations

import lmdb
import numpy as np
import pytest

from hepflows.core.events import EventTable
from hepflows.core.io import DataError
from hepflows.iso import readers
from hepflows.iso.columns import (
    CONE_SUM_PT,
    EVENT_COLUMNS,
    ISO_COLUMNS,
    N_SLOTS,
    PARTICLE_COLUMNS,
    TABLE_COLUMNS,
)
from hepflows.iso.readers import read_cms, write_cms

from helpers import random_cones


def cms_table(n: int = 6, slots: int = N_SLOTS, seed: int = 2) -> EventTable:
    """Dimuon events with 0 .. 19 random cone particles (event 0 has none), in TABLE_COLUMNS."""
    particles, mask = random_cones(n, slots, seed, max_count=20)
    rng = np.random.default_rng(seed + 1)
    events = np.column_stack(
        [
            rng.uniform(70, 110, n),
            rng.uniform(25, 80, n), rng.uniform(-2, 2, n), rng.uniform(-3, 3, n),
            rng.choice([-1.0, 1.0], n),
            rng.uniform(25, 80, n), rng.uniform(-2, 2, n), rng.uniform(-3, 3, n),
            rng.choice([-1.0, 1.0], n),
        ]
    )  # fmt: skip
    iso = np.cumsum(rng.exponential(0.02, (n, len(ISO_COLUMNS))), axis=1)
    cone_sum = (particles[:, :, 0] * events[:, 1:2]).sum(axis=1)
    return EventTable(
        np.column_stack([events, iso, cone_sum]),
        list(TABLE_COLUMNS),
        particles=particles,
        mask=mask,
        particle_columns=list(PARTICLE_COLUMNS),
    )


@pytest.fixture
def cms_dir(tmp_path):
    write_cms(tmp_path / "data", cms_table())
    return tmp_path / "data"


def snapshot(directory):
    return {p: p.stat().st_mtime_ns for p in directory.rglob("*")}


def edit_db(path, put=(), delete=()):
    env = lmdb.open(str(path), map_size=1 << 26)
    with env.begin(write=True) as txn:
        for key, value in put:
            txn.put(key, value)
        for key in delete:
            assert txn.delete(key)
    env.close()


def read_error(directory) -> str:
    before = snapshot(directory)
    with pytest.raises(DataError) as err:
        read_cms(directory)
    assert snapshot(directory) == before  # the reader writes nothing, not even a lock file
    message = str(err.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- round trip


def test_round_trip_returns_the_same_arrays(cms_dir):
    table = cms_table()
    back = read_cms(cms_dir)
    assert back.columns == list(TABLE_COLUMNS)
    assert back.particle_columns == list(PARTICLE_COLUMNS)
    assert back.particles.shape == (6, N_SLOTS, 4) and back.particles.dtype == np.float64
    np.testing.assert_array_equal(back.cols(EVENT_COLUMNS), table.cols(EVENT_COLUMNS))
    np.testing.assert_array_equal(back.cols(ISO_COLUMNS), table.cols(ISO_COLUMNS))
    np.testing.assert_allclose(back.col(CONE_SUM_PT), table.col(CONE_SUM_PT), rtol=1e-14)
    np.testing.assert_array_equal(back.mask, table.mask)
    assert not back.mask[0].any()
    # pT / pT_mu goes through GeV and back: equal to the last bit or one below.
    np.testing.assert_allclose(back.particles, table.particles, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(back.particles[..., 1:], table.particles[..., 1:])
    assert back.source == str(cms_dir)


def test_files_are_the_public_layout(cms_dir):
    table = cms_table()
    pts = np.loadtxt(cms_dir / "cms_csvs" / "muon_pTs.csv", delimiter=",")
    np.testing.assert_array_equal(pts, table.cols(["mu1_pt", "mu2_pt"]))
    mass = np.loadtxt(cms_dir / "cms_csvs" / "dimuon_invariant_mass.csv", delimiter=",")
    np.testing.assert_array_equal(mass, table.col("mass"))
    env = lmdb.open(str(cms_dir / "pfn"), readonly=True, lock=False)
    with env.begin() as txn:
        assert env.stat()["entries"] == 6
        raw = np.frombuffer(txn.get(b"3")).reshape(N_SLOTS, 4)  # float64, as the original reads
    env.close()
    mu1_pt = table.col("mu1_pt")[3]
    np.testing.assert_allclose(raw[:, 0], table.particles[3, :, 0] * mu1_pt, rtol=1e-15)
    np.testing.assert_allclose(raw[:, 0].sum(), table.col(CONE_SUM_PT)[3], rtol=1e-14)


def test_fewer_slots_are_padded_to_128(tmp_path):
    table = cms_table(slots=24)
    write_cms(tmp_path / "d", table)
    back = read_cms(tmp_path / "d")
    assert back.particles.shape == (6, N_SLOTS, 4)
    np.testing.assert_array_equal(back.mask[:, :24], table.mask)
    assert not back.mask[:, 24:].any()


def test_max_events_reads_the_first_events(cms_dir):
    full = read_cms(cms_dir)
    first = read_cms(cms_dir, max_events=4)
    assert len(first) == 4
    np.testing.assert_array_equal(first.data, full.data[:4])
    np.testing.assert_array_equal(first.particles, full.particles[:4])
    assert len(read_cms(cms_dir, max_events=100)) == 6
    assert len(read_cms(cms_dir, max_events=0)) == 0


def test_max_events_ignores_broken_later_events(cms_dir):
    edit_db(cms_dir / "iso", put=[(b"5", b"short")])
    assert len(read_cms(cms_dir, max_events=5)) == 5
    assert "b'5'" in read_error(cms_dir)


# --------------------------------------------------------------------------- CSV errors


def rewrite(path, lines):
    path.write_text("".join(line + "\n" for line in lines))


def csv_lines(path):
    return path.read_text().splitlines()


def test_wrong_column_count(cms_dir):
    path = cms_dir / "cms_csvs" / "muon_pTs.csv"
    rewrite(path, [line + ",1.0" for line in csv_lines(path)])
    message = read_error(cms_dir)
    assert str(path) in message and "3 column(s), expected 2 (mu1_pt, mu2_pt)" in message


def test_ragged_row(cms_dir):
    path = cms_dir / "cms_csvs" / "muon_etas.csv"
    lines = csv_lines(path)
    lines[3] += ",0.5"
    rewrite(path, lines)
    message = read_error(cms_dir)
    assert str(path) in message and "line 4" in message


def test_non_numeric_value(cms_dir):
    path = cms_dir / "cms_csvs" / "muon_etas.csv"
    lines = csv_lines(path)
    lines[2] = lines[2].split(",")[0] + ",abc"
    rewrite(path, lines)
    message = read_error(cms_dir)
    assert str(path) in message
    assert "'mu2_eta'" in message and "line 3" in message and "'abc'" in message


def test_missing_value_and_header(cms_dir):
    path = cms_dir / "cms_csvs" / "dimuon_invariant_mass.csv"
    rewrite(path, ["mass", *csv_lines(path)])
    message = read_error(cms_dir)
    assert str(path) in message and "line 1 ('mass')" in message
    path = cms_dir / "cms_csvs" / "muon_phis.csv"
    lines = csv_lines(path)
    lines[1] = lines[1].split(",")[0] + ","
    rewrite(path, lines)
    rewrite(cms_dir / "cms_csvs" / "dimuon_invariant_mass.csv", ["90.0"] * 6)
    message = read_error(cms_dir)
    assert str(path) in message and "'mu2_phi'" in message and "line 2 (nan)" in message


def test_row_count_mismatch(cms_dir):
    path = cms_dir / "cms_csvs" / "muon_phis.csv"
    rewrite(path, csv_lines(path)[:-1])
    message = read_error(cms_dir)
    assert str(path) in message and "5 rows" in message and "has 6" in message


def test_charges_must_be_plus_or_minus_one(cms_dir):
    path = cms_dir / "cms_csvs" / "muon_charges.csv"
    lines = csv_lines(path)
    lines[1] = "1,0"
    rewrite(path, lines)
    message = read_error(cms_dir)
    assert str(path) in message
    assert "'mu2_charge'" in message and "line 2 (0)" in message and "-1 or +1" in message


def test_muon_pt_must_be_positive(cms_dir):
    path = cms_dir / "cms_csvs" / "muon_pTs.csv"
    lines = csv_lines(path)
    lines[4] = "0," + lines[4].split(",")[1]
    rewrite(path, lines)
    message = read_error(cms_dir)
    assert str(path) in message and "'mu1_pt'" in message and "line 5 (0.0)" in message


def test_missing_and_empty_files(cms_dir):
    path = cms_dir / "cms_csvs" / "muon_charges.csv"
    path.write_text("")
    assert f"{path}: empty" in read_error(cms_dir)
    path.unlink()
    assert f"{path}: file not found" in read_error(cms_dir)


# --------------------------------------------------------------------------- LMDB errors


def test_missing_key(cms_dir):
    edit_db(cms_dir / "pfn", delete=[b"3"])
    message = read_error(cms_dir)
    assert str(cms_dir / "pfn") in message and "key b'3' missing" in message


def test_key_without_an_event(cms_dir):
    edit_db(cms_dir / "iso", put=[(b"6", np.zeros(18).tobytes())])
    message = read_error(cms_dir)
    assert str(cms_dir / "iso") in message and "key b'6' has no event" in message


def test_key_that_is_no_index(cms_dir):
    edit_db(cms_dir / "pfn", put=[(b"x1", np.zeros((N_SLOTS, 4)).tobytes())])
    message = read_error(cms_dir)
    assert str(cms_dir / "pfn") in message and "key b'x1' is not an event index" in message


def test_value_of_wrong_length(cms_dir):
    edit_db(cms_dir / "iso", put=[(b"2", np.zeros(17).tobytes())])
    message = read_error(cms_dir)
    assert str(cms_dir / "iso") in message
    assert "key b'2' holds 136 bytes; expected 144 (float64 18)" in message
    edit_db(cms_dir / "iso", put=[(b"2", np.zeros(18).tobytes())])
    edit_db(cms_dir / "pfn", put=[(b"4", np.zeros((128, 3)).tobytes())])
    message = read_error(cms_dir)
    assert str(cms_dir / "pfn") in message and "key b'4' holds 3072 bytes" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -1.0])
def test_bad_particle_values(cms_dir, bad):
    env = lmdb.open(str(cms_dir / "pfn"), readonly=True, lock=False)
    with env.begin() as txn:
        value = np.frombuffer(txn.get(b"1")).reshape(N_SLOTS, 4).copy()
    env.close()
    feature = 0 if bad == -1.0 else 2
    value[60, feature] = bad  # a padding slot: a NaN there must not hide behind the mask
    edit_db(cms_dir / "pfn", put=[(b"1", value.tobytes())])
    message = read_error(cms_dir)
    name = "'pt'" if feature == 0 else "'d_phi'"
    assert str(cms_dir / "pfn") in message and f"key b'1' slot 60 {name}" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_isolation_values(cms_dir, bad):
    value = np.full(18, 0.1)
    value[7] = bad
    edit_db(cms_dir / "iso", put=[(b"4", value.tobytes())])
    message = read_error(cms_dir)
    assert str(cms_dir / "iso") in message
    assert f"isolation '{ISO_COLUMNS[7]}'" in message and "key 4" in message


def test_missing_or_broken_database(cms_dir):
    (cms_dir / "iso" / "data.mdb").write_bytes(b"not lmdb")
    assert f"{cms_dir / 'iso'}: not an LMDB database" in read_error(cms_dir)
    for path in (cms_dir / "iso").iterdir():
        path.unlink()
    (cms_dir / "iso").rmdir()
    assert f"{cms_dir / 'iso'}: no such LMDB database" in read_error(cms_dir)


def test_single_file_database_is_read(tmp_path, cms_dir):
    """The original opens the databases with subdir=os.path.isdir(path): a file works too."""
    (tmp_path / "copy").mkdir()
    env = lmdb.open(str(cms_dir / "iso"), readonly=True, lock=False)
    env.copy(str(tmp_path / "copy"))
    env.close()
    for path in (cms_dir / "iso").iterdir():
        path.unlink()
    (cms_dir / "iso").rmdir()
    (tmp_path / "copy" / "data.mdb").rename(cms_dir / "iso")
    np.testing.assert_array_equal(
        read_cms(cms_dir).cols(ISO_COLUMNS), cms_table().cols(ISO_COLUMNS)
    )


# --------------------------------------------------------------------------- writer


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    table = cms_table()
    table.data[2, table.columns.index(ISO_COLUMNS[3])] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        write_cms(tmp_path / "out", table)
    assert list(tmp_path.iterdir()) == []

    calls = []

    def fail_second(path, values):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        original(path, values)

    original = readers._write_lmdb
    monkeypatch.setattr(readers, "_write_lmdb", fail_second)
    with pytest.raises(OSError, match="disk full"):
        write_cms(tmp_path / "out", cms_table())
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []


def test_writer_refuses_what_the_layout_cannot_hold(tmp_path):
    table = cms_table()
    table.particles[1, 0, 0] = 0.0  # a real particle with pT = 0 would read back as padding
    with pytest.raises(ValueError, match="pt_rel > 0"):
        write_cms(tmp_path / "a", table)
    with pytest.raises(ValueError, match="particles"):
        write_cms(tmp_path / "b", EventTable(cms_table().data, list(TABLE_COLUMNS)))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("")
    with pytest.raises(FileExistsError):
        write_cms(tmp_path / "c", cms_table())
    (tmp_path / "d").mkdir()
    write_cms(tmp_path / "d", cms_table())  # an empty folder is fine
    assert len(read_cms(tmp_path / "d")) == 6
