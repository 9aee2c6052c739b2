"""Events in memory: a dense float matrix with named columns, optional weights and labels, and
optionally the particles of each event (a 3-D array with a mask of the real slots).

Written to and read from HDF5 by :mod:`hepflows.core.event_files`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepflows.core.io import DataError

# --------------------------------------------------------------------------- tables


@dataclass(eq=False)
class EventTable:
    """Events as a dense float matrix with named columns, optional weights and labels.

    ``data`` is float64 in memory unless it was given as float32 (kept so that
    :func:`write_table` can store float32 files without a silent upcast).
    ``source`` is only used to name the file in error messages.

    Particle-level analyses (a PFN on the particles around a muon) also carry ``particles``,
    zero-padded to a fixed number of slots, (n_events, n_slots, n_particle_features), with a
    boolean ``mask`` (n_events, n_slots) that is True for real particles, and the feature names
    ``particle_columns``. The three come together or not at all. Masked-out slots may hold
    anything (NaN included): every consumer must go through the mask.
    """

    data: np.ndarray
    columns: list[str]
    weights: np.ndarray | None = None
    labels: np.ndarray | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    particles: np.ndarray | None = None
    mask: np.ndarray | None = None
    particle_columns: list[str] | None = None

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
        self._check_particles(n)

    def _check_particles(self, n: int) -> None:
        given = [x is not None for x in (self.particles, self.mask, self.particle_columns)]
        if not any(given):
            return
        if not all(given):
            raise ValueError("particles, mask and particle_columns must be given together")
        particles = np.asarray(self.particles)
        if particles.dtype != np.float32:
            particles = particles.astype(np.float64, copy=False)
        if particles.ndim != 3 or particles.shape[0] != n:
            raise ValueError(
                f"particles must have shape ({n}, n_slots, n_particle_features), "
                f"got {particles.shape}"
            )
        self.particles = particles
        self.mask = as_mask(np.asarray(self.mask), particles.shape[:2])
        names = [str(c) for c in self.particle_columns]  # type: ignore[union-attr]
        if len(names) != particles.shape[2]:
            raise ValueError(
                f"{len(names)} particle column names for particles with "
                f"{particles.shape[2]} features"
            )
        dupes = sorted({c for c in names if names.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate particle column names: {', '.join(dupes)}")
        self.particle_columns = names

    @property
    def has_particles(self) -> bool:
        return self.particles is not None

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
            particles=None if self.particles is None else self.particles[idx],
            mask=None if self.mask is None else self.mask[idx],
            particle_columns=self.particle_columns,
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
            particles=self.particles,
            mask=self.mask,
            particle_columns=self.particle_columns,
        )

    @staticmethod
    def concat(tables: Sequence[EventTable]) -> EventTable:
        """Stack events of tables with the same columns (reordered to the first table's).

        Weights missing from some (not all) tables are filled with 1.0. Labels missing
        from only some tables raise, because no fill value is a safe guess for truth.
        Particles must be in all tables or in none, with the same particle columns (same order)
        and slots: re-padding or reordering features silently is the caller's decision.
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
        particles = _concat_particles(tables)
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
            **particles,
        )


def _concat_particles(tables: list[EventTable]) -> dict[str, Any]:
    has = [t.has_particles for t in tables]
    if not any(has):
        return {}
    if not all(has):
        missing = [i for i, h in enumerate(has) if not h]
        raise ValueError(f"tables {missing} have no particles while others do")
    first = tables[0]
    assert first.particles is not None
    for i, t in enumerate(tables[1:], start=1):
        assert t.particles is not None
        if t.particle_columns != first.particle_columns:
            raise ValueError(
                f"table {i} has particle columns [{', '.join(t.particle_columns or [])}], "
                f"expected [{', '.join(first.particle_columns or [])}]"
            )
        if t.particles.shape[1] != first.particles.shape[1]:
            raise ValueError(
                f"table {i} has {t.particles.shape[1]} particle slots, "
                f"expected {first.particles.shape[1]}"
            )
    return {
        "particles": np.concatenate([t.particles for t in tables], axis=0),
        "mask": np.concatenate([t.mask for t in tables], axis=0),
        "particle_columns": list(first.particle_columns or []),
    }


def as_mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Boolean mask of ``shape``; integer 0/1 (as other tools write it) is accepted too."""
    if mask.shape != tuple(shape):
        raise ValueError(f"mask must have shape {tuple(shape)}, got {mask.shape}")
    if mask.dtype == bool:
        return mask
    if mask.dtype.kind not in "iu" or not np.isin(mask, (0, 1)).all():
        raise ValueError(f"mask must be boolean or 0/1 integers, got dtype {mask.dtype}")
    return mask.astype(bool)


def _check_1d(arr: np.ndarray, n: int, what: str) -> np.ndarray:
    if arr.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), got {arr.shape}")
    return arr


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return False
