"""Signal-region / control-region split and hold-out sets, one definition used by every step."""

from __future__ import annotations

import numpy as np

from hepflows.core.events import EventTable
from hepflows.core.regions import Box, in_box


def sr_mask(table: EventTable, box: Box) -> np.ndarray:
    """True for events inside the signal-region box (lo < v <= hi on each named column)."""
    return in_box(table.data, table.columns, box)


def holdout_mask(n: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Mark a random ``fraction`` of events as held out for closure checks.

    Uses one uniform draw per event, so a longer table (more injected signal appended at the end)
    keeps the same split for the events it shares with a shorter one.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"holdout fraction must be in (0, 1), got {fraction}")
    return rng.random(n) < fraction


def split_indices(
    table: EventTable,
    box: Box,
    *,
    holdout_fraction: float,
    split_rng: np.random.Generator,
    max_train: int | None = None,
    subsample_rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event indices of (CR training, capped at ``max_train``; CR hold-out; SR)."""
    in_sr = sr_mask(table, box)
    held = holdout_mask(len(table), holdout_fraction, split_rng)
    train = np.flatnonzero(~in_sr & ~held)
    if max_train is not None and len(train) > max_train:
        rng = subsample_rng or split_rng
        train = np.sort(rng.choice(train, size=max_train, replace=False))
    return train, np.flatnonzero(~in_sr & held), np.flatnonzero(in_sr)
