"""Energy flow polynomials of the particles around the muon, as the paper computes them.

An EFP of a multigraph G with n vertices and edges E is, over the particles of the cone,

    EFP_G = sum_{i_1..i_n} z_{i_1} ... z_{i_n} prod_{(k,l) in E} theta_{i_k i_l}^beta,

with z_i = (pT_i / sum_j pT_j)^kappa (energyflow's ``normed=True``, ``kappa_normed_behavior
='new'``) and theta_ij = sqrt(d_eta_ij^2 + d_phi_ij^2) ('hadr' measure on (pT, y, phi), with
d_eta standing for the rapidity, as in the original). The original (``src/make_efps.py``) passes
each event's cone particles with pT > 0 as (pT / pT_mu, d_eta, d_phi), the muon left out, to
``EFPSet(('d<=', 7), ('n<=', 7), ('p<=', 1), measure='hadr', beta=b, kappa=k, normed=True)``
for the 6 x 6 grid below: 467 connected graphs per (kappa, beta), 48 for d <= 5. Events without
particles are 0 for every graph, as the original writes them (energyflow is not called on them:
for kappa < 0 it would divide by a zero pT sum).

Only kappa = 1 is IRC safe; kappa = -1 and 0 work in energyflow as numbers (z_i = sum pT / pT_i
and z_i = 1); ``kappa='pf'`` is refused by the 'hadr' measure and is not in the paper's grid.

>>> import numpy as np
>>> particles = np.array([[[0.5, 0.0, 0.0, 22.0], [0.5, 0.3, 0.4, 211.0]]])
>>> compute_efps(particles, np.ones((1, 2), bool), kappa=1, beta=2, dmax=2).round(12).tolist()
[[1.0, 0.125, 0.03125]]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "BETAS",
    "EFP_COLUMN",
    "KAPPAS",
    "compute_efp_columns",
    "compute_efps",
    "describe_graphs",
    "efp_columns",
    "efp_set",
]

EFP_COLUMN = re.compile(r"^efp_k(-?[0-9.]+)_b([0-9.]+)_(\d+)$")  # efp_columns' names
KAPPAS = (-1.0, 0.0, 0.25, 0.5, 1.0, 2.0)  # energy weighting exponents of the paper
BETAS = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)  # angular exponents of the paper


@functools.lru_cache(maxsize=64)
def efp_set(kappa: float, beta: float, dmax: int) -> Any:
    """The paper's connected EFPs with at most ``dmax`` edges (and so vertices), normed.

    Cached: building the first set loads energyflow's graph file (about a second), and a chunk of
    events is computed for one (kappa, beta) after another."""
    import energyflow  # deferred: ~0.5 s to import, needed by EFP steps only

    if dmax < 0:
        raise ValueError(f"dmax must be >= 0, got {dmax}")
    return energyflow.EFPSet(
        ("d<=", int(dmax)), ("n<=", int(dmax)), ("p<=", 1),
        measure="hadr", beta=float(beta), kappa=float(kappa), normed=True,
    )  # fmt: skip


def efp_columns(kappa: float, beta: float, dmax: int) -> list[str]:
    """Column names of :func:`compute_efps`, ``efp_k{kappa}_b{beta}_{index}`` (e.g.
    ``efp_k-1_b0.25_3``); the index is the graph's position in energyflow's EFPSet."""
    n = len(efp_set(kappa, beta, dmax).efps)
    return [f"efp_k{kappa:g}_b{beta:g}_{i}" for i in range(n)]


def describe_graphs(kappa: float, beta: float, dmax: int) -> list[dict[str, Any]]:
    """One record per column of :func:`compute_efps`: its name, the number of vertices ``n``,
    of edges ``d``, the chromatic number ``c`` and the edges as vertex pairs (a multigraph), so a
    search that picks a column can say which observable it picked."""
    efps = efp_set(kappa, beta, dmax).efps
    return [
        {
            "column": column,
            "kappa": float(kappa),
            "beta": float(beta),
            "n": int(efp.n),
            "d": int(efp.d),
            "c": int(efp.c),
            "edges": [[int(a), int(b)] for a, b in efp.graph],
        }
        for column, efp in zip(efp_columns(kappa, beta, dmax), efps, strict=True)
    ]


def _per_event(particles: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Which events have particles, and their real (pT, d_eta, d_phi) as one view each."""
    particles = np.asarray(particles)
    mask = np.asarray(mask, dtype=bool)
    if particles.ndim != 3 or particles.shape[2] < 3 or mask.shape != particles.shape[:2]:
        raise ValueError(
            f"particles (n_events, n_slots, >= 3) and mask (n_events, n_slots) expected, got "
            f"{particles.shape} and {mask.shape}"
        )
    counts = mask.sum(axis=1)
    has = counts > 0
    # One gather of the real particles, split into per-event views without copies.
    real = particles[..., :3][mask].astype(np.float64, copy=False)
    return has, np.split(real, np.cumsum(counts[has])[:-1]) if has.any() else []


def compute_efp_columns(
    particles: np.ndarray, mask: np.ndarray, columns: Sequence[str], dmax: int
) -> np.ndarray:
    """The named EFP columns (:func:`efp_columns` names) of a chunk of events, in the order
    asked: each (kappa, beta) computes only its named graphs, so scoring a model that uses a
    few chosen EFPs does not pay for the whole set."""
    groups: dict[tuple[float, float], list[tuple[int, int]]] = {}
    for j, column in enumerate(columns):
        match = EFP_COLUMN.match(column)
        if match is None:
            raise ValueError(f"{column!r} is not an EFP column name (efp_k<kappa>_b<beta>_<i>)")
        kappa, beta, index = float(match[1]), float(match[2]), int(match[3])
        groups.setdefault((kappa, beta), []).append((j, index))
    has, events = _per_event(particles, mask)
    out = np.zeros((len(has), len(columns)), dtype=np.float64)
    for (kappa, beta), picks in groups.items():
        full = efp_set(kappa, beta, dmax).efps
        bad = [i for _, i in picks if i >= len(full)]
        if bad:
            raise ValueError(f"kappa {kappa:g}, beta {beta:g}, d <= {dmax} has {len(full)} "
                             f"EFPs; asked for index {bad[0]}")  # fmt: skip
        if not events:
            continue
        subset = _graph_set(tuple(tuple(full[i].graph) for _, i in picks), kappa, beta)
        out[np.ix_(has, [j for j, _ in picks])] = subset.batch_compute(events, n_jobs=1)
    return out


@functools.lru_cache(maxsize=64)
def _graph_set(graphs: tuple[tuple[tuple[int, int], ...], ...], kappa: float, beta: float) -> Any:
    import energyflow

    return energyflow.EFPSet(
        *[list(g) for g in graphs], measure="hadr", beta=beta, kappa=kappa, normed=True
    )


def compute_efps(
    particles: np.ndarray, mask: np.ndarray, kappa: float, beta: float, dmax: int
) -> np.ndarray:
    """EFPs of a chunk of events, (n_events, n_graphs) float64, columns :func:`efp_columns`.

    ``particles`` is (n_events, n_slots, >= 3) with (pt_rel, d_eta, d_phi) first (the order of
    :data:`~hepflows.iso.columns.PARTICLE_COLUMNS`); only the slots of ``mask`` count, in any
    order. One process: the workflow runs chunks and (kappa, beta) as separate jobs.
    """
    has, events = _per_event(particles, mask)
    efps = efp_set(kappa, beta, dmax)
    out = np.zeros((len(has), len(efps.efps)), dtype=np.float64)
    if events:
        out[has] = efps.batch_compute(events, n_jobs=1)
    return out
