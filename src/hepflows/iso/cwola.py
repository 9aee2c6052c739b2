"""CWoLa labels and training weights, as in the original: no truth, two mixed samples.

Label 1 ("prompt abundant") = opposite-sign (OS) events with the mass in ``PROMPT_WINDOW``;
label 0 = the OS sidebands plus every same-sign (SS) event. SS pairs are almost all non-prompt,
but their muons have other (eta, pT) spectra than the OS ones; a density-ratio weight
p_OS(eta, pT) / p_SS(eta, pT) of muon 1, from a 2-D histogram ratio, makes them look like OS
muons. Then the label with the smaller weight total is scaled up to the other's, and all weights
are normalised to sum to 1 (the loss is a weighted BCE).

Why a histogram and not :mod:`hepflows.core.density_ratio`: two smooth variables and a few
thousand SS events are what a histogram does well: its only approximation is the binning, it
needs no training job, and its bins (ETA_EDGES, PT_EDGES, our choice) say plainly
what was matched.
"""

from __future__ import annotations

from collections.abc import Sequence

import hist
import numpy as np

from hepflows.core.events import EventTable
from hepflows.core.io import DataError
from hepflows.iso.columns import MASS_WINDOW, PROMPT_WINDOW

__all__ = [
    "ETA_EDGES",
    "PT_EDGES",
    "cwola_labels",
    "cwola_table",
    "cwola_weights",
    "same_sign",
    "ss_weights",
]

# Our choice: 6 x 7 bins plus overflow in pT, ~100 SS events per bin at 1M events (0.43% SS).
ETA_EDGES = np.linspace(-2.1, 2.1, 7)
PT_EDGES = np.array([25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 60.0, 80.0])


def _fail(source: str | None, message: str) -> DataError:
    return DataError(f"{source}: {message}" if source else message)


def _first_bad(
    name: str, values: np.ndarray, ok: np.ndarray, expected: str, source: str | None
) -> None:
    if ok.all():
        return
    i = int(np.argmin(ok))
    raise _fail(
        source,
        f"{name} has {int((~ok).sum())} bad value(s), first at event {i} ({values[i]!r}); "
        f"expected {expected}",
    )


def _vector(name: str, values: np.ndarray, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise ValueError(f"{name} must be 1-D" + (f" of length {n}" if n is not None else ""))
    return arr


def same_sign(
    mu1_charge: np.ndarray, mu2_charge: np.ndarray, *, source: str | None = None
) -> np.ndarray:
    """True where the two muons have the same charge; charges must be +1 or -1."""
    q1 = _vector("mu1_charge", mu1_charge)
    q2 = _vector("mu2_charge", mu2_charge, q1.size)
    for name, q in (("mu1_charge", q1), ("mu2_charge", q2)):
        _first_bad(name, q, np.isin(q, (-1.0, 1.0)), "+1 or -1", source)
    return q1 == q2


def cwola_labels(
    mass: np.ndarray,
    mu1_charge: np.ndarray,
    mu2_charge: np.ndarray,
    *,
    window: tuple[float, float] = PROMPT_WINDOW,
    source: str | None = None,
) -> np.ndarray:
    """1 for OS events with window[0] < m < window[1] (the Z peak), 0 for the OS sidebands and
    every SS event. Masses must lie in the selection ``MASS_WINDOW`` (edges included)."""
    m = _vector("mass", mass)
    lo, hi = MASS_WINDOW
    if not lo <= window[0] < window[1] <= hi:
        raise ValueError(f"window must satisfy {lo} <= low < high <= {hi}, got {window}")
    _first_bad("mass", m, np.isfinite(m) & (m >= lo) & (m <= hi), f"{lo} <= m <= {hi} GeV", source)
    ss = same_sign(mu1_charge, mu2_charge, source=source)
    if m.size != ss.size:
        raise ValueError(f"mass has {m.size} events, the charges {ss.size}")
    return (~ss & (m > window[0]) & (m < window[1])).astype(np.int64)


def _bin_index(h: hist.Hist, eta: np.ndarray, pt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``h.values(flow=True)``: under/overflow are bins of their own."""
    return h.axes[0].index(eta) + 1, h.axes[1].index(pt) + 1


def ss_weights(
    eta: np.ndarray,
    pt: np.ndarray,
    is_ss: np.ndarray,
    *,
    eta_edges: Sequence[float] | np.ndarray = ETA_EDGES,
    pt_edges: Sequence[float] | np.ndarray = PT_EDGES,
    source: str | None = None,
) -> np.ndarray:
    """1 for OS events; for SS events the ratio of the OS and SS (eta, pT) densities in their
    bin, scaled so that the SS weights average 1 (the SS sample keeps its size).

    Values beyond the edges fall in under/overflow bins, which are used like any other bin. A bin
    with SS events but no OS events gives its SS events weight 0 (there is no OS density there
    to match: the estimate of p_OS / p_SS is 0, never inf or NaN). OS events in bins without SS
    events cannot be matched; the SS weights then match the OS distribution elsewhere.
    """
    eta = _vector("eta", eta)
    pt = _vector("pt", pt, eta.size)
    ss = np.asarray(is_ss, dtype=bool)
    if ss.shape != eta.shape:
        raise ValueError(f"is_ss must have shape {eta.shape}, got {ss.shape}")
    _first_bad("mu1_eta", eta, np.isfinite(eta), "a finite number", source)
    _first_bad("mu1_pt", pt, np.isfinite(pt) & (pt > 0), "a finite pT > 0 GeV", source)
    n_ss, n_os = int(ss.sum()), int((~ss).sum())
    if n_ss == 0:
        raise _fail(source, "no same-sign events: the SS weights need at least one SS event")
    if n_os == 0:
        raise _fail(source, "no opposite-sign events: the SS weights match SS events to OS ones")
    axes = (
        hist.axis.Variable(np.asarray(eta_edges, dtype=np.float64), name="eta"),
        hist.axis.Variable(np.asarray(pt_edges, dtype=np.float64), name="pt"),
    )
    h_os = hist.Hist(*axes).fill(eta[~ss], pt[~ss])
    h_ss = hist.Hist(*axes).fill(eta[ss], pt[ss])
    i, j = _bin_index(h_os, eta[ss], pt[ss])
    count_os = h_os.values(flow=True)[i, j]
    count_ss = h_ss.values(flow=True)[i, j]  # >= 1: each SS event is in its own bin
    ratio = (count_os / n_os) / (count_ss / n_ss)
    if not ratio.any():
        raise _fail(
            source,
            "no same-sign event shares an (eta, pT) bin with an opposite-sign event; "
            "expected overlapping spectra (check the bin edges)",
        )
    w = np.ones(eta.size)
    w[ss] = ratio * (n_ss / ratio.sum())
    return w


def cwola_weights(
    labels: np.ndarray,
    eta: np.ndarray,
    pt: np.ndarray,
    is_ss: np.ndarray,
    *,
    eta_edges: Sequence[float] | np.ndarray = ETA_EDGES,
    pt_edges: Sequence[float] | np.ndarray = PT_EDGES,
    source: str | None = None,
) -> np.ndarray:
    """Training weights: :func:`ss_weights`, the smaller label total scaled up to the larger one
    (the count ratio, as SS weights average 1), and everything normalised to sum to 1: each label
    then holds half of the weight."""
    y = np.asarray(labels)
    ss = np.asarray(is_ss, dtype=bool)
    if y.shape != ss.shape:
        raise ValueError(f"labels must have shape {ss.shape}, got {y.shape}")
    _first_bad("labels", y, np.isin(y, (0, 1)), "0 or 1", source)
    _first_bad("labels", y, ~(ss & (y == 1)), "0 for every same-sign event", source)
    for value in (0, 1):
        if not np.any(y == value):
            raise _fail(source, f"no events with label {value}: CWoLa needs both mixed samples")
    w = ss_weights(eta, pt, ss, eta_edges=eta_edges, pt_edges=pt_edges, source=source)
    totals = np.array([w[y == 0].sum(), w[y == 1].sum()])
    w = w * np.where(y == 1, totals.max() / totals[1], totals.max() / totals[0])
    return w / w.sum()


def cwola_table(
    table: EventTable,
    *,
    window: tuple[float, float] = PROMPT_WINDOW,
    eta_edges: Sequence[float] | np.ndarray = ETA_EDGES,
    pt_edges: Sequence[float] | np.ndarray = PT_EDGES,
) -> EventTable:
    """The same events with CWoLa ``labels`` and training ``weights`` set (muon 1 is the one
    reweighted and classified)."""
    src = table.source
    labels = cwola_labels(
        table.col("mass"),
        table.col("mu1_charge"),
        table.col("mu2_charge"),
        window=window,
        source=src,
    )
    ss = same_sign(table.col("mu1_charge"), table.col("mu2_charge"), source=src)
    weights = cwola_weights(
        labels,
        table.col("mu1_eta"),
        table.col("mu1_pt"),
        ss,
        eta_edges=eta_edges,
        pt_edges=pt_edges,
        source=src,
    )
    return EventTable(
        data=table.data,
        columns=list(table.columns),
        weights=weights,
        labels=labels,
        attrs=dict(table.attrs),
        source=src,
        particles=table.particles,
        mask=table.mask,
        particle_columns=table.particle_columns,
    )
