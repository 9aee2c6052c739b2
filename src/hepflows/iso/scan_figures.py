"""Figures of the two searches over inputs: the cone scan (AUC against the number of isolation
cones) and the guided EFP search (AUC and ADO with the PFN per iteration)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

from hepflows.core.plotting import (
    COLORS,
    band_line,
    finish,
    styled,
)
from hepflows.iso.figures import (
    check_same_length,
    nonempty_array,
)

__all__ = ["efp_label", "plot_cone_scan", "plot_efp_search"]


@styled
def plot_cone_scan(
    n_cones: Sequence[int] | np.ndarray,
    auc_mean: Sequence[float] | np.ndarray,
    auc_err: Sequence[float] | np.ndarray,
    out: str | Path,
    *,
    reference: Mapping[str, tuple[float, float]] | None = None,
    label: str = "N cones + sum pT",
    n_folds: int | None = None,
    kind: str = "sPlot",
    title: str = "",
) -> list[Path]:
    """How much each added isolation cone buys: AUC against the number of cones N (radii up
    to R = 0.45), with the mean +- std over the cross-validation folds.

    ``reference[label] = (auc, error)`` (e.g. the PFN) is drawn as a line with a +-error band:
    the gap the cones leave to the particles.
    """
    n = nonempty_array(n_cones, "cone scan n_cones")
    mean = nonempty_array(auc_mean, "cone scan auc_mean")
    err = nonempty_array(auc_err, "cone scan auc_err")
    check_same_length("cone scan", n_cones=n, auc_mean=mean, auc_err=err)
    if np.any(err < 0) or not np.all(np.isfinite(err)):
        raise ValueError("cone scan auc_err: expected finite errors >= 0")
    order = np.argsort(n)
    n, mean, err = n[order], mean[order], err[order]
    fig, ax = plt.subplots()
    points = ax.errorbar(n, mean, yerr=err, fmt="o", ms=9, color=COLORS[0], capsize=4, lw=2,
                         zorder=3)  # fmt: skip
    refs: list[Any] = []
    names: list[str] = []
    lows, highs = [mean - err], [mean + err]
    x = np.array([n.min() - 0.5, n.max() + 0.5])
    for i, (name, (value, error)) in enumerate((reference or {}).items()):
        color = COLORS[(i + 2) % len(COLORS)]
        refs.append(band_line(ax, x, np.full(2, value), np.full(2, value - error),
                              np.full(2, value + error), color, ls="--", lw=2))  # fmt: skip
        names.append(rf"{name} ($\pm$ {error:.4f})" if error > 0 else name)
        lows.append(np.array([value - error]))
        highs.append(np.array([value + error]))
    lo, hi = float(np.min(np.concatenate(lows))), float(np.max(np.concatenate(highs)))
    pad = 0.08 * (hi - lo or 0.01)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(*x)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.xaxis.set_minor_locator(FixedLocator(n) if n.size <= 30 else NullLocator())
    ax.set_xlabel("number of isolation cones N")
    ax.set_ylabel(f"AUC ({kind})")
    folds = f"{n_folds} " if n_folds else ""
    return finish(fig, ax, title, out, handles=[points, *refs], labels=[label, *names],
                  legend_title=f"mean $\\pm$ std over {folds}CV folds")  # fmt: skip


# --------------------------------------------------------------------------- EFP search

_COLUMN = re.compile(r"^efp_k(?P<kappa>-?[\d.]+)_b(?P<beta>[\d.]+)_(?P<index>\d+)$")


def efp_label(step: Mapping[str, Any]) -> str:
    """An EFP as a physicist names it: its graph's vertices n and edges d with kappa and beta
    (from the step's "n", "d", "kappa", "beta" if the step recorded them), else the
    (kappa, beta, index) of its column name ``efp_k{kappa}_b{beta}_{index}``, else the name
    or the feature's index as given."""
    if all(k in step for k in ("n", "d", "kappa", "beta")):
        kappa, beta = float(step["kappa"]), float(step["beta"])
        return f"n={int(step['n'])}, d={int(step['d'])}\n$\\kappa$={kappa:g}, $\\beta$={beta:g}"
    name = str(step.get("feature_name") or "")
    match = _COLUMN.match(name)
    if match:
        return f"EFP {match['index']}\n$\\kappa$={match['kappa']}, $\\beta$={match['beta']}"
    return name or f"feature {step.get('feature', '?')}"


@styled
def plot_efp_search(
    steps: Sequence[Mapping[str, Any]],
    out: str | Path,
    *,
    pfn_auc: float | tuple[float, float] | None = None,
    start: Mapping[str, float] | None = None,
    start_label: str = "9 cones + sum pT",
    reference_label: str = "PFN",
    kind: str = "sPlot",
    title: str = "",
) -> list[Path]:
    """The guided search's trajectory: after each added EFP, the retrained model's AUC (top)
    and its decision ordering with the PFN (ADO, bottom), the chosen EFP as the tick label.
    One good EFP should close most of the gap to the PFN (``pfn_auc``: value or (value,
    error)); ``start`` ({"auc", "model_ado"}) is the model before the first EFP, at 0.
    """
    if not steps:
        raise ValueError("EFP search: expected at least one step (SearchStep.to_dict()), got none")
    for i, s in enumerate(steps):
        missing = [k for k in ("iteration", "auc", "model_ado") if k not in s]
        if missing:
            raise ValueError(f"EFP search step {i}: expected keys iteration, auc, model_ado; "
                             f"missing {missing}")  # fmt: skip
    rows = sorted(steps, key=lambda s: int(s["iteration"]))
    it = np.array([int(s["iteration"]) for s in rows], dtype=float)
    auc = np.array([float(s["auc"]) for s in rows])
    model_ado = np.array([float(s["model_ado"]) for s in rows])
    ticks = [efp_label(s) for s in rows]
    if start is not None:
        it = np.r_[0.0, it]
        auc = np.r_[float(start["auc"]), auc]
        model_ado = np.r_[float(start["model_ado"]), model_ado]
        ticks = [start_label, *ticks]

    height = 11.0 if len(ticks) <= 6 else 12.5
    fig, (ax, dax) = plt.subplots(2, 1, sharex=True, height_ratios=(3, 2), figsize=(10, height))
    fig.get_layout_engine().set(h_pad=0.0, hspace=0.0)
    ax.plot(it, auc, marker="o", ms=9, lw=2, color=COLORS[0], label="isolation + EFPs")
    dax.plot(it, model_ado, marker="s", ms=8, lw=2, color=COLORS[4],
             label=f"ADO with the {reference_label}")  # fmt: skip
    extent = [auc]
    if pfn_auc is not None:
        value, error = (float(pfn_auc), 0.0) if np.ndim(pfn_auc) == 0 else map(float, pfn_auc)
        x = np.array([it.min() - 0.5, it.max() + 0.5])
        ref = band_line(ax, x, np.full(2, value), np.full(2, value - error),
                        np.full(2, value + error), COLORS[2], ls="--", lw=2)  # fmt: skip
        extent.append(np.array([value - error, value + error]))
    lo, hi = float(np.min(np.concatenate(extent))), float(np.max(np.concatenate(extent)))
    pad = 0.08 * (hi - lo or 0.01)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_ylabel(f"AUC ({kind})")
    ado_lo, ado_hi = float(model_ado.min()), float(model_ado.max())
    ado_pad = 0.15 * (ado_hi - ado_lo or 0.01)
    dax.set_ylim(ado_lo - ado_pad, ado_hi + ado_pad)
    dax.yaxis.set_major_locator(MaxNLocator(nbins=4, prune="upper"))
    dax.set_ylabel(f"ADO with\n{reference_label}")
    dax.set_xlim(it.min() - 0.5, it.max() + 0.5)
    dax.set_xticks(it, ticks, rotation=45 if len(ticks) > 3 else 0, ha="right"
                   if len(ticks) > 3 else "center", fontsize="x-small")  # fmt: skip
    dax.xaxis.set_minor_locator(NullLocator())
    dax.set_xlabel("EFP added at each iteration")
    ax.set_xlabel("")
    handles, labels = ax.get_legend_handles_labels()
    if pfn_auc is not None:
        handles.append(ref)
        labels.append(rf"{reference_label} ($\pm$ {error:.4f})" if error > 0 else reference_label)
    h2, l2 = dax.get_legend_handles_labels()
    return finish(fig, ax, title, out, handles=handles + h2, labels=labels + l2,
                  fontsize="small")  # fmt: skip


# --------------------------------------------------------------------------- isolation
