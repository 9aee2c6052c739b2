"""The ad figures (max SIC against S/B, SIC curves, closure summary, template weights) show the
numbers they claim, under the names physicists use, with the "hepflows Simulation" label, legends
that say what a band is and y ranges that hold the data clear of the legend; and the helpers turn
the summary tables into their curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from hepflows.ad.figures import (
    METHOD_COLORS,
    closure_rows,
    max_sic_curves,
    no_signal_band,
    plot_closure_summary,
    plot_max_sic_vs_sb,
    plot_sic_vs_efficiency,
    plot_weights,
)
from hepflows.ad.names import physics_title

from helpers import assert_pdf_png, legend_bottom, render_all

SB = np.array([0.001, 0.003, 0.01])
TPR = np.linspace(0.0, 1.0, 21)
TAIL_W = np.r_[np.full(10, 50.0), np.ones(990)]  # 1% of events far in the tail
CLOSURE_ROWS = [
    {"method": "A", "region": "SR", "median": 0.55, "p16": 0.52, "p84": 0.60},
    {"method": "A", "region": "CR", "median": 0.50, "p16": 0.49, "p84": 0.51},
    {"method": "B", "region": "CR", "median": 0.53, "p16": 0.50, "p84": 0.54},
]


def _band(med):
    med = np.asarray(med, dtype=float)
    return {"median": med, "p16": med - 0.5, "p84": med + 0.5}


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
    "max_sic_no_signal": lambda out: plot_max_sic_vs_sb(
        {"CATHODE": {"sb": SB, **_band([2.0, 6.0, 11.0])}},
        out,
        n_bkg_sr=10_000,
        no_signal={"median": 1.6, "p16": 1.2, "p84": 2.4},
        n_seeds=5,
        floor_events=25,
    ),
    "max_sic_methods": lambda out: plot_max_sic_vs_sb(
        {
            "ideal": {"sb": SB, **_band([2.0, 6.0, 12.0])},
            "supervised": {"sb": None, **_band(15.0)},
            "reweight": {"sb": SB, **_band([1.5, 3.0, 8.0])},
            "generate": {"sb": SB, **_band([2.0, 6.0, 11.0])},
            "morph": {"sb": SB, **_band([1.0, 4.0, 10.0])},
        },
        out,
        n_bkg_sr=10_000,
        title=physics_title("nonres", "zp3000"),
        n_seeds=3,
    ),
    "sic_vs_efficiency": lambda out: plot_sic_vs_efficiency(
        {"CATHODE": {"tpr": TPR, **_band(np.where(TPR > 0.1, 1 + 3 * TPR, np.nan))}}, out
    ),
    "sic_methods": lambda out: plot_sic_vs_efficiency(
        {
            "ideal": {"tpr": TPR, **_band(1 + 8 * np.exp(-4 * TPR))},
            "generate": {"tpr": TPR, **_band(1 + 6 * np.exp(-4 * TPR))},
        },
        out,
        title=physics_title("nonres", "zp3000", 0.01),
        n_seeds=3,
    ),
    "closure_summary": lambda out: plot_closure_summary(CLOSURE_ROWS, out),
    "closure_methods": lambda out: plot_closure_summary(
        [
            {**r, "method": m}
            for r, m in zip(CLOSURE_ROWS, ["generate", "generate", "morph"], strict=True)
        ],
        out,
        n_seeds=3,
        folds=2,
    ),
    "weights": lambda out: plot_weights({"m": TAIL_W}, out),
    "weights_methods": lambda out: plot_weights(
        {"SALAD weights": TAIL_W, "context weights (FETA)": np.ones(100)}, out
    ),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[Path, list[Path], Figure, int]]:
    return render_all(CASES, tmp_path_factory)


@pytest.mark.parametrize("name", list(CASES))
def test_each_figure_writes_pdf_and_png(rendered, name):
    folder, paths, _, n_left_open = rendered[name]
    assert_pdf_png(paths, folder / name)
    assert n_left_open == 0


def test_max_sic_secondary_axis_is_s_over_sqrt_b(rendered):
    (ax,) = rendered["max_sic_vs_sb"][2].axes
    assert ax.get_xscale() == "log"  # S/B spans a decade
    (sec,) = ax.child_axes
    np.testing.assert_allclose(sec.get_xlim(), np.array(ax.get_xlim()) / 100 * np.sqrt(10_000))
    assert ax.get_xlabel() == "S/B in SR [%]" and ax.get_ylabel() == "max SIC"
    assert ax.get_ylim()[1] > 15.5  # the supervised band is inside the axes
    assert "random" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_no_signal_reference_is_the_ideal_band_and_the_floor_is_stated(rendered):
    """Without signal the maximum over a noisy SIC curve lies above 1: the reference is where an
    ideal template lands at S/B = 0 over the seeds, not a line at 1."""
    (ax,) = rendered["max_sic_no_signal"][2].axes
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert "no signal (Idealized AD)" in texts and "random" not in texts
    assert legend.get_title().get_text() == "median, 16-84% over 5 seeds"
    spans = [p for p in ax.patches if p.get_y() == pytest.approx(1.2)]
    assert len(spans) == 1 and spans[0].get_height() == pytest.approx(1.2)
    assert any("25 test background events" in t.get_text() for t in ax.texts)


def test_the_no_signal_band_comes_from_the_ideal_row_at_zero():
    table = pd.DataFrame(
        {"method": ["ideal", "ideal", "generate"], "injection": [0.0, 0.01, 0.0],
         "max_sic_median": [1.5, 4.0, 2.0], "max_sic_p16": [1.1, 3.0, 1.0],
         "max_sic_p84": [2.2, 5.0, 3.0]}
    )  # fmt: skip
    assert no_signal_band(table) == {"median": 1.5, "p16": 1.1, "p84": 2.2}
    assert no_signal_band(table[table["method"] != "ideal"]) is None


def test_weights_legend_reports_mean_and_tail(rendered):
    (ax,) = rendered["weights"][2].axes
    (text,) = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"{TAIL_W.mean():.3g}" in text and "1.00%" in text
    assert ax.get_xscale() == ax.get_yscale() == "log"


def test_closure_summary_groups_regions(rendered):
    (ax,) = rendered["closure_summary"][2].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend.index("CR") < legend.index("SR")  # CR first regardless of row order
    points = {ln.get_marker(): ln.get_ydata() for ln in ax.get_lines() if ln.get_marker() != "None"}
    np.testing.assert_allclose(points["o"], [0.50, 0.53])  # CR, methods A and B
    np.testing.assert_allclose(points["s"], [0.55])


def test_max_sic_curves_from_the_summary_table():
    table = pd.DataFrame(
        {
            "method": ["generate", "generate", "supervised", "ideal", "ideal"],
            "injection": [0.01, 0.0, np.nan, 0.0, 0.01],
            "max_sic_median": [3.0, 1.0, 9.0, 1.1, 4.0],
            "max_sic_p16": [2.0, 0.9, 8.0, 1.0, 3.0],
            "max_sic_p84": [4.0, 1.2, 10.0, 1.2, 5.0],
        }
    )
    curves = max_sic_curves(table)
    assert list(curves) == ["ideal", "supervised", "generate"]  # METHOD_ORDER
    np.testing.assert_array_equal(curves["generate"]["sb"], [0.0, 0.01])
    np.testing.assert_array_equal(curves["generate"]["median"], [1.0, 3.0])
    assert curves["supervised"]["sb"] is None


def test_closure_rows_follow_the_method_order():
    table = pd.DataFrame({"method": ["morph", "x", "ideal"], "region": ["CR", "CR", "SR"]})
    assert [r["method"] for r in closure_rows(table)] == ["ideal", "morph", "x"]


@pytest.mark.parametrize("name", list(CASES))
def test_every_figure_carries_the_simulation_label(rendered, name):
    (ax,) = rendered[name][2].axes
    texts = [t.get_text() for t in ax.texts]
    assert "hepflows" in texts and "Simulation" in texts


def test_methods_and_data_sets_go_by_their_physics_names(rendered):
    (ax,) = rendered["max_sic_methods"][2].axes
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Idealized AD", "Supervised", "SALAD", "CATHODE", "FETA", "random"]
    assert "non-resonant, Z' (3 TeV)" in [t.get_text() for t in ax.texts]
    (ax,) = rendered["sic_methods"][2].axes
    assert "non-resonant, Z' (3 TeV), S/B = 1%" in [t.get_text() for t in ax.texts]
    (ax,) = rendered["closure_methods"][2].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CATHODE", "FETA"]
    assert physics_title("lhco", "wp3500", 0.006) == "LHC Olympics R&D, W' (3.5 TeV), S/B = 0.6%"
    assert physics_title("toy", "sig") == "Gaussian toy, toy signal"
    assert physics_title("new", "x") == "new, x"  # keys it does not know, as they are


def test_a_method_keeps_its_colour_in_every_figure(rendered):
    def colours(name):
        """Legend text -> colour of its (first) handle: a band's face or a line's colour."""
        (ax,) = rendered[name][2].axes
        legend = ax.get_legend()
        return {
            t.get_text(): to_hex(h.get_color() if hasattr(h, "get_color") else h.get_facecolor())
            for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
        }

    for name in ("max_sic_methods", "sic_methods", "sic_vs_efficiency"):
        assert colours(name)["CATHODE"] == METHOD_COLORS["generate"], name
    assert colours("max_sic_methods")["FETA"] == METHOD_COLORS["morph"]
    weights = colours("weights_methods")
    (salad,) = [c for k, c in weights.items() if k.startswith("SALAD")]
    (feta,) = [c for k, c in weights.items() if k.startswith("context weights (FETA)")]
    assert (salad, feta) == (METHOD_COLORS["reweight"], METHOD_COLORS["morph"])


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("max_sic_methods", "median, 16-84% over 3 seeds"),
        ("sic_methods", "median, 16-84% over 3 seeds"),
        ("closure_methods", "median, 16-84% over 2 folds x 3 seeds"),
    ],
)
def test_the_legend_says_what_a_band_is(rendered, name, title):
    (ax,) = rendered[name][2].axes
    assert ax.get_legend().get_title().get_text() == title


@pytest.mark.parametrize("name", ["max_sic_methods", "sic_methods", "closure_methods"])
def test_the_y_range_holds_every_band_below_the_legend(rendered, name):
    """Every band edge (16% and 84%) inside the axes, all of them under the legend and the
    label, and no more room above than those need."""
    fig = rendered[name][2]
    (ax,) = fig.axes
    bottom = legend_bottom(fig)
    edges = _band_edges(ax)
    lo, hi = ax.get_ylim()
    assert lo <= edges.min() and edges.max() < bottom < hi
    assert hi - lo < 2.5 * (edges.max() - lo)


def _band_edges(ax) -> np.ndarray:
    """The y values of every band and error bar drawn (fill_between, axhspan, errorbar)."""
    values = []
    for coll in ax.collections:
        for path in coll.get_paths():
            values.append(path.vertices[:, 1])
    for patch in ax.patches:  # axhspan: a rectangle in data coordinates
        values.append(patch.get_path().transformed(patch.get_patch_transform()).vertices[:, 1])
    values = np.concatenate(values)
    return values[np.isfinite(values)]
