"""Readers for the real file formats behind the ``ad`` datasets.

* LHC Olympics 2020 R&D (and its Herwig background): a pandas HDF5 table with, per jet j1/j2,
  the momentum ``px py pz``, the mass ``m`` and the N-subjettiness ``tau1 tau2 tau3`` (columns
  ``pxj1 ... tau3j2``, GeV) and a ``label`` column (1 = signal). We compute the dijet mass and the
  four features of the resonant analysis, in TeV.
* The non-resonant analysis' own text files (seed 003): whitespace-separated columns with a
  header line, in GeV; we keep the seven columns of the ``nonres`` dataset by name.

Both return an :class:`EventTable` in the column order of the dataset and fail with one line that
names the file and what is missing.
"""

from __future__ import annotations

import pickletools
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from hepflows.core.events import EventTable
from hepflows.core.io import FINITE, NON_NEGATIVE, TRUTH_LABEL, DataError, refuse_bad_values

LHCO_JET_COLUMNS = ("px", "py", "pz", "m", "tau1", "tau2", "tau3")
LHCO_COLUMNS = tuple(f"{c}j{jet}" for jet in (1, 2) for c in LHCO_JET_COLUMNS) + ("label",)
LHCO_FEATURES = ("m_jj", "m_jmin", "dm_j", "tau21_jmin", "tau21_jmax")
NONRES_COLUMNS = ("ht", "met", "m_jj", "tau21_j1", "tau21_j2", "tau32_j1", "tau32_j2")
GEV_PER_TEV = 1000.0
# Masses and N-subjettiness cannot be negative; momenta can.
_LHCO_NON_NEGATIVE = frozenset(
    f"{c}j{jet}" for jet in (1, 2) for c in ("m", "tau1", "tau2", "tau3")
)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return path


def _require(path: Path, have: Sequence[str], need: Sequence[str], what: str) -> None:
    missing = [c for c in need if c not in have]
    if missing:
        raise DataError(f"{path}: missing {what} {missing}; found {list(have)}")


def read_lhco_table(path: str | Path, key: str = "df") -> pd.DataFrame:
    """The raw R&D table under ``key``, checked for the columns the analysis uses.

    pandas' "fixed" and "table" layouts are read with h5py, numeric blocks only, never through
    PyTables: PyTables unpickles object columns and pickled metadata on read, so a tampered file
    could run code. Object columns are refused unread and pickled column names are read as
    opcodes (``pickletools``); nothing here unpickles."""
    path = _existing(path)
    try:
        with h5py.File(path, "r") as f:
            if key not in f or not isinstance(f[key], h5py.Group):
                keys = sorted(k for k in f if isinstance(f[k], h5py.Group))
                raise DataError(f"{path}: no table under key {key!r}; the file has {keys}")
            frame = pd.DataFrame(_fixed_frame_columns(path, key, f[key]))
    except DataError:
        raise
    except (OSError, KeyError, ValueError) as err:  # not HDF5, or a broken pandas layout
        raise DataError(f"{path}: not a pandas HDF5 file ({err})") from err
    _require(path, list(frame.columns), LHCO_COLUMNS[:-1], "columns")
    return frame


def _names(ds: h5py.Dataset, path: Path, key: str) -> list[str]:
    if ds.dtype.kind != "S":
        raise DataError(f"{path}: {key}/{ds.name.rsplit('/', 1)[-1]} is not a list of names")
    return [name.decode("utf-8") for name in ds[()]]


# The opcodes of a pickled list of strings, as PyTables stores the column names of pandas' table
# format. They are read with pickletools, which lists opcodes without running them; any other
# opcode (a global, a call) means the attribute is not a list of names.
_NAME_LIST_OPCODES = frozenset(
    {"PROTO", "FRAME", "MARK", "LIST", "EMPTY_LIST", "PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE",
     "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "STRING", "SHORT_BINSTRING", "BINSTRING",
     "APPEND", "APPENDS", "STOP"}
)  # fmt: skip


def _pickled_names(raw: bytes, path: Path, where: str) -> list[str]:
    """The strings of a pickled list of names, without unpickling it."""
    names = []
    try:
        for op, arg, _ in pickletools.genops(bytes(raw)):
            if op.name not in _NAME_LIST_OPCODES:
                raise DataError(f"{path}: {where} is not a list of column names ({op.name})")
            if isinstance(arg, str):
                names.append(arg)
            elif isinstance(arg, bytes) and "STRING" in op.name:
                names.append(arg.decode("utf-8"))
    except (ValueError, EOFError) as err:
        raise DataError(f"{path}: {where} is not a list of column names ({err})") from None
    return names


def _table_frame_columns(path: Path, key: str, group: h5py.Group) -> dict[str, np.ndarray]:
    """The columns of a DataFrame in pandas' "table" layout: one compound dataset whose numeric
    fields hold blocks of columns (``values_block_<i>``, names in ``values_block_<i>_kind``) or
    single data columns; the index field is left out."""
    table = group.get("table")
    if not isinstance(table, h5py.Dataset) or table.dtype.names is None:
        raise DataError(f"{path}: {key}/table is not a pandas table")
    columns: dict[str, np.ndarray] = {}
    for field in table.dtype.names:
        if field == "index":
            continue
        sub = table.dtype.fields[field][0]
        kind_attr = table.attrs.get(f"{field}_kind")
        names = (
            _pickled_names(kind_attr, path, f"{key}/table attribute {field}_kind")
            if kind_attr is not None
            else [field]
        )
        if sub.base.kind not in "biuf":
            raise DataError(
                f"{path}: column(s) {names} under key {key!r} are not numbers ({sub.base})"
            )
        block = np.asarray(table[field]).reshape(len(table), -1)
        if block.shape[1] != len(names):
            raise DataError(f"{path}: {key}/table field {field} does not match its names")
        columns.update(zip(names, block.T, strict=True))
    return columns


def _fixed_frame_columns(path: Path, key: str, group: h5py.Group) -> dict[str, np.ndarray]:
    """The columns of a DataFrame that pandas wrote in its "fixed" layout: one 2-D array per
    block of columns of one dtype (``block<i>_values``) with their names (``block<i>_items``).
    Any block that is not numbers (object columns, which PyTables pickles) is refused unread."""
    kind = group.attrs.get("pandas_type", b"").decode("utf-8", "replace")
    if kind == "frame_table":
        return _table_frame_columns(path, key, group)
    if kind != "frame":
        what = f"a pandas {kind}" if kind else "no pandas"
        raise DataError(f"{path}: key {key!r} holds {what} object, not a DataFrame")
    columns: dict[str, np.ndarray] = {}
    for i in range(int(group.attrs["nblocks"])):
        names = _names(group[f"block{i}_items"], path, key)
        values = group[f"block{i}_values"]
        if not isinstance(values, h5py.Dataset) or values.dtype.kind not in "biuf":
            raise DataError(
                f"{path}: column(s) {names} under key {key!r} hold Python objects (pickled), "
                "not numbers; refused without reading them"
            )
        block = values[()]
        if not values.attrs.get("transposed", 0):  # stored as (columns, rows)
            block = block.T
        if block.ndim != 2 or block.shape[1] != len(names):
            raise DataError(f"{path}: {key}/block{i}_values does not match its {len(names)} names")
        columns.update(zip(names, block.T, strict=True))
    return columns


def lhco_features(frame: pd.DataFrame) -> np.ndarray:
    """m_jj, m_jmin, dm_j, tau21 of the lighter and of the heavier jet (masses in TeV).

    tau21 = tau2 / tau1; a jet with tau1 = 0 (a single constituent) gets tau21 = 0.
    """
    jets = {}
    for jet in (1, 2):
        p = frame[[f"pxj{jet}", f"pyj{jet}", f"pzj{jet}"]].to_numpy(np.float64)
        m = frame[f"mj{jet}"].to_numpy(np.float64)
        tau1 = frame[f"tau1j{jet}"].to_numpy(np.float64)
        tau2 = frame[f"tau2j{jet}"].to_numpy(np.float64)
        tau21 = np.divide(tau2, tau1, out=np.zeros_like(tau2), where=tau1 > 0)
        energy = np.sqrt(np.sum(p**2, axis=1) + m**2)
        jets[jet] = (p, m, energy, tau21)
    p = jets[1][0] + jets[2][0]
    energy = jets[1][2] + jets[2][2]
    m_jj = np.sqrt(np.maximum(energy**2 - np.sum(p**2, axis=1), 0.0))
    m1, m2 = jets[1][1], jets[2][1]
    first_lighter = m1 <= m2
    tau_lighter = np.where(first_lighter, jets[1][3], jets[2][3])
    tau_heavier = np.where(first_lighter, jets[2][3], jets[1][3])
    return np.column_stack(
        [
            m_jj / GEV_PER_TEV,
            np.minimum(m1, m2) / GEV_PER_TEV,
            np.abs(m1 - m2) / GEV_PER_TEV,
            tau_lighter,
            tau_heavier,
        ]
    )


def lhco_frame(events: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """The inverse of :func:`lhco_features`: events (m_jj, m_jmin, dm_j, tau21_jmin, tau21_jmax;
    TeV) as an R&D table (GeV), for writing the synthetic stand-in in the real layout.

    The jets are back to back in the transverse plane at a random azimuth, in a random order,
    with tau1 uniform in [0.2, 0.8] and tau3 = tau2 * U(0.4, 0.9); reading the table back gives
    the events again.
    """
    events = np.asarray(events, dtype=np.float64)
    n = len(events)
    m_jj = events[:, 0] * GEV_PER_TEV
    light = events[:, 1] * GEV_PER_TEV
    heavy = light + events[:, 2] * GEV_PER_TEV
    # Back-to-back momentum for which E1 + E2 = m_jj.
    p2 = (m_jj**2 - (light + heavy) ** 2) * (m_jj**2 - (heavy - light) ** 2) / (4.0 * m_jj**2)
    if (p2 < 0).any():
        raise ValueError("m_jj below the sum of the jet masses")
    p, phi = np.sqrt(p2), rng.uniform(-np.pi, np.pi, n)
    light_first = rng.random(n) < 0.5
    jets = {}
    for jet, mass, tau21 in ((0, light, events[:, 3]), (1, heavy, events[:, 4])):
        tau1 = rng.uniform(0.2, 0.8, n)
        tau2 = tau21 * tau1
        sign = 1.0 if jet == 0 else -1.0
        jets[jet] = [sign * p * np.cos(phi), sign * p * np.sin(phi), np.zeros(n), mass, tau1, tau2,
                     tau2 * rng.uniform(0.4, 0.9, n)]  # fmt: skip
    cols = {}
    for j, name in ((1, "j1"), (2, "j2")):
        for c, (a, b) in zip(LHCO_JET_COLUMNS, zip(jets[0], jets[1], strict=True), strict=True):
            first, second = (a, b) if j == 1 else (b, a)
            cols[f"{c}{name}"] = np.where(light_first, first, second)
    cols["label"] = np.asarray(labels, dtype=np.float64)
    return pd.DataFrame(cols)[list(LHCO_COLUMNS)]


def read_lhco(path: str | Path, key: str = "df") -> EventTable:
    """An R&D file as an ``lhco`` table, truth labels kept (1 = signal; none if the file has no
    ``label`` column)."""
    frame = read_lhco_table(path, key)
    _check_lhco_values(path, frame)
    events = lhco_features(frame)
    if not np.isfinite(events).all():
        rows = np.flatnonzero(~np.isfinite(events).all(axis=1))
        raise DataError(f"{path}: non-finite values in {len(rows)} events (first row {rows[0]})")
    if "label" not in frame.columns:  # e.g. a background-only MC file
        return EventTable(events, list(LHCO_FEATURES), source=str(path))
    labels = frame["label"].to_numpy()
    return EventTable(events, list(LHCO_FEATURES), labels=labels.astype(np.int8), source=str(path))


def _check_lhco_values(path: str | Path, frame: pd.DataFrame) -> None:
    """Refuse NaN, inf and negative masses or N-subjettiness in the columns the analysis reads,
    and labels other than 0/1, before they turn into features: a NaN or negative tau1 used to
    give tau21 = 0 without a word."""
    columns = list(LHCO_COLUMNS[:-1])
    values = frame[columns].to_numpy(np.float64)
    ok = np.isfinite(values)
    non_negative = [c in _LHCO_NON_NEGATIVE for c in columns]
    ok[:, non_negative] &= values[:, non_negative] >= 0
    expected = [NON_NEGATIVE if nn else FINITE for nn in non_negative]
    refuse_bad_values(path, columns, values, ok, expected)
    if "label" in frame.columns:
        labels = frame[["label"]].to_numpy()
        refuse_bad_values(path, ["label"], labels, np.isin(labels, (0, 1)), TRUTH_LABEL)


def read_nonres_text(path: str | Path, columns: Mapping[str, str] | None = None) -> EventTable:
    """A whitespace-separated text file with a header line as a ``nonres`` table (GeV).

    ``columns`` maps our names (ht, met, m_jj, tau21_j1, ...) to the file's header names where
    they differ; every other column of the file (jet pT, eta, phi, phi_met, ...) is ignored.
    """
    path = _existing(path)
    names = {c: (columns or {}).get(c, c) for c in NONRES_COLUMNS}
    try:
        frame = pd.read_csv(path, sep=r"\s+")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a whitespace-separated text table ({err})") from err
    header = [str(c).lstrip("#").strip() for c in frame.columns]
    frame.columns = header
    _require(path, header, list(names.values()), "header columns")
    raw = frame[list(names.values())]
    values = raw.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    # Every nonres column (HT, MET, m_jj, tau ratios) is >= 0; text that is no number is NaN here.
    ok = np.isfinite(values) & (values >= 0)
    refuse_bad_values(
        path, raw.columns, raw.to_numpy(), ok, NON_NEGATIVE, first_row=1, row="data row"
    )
    return EventTable(values, list(NONRES_COLUMNS), source=str(path))
