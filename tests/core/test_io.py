"""Tests for hepflows.core.io: HDF5 tables, atomic writes, JSON/CSV helpers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import hepflows
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import (
    DataError,
    atomic_output,
    config_hash,
    read_json,
    resume_key,
    write_csv,
    write_json,
)


@pytest.fixture
def table() -> EventTable:
    rng = np.random.default_rng(1)
    return EventTable(
        data=rng.normal(size=(50, 3)),
        columns=["m_jj", "pt_j1", "eta_j1"],
        weights=rng.uniform(0.5, 2.0, size=50),
        labels=rng.integers(0, 2, size=50),
    )


def _files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


# --------------------------------------------------------------------------- EventTable


def test_table_validation_errors():
    with pytest.raises(ValueError, match="2-D"):
        EventTable(np.zeros(4), ["a"])
    with pytest.raises(ValueError, match="2 column names for data with 3 columns"):
        EventTable(np.zeros((4, 3)), ["a", "b"])
    with pytest.raises(ValueError, match="duplicate column names: a"):
        EventTable(np.zeros((4, 2)), ["a", "a"])
    with pytest.raises(ValueError, match=r"weights must have shape \(4,\)"):
        EventTable(np.zeros((4, 1)), ["a"], weights=np.ones(3))
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        EventTable(np.zeros((4, 1)), ["a"], labels=np.ones((4, 1)))


def test_table_dtypes():
    assert EventTable(np.zeros((2, 1), dtype=np.int32), ["a"]).data.dtype == np.float64
    assert EventTable(np.zeros((2, 1), dtype=np.float32), ["a"]).data.dtype == np.float32
    t = EventTable(np.zeros((2, 1)), ["a"], labels=np.array([True, False]))
    assert t.labels.dtype == np.int64


def test_col_cols_and_missing_column(table):
    assert len(table) == 50
    np.testing.assert_array_equal(table.col("pt_j1"), table.data[:, 1])
    sub = table.cols(["eta_j1", "m_jj"])
    assert sub.shape == (50, 2)
    np.testing.assert_array_equal(sub, table.data[:, [2, 0]])
    with pytest.raises(DataError, match="column 'mjj' missing; available: m_jj, pt_j1, eta_j1"):
        table.col("mjj")
    with pytest.raises(TypeError):
        table.cols("m_jj")


def test_select_mask_and_indices(table):
    mask = table.col("m_jj") > 0
    sel = table.select(mask)
    assert len(sel) == mask.sum()
    np.testing.assert_array_equal(sel.data, table.data[mask])
    np.testing.assert_array_equal(sel.weights, table.weights[mask])
    np.testing.assert_array_equal(sel.labels, table.labels[mask])
    table.attrs["seed"] = 3
    by_idx = table.select(np.array([4, 0, 4]))
    np.testing.assert_array_equal(by_idx.data, table.data[[4, 0, 4]])
    assert by_idx.attrs == {"seed": 3}
    assert len(table.select(np.array([], dtype=int))) == 0
    with pytest.raises(ValueError, match="boolean mask has shape"):
        table.select(np.ones(3, dtype=bool))


def test_with_weights(table):
    w = np.full(len(table), 2.0)
    t2 = table.with_weights(w)
    np.testing.assert_array_equal(t2.weights, w)
    assert t2.data is table.data
    assert table.weights[0] != 2.0  # original untouched
    with pytest.raises(ValueError, match="weights must have shape"):
        table.with_weights(np.ones(3))


def test_concat_weights_labels_and_column_order(table):
    a = table.select(np.arange(10))
    b = EventTable(a.data[:, ::-1].copy(), a.columns[::-1], labels=a.labels)  # no weights
    out = EventTable.concat([a, b])
    assert out.columns == a.columns
    np.testing.assert_array_equal(out.data, np.concatenate([a.data, a.data]))
    np.testing.assert_array_equal(out.weights[10:], np.ones(10))
    np.testing.assert_array_equal(out.weights[:10], a.weights)
    np.testing.assert_array_equal(out.labels, np.concatenate([a.labels, a.labels]))

    no_w = EventTable.concat([b, b])
    assert no_w.weights is None
    with pytest.raises(ValueError, match="no labels"):
        EventTable.concat([a, EventTable(a.data, a.columns)])
    with pytest.raises(ValueError, match="table 1 has columns"):
        EventTable.concat([a, EventTable(a.data, ["x", "y", "z"])])
    with pytest.raises(ValueError, match="at least one"):
        EventTable.concat([])


def test_concat_keeps_common_attrs():
    a = EventTable(np.zeros((1, 1)), ["x"], attrs={"process": "qcd", "seed": 1})
    b = EventTable(np.ones((2, 1)), ["x"], attrs={"process": "qcd", "seed": 2})
    assert EventTable.concat([a, b]).attrs == {"process": "qcd"}


# --------------------------------------------------------------------------- HDF5 round trip


def test_the_same_table_writes_the_same_bytes(tmp_path, table):
    """A rerun of a step reproduces its files byte for byte: no time of writing inside."""
    write_table(tmp_path / "a.h5", table, seed=7, config_hash="abc123")
    time.sleep(1.1)  # a time stamp to the second would now differ
    write_table(tmp_path / "b.h5", table, seed=7, config_hash="abc123")
    assert (tmp_path / "a.h5").read_bytes() == (tmp_path / "b.h5").read_bytes()


def test_write_read_round_trip(tmp_path, table):
    path = tmp_path / "sub" / "dir" / "events.h5"
    extra = {"process": "qcd", "lumi": 139.0, "n_gen": np.int64(5), "cuts": {"pt": [20, 30]}}
    write_table(path, table, seed=7, config_hash="abc123", extra_attrs=extra)
    assert _files(path.parent) == ["events.h5"]  # no temp files left over

    back = read_table(path)
    assert back.columns == table.columns
    assert back.data.dtype == np.float64
    np.testing.assert_array_equal(back.data, table.data)
    np.testing.assert_array_equal(back.weights, table.weights)
    np.testing.assert_array_equal(back.labels, table.labels)
    assert back.attrs["seed"] == 7
    assert back.attrs["config_hash"] == "abc123"
    assert back.attrs["hepflows_version"] == hepflows.__version__
    assert "created" not in back.attrs  # no wall-clock time: the same run writes the same bytes
    assert back.attrs["process"] == "qcd"
    assert back.attrs["lumi"] == 139.0
    assert back.attrs["n_gen"] == 5
    assert back.attrs["cuts"] == {"pt": [20, 30]}
    assert back.source == str(path)
    with pytest.raises(DataError, match=re.escape(f"{path}: column 'x' missing; available: m_jj")):
        back.col("x")


def test_write_layout_and_dtypes(tmp_path):
    t32 = EventTable(np.arange(6, dtype=np.float32).reshape(3, 2), ["a", "b"])
    write_table(tmp_path / "f32.h5", t32, seed=None, config_hash="h")
    with h5py.File(tmp_path / "f32.h5", "r") as f:
        assert f["data"].dtype == np.float32
        cols = [c.decode() if isinstance(c, bytes) else c for c in f["data"].attrs["columns"]]
        assert cols == ["a", "b"]
        assert f.attrs["seed"] == -1
        assert "weights" not in f and "labels" not in f
    back = read_table(tmp_path / "f32.h5")
    assert back.weights is None and back.labels is None
    np.testing.assert_array_equal(back.data, t32.data)

    t64 = EventTable(t32.data.astype(np.float64), ["a", "b"])
    write_table(tmp_path / "f64.h5", t64, seed=1, config_hash="h")
    with h5py.File(tmp_path / "f64.h5", "r") as f:
        assert f["data"].dtype == np.float64


def test_read_column_subset_in_order(tmp_path, table):
    path = tmp_path / "t.h5"
    write_table(path, table, seed=0, config_hash="h")
    sub = read_table(path, columns=["eta_j1", "m_jj"])
    assert sub.columns == ["eta_j1", "m_jj"]
    np.testing.assert_array_equal(sub.data, table.cols(["eta_j1", "m_jj"]))
    attrs_only = read_table(path, columns=[])  # cheap way to get provenance attrs
    assert attrs_only.data.shape == (50, 0) and attrs_only.attrs["seed"] == 0
    with pytest.raises(DataError) as err:
        read_table(path, columns=["m_jj", "x"])
    assert str(err.value) == f"{path}: column 'x' missing; available: m_jj, pt_j1, eta_j1"


def test_write_refuses_non_finite(tmp_path):
    data = np.zeros((5, 3))
    data[1, 0] = np.nan
    data[[2, 3], 2] = np.inf
    path = tmp_path / "bad.h5"
    with pytest.raises(DataError, match=r"bad\.h5: .*column\(s\) 'a' \(1\), 'c' \(2\)"):
        write_table(path, EventTable(data, ["a", "b", "c"]), seed=0, config_hash="h")
    w = np.ones(5)
    w[0] = np.nan
    with pytest.raises(DataError, match=r"bad\.h5: refusing to write 1 non-finite weights"):
        write_table(path, EventTable(np.zeros((5, 1)), ["a"], weights=w), seed=0, config_hash="h")
    assert _files(tmp_path) == []


def test_write_rejects_reserved_extra_attr(tmp_path, table):
    with pytest.raises(ValueError, match="'seed' is reserved"):
        write_table(tmp_path / "t.h5", table, seed=0, config_hash="h", extra_attrs={"seed": 1})
    assert _files(tmp_path) == []


def test_write_failure_leaves_no_file_and_keeps_old(tmp_path, table, monkeypatch):
    path = tmp_path / "t.h5"
    write_table(path, table, seed=0, config_hash="old")

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(h5py.Group, "create_dataset", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_table(path, table, seed=1, config_hash="new")
    monkeypatch.undo()
    assert _files(tmp_path) == ["t.h5"]
    assert read_table(path).attrs["config_hash"] == "old"

    monkeypatch.setattr(h5py.Group, "create_dataset", boom)
    with pytest.raises(RuntimeError):
        write_table(tmp_path / "new.h5", table, seed=1, config_hash="new")
    assert _files(tmp_path) == ["t.h5"]


# --------------------------------------------------------------------------- read errors


def _write_raw(path: Path, **datasets) -> None:
    with h5py.File(path, "w") as f:
        for name, (arr, attrs) in datasets.items():
            ds = f.create_dataset(name, data=arr)
            for k, v in attrs.items():
                ds.attrs[k] = v


def test_read_missing_file(tmp_path):
    path = tmp_path / "nope.h5"
    with pytest.raises(DataError) as err:
        read_table(path)
    assert str(err.value) == f"{path}: file not found"


def test_read_not_hdf5_and_truncated(tmp_path, table):
    junk = tmp_path / "junk.h5"
    junk.write_text("this is not hdf5\n")
    with pytest.raises(DataError, match=r"junk\.h5: cannot be read as HDF5 \(") as err:
        read_table(junk)
    assert "\n" not in str(err.value)

    good = tmp_path / "good.h5"
    write_table(good, table, seed=0, config_hash="h")
    raw = good.read_bytes()
    trunc = tmp_path / "trunc.h5"
    trunc.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"trunc\.h5: cannot be read as HDF5"):
        read_table(trunc)


def test_read_structure_errors(tmp_path):
    cols = {"columns": ["a", "b"]}
    p = tmp_path / "x.h5"

    _write_raw(p, other=(np.zeros((3, 2)), cols))
    with pytest.raises(DataError, match=r"x\.h5: dataset 'data' missing"):
        read_table(p)

    _write_raw(p, data=(np.zeros((3, 2)), {}))
    with pytest.raises(DataError, match=r"x\.h5: attribute 'columns' missing"):
        read_table(p)

    _write_raw(p, data=(np.zeros(3), cols))
    with pytest.raises(DataError, match=r"x\.h5: dataset 'data' must be 2-D, got shape \(3,\)"):
        read_table(p)

    _write_raw(p, data=(np.zeros((3, 3)), cols))
    with pytest.raises(DataError, match="'columns' has 2 names but dataset 'data' has 3 columns"):
        read_table(p)

    _write_raw(p, data=(np.zeros((3, 2)), cols), weights=(np.ones(4), {}))
    with pytest.raises(DataError, match=r"x\.h5: dataset 'weights' must have shape \(3,\)"):
        read_table(p)


def test_read_non_finite_and_required(tmp_path):
    p = tmp_path / "nan.h5"
    data = np.zeros((6, 2))
    data[:3, 1] = np.nan
    _write_raw(p, data=(data, {"columns": ["a", "m_jj"]}))
    with pytest.raises(DataError) as err:
        read_table(p)
    assert str(err.value) == (
        f"{p}: column 'm_jj' has 3 bad value(s), first at row 0 (nan); expected a finite number"
    )
    assert len(read_table(p, columns=["a"])) == 6  # clean column still readable

    q = tmp_path / "plain.h5"
    _write_raw(q, data=(np.zeros((2, 1)), {"columns": ["a"]}))
    with pytest.raises(DataError, match=r"plain\.h5: dataset 'weights' missing"):
        read_table(q, require_weights=True)
    with pytest.raises(DataError, match=r"plain\.h5: dataset 'labels' missing"):
        read_table(q, require_labels=True)

    r = tmp_path / "nanw.h5"
    _write_raw(r, data=(np.zeros((2, 1)), {"columns": ["a"]}), weights=(np.array([1, np.inf]), {}))
    with pytest.raises(DataError, match=r"'weights' has 1 bad value\(s\), first at row 1"):
        read_table(r)


def test_read_columns_from_file_attribute(tmp_path):
    """Files from other tools may put 'columns' on the file rather than the dataset."""
    p = tmp_path / "ext.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("data", data=np.ones((2, 2), dtype=np.float32))
        f.attrs["columns"] = ["u", "v"]
    t = read_table(p)
    assert t.columns == ["u", "v"]
    assert t.data.dtype == np.float64


# ------------------------------------------------------------------- atomic_output, json, csv


def test_atomic_output_success_and_suffix(tmp_path):
    target = tmp_path / "plots" / "fig.pdf"
    with atomic_output(target) as tmp:
        assert tmp.parent == target.parent
        assert tmp.suffix == ".pdf"
        assert tmp.name.startswith(".fig.pdf.tmp-")
        assert not target.exists()
        tmp.write_bytes(b"%PDF")
    assert target.read_bytes() == b"%PDF"
    assert _files(target.parent) == ["fig.pdf"]


def test_atomic_output_failure_removes_temp(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(KeyError), atomic_output(target) as tmp:
        tmp.write_text("new")
        raise KeyError("fail")
    assert target.read_text() == "old"
    assert _files(tmp_path) == ["out.txt"]


def test_atomic_output_respects_umask(tmp_path):
    with atomic_output(tmp_path / "f.txt") as tmp:
        tmp.write_text("x")
    mode = (tmp_path / "f.txt").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_write_read_json(tmp_path):
    obj = {
        "b": np.float32(1.5),
        "a": np.arange(3),
        "nan": float("nan"),
        "inf": np.inf,
        "nested": [np.int64(2), {"x": np.bool_(True)}],
        "path": tmp_path / "p",
    }
    path = tmp_path / "o" / "obj.json"
    write_json(path, obj)
    text = path.read_text()
    assert text.index('"a"') < text.index('"b"')  # sorted keys
    assert "\n  " in text  # indented
    assert read_json(path) == {
        "a": [0, 1, 2],
        "b": 1.5,
        "inf": None,
        "nan": None,
        "nested": [2, {"x": True}],
        "path": str(tmp_path / "p"),
    }
    with pytest.raises(TypeError):
        write_json(tmp_path / "bad.json", {"x": object()})
    assert not (tmp_path / "bad.json").exists()
    assert _files(tmp_path) == ["o"]


def test_read_json_errors(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(DataError) as err:
        read_json(missing)
    assert str(err.value) == f"{missing}: file not found"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match=r"bad\.json: invalid JSON \(.*line 1"):
        read_json(bad)


def test_config_hash():
    h = config_hash({"a": 1, "b": [1.0, 2.0]})
    assert len(h) == 16 and int(h, 16) >= 0
    assert h == config_hash({"b": [1.0, 2.0], "a": 1})  # key order irrelevant
    assert h == config_hash({"a": np.int64(1), "b": np.array([1.0, 2.0])})  # numpy irrelevant
    assert h != config_hash({"a": 2, "b": [1.0, 2.0]})
    expected = json.dumps({"a": 1, "b": [1.0, 2.0]}, sort_keys=True, separators=(",", ":"))
    assert h == hashlib.sha256(expected.encode()).hexdigest()[:16]


def test_resume_key_changes_with_the_config_or_a_regenerated_input(tmp_path):
    """A checkpoint of a killed job is only resumed when nothing it was trained from changed."""
    data = tmp_path / "data.h5"
    data.write_bytes(b"events")
    key = resume_key({"epochs": 10}, [data])
    assert key == resume_key({"epochs": 10}, [data])
    assert key != resume_key({"epochs": 11}, [data])
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # rewritten, same bytes
    assert key != resume_key({"epochs": 10}, [data])
    with pytest.raises(FileNotFoundError):
        resume_key({"epochs": 10}, [tmp_path / "missing.h5"])


def test_write_csv(tmp_path):
    df = pd.DataFrame({"model": ["flow", "mlp"], "auc": [0.91, 0.88]})
    path = tmp_path / "res" / "scores.csv"
    write_csv(path, df)
    pd.testing.assert_frame_equal(pd.read_csv(path), df)
    assert _files(path.parent) == ["scores.csv"]


def test_read_table_rows_reads_one_chunk_of_events(tmp_path):
    """A job on one chunk of a large file reads only its events, particles included."""
    from hepflows.core.event_files import read_table, table_columns, write_table
    from hepflows.core.events import EventTable

    rng = np.random.default_rng(0)
    n = 50
    particles = rng.normal(size=(n, 6, 2)).astype(np.float32)
    mask = rng.random((n, 6)) < 0.5
    table = EventTable(
        rng.normal(size=(n, 3)), ["a", "b", "c"], weights=rng.random(n),
        labels=rng.integers(0, 2, n), particles=particles, mask=mask, particle_columns=["x", "y"],
    )  # fmt: skip
    path = tmp_path / "t.h5"
    write_table(path, table, seed=1, config_hash="h")
    part = read_table(path, rows=slice(10, 25), columns=["c", "a"])
    np.testing.assert_array_equal(part.data, table.data[10:25][:, [2, 0]])
    np.testing.assert_array_equal(part.weights, table.weights[10:25])
    np.testing.assert_array_equal(part.labels, table.labels[10:25])
    np.testing.assert_array_equal(part.mask, mask[10:25])
    np.testing.assert_array_equal(part.particles[part.mask], particles[10:25][mask[10:25]])
    assert len(read_table(path, rows=slice(45, 99))) == 5  # a slice past the end is cut
    assert table_columns(path) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="step 1"):
        read_table(path, rows=slice(0, 10, 2))


def test_read_table_few_columns_of_a_wide_table(tmp_path):
    """A few columns of a wide table (EFPs) are read on their own, in the order asked."""
    data = np.arange(60 * 40, dtype=np.float64).reshape(60, 40)
    cols = [f"c{i}" for i in range(40)]
    write_table(tmp_path / "w.h5", EventTable(data, cols), seed=None, config_hash="h")
    got = read_table(tmp_path / "w.h5", columns=["c30", "c2", "c17"], rows=slice(5, 9))
    np.testing.assert_array_equal(got.data, data[5:9][:, [30, 2, 17]])
