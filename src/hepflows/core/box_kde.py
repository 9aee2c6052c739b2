"""A kernel density estimate of events in a box that never leaves the box.

Each coordinate is mapped to its position in the box, (v - lo) / (hi - lo) in (0, 1], and then
to the real line by a logit; the Gaussian KDE (scipy's, with its bandwidth scaled to the spread
of the data) lives there, and every draw maps back inside the box. A KDE fitted in the original
coordinates spills its kernels over the box's edges: rejecting those draws leaves the density
too low at both edges and too high in the middle (CATHODE samples its SR m_jj the logit way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.special import expit, logit
from scipy.stats import gaussian_kde

from hepflows.core.regions import Box

__all__ = ["BoxKDE"]

_EDGE = 1e-6  # positions are kept this far inside (0, 1): logit(0) and logit(1) are infinite


class BoxKDE:
    """``BoxKDE(values, columns, box).sample(n, rng)``: ``n`` draws of ``columns`` inside ``box``.

    ``bandwidth``: "scott", "silverman" or a number, the kernel width as a multiple of the
    spread of the logit positions (scipy.stats.gaussian_kde's ``bw_method``).
    """

    def __init__(
        self,
        values: np.ndarray,
        columns: Sequence[str],
        box: Box | Mapping[str, Sequence[float | None]],
        bandwidth: float | str = "scott",
    ) -> None:
        values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
        bounds = [box.get(c, (None, None)) for c in columns]
        open_sides = [
            c for c, (lo, hi) in zip(columns, bounds, strict=True) if lo is None or hi is None
        ]
        if open_sides:
            raise ValueError(f"a box KDE needs both bounds of every column; open: {open_sides}")
        self.lo = np.array([lo for lo, _ in bounds], dtype=np.float64)
        self.width = np.array([hi for _, hi in bounds], dtype=np.float64) - self.lo
        if len(values) < 2:
            raise ValueError(f"a KDE needs at least 2 events, got {len(values)}")
        position = (values - self.lo) / self.width
        if np.any((position <= 0) | (position > 1)):
            raise ValueError("every event of a box KDE must lie inside the box (lo < v <= hi)")
        self.kde = gaussian_kde(logit(np.clip(position, _EDGE, 1 - _EDGE)).T, bw_method=bandwidth)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws, shape (n, n_columns), each inside the box."""
        position = expit(self.kde.resample(n, seed=rng).T)
        return self.lo + self.width * np.clip(position, _EDGE, 1.0)
