"""Readers of the real formats, on small files in exactly those layouts written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepflows.ad.readers import LHCO_COLUMNS, read_lhco, read_nonres_text
from hepflows.core.io import DataError


def lhco_frame(n: int = 6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {}
    for jet, sign in ((1, 1.0), (2, -1.0)):
        cols[f"pxj{jet}"] = sign * rng.uniform(1200, 1600, n)
        cols[f"pyj{jet}"] = rng.normal(0, 50, n)
        cols[f"pzj{jet}"] = rng.normal(0, 800, n)
        cols[f"mj{jet}"] = rng.uniform(20, 600, n)
        cols[f"tau1j{jet}"] = rng.uniform(0.3, 0.9, n)
        cols[f"tau2j{jet}"] = cols[f"tau1j{jet}"] * rng.uniform(0.1, 0.9, n)
        cols[f"tau3j{jet}"] = cols[f"tau2j{jet}"] * rng.uniform(0.3, 0.9, n)
    cols["label"] = np.array([0, 1] * (n // 2), dtype=float)
    return pd.DataFrame(cols)[list(LHCO_COLUMNS)]


def test_lhco_reader_computes_the_dijet_mass_and_the_four_features(tmp_path):
    frame = lhco_frame()
    path = tmp_path / "events_anomalydetection.features.h5"
    frame.to_hdf(path, key="df")
    table = read_lhco(path)
    assert table.columns == ["m_jj", "m_jmin", "dm_j", "tau21_jmin", "tau21_jmax"]
    np.testing.assert_array_equal(table.labels, [0, 1, 0, 1, 0, 1])
    # One event by hand, in TeV.
    r = frame.iloc[0]
    p1 = np.array([r.pxj1, r.pyj1, r.pzj1])
    p2 = np.array([r.pxj2, r.pyj2, r.pzj2])
    e = np.sqrt(p1 @ p1 + r.mj1**2) + np.sqrt(p2 @ p2 + r.mj2**2)
    m_jj = np.sqrt(e**2 - (p1 + p2) @ (p1 + p2)) / 1000
    light, heavy = (1, 2) if r.mj1 <= r.mj2 else (2, 1)
    expected = [
        m_jj,
        min(r.mj1, r.mj2) / 1000,
        abs(r.mj1 - r.mj2) / 1000,
        r[f"tau2j{light}"] / r[f"tau1j{light}"],
        r[f"tau2j{heavy}"] / r[f"tau1j{heavy}"],
    ]
    np.testing.assert_allclose(table.data[0], expected, rtol=1e-12)
    assert 2.0 < m_jj < 4.0


def test_lhco_reader_reads_the_table_format_and_guards_tau1_zero(tmp_path):
    frame = lhco_frame()
    frame.loc[2, "tau1j1"] = 0.0
    path = tmp_path / "table.h5"
    frame.to_hdf(path, key="df", format="table")
    table = read_lhco(path)
    assert np.isfinite(table.data).all()
    assert 0.0 in table.data[2, 3:]


def test_lhco_reader_names_missing_columns(tmp_path):
    path = tmp_path / "old.h5"
    lhco_frame().drop(columns=["tau3j2", "mj1"]).to_hdf(path, key="df")
    with pytest.raises(DataError, match=r"old.h5: missing columns \['mj1', 'tau3j2'\]"):
        read_lhco(path)


def test_lhco_reader_names_the_wrong_key(tmp_path):
    path = tmp_path / "keyed.h5"
    lhco_frame().to_hdf(path, key="events")
    with pytest.raises(
        DataError, match=r"keyed.h5: no table under key 'df'; the file has \['events'\]"
    ):
        read_lhco(path)
    assert len(read_lhco(path, key="events")) == 6


def test_lhco_reader_rejects_a_file_that_is_not_pandas_hdf5(tmp_path):
    path = tmp_path / "broken.h5"
    path.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(DataError, match="broken.h5: not a pandas HDF5 file"):
        read_lhco(path)
    with pytest.raises(DataError, match="absent.h5: no such file"):
        read_lhco(tmp_path / "absent.h5")


NONRES_HEADER = (
    "j1_pt j1_eta j1_phi j2_pt j2_eta j2_phi m_jj tau21_j1 tau21_j2 tau32_j1 tau32_j2 "
    "met phi_met min_dPhi ht"
)


def write_nonres(path: Path, rows: np.ndarray, header: str = NONRES_HEADER) -> None:
    lines = [header] + [" ".join(f"{v:.6g}" for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def nonres_rows(n: int = 4) -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.column_stack(
        [
            rng.uniform(300, 900, n), rng.normal(0, 1, n), rng.uniform(-3, 3, n),
            rng.uniform(200, 700, n), rng.normal(0, 1, n), rng.uniform(-3, 3, n),
            rng.uniform(400, 1500, n), rng.uniform(0.2, 0.9, (n, 4)).T,
            rng.uniform(5, 200, n), rng.uniform(-3, 3, n), rng.uniform(0, 3, n),
            rng.uniform(500, 1500, n),
        ]
    )  # fmt: skip


def test_nonres_text_reader_keeps_the_seven_columns_by_name(tmp_path):
    rows = nonres_rows()
    path = tmp_path / "qcd.txt"
    write_nonres(path, rows)
    table = read_nonres_text(path)
    assert table.columns == ["ht", "met", "m_jj", "tau21_j1", "tau21_j2", "tau32_j1", "tau32_j2"]
    header = NONRES_HEADER.split()
    order = [header.index(c) for c in table.columns]
    np.testing.assert_allclose(table.data, rows[:, order], rtol=1e-5)


def test_nonres_text_reader_maps_other_header_names(tmp_path):
    path = tmp_path / "renamed.txt"
    write_nonres(path, nonres_rows(), NONRES_HEADER.replace(" ht", " HT").replace("met ", "MET "))
    with pytest.raises(DataError, match=r"renamed.txt: missing header columns \['ht', 'met'\]"):
        read_nonres_text(path)
    table = read_nonres_text(path, columns={"ht": "HT", "met": "MET"})
    assert table.data.shape == (4, 7)


def test_nonres_text_reader_names_bad_values(tmp_path):
    rows = nonres_rows()
    path = tmp_path / "nan.txt"
    write_nonres(path, rows)
    text = path.read_text().splitlines()
    fields = text[3].split()
    fields[12 - 1] = "nan"  # met of data row 3
    text[3] = " ".join(fields)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(
        DataError,
        match=r"nan.txt: column 'met' has 1 bad value\(s\), first at data row 3 \(nan\)",
    ):
        read_nonres_text(path)


class _RunsCode:
    """Unpickling this creates ``marker`` (a stand-in for any command a tampered file could run)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_an_object_column_is_refused_and_nothing_runs(tmp_path):
    """PyTables unpickles object columns on read (pd.read_hdf would create the marker)."""
    marker = tmp_path / "ran"
    frame = lhco_frame()
    frame["note"] = [_RunsCode(marker)] * len(frame)
    path = tmp_path / "tampered.h5"
    with pytest.warns(pd.errors.PerformanceWarning):
        frame.to_hdf(path, key="df")  # pickles the objects
    marker.unlink(missing_ok=True)
    with pytest.raises(DataError, match=r"tampered.h5: column\(s\) \['note'\] .* Python objects"):
        read_lhco(path)
    assert not marker.exists()


def test_pickled_table_metadata_is_refused_and_nothing_runs(tmp_path):
    """The table layout keeps its column names as a pickled list; a tampered one is refused."""
    import pickle

    import h5py

    marker = tmp_path / "ran"
    path = tmp_path / "table.h5"
    lhco_frame().to_hdf(path, key="df", format="table")
    with h5py.File(path, "r+") as f:
        evil = np.bytes_(pickle.dumps(_RunsCode(marker), protocol=0))
        f["df/table"].attrs["values_block_0_kind"] = evil
    with pytest.raises(DataError, match="values_block_0_kind is not a list of column names"):
        read_lhco(path)
    assert not marker.exists()
