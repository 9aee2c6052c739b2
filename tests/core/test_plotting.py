"""The core figures (ratio pads, loss and ROC curves) are written atomically as valid PDF + PNG,
in mplhep's style with the "hepflows Simulation" label, and show the numbers they claim: weighted
histograms with sqrt(sum w^2) errors, ratio pads whose range fits the data with out-of-range
points marked, legends clear of the data."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from hepflows.core import plotting
from hepflows.core.metrics import auc, roc
from hepflows.core.plotting import (
    STYLE,
    hep_style,
    plot_loss,
    plot_ratio,
    plot_roc,
    ratio_limits,
    save_figure,
    weighted_hist,
)

from helpers import assert_pdf_png, legend_bottom, render_all

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RNG = np.random.default_rng(11)
HISTORY = [
    {"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.0 / e + 0.01 * (e - 6) ** 2, "lr": 1e-3}
    for e in range(1, 11)
]


REF = RNG.normal(size=20_000)
# A weak and a strong tagger on the same events: their ROC curves and AUCs.
_Y = RNG.integers(0, 2, 4000)
_SCORES = {"weak": 0.5 * _Y + RNG.normal(size=4000), "strong": 2.0 * _Y + RNG.normal(size=4000)}
ROC_CURVES = {
    name: {**dict(zip(("fpr", "tpr"), roc(_Y, score), strict=True)), "auc": auc(_Y, score)}
    for name, score in _SCORES.items()
}
TMPL = RNG.normal(0.2, 1.0, 10_000)
TMPL_W = RNG.uniform(0.5, 1.5, 10_000)
EDGES = np.linspace(-2, 2, 11)
# A template with 3 x the truth in the last bin: its ratio (3) lies beyond any ratio pad.
SPIKE = np.r_[REF, np.full(2 * int(np.sum((REF >= 1.6) & (REF <= 2.0))), 1.8)]


def _ratio(template, weights=None, **kwargs):
    """A ratio figure of ``template`` against the truth REF, in EDGES."""
    hists = {"truth": (REF, None), "template": (template, weights)}
    return lambda out: plot_ratio(hists, "truth", out, bins=EDGES, xlabel="x [GeV]", **kwargs)


CASES = {
    "ratio": _ratio(TMPL, TMPL_W),
    "ratio_spike": _ratio(SPIKE, density=False),
    "loss": lambda out: plot_loss(HISTORY, out, title="CATHODE flow"),
    "roc": lambda out: plot_roc(ROC_CURVES, out),
    "rejection": lambda out: plot_roc(ROC_CURVES, out, rejection=True),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[Path, list[Path], Figure, int]]:
    """Render every figure once; keep the Figure handed to save_figure for inspection."""
    return render_all(CASES, tmp_path_factory)


@pytest.mark.parametrize("name", list(CASES))
def test_each_figure_writes_pdf_and_png_only(rendered, name):
    folder, paths, _, n_left_open = rendered[name]
    assert_pdf_png(paths, folder / name)
    assert sorted(os.listdir(folder)) == sorted(p.name for p in paths)  # no temp files
    assert n_left_open == 0  # figure closed


def test_save_figure_suffix_handling(tmp_path):
    fig, _ = plt.subplots()
    paths = save_figure(fig, tmp_path / "sub" / "sic_sb0.5")
    assert_pdf_png(paths, tmp_path / "sub" / "sic_sb0.5")  # '.5' is not a suffix
    assert not plt.fignum_exists(fig.number)
    fig, _ = plt.subplots()
    assert save_figure(fig, str(tmp_path / "a.png"))[0] == tmp_path / "a.pdf"


@pytest.mark.parametrize("fail_on", ["pdf", "png"])
def test_save_figure_failure_leaves_nothing(tmp_path, fail_on):
    """A crash while writing either format leaves neither file, and keeps the old one."""
    (tmp_path / "fig.pdf").write_bytes(b"%PDF old")
    fig, _ = plt.subplots()
    real_savefig = fig.savefig

    def flaky(fname, **kwargs):
        if kwargs.get("format") == fail_on:
            Path(fname).write_bytes(b"half a figure")
            raise RuntimeError("disk full")
        real_savefig(fname, **kwargs)

    fig.savefig = flaky
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, tmp_path / "fig")
    assert os.listdir(tmp_path) == ["fig.pdf"]
    assert (tmp_path / "fig.pdf").read_bytes() == b"%PDF old"
    assert not plt.fignum_exists(fig.number)


def test_style_is_scoped_and_hep_style_applies_it(tmp_path):
    with plt.rc_context({"xtick.direction": "out", "legend.frameon": True}):
        plot_loss(HISTORY[:2], tmp_path / "loss")
        assert plt.rcParams["xtick.direction"] == "out"
        hep_style()
        assert plt.rcParams["xtick.direction"] == "in"
        assert plt.rcParams["ytick.right"] and plt.rcParams["xtick.top"]
        assert plt.rcParams["legend.frameon"] is False
        assert plt.rcParams["font.sans-serif"][0] == "TeX Gyre Heros"  # mplhep's CMS style


def test_the_style_font_ships_with_the_packages():
    """The font comes from mplhep-data, installed with mplhep: nothing is fetched at run time."""
    from matplotlib import font_manager

    path = font_manager.findfont(STYLE["font.sans-serif"][0], fallback_to_default=False)
    assert "mplhep_data" in path


@pytest.mark.parametrize("name", list(CASES))
def test_every_figure_carries_the_simulation_label(rendered, name):
    texts = [t.get_text() for ax in rendered[name][2].axes for t in ax.texts]
    assert "hepflows" in texts and "Simulation" in texts


def test_weighted_hist_gives_sum_of_weights_and_its_error():
    v = np.array([-1.0, 0.1, 0.2, 0.2, 2.0, 5.0])  # 2.0: the last edge, kept; 5.0 dropped
    w = np.array([1.0, 0.5, 2.0, 1.5, 3.0, 9.0])
    edges = np.array([-2.0, 0.0, 1.0, 2.0])
    sumw, err = weighted_hist(v, w, edges)
    np.testing.assert_allclose(sumw, np.histogram(v, edges, weights=w)[0])
    np.testing.assert_allclose(err, np.sqrt(np.histogram(v, edges, weights=w * w)[0]))
    dens, _ = weighted_hist(v, w, edges, density=True)
    np.testing.assert_allclose(dens, np.histogram(v, edges, weights=w, density=True)[0])
    with pytest.raises(ValueError, match="weights shape"):
        weighted_hist(v, w[:2], edges)


def test_ratio_pad_shows_ratio_and_reference_uncertainty(rendered):
    top, bottom = rendered["ratio"][2].axes
    h_ref, _ = np.histogram(REF, EDGES, density=True)
    h_tmpl, _ = np.histogram(TMPL, EDGES, weights=TMPL_W, density=True)
    band, line = (p for p in bottom.patches if isinstance(p, StepPatch))
    np.testing.assert_allclose(line.get_data().values, h_tmpl / h_ref, rtol=1e-12)
    counts, _ = np.histogram(REF, EDGES)
    np.testing.assert_allclose(band.get_data().values, 1 + 1 / np.sqrt(counts), rtol=1e-12)
    np.testing.assert_allclose(band.get_data().baseline, 1 - 1 / np.sqrt(counts), rtol=1e-12)
    # The range fits the data: every ratio and the whole band inside, and no wider than needed.
    lo, hi = bottom.get_ylim()
    shown = np.r_[h_tmpl / h_ref, 1 + 1 / np.sqrt(counts), 1 - 1 / np.sqrt(counts)]
    assert lo < shown.min() and shown.max() < hi
    assert hi - 1 < 2.5 * np.abs(shown - 1).max()
    assert not [ln for ln in bottom.get_lines() if ln.get_marker() in ("^", "v")]
    assert bottom.get_xlabel() == "x [GeV]" and top.get_shared_x_axes().joined(top, bottom)
    # The truth as points with error bars, the template as a line: the legend says which.
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["truth", "template"]


def test_ratio_points_beyond_the_pad_are_marked_at_its_edge(rendered):
    top, bottom = rendered["ratio_spike"][2].axes
    lo, hi = bottom.get_ylim()
    assert hi <= 2.0  # the spike's ratio (3) lies beyond the largest range (0 to 2)
    (up,) = [ln for ln in bottom.get_lines() if ln.get_marker() == "^"]
    np.testing.assert_allclose(up.get_xdata(), [1.8])  # the last bin's centre
    assert lo < up.get_ydata()[0] < hi  # drawn inside, at the top edge
    assert not [ln for ln in bottom.get_lines() if ln.get_marker() == "v"]


def test_ratio_limits_are_the_smallest_nice_range_that_holds_the_values():
    assert ratio_limits([[0.97, 1.02]]) == pytest.approx((0.95, 1.05))
    assert ratio_limits([[0.7, 1.1], [np.nan, np.inf]]) == pytest.approx((0.5, 1.5))
    assert ratio_limits([[1.0]]) == pytest.approx((0.98, 1.02))
    assert ratio_limits([[5.0]]) == pytest.approx((0.0, 2.0))  # capped: the rest is marked


def test_loss_marks_best_validation_epoch(rendered):
    (ax,) = rendered["loss"][2].axes
    val = [r["val_loss"] for r in HISTORY]
    best = int(np.argmin(val))
    (star,) = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
    assert star.get_xdata()[0] == HISTORY[best]["epoch"] == 7
    assert star.get_ydata()[0] == pytest.approx(val[best])
    assert "CATHODE flow" in [t.get_text() for t in ax.texts]


def test_the_legend_and_label_sit_above_the_data(rendered):
    """The y range is raised just enough that no curve runs under the legend or the label."""
    fig = rendered["loss"][2]
    (ax,) = fig.axes
    bottom = legend_bottom(fig)
    highest = max(np.nanmax(ln.get_ydata()) for ln in ax.get_lines() if len(ln.get_ydata()) > 2)
    assert highest < bottom
    assert ax.get_ylim()[1] < bottom + 2 * (bottom - ax.get_ylim()[0])  # and no more than that


def test_loss_without_validation_uses_training(tmp_path, monkeypatch):
    figs = []
    monkeypatch.setattr(plotting, "save_figure", lambda fig, path: figs.append(fig))
    hist = [{"epoch": e, "train_loss": (e - 3) ** 2, "val_loss": None} for e in range(1, 6)]
    plot_loss(hist, tmp_path / "l")
    (star,) = [ln for ln in figs[0].axes[0].get_lines() if ln.get_marker() == "*"]
    assert star.get_xdata()[0] == 3
    plt.close(figs[0])


def test_ratio_grid_writes_one_figure_for_all_variables(tmp_path):
    from hepflows.core.plotting import plot_ratio_grid

    rng = np.random.default_rng(3)
    panels = [
        {
            "hists": {
                "truth": (rng.normal(size=2000), None),
                "tpl": (rng.normal(size=3000), rng.uniform(0.5, 1.5, 3000)),
            },
            "xlabel": f"$x_{i}$ [GeV]",
        }
        for i in range(5)
    ]
    paths = plot_ratio_grid(panels, "truth", tmp_path / "ratios_CR.pdf", title="CR closure")
    assert [p.name for p in paths] == ["ratios_CR.pdf", "ratios_CR.png"]
    assert paths[0].read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ratios_CR.pdf", "ratios_CR.png"]
    with pytest.raises(KeyError, match="reference 'data'"):
        plot_ratio_grid(panels, "data", tmp_path / "bad.pdf")


def test_roc_and_rejection_curves_show_each_tagger(rendered):
    (ax,) = rendered["roc"][2].axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        f"weak (AUC = {ROC_CURVES['weak']['auc']:.3f})",
        f"strong (AUC = {ROC_CURVES['strong']['auc']:.3f})",
        "random",
    ]
    assert 0.6 < ROC_CURVES["weak"]["auc"] < ROC_CURVES["strong"]["auc"]
    strong = ax.get_lines()[1]
    np.testing.assert_array_equal(strong.get_xdata(), ROC_CURVES["strong"]["fpr"])
    (ax,) = rendered["rejection"][2].axes
    assert ax.get_yscale() == "log" and "rejection" in ax.get_ylabel()
    weak = ax.get_lines()[0]
    keep = ROC_CURVES["weak"]["fpr"] > 0
    np.testing.assert_allclose(weak.get_ydata(), 1 / ROC_CURVES["weak"]["fpr"][keep])


def test_roc_refuses_curves_of_different_lengths(tmp_path):
    with pytest.raises(ValueError, match="bad: fpr"):
        plot_roc({"bad": {"fpr": [0, 1], "tpr": [0, 0.5, 1]}}, tmp_path / "roc")
