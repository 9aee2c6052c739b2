"""The ad figures (max SIC against S/B, SIC curves, closure summary, template weights) show the
numbers they claim, and the helpers turn the summary tables into their curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from hepflows.ad.figures import (
    closure_rows,
    max_sic_curves,
    no_signal_band,
    plot_closure_summary,
    plot_max_sic_vs_sb,
    plot_sic_vs_efficiency,
    plot_weights,
)

from helpers import assert_pdf_png, render_all

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
    "sic_vs_efficiency": lambda out: plot_sic_vs_efficiency(
        {"CATHODE": {"tpr": TPR, **_band(np.where(TPR > 0.1, 1 + 3 * TPR, np.nan))}}, out
    ),
    "closure_summary": lambda out: plot_closure_summary(CLOSURE_ROWS, out),
    "weights": lambda out: plot_weights({"m": TAIL_W}, out),
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
    assert "no signal (ideal, S/B = 0)" in texts and "random" not in texts
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
