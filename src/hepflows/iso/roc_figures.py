"""ROC and rejection curves of the iso classifiers, sPlot or truth efficiencies, with bootstrap
bands: the paper's comparison of isolation, EFP and PFN models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from hepflows.core import plotting
from hepflows.core.plotting import (
    BAND_ALPHA,
    COLORS,
    fit_ylim,
    hep_label,
    styled,
)
from hepflows.iso.figures import (
    CURVE_KINDS,
    check_same_length,
    nonempty_array,
    thin_curve,
)

__all__ = ["plot_rejection", "plot_roc_curves"]


def _curves(curves: Mapping[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not curves:
        raise ValueError("ROC curves: expected at least one {label: (fpr, tpr)}, got none")
    out = {}
    for label, curve in curves.items():
        if len(curve) != 2:
            raise ValueError(f"{label}: expected a pair (fpr, tpr), got {len(curve)} items")
        fpr, tpr = (
            nonempty_array(curve[0], f"{label} fpr"),
            nonempty_array(curve[1], f"{label} tpr"),
        )
        check_same_length(label, fpr=fpr, tpr=tpr)
        out[str(label)] = (fpr, tpr)
    return out


def _bands(
    bands: Mapping[str, Any] | None, labels: Sequence[str]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each band as (fpr, tpr_lo, tpr_hi): TPR quantiles at fixed FPR over the replicas."""
    out = {}
    for label, band in (bands or {}).items():
        if label not in labels:
            raise ValueError(f"band {label!r}: expected one of the curves {list(labels)}")
        if len(band) != 3:
            raise ValueError(f"band {label!r}: expected (fpr, tpr_lo, tpr_hi), got {len(band)}")
        fpr, lo, hi = (nonempty_array(b, f"band {label!r}") for b in band)
        check_same_length(f"band {label!r}", fpr=fpr, tpr_lo=lo, tpr_hi=hi)
        out[label] = (fpr, lo, hi)
    return out


def _auc_label(label: str, fpr: np.ndarray, tpr: np.ndarray, auc: Any) -> str:
    """The AUC given (value or (mean, error)), else the signed trapezoid of the curve as drawn
    in threshold order (the sPlot AUC's definition)."""
    if auc is None:
        return f"{label} (AUC = {float(np.trapezoid(tpr, fpr)):.3f})"
    if np.ndim(auc) == 0:
        return f"{label} (AUC = {float(auc):.4f})"
    mean, err = (float(a) for a in auc)
    return rf"{label} (AUC = {mean:.4f} $\pm$ {err:.4f})"


def _axis_names(kind: str) -> tuple[str, str]:
    if kind not in CURVE_KINDS:
        raise ValueError(f"kind: expected one of {CURVE_KINDS}, got {kind!r}")
    how = "sPlot" if kind == "sPlot" else "truth"
    return (f"non-prompt efficiency (FPR, {how})", f"prompt efficiency (TPR, {how})")


@styled
def plot_roc_curves(
    curves: Mapping[str, Any],
    out: str | Path,
    *,
    kind: Literal["sPlot", "truth"] = "sPlot",
    bands: Mapping[str, Any] | None = None,
    band_label: str = "16-84% over bootstrap replicas",
    auc: Mapping[str, Any] | None = None,
    title: str = "",
) -> list[Path]:
    """TPR (prompt efficiency) against FPR (non-prompt efficiency) per model: the paper's
    comparison of isolation, EFP and PFN classifiers.

    ``curves[label] = (fpr, tpr)`` in threshold order (as from
    :func:`hepflows.iso.splot.splot_roc`; sPlot curves may step back and are drawn as they
    are); ``bands[label] = (fpr, tpr_lo, tpr_hi)`` on a common FPR grid over the replicas,
    described by ``band_label`` in the legend; ``auc[label]`` a value or (mean, error) for the
    legend (else the curve's own trapezoid). ``kind`` says whose efficiencies they are.
    """
    xlabel, ylabel = _axis_names(kind)
    data = _curves(curves)
    band_data = _bands(bands, list(data))
    auc = auc or {}
    fig, ax = plt.subplots()
    handles, labels = [], []
    for i, (label, (fpr, tpr)) in enumerate(data.items()):
        color = COLORS[i % len(COLORS)]
        if label in band_data:
            bx, lo, hi = band_data[label]
            ax.fill_between(bx, lo, hi, color=color, alpha=BAND_ALPHA, lw=0)
        (line,) = ax.plot(*thin_curve(fpr, tpr), color=color, lw=2)
        handles.append(line)
        labels.append(_auc_label(label, fpr, tpr, auc.get(label)))
    (random,) = ax.plot([0, 1], [0, 1], color="0.3", ls="--", lw=1.2)
    handles.append(random)
    labels.append("random")
    if band_data:
        handles.append(Patch(color="0.5", alpha=BAND_ALPHA, lw=0))
        labels.append(band_label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(handles, labels, loc="lower right", fontsize="x-small")
    hep_label(ax, title, inside=False)  # a ROC curve fills the top left corner
    return plotting.save_figure(fig, out)  # through the module: the tests spy on it


@styled
def plot_rejection(
    curves: Mapping[str, Any],
    out: str | Path,
    *,
    kind: Literal["sPlot", "truth"] = "sPlot",
    bands: Mapping[str, Any] | None = None,
    band_label: str = "16-84% over bootstrap replicas",
    auc: Mapping[str, Any] | None = None,
    min_tpr: float = 0.05,
    title: str = "",
) -> list[Path]:
    """Non-prompt rejection 1/FPR (log) against prompt efficiency TPR: the working points an
    isolation cut is quoted at, where the ROC's differences near FPR = 0 are invisible.

    Inputs as for :func:`plot_roc_curves`; a band (TPR quantiles at fixed FPR) is drawn
    horizontally. Points with FPR <= 0 (an sPlot curve's first steps) are left out, and the
    y range holds the curves for TPR >= ``min_tpr``: below, 1/FPR rests on a handful of events.
    """
    _, tpr_label = _axis_names(kind)
    data = _curves(curves)
    band_data = _bands(bands, list(data))
    auc = auc or {}
    fig, ax = plt.subplots()
    handles, labels = [], []
    top = 1.0
    for i, (label, (fpr, tpr)) in enumerate(data.items()):
        color = COLORS[i % len(COLORS)]
        keep = fpr > 0
        x, y = tpr[keep], 1.0 / fpr[keep]
        if label in band_data:
            bx, lo, hi = band_data[label]
            ok = bx > 0
            ax.fill_betweenx(1.0 / bx[ok], lo[ok], hi[ok], color=color, alpha=BAND_ALPHA, lw=0)
        (line,) = ax.plot(*thin_curve(x, y), color=color, lw=2)
        seen = y[(x >= min_tpr) & np.isfinite(y)]
        top = max(top, float(seen.max(initial=1.0)))
        handles.append(line)
        labels.append(_auc_label(label, fpr, tpr, auc.get(label)))
    grid = np.linspace(0.01, 1.0, 200)
    (random,) = ax.plot(grid, 1.0 / grid, color="0.3", ls="--", lw=1.2)
    handles.append(random)
    labels.append("random")
    if band_data:
        handles.append(Patch(color="0.5", alpha=BAND_ALPHA, lw=0))
        labels.append(band_label)
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_ylim(1.0, 1.5 * top)
    ax.set_xlabel(tpr_label)
    ax.set_ylabel(f"non-prompt rejection 1/FPR ({kind})")
    # The curves fall from the top left: the legend goes top right, the label above the axes.
    legend = ax.legend(handles, labels, loc="upper right", fontsize="x-small")
    fit_ylim(ax, [legend])
    hep_label(ax, title, inside=False)
    return plotting.save_figure(fig, out)  # through the module: the tests spy on it


# --------------------------------------------------------------------------- cone scan
