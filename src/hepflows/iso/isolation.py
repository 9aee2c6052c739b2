"""Isolation of the classified muon from its cone particles: the relative isolation
sum(pT) / pT_mu within dR <= R for a set of radii, and the sum of particle pT in the whole cone.

Particles come as in :mod:`.columns`: (n_events, n_slots, 4) with columns ``PARTICLE_COLUMNS``
(pT / pT_mu, d_eta, d_phi, pid) and a boolean mask of the real slots; padding may hold anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hepflows.iso.columns import CONE_RADIUS, ISO_RADII, PARTICLE_COLUMNS

__all__ = ["CHUNK_EVENTS", "cone_sum_pt", "delta_r", "relative_isolation"]

# Events per chunk: 32k x 128 slots keeps the temporaries near 100 MB whatever n is.
CHUNK_EVENTS = 32_768
_PT, _ETA, _PHI = (PARTICLE_COLUMNS.index(c) for c in ("pt_rel", "d_eta", "d_phi"))


def _check(particles: np.ndarray, mask: np.ndarray) -> None:
    if particles.ndim != 3 or particles.shape[2] != len(PARTICLE_COLUMNS):
        raise ValueError(
            f"particles must have shape (n_events, n_slots, {len(PARTICLE_COLUMNS)}) with columns "
            f"{PARTICLE_COLUMNS}, got {particles.shape}"
        )
    if mask.shape != particles.shape[:2]:
        raise ValueError(f"mask must have shape {particles.shape[:2]}, got {mask.shape}")


def delta_r(particles: np.ndarray) -> np.ndarray:
    """dR = hypot(d_eta, d_phi) of every slot, in float64 (so every caller cuts the same way)."""
    return np.hypot(
        particles[..., _ETA].astype(np.float64), particles[..., _PHI].astype(np.float64)
    )


def relative_isolation(
    particles: np.ndarray, mask: np.ndarray, radii: Sequence[float] | np.ndarray = ISO_RADII
) -> np.ndarray:
    """Sum of pT / pT_mu of the real particles with dR <= R, for each R: (n_events, len(radii)).

    Each particle is binned once by the smallest radius that contains it and the bins are
    summed cumulatively, so the cost is one pass over the slots, not one per radius; events go
    in chunks of ``CHUNK_EVENTS`` to bound memory (n x 128 x 18 at 1M events would be 18 GB).
    """
    particles = np.asarray(particles)
    mask = np.asarray(mask, dtype=bool)
    _check(particles, mask)
    r = np.asarray(radii, dtype=np.float64).ravel()
    if r.size == 0 or np.any(np.diff(r) <= 0):
        raise ValueError(f"radii must be a non-empty increasing sequence, got {r.tolist()}")
    n, n_r = particles.shape[0], r.size
    out = np.empty((n, n_r), dtype=np.float64)
    for start in range(0, n, CHUNK_EVENTS):
        part = particles[start : start + CHUNK_EVENTS]
        m = mask[start : start + CHUNK_EVENTS]
        k = part.shape[0]
        # first radius with dR <= R; n_r means outside every cone; masked slots go there too
        ring = np.searchsorted(r, delta_r(part), side="left")
        ring = np.where(m, ring, n_r)
        flat = (np.arange(k)[:, None] * (n_r + 1) + ring).ravel()
        pt = np.where(m, part[..., _PT].astype(np.float64), 0.0).ravel()
        sums = np.bincount(flat, weights=pt, minlength=k * (n_r + 1)).reshape(k, n_r + 1)
        out[start : start + k] = np.cumsum(sums[:, :n_r], axis=1)
    return out


def cone_sum_pt(particles: np.ndarray, mask: np.ndarray, mu_pt: np.ndarray) -> np.ndarray:
    """Sum of particle pT in GeV within dR <= CONE_RADIUS: the relative isolation at the cone's
    radius times the muon pT (the original appends it to every isolation/EFP model)."""
    mu_pt = np.asarray(mu_pt, dtype=np.float64)
    if mu_pt.shape != (np.asarray(particles).shape[0],):
        raise ValueError(
            f"mu_pt must have shape ({np.asarray(particles).shape[0]},), got {mu_pt.shape}"
        )
    return relative_isolation(particles, mask, (CONE_RADIUS,))[:, 0] * mu_pt
