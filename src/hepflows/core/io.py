"""Writing and reading files safely: atomic writes, JSON, CSV, hashes of configs and inputs.

Every writer is atomic (temp file in the same directory, then ``os.replace``) so an
interrupted Snakemake job never leaves a half-written output that looks complete.
Every reader fails with a one-line :class:`DataError` naming the file, so a broken
input is diagnosed from the log without a traceback hunt. Event tables in HDF5:
:mod:`hepflows.core.event_files`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas

PathLike = str | os.PathLike


class DataError(ValueError):
    """Bad input file; message always names the file, the key and what was expected."""


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
