"""The house style and the figures every analysis draws: histograms with a ratio pad, ROC
curves, training-loss curves. An analysis keeps its own figures in its package and builds them
with :func:`styled`, :func:`finish`, :func:`band_line` and :func:`fit_ylim` from here.

The style is mplhep's CMS style (TeX Gyre Heros from mplhep-data, no font download) with the
Petroff colour sequence, set in :data:`STYLE` and nowhere else; every figure carries the
"hepflows Simulation" label (:func:`hep_label`). Weighted histograms and ratio pads are in
:mod:`hepflows.core.histograms` (``hist`` with weight storage, drawn with ``mplhep.histplot``).

Every figure is written twice (PDF for slides and papers, PNG for quick looks and
reports), atomically, so a killed job never leaves a truncated figure behind. Style is
applied per figure with ``rc_context`` so importing this module never changes the
caller's matplotlib state.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mplhep  # noqa: E402  (registers the bundled mplhep-data fonts with matplotlib)
import numpy as np  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from hepflows.core.histograms import (  # noqa: E402
    as_array,
    common_edges,
    draw_ratio,
    mark_out_of_range,
    ratio_limits,
    weighted_hist,
)
from hepflows.core.io import atomic_output  # noqa: E402

# fontTools warns of the mplhep-data fonts' zero timestamps each time a PDF embeds them.
logging.getLogger("fontTools.ttLib.tables._h_e_a_d").setLevel(logging.ERROR)

__all__ = [
    "COLORS",
    "EXPERIMENT",
    "STYLE",
    "as_array",
    "band_line",
    "finish",
    "fit_ylim",
    "hep_label",
    "hep_style",
    "legend_below",
    "mark_out_of_range",
    "plot_loss",
    "plot_ratio",
    "plot_ratio_grid",
    "plot_roc",
    "ratio_limits",
    "save_figure",
    "styled",
    "weighted_hist",
]

# Petroff (2021) colour-blind-safe sequence of 10, as recommended for LHC publications.
COLORS = ["#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#832db6", "#a96b59", "#e76300", "#b9ac70",
          "#717581", "#92dadd"]  # fmt: skip
PNG_DPI = 100
EXPERIMENT = "hepflows"
BAND_ALPHA = 0.25

STYLE: dict[str, Any] = {
    **mplhep.style.CMS,
    "axes.prop_cycle": cycler(color=COLORS),
    "axes.formatter.use_mathtext": False,  # plain tick labels: mathtext costs seconds per grid
    "figure.figsize": (10.0, 9.0),
    "figure.constrained_layout.use": True,
    "savefig.dpi": PNG_DPI,
    "pdf.fonttype": 42,  # TrueType keeps text selectable and editable in slides
}

P = ParamSpec("P")
R = TypeVar("R")


def hep_style() -> None:
    """For notebooks and ad-hoc plots that should match the workflow figures."""
    plt.rcParams.update(STYLE)


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """Scope the style to one figure so callers' rcParams survive."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(STYLE):
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


def hep_label(ax: Axes, title: str = "", *, inside: bool = True) -> list[Artist]:
    """The "hepflows Simulation" label and the figure's title (what was simulated), inside the
    top left corner (``inside``, the title on the line below) or above the axes (the title
    right-aligned). Returns the texts, for :func:`fit_ylim`. Call it last: mplhep places the
    parts by the axes' size at the time."""
    texts = mplhep.label.exp_label(
        exp=EXPERIMENT, llabel="Simulation", com=None, loc=1 if inside else 0, ax=ax,
        supp=(title or None) if inside else None, rlabel=None if inside else (title or None),
    )  # fmt: skip
    return [t for t in texts if t is not None]


def finish(
    fig: Figure,
    ax: Axes,
    title: str,
    out: str | Path,
    *,
    legend_title: str | None = None,
    extra: Sequence[Artist] = (),
    **legend_kw: Any,
) -> list[Path]:
    """Label and title inside the top left corner, the legend below them (``legend_kw`` for
    ``ax.legend``; none: the legend the figure drew, if any), the y range raised just over the
    data (:func:`fit_ylim`) clear of them and of the ``extra`` artists, both files."""
    texts = hep_label(ax, title)
    if legend_title:
        legend_kw["title"] = legend_title
    legend = legend_below(ax, texts, **legend_kw) if legend_kw else ax.get_legend()
    fit_ylim(ax, [*texts, legend, *extra])
    # mplhep spaced the label's parts for the axes' width before the new y range changed the
    # tick labels (and so the layout): placed again, they sit as mplhep means them to.
    for text in texts:
        text.remove()
    hep_label(ax, title)
    return save_figure(fig, out)


def legend_below(ax: Axes, texts: Sequence[Artist], **legend_kw: Any) -> Any:
    """The legend in the top left corner, under ``texts`` (the label)."""
    fig = ax.get_figure()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    to_axes = ax.transAxes.inverted()
    bottom = min(to_axes.transform(t.get_window_extent(renderer))[:, 1].min() for t in texts)
    legend_kw.setdefault("alignment", "left")
    legend_kw.setdefault("title_fontsize", legend_kw.get("fontsize", "small"))
    return ax.legend(loc="upper left", bbox_to_anchor=(0.0, bottom - 0.01), **legend_kw)


def fit_ylim(ax: Axes, artists: Iterable[Artist | None], *, pad: float = 0.03) -> None:
    """Raise the top of the y axis just enough that the data (the current y range) stay below
    every ``artist`` in the top of the axes (legend, labels): room for them, nothing wasted."""
    artists = [a for a in artists if a is not None and a.get_visible()]
    if not artists:
        return
    fig = ax.get_figure()
    fig.canvas.draw()  # the layout sets the axes' size the extents are measured against
    renderer = fig.canvas.get_renderer()
    to_axes = ax.transAxes.inverted()
    bottom = min(to_axes.transform(a.get_window_extent(renderer))[:, 1].min() for a in artists)
    frac = min(max(bottom - pad, 0.3), 1.0)  # the part of the height the data keep
    lo, hi = ax.get_ylim()
    if ax.get_yscale() == "log":
        top = lo * (hi / lo) ** (1.0 / frac)
    else:
        top = lo + (hi - lo) / frac
    ax.set_ylim(lo, top)


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
    band = ax.fill_between(x, lo, hi, color=color, alpha=BAND_ALPHA, lw=0)
    (line,) = ax.plot(x, med, color=color, **line_kw)
    return band, line


# ----------------------------------------------------------------------- distributions


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
    edges = common_edges(hists, bins, range)
    fig, (ax, rax) = plt.subplots(2, 1, sharex=True, height_ratios=(3, 1), figsize=(10, 10))
    fig.get_layout_engine().set(h_pad=0.0, hspace=0.0)
    draw_ratio(ax, rax, hists, reference, edges, density, xlabel, logy, COLORS)
    return finish(fig, ax, title, out, ncols=2)


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
    with plt.rc_context({"font.size": 16, "figure.constrained_layout.use": False}):
        height = 5.4 * nrows + 1.2
        fig = plt.figure(figsize=(5.6 * ncols, height), layout="none")
        outer = fig.add_gridspec(nrows, ncols, left=0.06, right=0.985, bottom=0.75 / height,
                                 top=1 - 1.2 / height, wspace=0.32, hspace=0.3)  # fmt: skip
        first = None
        for i, panel in enumerate(panels):
            if reference not in panel["hists"]:
                raise KeyError(f"reference {reference!r} not among {list(panel['hists'])}")
            inner = outer[i // ncols, i % ncols].subgridspec(2, 1, height_ratios=(3, 1), hspace=0.0)
            ax = fig.add_subplot(inner[0])
            rax = fig.add_subplot(inner[1], sharex=ax)
            ax.tick_params(labelbottom=False)
            edges = common_edges(panel["hists"], bins, panel.get("range"))
            xlabel = panel["xlabel"]
            draw_ratio(ax, rax, panel["hists"], reference, edges, density, xlabel, False, COLORS)
            ax.set_ylim(top=ax.get_ylim()[1] * 1.15)
            ax.minorticks_off()
            rax.minorticks_off()
            first = first or ax
        handles, labels = first.get_legend_handles_labels()
        band = [p for p in fig.axes[1].patches if p.get_label().endswith("stat. unc.")]
        fig.legend(handles + band[:1], labels + [band[0].get_label()] if band else labels,
                   loc="upper right", bbox_to_anchor=(0.985, 1.0), ncols=3)  # fmt: skip
        # The label above the first panel, the title below it, the legend at the top right.
        width = fig.get_size_inches()[0]
        fig.text(0.06, 1 - 0.3 / height, EXPERIMENT, fontsize=22, fontweight="bold", va="top")
        fig.text(0.06 + 1.45 / width, 1 - 0.3 / height, "Simulation", fontsize=18,
                 fontstyle="italic", va="top")  # fmt: skip
        if title:
            fig.text(0.06, 1 - 0.75 / height, title, fontsize=16, va="top")
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
        ax.set_ylim(0, 1.0)
        ax.legend(loc="lower right")
    ax.set_xlim(0, 1)
    artists = hep_label(ax, title, inside=rejection)  # a ROC curve fills the top left corner
    if rejection:
        fit_ylim(ax, [*artists, ax.get_legend()])
    return save_figure(fig, out)


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
    ax.plot(epoch, train, color=COLORS[0], marker="o", ms=5, label="training")
    if np.isfinite(val).any():
        ax.plot(epoch, val, color=COLORS[1], marker="s", ms=5, label="validation")
    ax.plot(
        epoch[best],
        monitor[best],
        marker="*",
        ms=18,
        color=COLORS[2],
        ls="none",
        label=f"best epoch {epoch[best]:.0f} (loss {monitor[best]:.4g})",
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 2.5, 5, 10]))
    ax.set_xlim(epoch.min() - 0.5, epoch.max() + 0.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    return finish(fig, ax, title, out, ncols=2)
