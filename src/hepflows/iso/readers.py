"""The public CMS dimuon files of "Learning to isolate muons in data" (Zenodo record 8211425), read
into the ``iso`` event table and written back in the same layout.

The layout, as the original code reads it (``src/make_efps.py``, ``src/utilities/datasets.py``)::

    directory/cms_csvs/dimuon_invariant_mass.csv   one column, GeV, no header
    directory/cms_csvs/muon_{pTs,etas,phis,charges}.csv
                                                   two columns (muon 1, muon 2), no header;
                                                   muon 1 is the muon classified
    directory/pfn/   LMDB: key = event index as text (b"0", b"1", ...), value = float64 (128, 4)
                     raw bytes: pT (GeV), d_eta, d_phi, particle id of the cone particles,
                     zero-padded
    directory/iso/   LMDB: same keys, value = float64 (18,): relative isolations by
                     increasing radius (:data:`~hepflows.iso.columns.ISO_RADII`)

Row i of every CSV file and key ``str(i)`` of both databases are one event. Every error is one
line (:class:`~hepflows.core.io.DataError`) naming the file, the row or key, and what was expected.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path

import lmdb
import numpy as np
import pandas as pd

from hepflows.core.events import EventTable
from hepflows.core.io import FINITE, NON_NEGATIVE, DataError, PathLike, refuse_bad_values
from hepflows.iso.columns import (
    EVENT_COLUMNS,
    ISO_COLUMNS,
    N_SLOTS,
    PARTICLE_COLUMNS,
    TABLE_COLUMNS,
)

__all__ = ["CSV_FILES", "read_cms", "write_cms"]

POSITIVE = "a finite number > 0"
CHARGE = "-1 or +1"
# File of cms_csvs/ -> our columns (one per file column) and what each value must be.
CSV_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "dimuon_invariant_mass.csv": (("mass",), POSITIVE),
    "muon_pTs.csv": (("mu1_pt", "mu2_pt"), POSITIVE),
    "muon_etas.csv": (("mu1_eta", "mu2_eta"), FINITE),
    "muon_phis.csv": (("mu1_phi", "mu2_phi"), FINITE),
    "muon_charges.csv": (("mu1_charge", "mu2_charge"), CHARGE),
}
_PARTICLE_FIELDS = ("pt", "d_eta", "d_phi", "pid")  # the file's pfn/ features, pT in GeV
_DTYPE = np.dtype("<f8")
# LMDB stores a 4 KiB value on two overflow pages; room for that per event plus the tree.
_MAP_BYTES_PER_EVENT = 3 * 4096
_MAP_BYTES_MIN = 1 << 24


# --------------------------------------------------------------------------- reading


def read_cms(directory: PathLike, max_events: int | None = None) -> EventTable:
    """The public CMS files under ``directory`` as an ``iso`` table (first ``max_events`` only if
    given): columns :data:`TABLE_COLUMNS`, particles (pT / pT of muon 1, d_eta, d_phi, pid) with
    the mask of slots whose pT > 0, and the cone sum pT (GeV) of muon 1's particles."""
    if max_events is not None and max_events < 0:
        raise ValueError(f"max_events must be >= 0, got {max_events}")
    directory = Path(directory)
    csv_dir = directory / "cms_csvs"
    events = _read_csvs(csv_dir)
    n_rows = len(events)
    n = n_rows if max_events is None else min(n_rows, max_events)
    events = events[:n]
    particles = _read_lmdb(directory / "pfn", n, n_rows, (N_SLOTS, len(_PARTICLE_FIELDS)))
    _refuse_bad_particles(directory / "pfn", particles)
    iso = _read_lmdb(directory / "iso", n, n_rows, (len(ISO_COLUMNS),))
    refuse_bad_values(
        directory / "iso", ISO_COLUMNS, iso, np.isfinite(iso) & (iso >= 0), NON_NEGATIVE,
        what="isolation", row="key",
    )  # fmt: skip
    pt = particles[:, :, 0]
    mask = pt > 0
    cone_sum = pt.sum(axis=1)
    pt /= events[:, EVENT_COLUMNS.index("mu1_pt"), None]  # in place: pT -> pT / pT_mu
    data = np.concatenate([events, iso, cone_sum[:, None]], axis=1)
    return EventTable(
        data,
        list(TABLE_COLUMNS),
        source=str(directory),
        particles=particles,
        mask=mask,
        particle_columns=list(PARTICLE_COLUMNS),
    )


def _read_csvs(csv_dir: Path) -> np.ndarray:
    """The CSV columns as (n_events, len(EVENT_COLUMNS)), every file checked for its column
    count, its values and one row per event."""
    by_column: dict[str, np.ndarray] = {}
    first: tuple[Path, int] | None = None
    for name, (columns, expected) in CSV_FILES.items():
        path = csv_dir / name
        values = _read_csv(path, columns, expected)
        if first is None:
            first = (path, len(values))
        elif len(values) != first[1]:
            raise DataError(
                f"{path}: {len(values)} rows, but {first[0]} has {first[1]}; expected one row "
                "per event in every file of cms_csvs/"
            )
        by_column.update(zip(columns, values.T, strict=True))
    return np.column_stack([by_column[c] for c in EVENT_COLUMNS]).astype(_DTYPE, copy=False)


def _read_csv(path: Path, columns: tuple[str, ...], expected: str) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, header=None, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty; expected {len(columns)} column(s), no header") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as err:
        text = " ".join(str(err).split())
        raise DataError(f"{path}: not a CSV table ({text})") from None
    if frame.shape[1] != len(columns):
        raise DataError(
            f"{path}: {frame.shape[1]} column(s), expected {len(columns)} "
            f"({', '.join(columns)}), no header"
        )
    shown = frame.to_numpy()  # numbers, or the text of a column that is not all numbers
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(_DTYPE)
    ok = np.isfinite(values)
    if expected == POSITIVE:
        ok &= values > 0
    elif expected == CHARGE:
        ok &= np.abs(values) == 1
    refuse_bad_values(path, columns, shown, ok, expected, first_row=1, row="line")
    return values


def _read_lmdb(path: Path, n: int, n_rows: int, shape: tuple[int, ...]) -> np.ndarray:
    """Values of keys b"0" .. str(n - 1) of the LMDB at ``path`` as float64 (n, *shape).

    One pass of a cursor copies each record's bytes into one preallocated array; keys come in
    byte order (b"0", b"1", b"10", ...), so each one says where its bytes go. Keys of events
    ``n`` .. ``n_rows - 1`` are skipped (``max_events``); a key past ``n_rows`` (no row in the
    CSV files), a missing key and a value of the wrong length are errors."""
    if not path.exists():
        raise DataError(f"{path}: no such LMDB database")
    out = np.empty((n, *shape), dtype=_DTYPE)
    size = out[:1].nbytes
    flat = memoryview(out.reshape(-1).view(np.uint8))
    seen = np.zeros(n, dtype=bool)
    try:
        env = lmdb.open(
            str(path), subdir=path.is_dir(), readonly=True, lock=False, readahead=False,
            meminit=False,
        )  # fmt: skip
    except lmdb.Error as err:
        raise DataError(f"{path}: not an LMDB database ({_one_line(err)})") from None
    try:
        with env.begin(buffers=True) as txn:
            for key, value in txn.cursor():
                i = _event_index(path, key)
                if i >= n:
                    if i >= n_rows:
                        raise DataError(
                            f"{path}: key {bytes(key)!r} has no event in cms_csvs/ "
                            f"({n_rows} rows); expected keys b'0' .. b'{n_rows - 1}'"
                        )
                    continue
                if len(value) != size:
                    raise DataError(
                        f"{path}: key {bytes(key)!r} holds {len(value)} bytes; expected "
                        f"{size} (float64 {_shape_text(shape)})"
                    )
                if seen[i]:
                    raise DataError(f"{path}: key {bytes(key)!r} is a second key of event {i}")
                flat[i * size : (i + 1) * size] = value
                seen[i] = True
    except lmdb.Error as err:
        raise DataError(f"{path}: cannot be read ({_one_line(err)})") from None
    finally:
        env.close()
    if not seen.all():
        missing = np.flatnonzero(~seen)
        raise DataError(
            f"{path}: key b'{missing[0]}' missing (event {missing[0]}; {len(missing)} of {n} "
            f"events missing); expected one record per row of cms_csvs/"
        )
    return out


def _event_index(path: Path, key: memoryview) -> int:
    raw = bytes(key)
    if not raw.isdigit() or (len(raw) > 1 and raw[:1] == b"0"):
        raise DataError(f"{path}: key {raw!r} is not an event index; expected b'0', b'1', ...")
    return int(raw)


def _refuse_bad_particles(path: Path, particles: np.ndarray) -> None:
    """NaN or inf anywhere, padding included, and negative pT: a bad pT would otherwise read as
    an empty slot and vanish from the mask without a word."""
    ok = np.isfinite(particles)
    ok[:, :, 0] &= particles[:, :, 0] >= 0
    bad_events = ~ok.all(axis=(1, 2))
    if not bad_events.any():
        return
    i = int(np.argmax(bad_events))
    slot, feature = np.argwhere(~ok[i])[0]
    expected = NON_NEGATIVE if feature == 0 else FINITE
    raise DataError(
        f"{path}: key b'{i}' slot {slot} {_PARTICLE_FIELDS[feature]!r} is "
        f"{particles[i, slot, feature]!r}; expected {expected} ({int(bad_events.sum())} "
        "event(s) with bad particle values)"
    )


def _shape_text(shape: tuple[int, ...]) -> str:
    return " x ".join(str(s) for s in shape)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


# --------------------------------------------------------------------------- writing


def write_cms(directory: PathLike, table: EventTable) -> None:
    """Write ``table`` (columns :data:`TABLE_COLUMNS`, particles :data:`PARTICLE_COLUMNS`) in the
    public layout, so that our synthetic events can be read exactly as the real ones are.

    Atomic: everything is written into a temporary sibling folder that is renamed to
    ``directory`` at the end; ``directory`` must not exist or be empty. The cone sum pT column
    is not written (the files have none): the reader sums the particles' pT.
    """
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise FileExistsError(f"{directory}: exists and is not an empty folder")
    events, particles, iso = _cms_arrays(table)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f".{directory.name}.tmp-{secrets.token_hex(4)}")
    try:
        csv_dir = tmp / "cms_csvs"
        csv_dir.mkdir(parents=True)
        for name, (columns, _) in CSV_FILES.items():
            idx = [EVENT_COLUMNS.index(c) for c in columns]
            np.savetxt(csv_dir / name, events[:, idx], fmt="%.17g", delimiter=",")
        _write_lmdb(tmp / "pfn", particles)
        _write_lmdb(tmp / "iso", iso)
        if directory.exists():
            directory.rmdir()  # empty, checked above
        os.replace(tmp, directory)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
        raise


def _cms_arrays(table: EventTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events, particles (pT in GeV, zero padding to N_SLOTS) and isolations of ``table`` as the
    files hold them; ValueError for what the layout cannot hold."""
    if table.particles is None or table.mask is None or table.particle_columns is None:
        raise ValueError("write_cms needs a table with particles")
    events = table.cols(EVENT_COLUMNS)
    iso = np.ascontiguousarray(table.cols(ISO_COLUMNS), dtype=_DTYPE)
    p_idx = [table.particle_columns.index(c) for c in PARTICLE_COLUMNS]
    n, slots = table.mask.shape
    if slots > N_SLOTS and table.mask[:, N_SLOTS:].any():
        raise ValueError(f"particles beyond slot {N_SLOTS}; the files hold {N_SLOTS} per event")
    mask = table.mask[:, :N_SLOTS]
    values = table.particles[:, :N_SLOTS][:, :, p_idx].astype(_DTYPE)
    finite = np.isfinite(events).all() and np.isfinite(iso).all()
    if not finite or not np.isfinite(values[mask]).all():
        raise ValueError("non-finite values in the events, isolations or real particles")
    if (values[:, :, 0][mask] <= 0).any():
        raise ValueError("real particles need pt_rel > 0: the files mark padding by pT = 0")
    particles = np.zeros((n, N_SLOTS, len(PARTICLE_COLUMNS)), dtype=_DTYPE)
    particles[:, : mask.shape[1]] = np.where(mask[:, :, None], values, 0.0)
    particles[:, :, 0] *= events[:, EVENT_COLUMNS.index("mu1_pt"), None]  # pT / pT_mu -> GeV
    return events, particles, iso


def _write_lmdb(path: Path, values: np.ndarray) -> None:
    """One record per event: key str(i), value the raw float64 bytes of ``values[i]``."""
    map_size = _MAP_BYTES_MIN + len(values) * _MAP_BYTES_PER_EVENT
    env = lmdb.open(str(path), map_size=map_size, subdir=True, lock=False)
    try:
        with env.begin(write=True) as txn:
            records = ((str(i).encode(), row.tobytes()) for i, row in enumerate(values))
            txn.cursor().putmulti(records)
    finally:
        env.close()
