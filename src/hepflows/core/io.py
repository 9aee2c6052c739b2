"""Writing and reading files safely: atomic writes, JSON, CSV, hashes of configs and inputs.

Every writer is atomic (temp file in the same directory, then ``os.replace``) so an
interrupted Snakemake job never leaves a half-written output that looks complete.
Every reader fails with a one-line :class:`DataError` naming the file, so a broken
input is diagnosed from the log without a traceback hunt. Event tables in HDF5:
:mod:`hepflows.core.event_files`.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import math
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas

PathLike = str | os.PathLike


class DataError(ValueError):
    """Bad input file; message always names the file, the key and what was expected."""


# What the values of event files must be, as :func:`refuse_bad_values` says it.
FINITE = "a finite number"
NON_NEGATIVE = "a finite number >= 0"
TRUTH_LABEL = "0 (background) or 1 (signal)"


# --------------------------------------------------------------------------- atomic writes


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}{path.suffix}")


def remove_stale_temps(path: PathLike) -> int:
    """Remove the temp files of ``path`` that a killed writer left (a SIGKILL allows no clean-up)
    and return how many. Only for a path that nothing else writes now: a job's own output."""
    path = Path(path)
    stale = list(path.parent.glob(f".{glob.escape(path.name)}.tmp-*"))
    for tmp in stale:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return len(stale)


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


def read_json(path: PathLike, keys: Iterable[str] = (), expected: str = "") -> Any:
    """Read JSON; DataError naming the path if missing or malformed, or (with ``keys``, see
    :func:`require`) if it lacks a key the reader needs."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({_one_line(exc)})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: invalid JSON ({exc})") from None
    return require(obj, keys, path, expected=expected)


def require(
    obj: Any, keys: Iterable[str], path: PathLike, *, expected: str, what: str = "key"
) -> Any:
    """``obj`` itself if it holds every one of ``keys``, else a DataError naming the file and the
    first missing key, so an intermediate from an older version or a hand edit fails in one line
    rather than with a bare KeyError far from the file. A dotted key ("CR.aucs") reaches into
    nested objects (the message names the first level missing); ``expected`` says what the file
    should be."""
    for key in keys:
        node, parts = obj, key.split(".")
        for depth, part in enumerate(parts, start=1):
            if not isinstance(node, Mapping) or part not in node:
                missing = ".".join(parts[:depth])
                raise DataError(f"{path}: {what} {missing!r} missing; expected {expected}")
            node = node[part]
    return obj


def read_csv(path: PathLike, columns: Iterable[str], expected: str) -> pandas.DataFrame:
    """A CSV table that must hold ``columns``; DataError naming the file and the first one missing
    (or the file itself if it is missing or not a table)."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a CSV table ({_one_line(exc)})") from None
    require(dict.fromkeys(frame.columns), columns, path, expected=expected, what="column")
    return frame


def refuse_bad_values(
    path: PathLike,
    columns: Sequence[str],
    values: np.ndarray,
    ok: np.ndarray,
    expected: str | Sequence[str],
    *,
    what: str = "column",
    first_row: int = 0,
    row: str = "row",
) -> None:
    """A DataError if ``ok`` (n_rows, n_columns; False where a value is bad) has a False: it names
    the file, the first column with a bad value, that column's first bad row and its value, how
    many of its rows are bad, what was expected (``expected``: one text, or one per column), and
    which other columns are bad too. One pass of numpy over ``ok``; ``first_row`` numbers the
    rows (0: indices, 1: data rows of a text file)."""
    n_bad = ok.shape[0] - np.count_nonzero(ok, axis=0)
    bad_columns = np.flatnonzero(n_bad)
    if not bad_columns.size:
        return
    j = int(bad_columns[0])
    i = int(np.argmin(ok[:, j]))
    others = [repr(str(columns[k])) for k in bad_columns[1:]]
    more = f" (bad values in {len(others)} more column(s): {', '.join(others)})" if others else ""
    raise DataError(
        f"{path}: {what} {str(columns[j])!r} has {int(n_bad[j])} bad value(s), first at {row} "
        f"{i + first_row} ({_shown(values[i, j])}); expected "
        f"{expected if isinstance(expected, str) else expected[j]}{more}"
    )


def _shown(value: Any) -> str:
    """A bad value as the message shows it: numbers plainly (nan, -0.5), text quoted."""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(value.item() if isinstance(value, np.generic) else value)
    return repr(value)


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
