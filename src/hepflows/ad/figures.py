"""The figures of the anomaly-detection analysis: max SIC against S/B, SIC curves, closure AUC
per method, template weights and the loss curves of the template trainings, in the house style
of :mod:`hepflows.core.plotting`, under the physics names of :mod:`hepflows.ad.names`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from hepflows.ad.names import DATASET_NAMES, METHOD_NAMES, method_name
from hepflows.core.cli import StepParser
from hepflows.core.plotting import (
    COLORS,
    as_array,
    band_line,
    finish,
    plot_loss,
    styled,
    weighted_hist,
)

# One order, so every figure gives a method the same colour and legend position.
METHOD_ORDER = ("ideal", "supervised", "reweight", "generate", "morph")
# A method keeps its colour in every figure, whichever methods a run has.
METHOD_COLORS = dict(zip(METHOD_ORDER, (COLORS[0], COLORS[4], COLORS[1], COLORS[2], COLORS[5]),
                         strict=True))  # fmt: skip
_OTHER_COLORS = [COLORS[i] for i in (6, 7, 8, 9, 3)]


def band_title(n_seeds: int | None, folds: int | None = None) -> str | None:
    """What a band or an error bar is, as a legend title."""
    if not n_seeds:
        return None
    over = f"{folds} folds x {n_seeds} seeds" if folds else f"{n_seeds} seeds"
    return f"median, 16-84% over {over}"


def _method_of(label: str) -> str | None:
    """The method a legend label is about: its key, or one whose name it holds ("SALAD
    weights")."""
    if label in METHOD_NAMES:
        return label
    return next((m for m, name in METHOD_NAMES.items() if name in label), None)


def _colors(names: Sequence[str]) -> list[str]:
    """A method's colour for labels about a method, the remaining colours in turn for others."""
    others = iter(_OTHER_COLORS * (len(names) // len(_OTHER_COLORS) + 1))
    methods = [_method_of(n) for n in names]
    return [METHOD_COLORS[m] if m else next(others) for m in methods]


def ordered(curves: Mapping[str, Any]) -> dict[str, Any]:
    """The curves in METHOD_ORDER (methods it does not know last)."""
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return dict(sorted(curves.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def max_sic_curves(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per method, max SIC median/16/84 against S/B from the summary table (``sb`` None for the
    fully supervised classifier, which does not depend on the injection)."""
    curves: dict[str, dict[str, Any]] = {}
    for method, rows in table.groupby("method", sort=False):
        rows = rows.sort_values("injection")
        band = {stat: rows[f"max_sic_{stat}"].to_numpy() for stat in ("median", "p16", "p84")}
        sb = None if rows["injection"].isna().all() else rows["injection"].to_numpy()
        curves[method] = {"sb": sb, **band}
    return ordered(curves)


def no_signal_band(table: pd.DataFrame) -> dict[str, float] | None:
    """The max SIC an ideal template reaches without signal (S/B = 0), over the seeds: what a
    method's max SIC must beat to show a signal (the maximum over a noisy SIC curve lies above
    1 by itself). None without an ideal S/B = 0 row."""
    rows = table[(table["method"] == "ideal") & (table["injection"] == 0)]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return {stat: float(row[f"max_sic_{stat}"]) for stat in ("median", "p16", "p84")}


def closure_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The closure table's rows, methods in METHOD_ORDER."""
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return sorted(table.to_dict("records"), key=lambda r: rank.get(r["method"], 99))


__all__ = [
    "METHOD_ORDER",
    "add_loss_output",
    "band_title",
    "closure_rows",
    "loss_curve",
    "max_sic_curves",
    "no_signal_band",
    "ordered",
    "plot_closure_summary",
    "plot_max_sic_vs_sb",
    "plot_sic_vs_efficiency",
    "plot_weights",
]

NO_SIGNAL = f"no signal ({METHOD_NAMES['ideal']})"


def _scalar(values: Any, what: str) -> float:
    """A constant reference may arrive repeated (one row per S/B point); it must agree."""
    arr = np.unique(as_array(values))
    if arr.size != 1:
        raise ValueError(f"{what}: expected a single value, got {arr.tolist()}")
    return float(arr[0])


def _random_line(ax: Axes) -> Any:
    return ax.axhline(1.0, color="0.3", ls="--", lw=1.5, zorder=0.5)


def _top(curves: Mapping[str, Mapping[str, Any]], *extra: float) -> float:
    """The highest finite band edge (and ``extra``): the data the y range must hold."""
    ys = np.concatenate([as_array(c["p84"]) for c in curves.values()] + [as_array(extra)])
    ys = ys[np.isfinite(ys)]
    return float(ys.max()) if ys.size else 1.0


@styled
def plot_max_sic_vs_sb(
    curves: Mapping[str, Mapping[str, Any]],
    out: str | Path,
    *,
    n_bkg_sr: float,
    title: str = "",
    no_signal: Mapping[str, float] | None = None,
    n_seeds: int | None = None,
    floor_events: float | None = None,
) -> list[Path]:
    """The headline weak-supervision figure: how much signal a method needs to work.

    ``curves[method]`` has "sb" (S/B fractions, or None for an S/B-independent reference
    such as the fully supervised classifier), "median", "p16" and "p84". ``no_signal`` (from
    :func:`no_signal_band`) is drawn as the reference band instead of a line at 1;
    ``floor_events``, the fewest test background events a max SIC may rest on, is stated.
    """
    if n_bkg_sr <= 0:
        raise ValueError(f"n_bkg_sr must be positive, got {n_bkg_sr}")
    fig, ax = plt.subplots()
    handles, labels = [], []
    scanned: list[np.ndarray] = []
    for (name, c), color in zip(curves.items(), _colors(list(curves)), strict=True):
        if c.get("sb") is None:
            med = _scalar(c["median"], name)
            band = ax.axhspan(
                _scalar(c["p16"], name), _scalar(c["p84"], name), color=color, alpha=0.2, lw=0
            )
            line = ax.axhline(med, color=color, ls="-.")
            handles.append((band, line))
        else:
            x = as_array(c["sb"]) * 100.0
            order = np.argsort(x)
            x = x[order]
            med, lo, hi = (as_array(c[k])[order] for k in ("median", "p16", "p84"))
            handles.append(band_line(ax, x, med, lo, hi, color, marker="o", ms=8))
            scanned.append(x)
        labels.append(method_name(name))
    if no_signal is None:
        handles.append(_random_line(ax))
        labels.append("random")
    else:
        band = ax.axhspan(no_signal["p16"], no_signal["p84"], color="0.5", alpha=0.25, lw=0)
        line = ax.axhline(no_signal["median"], color="0.3", ls="--", lw=1.5, zorder=0.5)
        handles.append((band, line))
        labels.append(NO_SIGNAL)

    xs = np.concatenate(scanned) if scanned else np.array([])
    xs = xs[np.isfinite(xs)]
    if xs.size and xs.min() > 0 and xs.max() / xs.min() >= 10:
        ax.set_xscale("log")
        ax.set_xlim(xs.min() / 1.25, xs.max() * 1.25)
    elif xs.size:
        pad = 0.04 * (xs.max() - xs.min() or 1.0)
        ax.set_xlim(min(0.0, xs.min() - pad), xs.max() + pad)
    top = _top(curves, 1.0, *([no_signal["p84"]] if no_signal else []))
    ax.set_ylim(0, 1.04 * top)
    ax.set_xlabel("S/B in SR [%]")
    ax.set_ylabel("max SIC")

    root_b = float(np.sqrt(n_bkg_sr))
    ax.tick_params(axis="x", which="both", top=False)  # the top edge belongs to S/sqrt(B)
    sec = ax.secondary_xaxis(
        "top", functions=(lambda p: p / 100.0 * root_b, lambda s: s * 100.0 / root_b)
    )
    sec.set_xlabel("S/√B in SR")
    sec.tick_params(axis="x", which="both", direction="in")
    floor = []
    if floor_events is not None:
        floor = [ax.text(
            0.97, 0.97, f"max SIC where\n≥ {floor_events:.0f} test background events pass",
            transform=ax.transAxes, ha="right", va="top", fontsize="x-small", color="0.3",
        )]  # fmt: skip
    return finish(fig, ax, title, out, handles=handles, labels=labels, ncols=2,
                  legend_title=band_title(n_seeds), extra=floor)  # fmt: skip


@styled
def plot_sic_vs_efficiency(
    curves: Mapping[str, Mapping[str, Any]],
    out: str | Path,
    *,
    title: str = "",
    n_seeds: int | None = None,
) -> list[Path]:
    """Shows where in signal efficiency a method's gain comes from, with seed spread."""
    fig, ax = plt.subplots()
    handles, labels = [], []
    for (name, c), color in zip(curves.items(), _colors(list(curves)), strict=True):
        x = as_array(c["tpr"])
        med, lo, hi = (as_array(c[k]) for k in ("median", "p16", "p84"))
        handles.append(band_line(ax, x, med, lo, hi, color))
        labels.append(method_name(name))
    handles.append(_random_line(ax))
    labels.append("random")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.04 * _top(curves, 1.0))
    ax.set_xlabel(r"signal efficiency $\epsilon_S$")
    ax.set_ylabel(r"SIC = $\epsilon_S$/√$\epsilon_B$")
    return finish(fig, ax, title, out, handles=handles, labels=labels, ncols=2,
                  legend_title=band_title(n_seeds))  # fmt: skip


@styled
def plot_closure_summary(
    rows: Sequence[Mapping[str, Any]],
    out: str | Path,
    *,
    title: str = "",
    n_seeds: int | None = None,
    folds: int | None = None,
) -> list[Path]:
    """Closure AUC per method: CR closure validates the template, SR shows sculpting."""
    if not rows:
        raise ValueError("no closure rows to plot")
    methods = list(dict.fromkeys(str(r["method"]) for r in rows))
    found = list(dict.fromkeys(str(r["region"]) for r in rows))
    regions = [r for r in ("CR", "SR") if r in found] + [r for r in found if r not in ("CR", "SR")]
    markers = {"CR": "o", "SR": "s"}
    colors = {"CR": COLORS[0], "SR": COLORS[2]}
    offsets = (np.arange(len(regions)) - (len(regions) - 1) / 2) * 0.18

    fig, ax = plt.subplots()
    ys = [0.5]
    for j, region in enumerate(regions):
        sel = [r for r in rows if str(r["region"]) == region]
        x = np.array([methods.index(str(r["method"])) for r in sel]) + offsets[j]
        med, lo, hi = (np.array([float(r[k]) for r in sel]) for k in ("median", "p16", "p84"))
        ax.errorbar(
            x,
            med,
            yerr=np.vstack([med - lo, hi - med]),
            fmt=markers.get(region, "D"),
            ms=10,
            color=colors.get(region, COLORS[(j + 4) % len(COLORS)]),
            capsize=4,
            label=region,
        )
        ys.append(float(np.nanmin(lo)))
        ys.append(float(np.nanmax(hi)))
    ax.axhline(0.5, color="0.3", ls="--", lw=1.5, zorder=0.5, label="perfect closure")
    names = [method_name(m) for m in methods]
    ax.set_xticks(np.arange(len(methods)), names, rotation=20 if len(methods) > 4 else 0)
    ax.tick_params(axis="x", which="minor", bottom=False, top=False)
    ax.set_xlim(-0.6, len(methods) - 0.4)
    lo, hi = min(ys), max(ys)
    pad = 0.05 * (hi - lo or 0.05)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_ylabel("closure AUC (template vs truth)")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i] == "perfect closure")
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    return finish(fig, ax, title, out, handles=handles, labels=labels, ncols=3,
                  legend_title=band_title(n_seeds, folds))  # fmt: skip


@styled
def plot_weights(
    weights: Mapping[str, np.ndarray], out: str | Path, *, title: str = ""
) -> list[Path]:
    """A long weight tail means a few events dominate the reweighted template."""
    arrays = {k: as_array(v) for k, v in weights.items()}
    positive = [w[np.isfinite(w) & (w > 0)] for w in arrays.values()]
    positive = [w for w in positive if w.size]
    if not positive:
        raise ValueError("no positive finite weights to plot")
    lo = min(w.min() for w in positive)
    hi = max(w.max() for w in positive)
    if hi <= lo * 1.01:
        lo, hi = lo / 2, hi * 2
    edges = np.geomspace(lo, hi * 1.0001, 51)

    fig, ax = plt.subplots()
    peak = 1.0
    for (name, w), color in zip(arrays.items(), _colors(list(arrays)), strict=True):
        w = w[np.isfinite(w)]
        mean, std = float(w.mean()), float(w.std())
        tail = float(np.mean(w > mean + 3 * std))
        counts, _ = weighted_hist(w[w > 0], None, edges)
        peak = max(peak, float(counts.max()))
        label = rf"{name}: $\langle w\rangle$ = {mean:.3g}, $f(w>\mu+3\sigma)$ = {tail:.2%}"
        n_nonpos = int(np.count_nonzero(w <= 0))
        if n_nonpos:
            label += f", {n_nonpos} $w\\leq 0$"
        ax.stairs(counts, edges, color=color, lw=2.5, label=label)
    ax.set_xscale("log")
    if hi / lo < 100:
        # Ticks at 1-2-5 as plain numbers: over less than two decades the default labels every
        # minor tick in 10^x notation, and the labels overlap.
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yscale("log")
    ax.set_ylim(0.5, 1.5 * peak)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel("per-event weight $w$")
    ax.set_ylabel("events / bin")
    return finish(fig, ax, title, out, fontsize="x-small")


# ------------------------------------------------------------------ training steps


def add_loss_output(p: StepParser) -> None:
    """A training step's loss curve (optional: without it the step draws none) and its title."""
    p.add_output("--out-loss", nargs=2, metavar=("PDF", "PNG"), required=False, default=None,
                 help="the loss curve of the training")  # fmt: skip
    p.add_argument("--title", default="", help="what was trained on, for the loss curve")


def loss_curve(args: Any, history: Sequence[Mapping[str, Any]], model: str) -> None:
    """The loss curve of ``model`` (its name) trained for data seed ``args.data_seed``, titled
    by ``args.title`` (the data set, or the data set, signal and S/B); nothing without
    ``--out-loss``."""
    if args.out_loss:
        where = args.title or DATASET_NAMES.get(args.dataset, args.dataset)
        title = f"{where}\n{model}, data seed {args.data_seed}"
        plot_loss(history, args.out_loss[0], title=title)
