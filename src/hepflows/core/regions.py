"""Boxes in named columns: one cut function for every region, so training and test sets can
never disagree on where a region ends (the original AD code used ht > 600 in its test set and
ht > 800 elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["Box", "in_box"]

Box = Mapping[str, Sequence[float | None]]
"""column -> (lo, hi): lo < value <= hi; None leaves that side open."""


def in_box(values: np.ndarray, columns: Sequence[str], box: Box) -> np.ndarray:
    """Boolean mask of the rows with lo < v <= hi for every boxed column."""
    arr = np.asarray(values)
    columns = list(columns)
    if arr.ndim != 2 or arr.shape[1] != len(columns):
        raise ValueError(f"values of shape {arr.shape} do not match {len(columns)} columns")
    mask = np.ones(arr.shape[0], dtype=bool)
    for col, bounds in box.items():
        if col not in columns:
            raise ValueError(f"unknown column {col!r} in box; available: {columns}")
        if len(bounds) != 2:
            raise ValueError(f"box entry for {col!r} must be (lo, hi), got {bounds!r}")
        lo, hi = bounds
        v = arr[:, columns.index(col)]
        if lo is not None:
            mask &= v > lo
        if hi is not None:
            mask &= v <= hi
    return mask
