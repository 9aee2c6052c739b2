"""The house style and the figures every analysis draws: histograms with a ratio pad, ROC
curves, training-loss curves. An analysis keeps its own figures in its package and builds them
with :func:`styled`, :func:`finish` and :func:`band_line` from here.

Every figure is written twice (PDF for slides and papers, PNG for quick looks and
reports), atomically, so a killed job never leaves a truncated figure behind. Style is
applied per figure with ``rc_context`` so importing this module never changes the
caller's matplotlib state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from hepflows.core.io import atomic_output  # noqa: E402

__all__ = [
    "COLORS",
    "as_array",
    "band_line",
    "finish",
    "hep_style",
    "plot_loss",
    "plot_ratio",
    "plot_ratio_grid",
    "plot_roc",
    "save_figure",
    "styled",
]

# Petroff (2021) colour-blind-safe sequence, as recommended for LHC publications.
COLORS = ["#3f90da", "#ffa90e", "#bd1f01", "#832db6", "#a96b59", "#e76300", "#717581", "#92dadd"]
_REF_FILL = "0.82"
_REF_EDGE = "0.35"
PNG_DPI = 150

_HEP_RC: dict[str, Any] = {
    "font.size": 13,
    "axes.labelsize": 14,
    "axes.titlesize": 13,
    "legend.fontsize": 11,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.minor.visible": True,
    "ytick.minor.visible": True,
    "xtick.major.size": 6,
    "ytick.major.size": 6,
    "xtick.minor.size": 3,
    "ytick.minor.size": 3,
    "axes.linewidth": 1.0,
    "axes.prop_cycle": cycler(color=COLORS),
    "axes.formatter.use_mathtext": False,  # plain tick labels: mathtext costs seconds per grid
    "lines.linewidth": 1.8,
    "legend.frameon": False,
    "legend.handlelength": 1.8,
    "figure.figsize": (6.4, 4.8),
    "figure.constrained_layout.use": True,
    "savefig.dpi": PNG_DPI,
    "pdf.fonttype": 42,  # TrueType keeps text selectable and editable in slides
}

P = ParamSpec("P")
R = TypeVar("R")


def hep_style() -> None:
    """For notebooks and ad-hoc plots that should match the workflow figures."""
    plt.rcParams.update(_HEP_RC)


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """Scope the style to one figure so callers' rcParams survive."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(_HEP_RC):
            return func(*args, **kwargs)

    return wrapper


def _output_paths(path: str | Path) -> list[Path]:
    """Only .pdf/.png count as suffixes: 'sic_sb0.5' must not lose its '.5'."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in {".pdf", ".png"} else path
    return [stem.with_name(stem.name + ".pdf"), stem.with_name(stem.name + ".png")]


def save_figure(fig: Figure, path: str | Path) -> list[Path]:
    """Both formats are committed together or not at all; the figure is always closed."""
    pdf, png = _output_paths(path)
    try:
        with atomic_output(pdf) as tmp_pdf, atomic_output(png) as tmp_png:
            # No CreationDate: reruns give byte-identical PDFs (clean diffs, no churn).
            fig.savefig(tmp_pdf, format="pdf", metadata={"CreationDate": None})
            fig.savefig(tmp_png, format="png", dpi=PNG_DPI)
    finally:
        plt.close(fig)
    return [pdf, png]


# ---------------------------------------------------------------------------- helpers


def as_array(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=float).ravel()


def finish(fig: Figure, ax: Axes, title: str, out: str | Path) -> list[Path]:
    if title:
        ax.set_title(title)
    return save_figure(fig, out)


def band_line(
    ax: Axes,
    x: np.ndarray,
    med: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    color: str,
    **line_kw: Any,
) -> tuple:
    """Band plus median line; returned as one legend handle."""
    band = ax.fill_between(x, lo, hi, color=color, alpha=0.25, lw=0)
    (line,) = ax.plot(x, med, color=color, **line_kw)
    return band, line


# ----------------------------------------------------------------------- distributions


def _common_edges(
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


def _hist_with_err(
    values: Any, weights: Any, edges: np.ndarray, density: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted counts and sqrt(sum w^2); density ignores the normalisation's own error."""
    v = as_array(values)
    w = np.ones_like(v) if weights is None else as_array(weights)
    if w.shape != v.shape:
        raise ValueError(f"weights shape {w.shape} does not match values shape {v.shape}")
    h, _ = np.histogram(v, edges, weights=w)
    s2, _ = np.histogram(v, edges, weights=w * w)
    err = np.sqrt(s2)
    if density:
        total = h.sum()
        scale = 1.0 / (total * np.diff(edges)) if total != 0 else np.zeros(h.size)
        h, err = h * scale, err * scale
    return h, err


@styled
def plot_ratio(
    hists: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    reference: str,
    out: str | Path,
    *,
    bins: int | Sequence[float] | np.ndarray = 50,
    xlabel: str,
    range: tuple[float, float] | None = None,  # same name as in np.histogram
    density: bool = True,
    title: str = "",
    logy: bool = False,
) -> list[Path]:
    """Template vs truth with a ratio pad: the shape mismatch is what drives fake SIC.

    Events outside the binning are dropped (as in ``np.histogram``).
    """
    if reference not in hists:
        raise KeyError(f"reference {reference!r} not among {list(hists)}")
    edges = _common_edges(hists, bins, range)
    fig, (ax, rax) = plt.subplots(2, 1, sharex=True, height_ratios=(3, 1), figsize=(6.4, 6.0))
    fig.get_layout_engine().set(h_pad=0.0, hspace=0.0)
    handles, labels = _draw_ratio(ax, rax, hists, reference, edges, density, xlabel, logy)
    ax.legend(handles, labels, loc="upper right")
    return finish(fig, ax, title, out)


def _draw_ratio(
    ax: Axes,
    rax: Axes,
    hists: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    reference: str,
    edges: np.ndarray,
    density: bool,
    xlabel: str,
    logy: bool,
) -> tuple[list[Any], list[str]]:
    """Histograms on ``ax`` and their ratio to ``reference`` on ``rax``; returns legend items."""
    centers = 0.5 * (edges[1:] + edges[:-1])
    ref, ref_err = _hist_with_err(*hists[reference], edges, density)
    fill = ax.stairs(ref, edges, fill=True, color=_REF_FILL, zorder=1)
    bars = ax.errorbar(
        centers, ref, yerr=ref_err, fmt="none", ecolor=_REF_EDGE, elinewidth=1, zorder=2
    )
    handles, labels = [(fill, bars)], [reference]

    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(ref > 0, ref_err / ref, np.nan)
        rax.stairs(1 + rel, edges, baseline=1 - rel, fill=True, color=_REF_FILL, zorder=1)
        others = [k for k in hists if k != reference]
        for i, name in enumerate(others):
            color = COLORS[i % len(COLORS)]
            h, err = _hist_with_err(*hists[name], edges, density)
            handles.append(ax.stairs(h, edges, color=color, lw=1.8, zorder=3))
            labels.append(name)
            ratio = np.where(ref > 0, h / ref, np.nan)
            rax.stairs(ratio, edges, color=color, lw=1.5, zorder=3)
            rax.errorbar(
                centers,
                ratio,
                yerr=np.where(ref > 0, err / ref, np.nan),
                fmt="none",
                ecolor=color,
                elinewidth=1,
                zorder=3,
            )

    rax.axhline(1.0, color="k", lw=1.0, ls="--", zorder=2)
    rax.set_ylim(0.5, 1.5)
    rax.set_xlim(edges[0], edges[-1])
    rax.set_xlabel(xlabel)
    rax.set_ylabel(f"ratio to\n{reference}" if len(reference) <= 12 else "ratio")
    ax.set_ylabel("normalised entries" if density else "events / bin")
    if logy:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
        ax.yaxis.get_major_locator().set_params(prune="lower")  # no clash with ratio pad
    return handles, labels


@styled
def plot_ratio_grid(
    panels: Sequence[Mapping[str, Any]],
    reference: str,
    out: str | Path,
    *,
    bins: int = 40,
    density: bool = True,
    ncols: int = 4,
    title: str = "",
) -> list[Path]:
    """Template vs truth for every input variable in one figure, each with its ratio pad.

    ``panels``: one mapping per variable with ``hists`` (as in :func:`plot_ratio`) and ``xlabel``.
    """
    if not panels:
        raise ValueError("no panels to plot")
    ncols = min(ncols, len(panels))
    nrows = -(-len(panels) // ncols)
    # A fixed layout and no minor ticks: constrained layout over dozens of axes costs seconds.
    fig = plt.figure(figsize=(4.2 * ncols, 4.4 * nrows + 0.6), layout="none")
    outer = fig.add_gridspec(
        nrows, ncols, left=0.07, right=0.98, bottom=0.08, top=0.88, wspace=0.35, hspace=0.35
    )
    handles: list[Any] = []
    labels: list[str] = []
    for i, panel in enumerate(panels):
        if reference not in panel["hists"]:
            raise KeyError(f"reference {reference!r} not among {list(panel['hists'])}")
        inner = outer[i // ncols, i % ncols].subgridspec(2, 1, height_ratios=(3, 1), hspace=0.0)
        ax = fig.add_subplot(inner[0])
        rax = fig.add_subplot(inner[1], sharex=ax)
        ax.tick_params(labelbottom=False)
        edges = _common_edges(panel["hists"], bins, panel.get("range"))
        handles, labels = _draw_ratio(
            ax, rax, panel["hists"], reference, edges, density, panel["xlabel"], False
        )
        ax.minorticks_off()
        rax.minorticks_off()
    fig.legend(handles, labels, loc="upper right", bbox_to_anchor=(0.98, 0.995), ncols=len(labels))
    if title:
        fig.suptitle(title, x=0.02, ha="left")
    return save_figure(fig, out)


# ------------------------------------------------------------------------ diagnostics


@styled
def plot_roc(
    curves: Mapping[str, Mapping[str, Any]],
    out: str | Path,
    *,
    rejection: bool = False,
    title: str = "",
) -> list[Path]:
    """ROC curves, or background rejection 1/eps_B against signal efficiency (``rejection``),
    the form in which a tagger's working points are quoted.

    ``curves[name]`` has "fpr" and "tpr" (as from :func:`hepflows.core.metrics.roc`) and
    optionally "auc", shown in the legend.
    """
    if not curves:
        raise ValueError("no ROC curves to plot")
    fig, ax = plt.subplots()
    for i, (name, c) in enumerate(curves.items()):
        fpr, tpr = as_array(c["fpr"]), as_array(c["tpr"])
        if fpr.shape != tpr.shape:
            raise ValueError(f"{name}: fpr {fpr.shape} and tpr {tpr.shape} differ in shape")
        label = name if c.get("auc") is None else f"{name} (AUC = {float(c['auc']):.3f})"
        color = COLORS[i % len(COLORS)]
        if rejection:
            keep = fpr > 0
            ax.plot(tpr[keep], 1.0 / fpr[keep], color=color, label=label)
        else:
            ax.plot(fpr, tpr, color=color, label=label)
    grid = np.linspace(1e-3, 1.0, 200)
    if rejection:
        ax.plot(grid, 1.0 / grid, color="0.3", ls="--", lw=1.2, label="random")
        ax.set_yscale("log")
        ax.set_xlabel(r"signal efficiency $\epsilon_S$")
        ax.set_ylabel(r"background rejection $1/\epsilon_B$")
        ax.legend(loc="upper right")
    else:
        ax.plot(grid, grid, color="0.3", ls="--", lw=1.2, label="random")
        ax.set_xlabel(r"background efficiency $\epsilon_B$")
        ax.set_ylabel(r"signal efficiency $\epsilon_S$")
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower right")
    ax.set_xlim(0, 1)
    return finish(fig, ax, title, out)


@styled
def plot_loss(
    history: Sequence[Mapping[str, Any]], out: str | Path, *, title: str = ""
) -> list[Path]:
    """Over- or under-training is visible at a glance; the kept epoch is marked.

    Rows follow ``training.fit``: {"epoch", "train_loss", "val_loss" (may be None)}.
    """
    if not history:
        raise ValueError("empty training history")
    epoch = np.array([r.get("epoch", i + 1) for i, r in enumerate(history)], dtype=float)
    train = np.array([r["train_loss"] for r in history], dtype=float)
    val = np.array(
        [np.nan if r.get("val_loss") is None else r["val_loss"] for r in history], dtype=float
    )
    monitor = val if np.isfinite(val).any() else train
    best = int(np.nanargmin(monitor))

    fig, ax = plt.subplots()
    ax.plot(epoch, train, color=COLORS[0], label="training")
    if np.isfinite(val).any():
        ax.plot(epoch, val, color=COLORS[1], label="validation")
    ax.axvline(epoch[best], color="0.3", ls=":", lw=1.2)
    ax.plot(
        epoch[best],
        monitor[best],
        marker="*",
        ms=13,
        color=COLORS[2],
        ls="none",
        label=f"best epoch {epoch[best]:.0f} (loss {monitor[best]:.4g})",
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 2.5, 5, 10]))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(loc="best")
    return finish(fig, ax, title, out)
