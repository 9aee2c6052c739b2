"""File formats shared by all workflow steps: HDF5 event tables, JSON, CSV.

Every writer is atomic (temp file in the same directory, then ``os.replace``) so an
interrupted Snakemake job never leaves a half-written output that looks complete.
Every reader fails with a one-line :class:`DataError` naming the file, so a broken
input is diagnosed from the log without a traceback hunt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

import hepflows

if TYPE_CHECKING:
    import pandas

PathLike = str | os.PathLike

# File attributes written by write_table itself; extra_attrs may not shadow them.
_RESERVED_ATTRS = frozenset({"seed", "config_hash", "hepflows_version", "created", "columns"})
# Hidden file attribute listing which attrs were stored as JSON strings.
_JSON_KEYS_ATTR = "_hepflows_json_attrs"


class DataError(ValueError):
    """Bad input file; message always names the file, the key and what was expected."""


# --------------------------------------------------------------------------- tables


@dataclass(eq=False)
class EventTable:
    """Events as a dense float matrix with named columns, optional weights and labels.

    ``data`` is float64 in memory unless it was given as float32 (kept so that
    :func:`write_table` can store float32 files without a silent upcast).
    ``source`` is only used to name the file in error messages.
    """

    data: np.ndarray
    columns: list[str]
    weights: np.ndarray | None = None
    labels: np.ndarray | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def __post_init__(self) -> None:
        data = np.asarray(self.data)
        if data.dtype != np.float32:
            data = data.astype(np.float64, copy=False)
        if data.ndim != 2:
            raise ValueError(f"data must be 2-D (n_events, n_columns), got shape {data.shape}")
        self.data = data
        self.columns = [str(c) for c in self.columns]
        if len(self.columns) != data.shape[1]:
            raise ValueError(
                f"{len(self.columns)} column names for data with {data.shape[1]} columns"
            )
        dupes = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate column names: {', '.join(dupes)}")
        n = data.shape[0]
        if self.weights is not None:
            self.weights = _check_1d(np.asarray(self.weights, dtype=np.float64), n, "weights")
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.dtype == bool:
                labels = labels.astype(np.int64)
            self.labels = _check_1d(labels, n, "labels")
        self.attrs = dict(self.attrs)

    def __len__(self) -> int:
        return self.data.shape[0]

    def _index(self, name: str) -> int:
        try:
            return self.columns.index(name)
        except ValueError:
            where = f"{self.source}: " if self.source else ""
            raise DataError(
                f"{where}column {name!r} missing; available: {', '.join(self.columns)}"
            ) from None

    def col(self, name: str) -> np.ndarray:
        """One column as a 1-D view."""
        return self.data[:, self._index(name)]

    def cols(self, names: Sequence[str]) -> np.ndarray:
        """Columns in the requested order, shape (n, len(names)); always a copy."""
        if isinstance(names, str):
            raise TypeError("cols() takes a sequence of names; use col() for one column")
        return self.data[:, [self._index(n) for n in names]]

    def select(self, mask: np.ndarray) -> EventTable:
        """Subset of events by boolean mask or integer index array."""
        idx = np.asarray(mask)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(f"boolean mask has shape {idx.shape}, expected ({len(self)},)")
        elif not np.issubdtype(idx.dtype, np.integer) and idx.size:
            raise TypeError(f"mask must be boolean or integer, got dtype {idx.dtype}")
        else:
            idx = idx.astype(np.intp, copy=False)
        return EventTable(
            data=self.data[idx],
            columns=list(self.columns),
            weights=None if self.weights is None else self.weights[idx],
            labels=None if self.labels is None else self.labels[idx],
            attrs=dict(self.attrs),
            source=self.source,
        )

    def with_weights(self, w: np.ndarray | None) -> EventTable:
        """Same events with new weights (data shared, not copied)."""
        return EventTable(
            data=self.data,
            columns=list(self.columns),
            weights=w,
            labels=self.labels,
            attrs=dict(self.attrs),
            source=self.source,
        )

    @staticmethod
    def concat(tables: Sequence[EventTable]) -> EventTable:
        """Stack events of tables with the same columns (reordered to the first table's).

        Weights missing from some (not all) tables are filled with 1.0. Labels missing
        from only some tables raise, because no fill value is a safe guess for truth.
        Only attrs equal across all tables are kept.
        """
        tables = list(tables)
        if not tables:
            raise ValueError("concat() needs at least one table")
        columns = tables[0].columns
        datas = []
        for i, t in enumerate(tables):
            if t.columns == columns:
                datas.append(t.data)
            elif sorted(t.columns) == sorted(columns):
                datas.append(t.cols(columns))
            else:
                raise ValueError(
                    f"table {i} has columns [{', '.join(t.columns)}], "
                    f"expected [{', '.join(columns)}]"
                )
        weights = None
        if any(t.weights is not None for t in tables):
            weights = np.concatenate(
                [t.weights if t.weights is not None else np.ones(len(t)) for t in tables]
            )
        has_labels = [t.labels is not None for t in tables]
        if any(has_labels) and not all(has_labels):
            missing = [i for i, h in enumerate(has_labels) if not h]
            raise ValueError(f"tables {missing} have no labels while others do")
        labels = np.concatenate([t.labels for t in tables]) if all(has_labels) else None
        attrs = {
            k: v
            for k, v in tables[0].attrs.items()
            if all(k in t.attrs and _same(t.attrs[k], v) for t in tables[1:])
        }
        return EventTable(
            data=np.concatenate(datas, axis=0),
            columns=list(columns),
            weights=weights,
            labels=labels,
            attrs=attrs,
        )


def _check_1d(arr: np.ndarray, n: int, what: str) -> np.ndarray:
    if arr.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), got {arr.shape}")
    return arr


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return False


# --------------------------------------------------------------------------- atomic writes


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}{path.suffix}")


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temp path next to ``path``; it replaces ``path`` only on clean exit.

    The temp name keeps the suffix so format-sniffing writers (matplotlib, numpy)
    still pick the right format.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = _tmp_name(path)
        try:
            # O_EXCL reserves the name; mode 0o666 lets the umask apply as for a normal file.
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:  # pragma: no cover - 32-bit token collision
            continue
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _jsonable(obj: Any) -> Any:
    """Plain-Python copy of obj for JSON: numpy converted, non-finite floats -> None."""
    if isinstance(obj, dict):
        return {_json_key(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def _json_key(k: Any) -> Any:
    if isinstance(k, np.generic):
        k = k.item()
    return str(k) if not isinstance(k, str) else k


def _dumps(obj: Any, **kwargs: Any) -> str:
    return json.dumps(_jsonable(obj), allow_nan=False, **kwargs)


def write_json(path: PathLike, obj: Any) -> None:
    """Write JSON atomically (indent=2, sorted keys); NaN/inf become null."""
    text = _dumps(obj, indent=2, sort_keys=True) + "\n"  # serialise before touching disk
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_json(path: PathLike) -> Any:
    """Read JSON; DataError naming the path if missing or malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({_one_line(exc)})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON ({exc})") from None


def config_hash(obj: Any) -> str:
    """Short stable hash of a config, independent of key order and numpy types."""
    canonical = _dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def resume_key(params: Any, inputs: Sequence[PathLike]) -> str:
    """Key of resumable work: the hyperparameters and the inputs as Snakemake sees them (size
    and modification time). A checkpoint left by a killed job is picked up again only when
    neither the config nor an input file has changed since; otherwise the job starts afresh."""
    stats = []
    for path in inputs:
        st = os.stat(path)
        stats.append([str(path), st.st_size, st.st_mtime_ns])
    return config_hash({"params": params, "inputs": stats})


def write_csv(path: PathLike, df: pandas.DataFrame, *, index: bool = False) -> None:
    """Write a DataFrame as CSV atomically (index dropped unless asked for)."""
    with atomic_output(path) as tmp:
        df.to_csv(tmp, index=index)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


# --------------------------------------------------------------------------- HDF5 tables


def _nonfinite_columns(data: np.ndarray, columns: Sequence[str]) -> list[tuple[str, int]]:
    bad = (~np.isfinite(data)).sum(axis=0)
    return [(columns[j], int(bad[j])) for j in np.flatnonzero(bad)]


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
    """
    path = Path(path)
    bad = _nonfinite_columns(table.data, table.columns)
    if bad:
        detail = ", ".join(f"{c!r} ({k})" for c, k in bad)
        raise DataError(f"{path}: refusing to write non-finite values in column(s) {detail}")
    for name, arr in (("weights", table.weights), ("labels", table.labels)):
        if arr is not None and arr.dtype.kind == "f":
            n_bad = int((~np.isfinite(arr)).sum())
            if n_bad:
                raise DataError(f"{path}: refusing to write {n_bad} non-finite {name}")

    attrs: dict[str, Any] = {
        "seed": -1 if seed is None else int(seed),
        "config_hash": str(config_hash),
        "hepflows_version": hepflows.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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
) -> EventTable:
    """Read an EventTable written by :func:`write_table`, validating everything.

    With ``columns`` only those are returned, in that order, and only those are
    checked for non-finite values.
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
            return _read_open(path, f, columns, require_weights, require_labels)
    except DataError:
        raise
    except (OSError, RuntimeError, KeyError) as exc:
        raise DataError(f"{path}: cannot be read as HDF5 ({_one_line(exc)})") from None


def _read_open(
    path: Path,
    f: h5py.File,
    columns: list[str] | None,
    require_weights: bool,
    require_labels: bool,
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
    if not wanted:  # columns=[]: only attrs/weights/labels wanted, skip the big read
        data = np.empty((n, 0))
    else:
        data = np.asarray(ds[()], dtype=np.float64)
        if wanted != file_cols:
            data = data[:, [file_cols.index(c) for c in wanted]]
    bad = _nonfinite_columns(data, wanted)
    if bad:
        col, count = bad[0]
        more = f" (and {len(bad) - 1} more column(s))" if len(bad) > 1 else ""
        raise DataError(f"{path}: column {col!r} has {count} non-finite values{more}")

    weights = _read_vector(path, f, "weights", n, require_weights, np.float64)
    labels = _read_vector(path, f, "labels", n, require_labels, None)

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


def _read_vector(
    path: Path, f: h5py.File, name: str, n: int, required: bool, dtype: type | None
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
    arr = np.asarray(ds[()], dtype=dtype)
    if arr.dtype.kind == "f":
        n_bad = int((~np.isfinite(arr)).sum())
        if n_bad:
            raise DataError(f"{path}: dataset {name!r} has {n_bad} non-finite values")
    return arr
