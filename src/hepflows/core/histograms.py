"""Weighted histograms and ratio pads, drawn with mplhep: the parts of
:func:`hepflows.core.plotting.plot_ratio` and :func:`~hepflows.core.plotting.plot_ratio_grid`.
A histogram is a ``hist`` histogram with weight storage (sum w and sum w^2 per bin); a ratio
pad's y range fits its data, and points beyond it are marked at its edge."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import hist
import mplhep
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

__all__ = [
    "as_array",
    "common_edges",
    "draw_ratio",
    "mark_out_of_range",
    "ratio_limits",
    "weighted_hist",
]

_REF_FILL = "0.85"


def as_array(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=float).ravel()


def weighted_hist(
    values: Any, weights: Any, edges: np.ndarray, density: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Sum of weights per bin and its uncertainty sqrt(sum w^2), from a ``hist`` histogram with
    weight storage; ``density`` divides both by the total and the bin widths (the
    normalisation's own error ignored). Entries outside the edges are dropped; one on the last
    edge counts in the last bin (as in ``np.histogram``)."""
    v = as_array(values)
    w = np.ones_like(v) if weights is None else as_array(weights)
    if w.shape != v.shape:
        raise ValueError(f"weights shape {w.shape} does not match values shape {v.shape}")
    edges = as_array(edges)
    v = np.where(v == edges[-1], np.nextafter(edges[-1], -np.inf), v)
    h = hist.Hist(hist.axis.Variable(edges), storage=hist.storage.Weight()).fill(v, weight=w)
    sumw, err = h.values(), np.sqrt(h.variances())
    if density:
        total = sumw.sum()
        scale = 1.0 / (total * np.diff(edges)) if total != 0 else np.zeros(sumw.size)
        sumw, err = sumw * scale, err * scale
    return sumw, err


def common_edges(
    hists: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    bins: int | Sequence[float] | np.ndarray,
    range_: tuple[float, float] | None,
) -> np.ndarray:
    if not np.isscalar(bins):
        return as_array(bins)
    if range_ is None:
        finite = [v[np.isfinite(v)] for v in (as_array(vals) for vals, _ in hists.values())]
        finite = [v for v in finite if v.size]
        if not finite:
            raise ValueError("no finite values to histogram")
        range_ = (min(v.min() for v in finite), max(v.max() for v in finite))
    lo, hi = range_
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, int(bins) + 1)


_NICE = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def ratio_limits(values: Iterable[Any]) -> tuple[float, float]:
    """A ratio pad's y range: symmetric about 1, the smallest of +-0.02, 0.05, ..., 1 that holds
    every finite value given (ratios, band edges) with 10% to spare; beyond +-1, points are
    marked at the edge (:func:`mark_out_of_range`)."""
    arrays = [as_array(v) for v in values]
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays] + [np.ones(1)])
    dev = 1.1 * float(np.abs(finite - 1.0).max())
    half = next((n for n in _NICE if n >= dev), _NICE[-1])
    return 1.0 - half, 1.0 + half


def mark_out_of_range(ax: Axes, x: Any, y: Any, color: str) -> list[Artist]:
    """Triangles at the top (bottom) edge, pointing out, where a point lies above (below) the
    y range; returns the markers drawn."""
    x, y = as_array(x), as_array(y)
    lo, hi = ax.get_ylim()
    inset = 0.08 * (hi - lo)
    drawn = []
    for beyond, at, marker in ((y > hi, hi - inset, "^"), (y < lo, lo + inset, "v")):
        beyond &= np.isfinite(y)
        if beyond.any():
            drawn += ax.plot(x[beyond], np.full(beyond.sum(), at), ls="none", marker=marker,
                             ms=9, color=color, mec="k", mew=0.6, zorder=5)  # fmt: skip
    return drawn


def draw_ratio(
    ax: Axes,
    rax: Axes,
    hists: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    reference: str,
    edges: np.ndarray,
    density: bool,
    xlabel: str,
    logy: bool,
    colors: Sequence[str],
) -> None:
    """Histograms on ``ax`` (the reference as points) and their ratio to ``reference`` on
    ``rax``, with the reference's relative uncertainty as a band about 1."""
    centers = 0.5 * (edges[1:] + edges[:-1])
    ref, ref_err = weighted_hist(*hists[reference], edges, density)
    mplhep.histplot(ref, edges, yerr=ref_err, histtype="errorbar", color="k", label=reference,
                    ax=ax, zorder=4, markersize=5)  # fmt: skip

    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(ref > 0, ref_err / ref, np.nan)
        rax.stairs(1 + rel, edges, baseline=1 - rel, fill=True, color=_REF_FILL, zorder=1,
                   label=f"{reference} stat. unc.")  # fmt: skip
        ratios, tops = [], [ref + ref_err]
        for i, name in enumerate(k for k in hists if k != reference):
            color = colors[i % len(colors)]
            h, err = weighted_hist(*hists[name], edges, density)
            mplhep.histplot(h, edges, yerr=err, histtype="step", color=color, label=name,
                            ax=ax, zorder=3)  # fmt: skip
            ratio = np.where(ref > 0, h / ref, np.nan)
            r_err = np.where(ref > 0, err / ref, np.nan)
            rax.stairs(ratio, edges, color=color, lw=2, zorder=3)
            rax.errorbar(centers, ratio, yerr=r_err, fmt="none", ecolor=color, elinewidth=1.5,
                         zorder=3)  # fmt: skip
            ratios.append((ratio, color))
            tops.append(h + err)

    rax.axhline(1.0, color="k", lw=1.0, ls="--", zorder=2)
    rax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10], prune="upper"))
    rax.set_ylim(*ratio_limits([r for r, _ in ratios] + [1 + rel, 1 - rel]))
    for ratio, color in ratios:
        mark_out_of_range(rax, centers, ratio, color)
    rax.set_xlim(edges[0], edges[-1])
    rax.set_xlabel(xlabel)
    rax.set_ylabel(f"ratio to\n{reference}" if len(reference) <= 12 else "ratio")
    ax.set_xlabel("")
    ax.set_ylabel("normalised entries" if density else "events / bin")
    top = float(np.nanmax(np.concatenate(tops))) if np.isfinite(np.concatenate(tops)).any() else 1
    if logy:
        ax.set_yscale("log")
    else:
        ax.set_ylim(0, 1.05 * top)
        ax.yaxis.get_major_locator().set_params(prune="lower")  # no clash with ratio pad
