"""Figures are written atomically as valid PDF + PNG and show the numbers they claim."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from hepflows.core import plotting
from hepflows.core.plotting import (
    hep_style,
    plot_closure_summary,
    plot_loss,
    plot_max_sic_vs_sb,
    plot_ratio,
    plot_sic_vs_efficiency,
    plot_weights,
    save_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RNG = np.random.default_rng(11)
SB = np.array([0.001, 0.003, 0.01])
TPR = np.linspace(0.0, 1.0, 21)
HISTORY = [
    {"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.0 / e + 0.01 * (e - 6) ** 2, "lr": 1e-3}
    for e in range(1, 11)
]


def _band(med):
    med = np.asarray(med, dtype=float)
    return {"median": med, "p16": med - 0.5, "p84": med + 0.5}


REF = RNG.normal(size=20_000)
TMPL = RNG.normal(0.2, 1.0, 10_000)
TMPL_W = RNG.uniform(0.5, 1.5, 10_000)
EDGES = np.linspace(-2, 2, 11)
TAIL_W = np.r_[np.full(10, 50.0), np.ones(990)]  # 1% of events far in the tail
CLOSURE_ROWS = [
    {"method": "A", "region": "SR", "median": 0.55, "p16": 0.52, "p84": 0.60},
    {"method": "A", "region": "CR", "median": 0.50, "p16": 0.49, "p84": 0.51},
    {"method": "B", "region": "CR", "median": 0.53, "p16": 0.50, "p84": 0.54},
]

CASES = {
    "max_sic_vs_sb": lambda out: plot_max_sic_vs_sb(
        {
            "CATHODE": {"sb": SB, **_band([2.0, 6.0, 11.0])},
            "supervised": {"sb": None, **_band(15.0)},
        },
        out,
        n_bkg_sr=10_000,
        title="test",
    ),
    "sic_vs_efficiency": lambda out: plot_sic_vs_efficiency(
        {"CATHODE": {"tpr": TPR, **_band(np.where(TPR > 0.1, 1 + 3 * TPR, np.nan))}}, out
    ),
    "ratio": lambda out: plot_ratio(
        {"truth": (REF, None), "template": (TMPL, TMPL_W)},
        "truth",
        out,
        bins=EDGES,
        xlabel="x [GeV]",
    ),
    "closure_summary": lambda out: plot_closure_summary(CLOSURE_ROWS, out),
    "weights": lambda out: plot_weights({"m": TAIL_W}, out),
    "loss": lambda out: plot_loss(HISTORY, out),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[Path, list[Path], Figure, int]]:
    """Render every figure once; keep the Figure handed to save_figure for inspection."""
    out = {}
    for name, make in CASES.items():
        figs: list[Figure] = []

        def spy(fig, path, figs=figs):
            figs.append(fig)
            return save_figure(fig, path)

        folder = tmp_path_factory.mktemp(name)
        n_open = len(plt.get_fignums())
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(plotting, "save_figure", spy)
            paths = make(folder / f"{name}.pdf")
        out[name] = (folder, paths, figs[0], len(plt.get_fignums()) - n_open)
    return out


def _assert_pdf_png(paths: list[Path], stem: Path) -> None:
    assert paths == [stem.with_name(stem.name + ".pdf"), stem.with_name(stem.name + ".png")]
    pdf, png = (p.read_bytes() for p in paths)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert png.startswith(PNG_MAGIC) and len(png) > 5_000


@pytest.mark.parametrize("name", list(CASES))
def test_each_figure_writes_pdf_and_png_only(rendered, name):
    folder, paths, _, n_left_open = rendered[name]
    _assert_pdf_png(paths, folder / name)
    assert sorted(os.listdir(folder)) == sorted(p.name for p in paths)  # no temp files
    assert n_left_open == 0  # figure closed


def test_save_figure_suffix_handling(tmp_path):
    fig, _ = plt.subplots()
    paths = save_figure(fig, tmp_path / "sub" / "sic_sb0.5")
    _assert_pdf_png(paths, tmp_path / "sub" / "sic_sb0.5")  # '.5' is not a suffix
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


def test_max_sic_secondary_axis_is_s_over_sqrt_b(rendered):
    (ax,) = rendered["max_sic_vs_sb"][2].axes
    assert ax.get_xscale() == "log"  # S/B spans a decade
    (sec,) = ax.child_axes
    np.testing.assert_allclose(sec.get_xlim(), np.array(ax.get_xlim()) / 100 * np.sqrt(10_000))
    assert ax.get_xlabel() == "S/B in SR [%]" and ax.get_ylabel() == "max SIC"
    assert ax.get_ylim()[1] > 15.5  # the supervised band is inside the axes
    assert "random" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_ratio_pad_shows_ratio_and_reference_uncertainty(rendered):
    top, bottom = rendered["ratio"][2].axes
    h_ref, _ = np.histogram(REF, EDGES, density=True)
    h_tmpl, _ = np.histogram(TMPL, EDGES, weights=TMPL_W, density=True)
    band, line = (p for p in bottom.patches if isinstance(p, StepPatch))
    np.testing.assert_allclose(line.get_data().values, h_tmpl / h_ref, rtol=1e-12)
    counts, _ = np.histogram(REF, EDGES)
    np.testing.assert_allclose(band.get_data().values, 1 + 1 / np.sqrt(counts), rtol=1e-12)
    np.testing.assert_allclose(band.get_data().baseline, 1 - 1 / np.sqrt(counts), rtol=1e-12)
    assert bottom.get_ylim() == (0.5, 1.5)
    assert bottom.get_xlabel() == "x [GeV]" and top.get_shared_x_axes().joined(top, bottom)


def test_weights_legend_reports_mean_and_tail(rendered):
    (ax,) = rendered["weights"][2].axes
    (text,) = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"{TAIL_W.mean():.3g}" in text and "1.00%" in text
    assert ax.get_xscale() == ax.get_yscale() == "log"


def test_loss_marks_best_validation_epoch(rendered):
    (ax,) = rendered["loss"][2].axes
    val = [r["val_loss"] for r in HISTORY]
    best = int(np.argmin(val))
    (star,) = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
    assert star.get_xdata()[0] == HISTORY[best]["epoch"] == 7
    assert star.get_ydata()[0] == pytest.approx(val[best])


def test_loss_without_validation_uses_training(tmp_path, monkeypatch):
    figs = []
    monkeypatch.setattr(plotting, "save_figure", lambda fig, path: figs.append(fig))
    hist = [{"epoch": e, "train_loss": (e - 3) ** 2, "val_loss": None} for e in range(1, 6)]
    plot_loss(hist, tmp_path / "l")
    (star,) = [ln for ln in figs[0].axes[0].get_lines() if ln.get_marker() == "*"]
    assert star.get_xdata()[0] == 3
    plt.close(figs[0])


def test_closure_summary_groups_regions(rendered):
    (ax,) = rendered["closure_summary"][2].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend.index("CR") < legend.index("SR")  # CR first regardless of row order
    points = {ln.get_marker(): ln.get_ydata() for ln in ax.get_lines() if ln.get_marker() != "None"}
    np.testing.assert_allclose(points["o"], [0.50, 0.53])  # CR, methods A and B
    np.testing.assert_allclose(points["s"], [0.55])


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
