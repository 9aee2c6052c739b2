"""Event tables in HDF5 (h5py): named columns, optional weights, labels and particles with their
mask, and provenance attributes (the generating seed, the config's hash, the package version).

Writes are atomic; non-finite values are refused before they reach a file; every reader error
names the file and the dataset.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import hepflows
from hepflows.core.events import EventTable, as_mask
from hepflows.core.io import (
    FINITE,
    TRUTH_LABEL,
    DataError,
    PathLike,
    _dumps,
    _one_line,
    atomic_output,
    refuse_bad_values,
)

# File attributes written by write_table itself; extra_attrs may not shadow them.
_RESERVED_ATTRS = frozenset({"seed", "config_hash", "hepflows_version", "columns"})
# Hidden file attribute listing which attrs were stored as JSON strings.
_JSON_KEYS_ATTR = "_hepflows_json_attrs"
# Target size of one compressed chunk of the particle datasets: large enough for gzip to pay
# off, small enough that reading a slice of events does not decompress the whole file.
_CHUNK_BYTES = 1 << 20


# --------------------------------------------------------------------------- HDF5 tables


def _nonfinite_columns(data: np.ndarray, columns: Sequence[str]) -> list[tuple[str, int]]:
    bad = (~np.isfinite(data)).sum(axis=0)
    return [(columns[j], int(bad[j])) for j in np.flatnonzero(bad)]


def _nonfinite_particles(
    particles: np.ndarray, mask: np.ndarray, columns: Sequence[str]
) -> list[tuple[str, int]]:
    """Non-finite counts per particle feature, in real slots only (padding may be NaN)."""
    bad = (~np.isfinite(particles) & mask[:, :, None]).sum(axis=(0, 1))
    return [(columns[j], int(bad[j])) for j in np.flatnonzero(bad)]


def _compression(arr: np.ndarray) -> dict[str, Any]:
    """gzip settings for a per-event array: zero padding compresses to almost nothing."""
    per_event = arr[:1].nbytes
    if arr.size == 0 or per_event == 0:  # h5py cannot chunk an empty dataset
        return {}
    rows = min(len(arr), max(1, _CHUNK_BYTES // per_event))
    return {
        "chunks": (rows, *arr.shape[1:]),
        "compression": "gzip",
        "compression_opts": 4,
        "shuffle": True,
    }


def _attr_value(value: Any) -> tuple[Any, bool]:
    """HDF5-storable form of an attribute value and whether it was JSON-encoded."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value, False
    return _dumps(value, sort_keys=True), True


def write_table(
    path: PathLike,
    table: EventTable,
    *,
    seed: int | None,
    config_hash: str,
    extra_attrs: dict[str, Any] | None = None,
) -> None:
    """Write an EventTable to HDF5 atomically, with provenance attributes.

    Non-finite data or weights are refused here so they never reach a later step.
    Particles go to the gzip-compressed datasets ``particles`` (attribute ``columns``) and
    ``mask``; padding slots are written as 0 whatever they held, so files are reproducible
    and a reader that forgets the mask sees zeros rather than garbage.
    """
    path = Path(path)
    bad = _nonfinite_columns(table.data, table.columns)
    if bad:
        detail = ", ".join(f"{c!r} ({k})" for c, k in bad)
        raise DataError(f"{path}: refusing to write non-finite values in column(s) {detail}")
    particles = None
    if table.particles is not None:
        assert table.mask is not None and table.particle_columns is not None
        bad = _nonfinite_particles(table.particles, table.mask, table.particle_columns)
        if bad:
            detail = ", ".join(f"{c!r} ({k})" for c, k in bad)
            raise DataError(
                f"{path}: refusing to write non-finite values in real particle slots of "
                f"particle feature(s) {detail}"
            )
        particles = np.where(table.mask[:, :, None], table.particles, 0).astype(
            table.particles.dtype, copy=False
        )
    for name, arr in (("weights", table.weights), ("labels", table.labels)):
        if arr is not None and arr.dtype.kind == "f":
            n_bad = int((~np.isfinite(arr)).sum())
            if n_bad:
                raise DataError(f"{path}: refusing to write {n_bad} non-finite {name}")

    attrs: dict[str, Any] = {
        "seed": -1 if seed is None else int(seed),
        "config_hash": str(config_hash),
        "hepflows_version": hepflows.__version__,
    }
    json_keys: list[str] = []
    for key, value in (extra_attrs or {}).items():
        key = str(key)
        if key in _RESERVED_ATTRS or key == _JSON_KEYS_ATTR:
            raise ValueError(f"extra_attrs key {key!r} is reserved")
        attrs[key], encoded = _attr_value(value)
        if encoded:
            json_keys.append(key)

    dtype = np.float32 if table.data.dtype == np.float32 else np.float64
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        ds = f.create_dataset("data", data=np.asarray(table.data, dtype=dtype))
        ds.attrs["columns"] = np.array(table.columns, dtype=h5py.string_dtype())
        if table.weights is not None:
            f.create_dataset("weights", data=table.weights)
        if table.labels is not None:
            f.create_dataset("labels", data=table.labels)
        if particles is not None:
            ds = f.create_dataset("particles", data=particles, **_compression(particles))
            ds.attrs["columns"] = np.array(table.particle_columns, dtype=h5py.string_dtype())
            f.create_dataset("mask", data=table.mask, **_compression(table.mask))
        for key, value in attrs.items():
            f.attrs[key] = value
        f.attrs[_JSON_KEYS_ATTR] = np.array(json_keys, dtype=h5py.string_dtype())


def _decode_str(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _decode_attr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [_decode_attr(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_table(
    path: PathLike,
    *,
    columns: Sequence[str] | None = None,
    require_weights: bool = False,
    require_labels: bool = False,
    particles: bool = True,
    rows: slice | None = None,
) -> EventTable:
    """Read an EventTable written by :func:`write_table`, validating everything.

    With ``columns`` only those are returned, in that order, and only those are
    checked for non-finite values. ``particles=False`` skips the particle datasets, which
    can be far larger than ``data``. Particles stored as float32 stay float32 in memory
    (they dominate the memory of a particle-level training). ``rows`` (a slice of events)
    reads only those events from disk: a job that works on one chunk of a large file.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "file not found"
        raise DataError(f"{path}: {what}")
    if columns is not None:
        if isinstance(columns, str):
            raise TypeError("columns must be a sequence of names, not a string")
        columns = [str(c) for c in columns]
        if len(set(columns)) != len(columns):
            raise ValueError(f"duplicate names in requested columns: {columns}")
    try:
        with h5py.File(path, "r") as f:
            table = _read_open(path, f, columns, require_weights, require_labels, rows)
            if particles:
                table = dataclasses.replace(table, **_read_particles(path, f, rows))
            return table
    except DataError:
        raise
    except (OSError, RuntimeError, KeyError) as exc:
        raise DataError(f"{path}: cannot be read as HDF5 ({_one_line(exc)})") from None


def table_columns(path: PathLike) -> list[str]:
    """The column names of a table file, without reading its data (e.g. to find which of
    several files holds a column)."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            ds = f.get("data")
            raw = None if ds is None else ds.attrs.get("columns", f.attrs.get("columns"))
    except (OSError, RuntimeError) as exc:
        raise DataError(f"{path}: cannot be read as HDF5 ({_one_line(exc)})") from None
    if raw is None:
        raise DataError(f"{path}: no dataset 'data' with an attribute 'columns'")
    return [_decode_str(c) for c in np.atleast_1d(np.asarray(raw, dtype=object))]


def _read_open(
    path: Path,
    f: h5py.File,
    columns: list[str] | None,
    require_weights: bool,
    require_labels: bool,
    rows: slice | None = None,
) -> EventTable:
    ds = f.get("data")
    if not isinstance(ds, h5py.Dataset):
        raise DataError(f"{path}: dataset 'data' missing (expected an (n_events, n_columns) array)")
    if ds.ndim != 2:
        raise DataError(f"{path}: dataset 'data' must be 2-D, got shape {ds.shape}")
    if ds.dtype.kind not in "fiu":
        raise DataError(f"{path}: dataset 'data' must be numeric, got dtype {ds.dtype}")
    raw_cols = ds.attrs.get("columns", f.attrs.get("columns"))
    if raw_cols is None:
        raise DataError(f"{path}: attribute 'columns' missing (expected a list of column names)")
    file_cols = [_decode_str(c) for c in np.atleast_1d(np.asarray(raw_cols, dtype=object))]
    n, k = ds.shape
    if len(file_cols) != k:
        raise DataError(
            f"{path}: attribute 'columns' has {len(file_cols)} names "
            f"but dataset 'data' has {k} columns"
        )
    if len(set(file_cols)) != k:
        raise DataError(f"{path}: attribute 'columns' has duplicate names")

    wanted = file_cols if columns is None else columns
    missing = [c for c in wanted if c not in file_cols]
    if missing:
        raise DataError(f"{path}: column {missing[0]!r} missing; available: {', '.join(file_cols)}")
    part = _rows(rows, n)
    if not wanted:  # columns=[]: only attrs/weights/labels wanted, skip the big read
        data = np.empty((len(range(n)[part]), 0))
    else:
        index = [file_cols.index(c) for c in wanted]
        if len(wanted) < k // 4:  # a few columns of a wide table: read only them from disk
            order = np.argsort(index)
            sub = np.asarray(ds[part, np.asarray(index)[order].tolist()], dtype=np.float64)
            data = sub[:, np.argsort(order)]
        else:
            data = np.asarray(ds[part], dtype=np.float64)
            if wanted != file_cols:
                data = data[:, index]
    refuse_bad_values(path, wanted, data, np.isfinite(data), FINITE)

    weights = _read_vector(path, f, "weights", n, require_weights, np.float64, part)
    labels = _read_vector(path, f, "labels", n, require_labels, None, part)

    json_keys = {_decode_str(k) for k in np.atleast_1d(f.attrs.get(_JSON_KEYS_ATTR, []))}
    attrs: dict[str, Any] = {}
    for key, value in f.attrs.items():
        if key == _JSON_KEYS_ATTR:
            continue
        value = _decode_attr(value)
        if key in json_keys:
            try:
                value = json.loads(value)
            except (TypeError, json.JSONDecodeError):
                raise DataError(f"{path}: attribute {key!r} is not valid JSON") from None
        attrs[key] = value

    return EventTable(
        data=data,
        columns=list(wanted),
        weights=weights,
        labels=labels,
        attrs=attrs,
        source=str(path),
    )


def _rows(rows: slice | None, n: int) -> slice:
    """The events of ``rows`` as a slice with step 1 (HDF5 reads it as one hyperslab)."""
    if rows is None:
        return slice(0, n)
    if not isinstance(rows, slice) or rows.step not in (None, 1):
        raise ValueError(f"rows must be a slice with step 1, got {rows!r}")
    start, stop, _ = rows.indices(n)
    return slice(start, max(start, stop))


def _read_particles(path: Path, f: h5py.File, rows: slice | None) -> dict[str, Any]:
    """The validated particle fields of an EventTable; empty if the file has none."""
    ds, mask_ds = f.get("particles"), f.get("mask")
    n = f["data"].shape[0]
    if ds is None and mask_ds is None:
        return {}
    if ds is None:
        raise DataError(f"{path}: dataset 'mask' present but dataset 'particles' missing")
    if not isinstance(ds, h5py.Dataset) or ds.ndim != 3 or ds.shape[0] != n:
        shape = getattr(ds, "shape", "a group")
        raise DataError(
            f"{path}: dataset 'particles' must have shape ({n}, n_slots, n_features), got {shape}"
        )
    if ds.dtype.kind not in "fiu":
        raise DataError(f"{path}: dataset 'particles' must be numeric, got dtype {ds.dtype}")
    raw_cols = ds.attrs.get("columns")
    if raw_cols is None:
        raise DataError(
            f"{path}: dataset 'particles' has no attribute 'columns' "
            f"(expected {ds.shape[2]} particle feature names)"
        )
    names = [_decode_str(c) for c in np.atleast_1d(np.asarray(raw_cols, dtype=object))]
    if len(names) != ds.shape[2] or len(set(names)) != len(names):
        raise DataError(
            f"{path}: attribute 'columns' of dataset 'particles' must hold {ds.shape[2]} "
            f"distinct names, got {names}"
        )
    slots = ds.shape[:2]
    if mask_ds is None:
        raise DataError(
            f"{path}: dataset 'mask' missing (required with 'particles', shape {slots})"
        )
    if not isinstance(mask_ds, h5py.Dataset) or mask_ds.shape != slots:
        shape = getattr(mask_ds, "shape", "a group")
        raise DataError(f"{path}: dataset 'mask' must have shape {slots}, got {shape}")
    if mask_ds.dtype.kind not in "biu":
        raise DataError(f"{path}: dataset 'mask' must be boolean or 0/1, got dtype {mask_ds.dtype}")
    part = _rows(rows, n)
    try:
        mask = np.asarray(mask_ds[part])
        mask = as_mask(mask, mask.shape)
    except ValueError:
        raise DataError(f"{path}: dataset 'mask' must hold only 0/1 values") from None
    dtype = np.float32 if ds.dtype == np.float32 else np.float64
    values = np.asarray(ds[part], dtype=dtype)
    # Per event and feature: finite in every real slot (padding may hold anything). The value
    # shown is the event's first bad slot of that feature.
    ok = np.isfinite(values) | ~mask[:, :, None]
    first = np.argmin(ok, axis=1)
    shown = np.take_along_axis(values, first[:, None, :], axis=1)[:, 0, :]
    refuse_bad_values(
        path, names, shown, ok.all(axis=1), f"{FINITE} in every real slot",
        what="particle feature", row="event",
    )  # fmt: skip
    return {"particles": values, "mask": mask, "particle_columns": names}


def _read_vector(
    path: Path,
    f: h5py.File,
    name: str,
    n: int,
    required: bool,
    dtype: type | None,
    part: slice | None = None,
) -> np.ndarray | None:
    ds = f.get(name)
    if ds is None:
        if required:
            raise DataError(f"{path}: dataset {name!r} missing (required, shape ({n},))")
        return None
    if not isinstance(ds, h5py.Dataset) or ds.shape != (n,):
        shape = getattr(ds, "shape", "a group")
        raise DataError(f"{path}: dataset {name!r} must have shape ({n},), got {shape}")
    if ds.dtype.kind not in "fiub":
        raise DataError(f"{path}: dataset {name!r} must be numeric, got dtype {ds.dtype}")
    arr = np.asarray(ds[part if part is not None else ()], dtype=dtype)
    if name == "labels":
        ok, expected = np.isin(arr, (0, 1)), TRUTH_LABEL  # truth: signal or background
    else:
        ok, expected = np.isfinite(arr), FINITE
    refuse_bad_values(path, [name], arr[:, None], ok[:, None], expected, what="dataset")
    return arr
