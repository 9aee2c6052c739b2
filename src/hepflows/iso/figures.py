"""The figures of the muon isolation analysis (arXiv:2306.15737, shared/reference/iso.md): the
mass fit with its pulls, ROC and rejection curves (sPlot or truth), the cone scan, the guided
EFP search, isolation distributions of prompt and non-prompt muons and the AUC summary, in the
house style of :mod:`hepflows.core.plotting`.

Each function takes what a step reads from its inputs (arrays, dicts, a DataFrame) and writes a
PDF and a PNG. Model names arrive as labels ("PFN", "9 cones + sum pT"): no set is assumed, a
model's colour follows its position in the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import mplhep
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, NullLocator

from hepflows.core import plotting
from hepflows.core.plotting import (
    COLORS,
    as_array,
    finish,
    fit_ylim,
    hep_label,
    legend_below,
    mark_out_of_range,
    styled,
    weighted_hist,
)
from hepflows.iso.mass_fit import PARAMETERS, BinnedComparison, MassFit, component_pdfs

__all__ = [
    "CURVE_KINDS",
    "MAX_CURVE_POINTS",
    "check_same_length",
    "nonempty_array",
    "plot_auc_table",
    "plot_isolation",
    "plot_mass_fit",
    "thin_curve",
]

# A ROC curve has a point per event; more than this many are thinned for drawing (a PDF with
# 10^5 vertices per curve is slow to open and looks the same).
MAX_CURVE_POINTS = 2000
MASS_LABEL = r"$m_{\mu\mu}$ [GeV]"
ISO_LABEL = r"relative isolation $\sum p_\mathrm{T}(\Delta R < R)\,/\,p_\mathrm{T}^{\mu}$"
CURVE_KINDS = ("sPlot", "truth")
# (n sigma, colour) of the pull bands, drawn outermost first
_PULL_BANDS = ((2.0, "#ffd966"), (1.0, "#93c47d"))


def nonempty_array(values: Any, what: str) -> np.ndarray:
    arr = as_array(values)
    if arr.size == 0:
        raise ValueError(f"{what}: expected at least one value, got none")
    return arr


def check_same_length(what: str, **arrays: np.ndarray) -> None:
    sizes = {k: np.asarray(v).size for k, v in arrays.items()}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{k} {n}" for k, n in sizes.items())
        raise ValueError(f"{what}: expected arrays of equal length, got {listed}")


def thin_curve(*arrays: np.ndarray, n_max: int = MAX_CURVE_POINTS) -> tuple[np.ndarray, ...]:
    """Every k-th point and the last: an sPlot curve need not be monotone, so it is not
    interpolated, only sampled in threshold order."""
    n = arrays[0].size
    if n <= n_max:
        return arrays
    keep = np.unique(np.r_[np.linspace(0, n - 1, n_max).astype(int), n - 1])
    return tuple(a[keep] for a in arrays)


# --------------------------------------------------------------------------- mass fit


def _fit_values(fit: MassFit | Mapping[str, float]) -> dict[str, float]:
    values = fit.values if isinstance(fit, MassFit) else fit
    missing = [k for k in PARAMETERS if k not in values]
    if missing:
        raise ValueError(f"fit values: expected the parameters {PARAMETERS}, missing {missing}")
    return {k: float(values[k]) for k in PARAMETERS}


def _pull_limit(pulls: np.ndarray) -> float:
    """At least +-3 (the 2 sigma band with room), at most +-5; beyond, points are marked."""
    finite = np.abs(pulls[np.isfinite(pulls)])
    top = float(finite.max()) if finite.size else 0.0
    return float(np.clip(np.ceil(1.15 * top), 3.0, 5.0))


def _value_error(value: float, error: float | None) -> str:
    """The value to the error's second significant digit, as a result is quoted."""
    if error is None or not np.isfinite(error) or error <= 0:
        return f"{value:.4g}"
    digits = max(0, 1 - int(np.floor(np.log10(error))))
    return f"{value:.{digits}f} $\\pm$ {error:.{digits}f}"


def _fit_text(values: Mapping[str, float], errors: Mapping[str, float] | None) -> str:
    """The shape parameters and the prompt fraction, with errors where given."""
    names = {"mu": r"$\mu$", "sigma": r"$\sigma$", "gamma": r"$\gamma$", "tau": r"$\tau$"}
    errors = errors or {}
    lines = [f"{sym} = {_value_error(values[k], errors.get(k))} GeV" for k, sym in names.items()]
    s = values["n_prompt"] / (values["n_prompt"] + values["n_nonprompt"])
    lines.append(f"prompt fraction = {s:.3f}")
    return "\n".join(lines)


@styled
def plot_mass_fit(
    comparison: BinnedComparison,
    fit: MassFit | Mapping[str, float],
    out: str | Path,
    *,
    errors: Mapping[str, float] | None = None,
    data_label: str = "pseudo-data",
    title: str = "",
    logy: bool = True,
) -> list[Path]:
    """The evidence that the mass fit, on which every sPlot number rests, describes the
    spectrum: events per bin with Poisson errors, the fitted total and its prompt (Voigt) and
    non-prompt (exponential) parts, and the pulls (counts - expected) / sqrt(expected) below.

    ``fit`` is a :class:`~hepflows.iso.mass_fit.MassFit` or its values (``PARAMETERS``);
    ``errors`` (``MassFit.errors``) go into the parameter box. chi2 is the sum of the squared
    pulls, ndf the bins with expected > 0 minus the 6 fitted parameters. Log y (the default)
    shows the 4% non-prompt continuum under the peak.
    """
    if isinstance(fit, MassFit) and errors is None:
        errors = fit.errors
    values = _fit_values(fit)
    edges = as_array(comparison.edges)
    counts, expected = as_array(comparison.counts), as_array(comparison.expected)
    if counts.size == 0:
        raise ValueError("mass fit: expected at least one bin, got none")
    if edges.size != counts.size + 1 or expected.size != counts.size:
        raise ValueError(
            f"mass fit: expected {counts.size + 1} edges and {counts.size} expected counts for "
            f"{counts.size} bins, got {edges.size} edges and {expected.size} expected counts"
        )
    if np.any(np.diff(edges) <= 0):
        raise ValueError("mass fit: expected increasing bin edges")
    with np.errstate(divide="ignore", invalid="ignore"):
        pulls = np.where(expected > 0, (counts - expected) / np.sqrt(expected), np.nan)
    used = np.isfinite(pulls)
    chi2, ndf = float(np.sum(pulls[used] ** 2)), int(used.sum()) - len(PARAMETERS)

    # Smooth curves in events per bin width: the densities times the yields times the width.
    grid = np.linspace(edges[0], edges[-1], 800)
    pdfs = component_pdfs(grid, values, window=(float(edges[0]), float(edges[-1])))
    width = float(np.mean(np.diff(edges)))
    prompt = values["n_prompt"] * pdfs[:, 0] * width
    nonprompt = values["n_nonprompt"] * pdfs[:, 1] * width

    fig, (ax, rax) = plt.subplots(2, 1, sharex=True, height_ratios=(3.2, 1), figsize=(10, 11))
    fig.get_layout_engine().set(h_pad=0.0, hspace=0.0)
    ax.plot(grid, nonprompt, color=COLORS[0], ls="--", lw=2, label="non-prompt (exponential)")
    ax.plot(grid, prompt, color=COLORS[1], ls="-.", lw=2, label="prompt (Voigt)")
    ndf_text = f"{chi2:.1f} / {ndf}" if ndf > 0 else f"{chi2:.1f} / {ndf} (ndf <= 0)"
    ax.plot(grid, prompt + nonprompt, color=COLORS[2], lw=2.5,
            label=rf"fit, $\chi^2$/ndf = {ndf_text}")  # fmt: skip
    nonzero = counts > 0 if logy else np.ones(counts.size, bool)
    centers = 0.5 * (edges[1:] + edges[:-1])
    ax.errorbar(centers[nonzero], counts[nonzero], yerr=np.sqrt(counts[nonzero]), fmt="o",
                color="k", ms=5, elinewidth=1.2, label=data_label, zorder=4)  # fmt: skip
    if logy:
        ax.set_yscale("log")
        low = min(float(nonprompt.min()), float(counts[nonzero].min(initial=np.inf)))
        ax.set_ylim(max(0.5 * low, 0.1), 2.0 * float(max(counts.max(), (prompt + nonprompt).max())))
    else:
        ax.set_ylim(0, 1.05 * float(max((counts + np.sqrt(counts)).max(), prompt.max())))
    ax.set_ylabel(f"events / {width:.2g} GeV")

    for n_sigma, color in _PULL_BANDS:
        rax.axhspan(-n_sigma, n_sigma, color=color, lw=0, zorder=0)
    rax.axhline(0.0, color="k", lw=1.0, zorder=1)
    rax.stairs(np.nan_to_num(pulls), edges, fill=True, color="0.35", zorder=2)
    limit = _pull_limit(pulls)
    rax.set_ylim(-limit, limit)
    mark_out_of_range(rax, centers, pulls, COLORS[2])
    rax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5], symmetric=True,
                                            prune="both"))  # fmt: skip
    rax.set_ylabel("pull")
    rax.set_xlabel(MASS_LABEL)
    rax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("")

    handles, labels = ax.get_legend_handles_labels()
    order = [3, 2, 1, 0]  # data, fit, prompt, non-prompt
    bands = tuple(Patch(color=c, lw=0) for _, c in _PULL_BANDS[::-1])
    handles = [*(handles[i] for i in order), bands]
    labels = [labels[i] for i in order] + [r"pull $\pm 1\sigma$, $\pm 2\sigma$"]
    box = ax.text(0.97, 0.95, _fit_text(values, errors), transform=ax.transAxes, ha="right",
                  va="top", fontsize="x-small", linespacing=1.4)  # fmt: skip
    return finish(fig, ax, title, out, handles=handles, labels=labels, fontsize="x-small",
                  handler_map={tuple: HandlerTuple(ndivide=None, pad=0)}, extra=[box])  # fmt: skip


# --------------------------------------------------------------------------- ROC curves


@styled
def plot_isolation(
    iso_prompt: Sequence[float] | np.ndarray,
    iso_nonprompt: Sequence[float] | np.ndarray,
    radius: float,
    out: str | Path,
    *,
    weights_prompt: Sequence[float] | np.ndarray | None = None,
    weights_nonprompt: Sequence[float] | np.ndarray | None = None,
    weight_label: str | None = None,
    bins: int = 40,
    x_max: float = 2.0,
    title: str = "",
) -> list[Path]:
    """Relative isolation of prompt and non-prompt muons in a cone of radius ``radius``: what a
    single cone cut separates, normalised to unit area, entries above ``x_max`` in the last bin.

    ``weights_*`` may be sWeights (``weight_label`` says so in the legend, e.g. "sWeights");
    with the same events as both classes, each weighted by its species' sWeights, the figure
    is the sPlot of the isolation. sWeights can make a bin negative: then y is linear (a log
    axis would hide those bins) and the legend says why; otherwise y is log, for the tails.
    """
    if not radius > 0:
        raise ValueError(f"radius: expected R > 0, got {radius}")
    if bins < 1 or not x_max > 0:
        raise ValueError(f"isolation binning: expected bins >= 1 and x_max > 0, got {bins}, "
                         f"{x_max}")  # fmt: skip
    edges = np.linspace(0.0, x_max, bins + 1)
    samples = {"prompt": (iso_prompt, weights_prompt),
               "non-prompt": (iso_nonprompt, weights_nonprompt)}  # fmt: skip
    hists = {}
    for name, (values, weights) in samples.items():
        v = nonempty_array(values, f"{name} isolation")
        w = None if weights is None else as_array(weights)
        if w is not None:
            check_same_length(f"{name} isolation", values=v, weights=w)
        if np.any(v < 0) or not np.all(np.isfinite(v)):
            raise ValueError(f"{name} isolation: expected finite values >= 0")
        hists[name] = weighted_hist(np.minimum(v, x_max), w, edges, density=True)

    negative = any(np.any(h < 0) for h, _ in hists.values())
    fig, ax = plt.subplots()
    for (name, (h, err)), color in zip(hists.items(), (COLORS[1], COLORS[0]), strict=True):
        label = f"{name} ({weight_label})" if weight_label else name
        mplhep.histplot(h, edges, yerr=err, histtype="step", color=color, lw=2.5, label=label,
                        ax=ax)  # fmt: skip
    tops = [np.max(h + e) for h, e in hists.values()]
    if negative:
        lows = [np.min(h - e) for h, e in hists.values()]
        ax.axhline(0.0, color="0.3", lw=1.0)
        ax.set_ylim(1.1 * min(min(lows), 0.0), 1.05 * max(tops))
        note = "linear y: some sWeighted bins < 0"
    else:
        ax.set_yscale("log")
        positive = np.concatenate([h[h > 0] for h, _ in hists.values()])
        ax.set_ylim(0.5 * float(positive.min(initial=1e-3)), 2.0 * max(tops))
        note = None
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(ISO_LABEL)
    ax.set_ylabel(r"1/N dN/d$I_\mathrm{rel}$")
    texts = hep_label(ax, f"R = {radius:g}" + (f", {title}" if title else ""))
    legend_title = f"last bin: $I_\\mathrm{{rel}}$ > {edges[-2]:g}"
    if note:
        legend_title += f"\n{note}"
    legend = legend_below(ax, texts, title=legend_title, fontsize="small")
    fit_ylim(ax, [*texts, legend])
    for text in texts:
        text.remove()
    hep_label(ax, f"R = {radius:g}" + (f", {title}" if title else ""))
    return plotting.save_figure(fig, out)  # through the module: the tests spy on it


# --------------------------------------------------------------------------- AUC table

_TABLE_COLUMNS = ("model", "auc_mean", "auc_err", "tpr_at_50fpr", "n_replicas", "kind")
_KIND_STYLE = {"sPlot": ("o", COLORS[0]), "truth": ("s", COLORS[2])}


def _replicas_text(n: pd.Series) -> str:
    values = sorted({int(v) for v in n.dropna()})
    if not values:
        return "mean $\\pm$ error"
    over = f"{values[0]}" if len(values) == 1 else f"{values[0]}-{values[-1]}"
    return f"mean $\\pm$ std/√R over R = {over} replicas"


@styled
def plot_auc_table(table: pd.DataFrame, out: str | Path, *, title: str = "") -> list[Path]:
    """The summary table as a figure: per model (rows in table order, top down) the
    bootstrapped AUC with its error and the TPR at 50% FPR, one marker per evaluation kind
    (sPlot, truth), so the ranking and the sPlot-truth agreement are seen at once."""
    missing = [c for c in _TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"AUC table: expected columns {list(_TABLE_COLUMNS)}, missing {missing}")
    if table.empty:
        raise ValueError("AUC table: expected at least one row, got none")
    models = list(dict.fromkeys(str(m) for m in table["model"]))
    kinds = list(dict.fromkeys(str(k) for k in table["kind"]))
    offsets = (np.arange(len(kinds)) - (len(kinds) - 1) / 2) * 0.22
    y_of = {m: i for i, m in enumerate(models)}

    width = 13.0
    fig, (ax, tax) = plt.subplots(1, 2, sharey=True, width_ratios=(2.2, 1),
                                  figsize=(width, 3.2 + 0.75 * len(models)))  # fmt: skip
    fig.get_layout_engine().set(wspace=0.0)
    handles = []
    for j, kind in enumerate(kinds):
        rows = table[table["kind"].astype(str) == kind]
        y = np.array([y_of[str(m)] for m in rows["model"]]) + offsets[j]
        marker, color = _KIND_STYLE.get(kind, ("D", COLORS[(j + 4) % len(COLORS)]))
        handles.append(ax.errorbar(rows["auc_mean"], y, xerr=rows["auc_err"], fmt=marker, ms=9,
                                   color=color, capsize=4, lw=2, label=kind))  # fmt: skip
        tax.plot(rows["tpr_at_50fpr"], y, marker, ms=9, color=color, ls="none")
    for a in (ax, tax):
        a.set_ylim(len(models) - 0.5, -0.5)
        a.yaxis.set_minor_locator(NullLocator())
        a.grid(axis="x", color="0.85", lw=0.8)
        a.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.set_yticks(np.arange(len(models)), models)
    tax.tick_params(axis="y", which="both", left=False, labelleft=False)
    ax.set_xlabel("AUC", loc="center")
    tax.set_xlabel("TPR at 50% FPR", loc="center")
    for a, cols in ((ax, ["auc_mean", "auc_err"]), (tax, ["tpr_at_50fpr", None])):
        v = table[cols[0]].to_numpy(dtype=float)
        e = table[cols[1]].to_numpy(dtype=float) if cols[1] else np.zeros_like(v)
        lo, hi = float(np.nanmin(v - e)), float(np.nanmax(v + e))
        pad = 0.12 * (hi - lo or 0.01)
        a.set_xlim(lo - pad, hi + pad)
    handles = [Line2D([], [], marker=h[0].get_marker(), color=h[0].get_color(), ls="none", ms=9)
               for h in handles]  # fmt: skip
    fig.legend(handles, kinds, loc="outside lower center", ncols=len(kinds) + 1,
               title=_replicas_text(table["n_replicas"]), fontsize="small",
               title_fontsize="small")  # fmt: skip
    texts: list[Artist] = hep_label(ax, "", inside=False)
    if title:
        texts.append(tax.set_title(title, loc="right", fontsize="small"))
    return plotting.save_figure(fig, out)  # through the module: the tests spy on it
