"""The iso figures (mass fit with pulls, ROC and rejection curves, cone scan, EFP search,
isolation distributions, AUC summary) write both formats, show the numbers they are given under
the labels they are given, say what a band or an error bar is, and refuse malformed input with a
message that names what was expected.

Inputs come from the library where that is cheap: a real mass fit of 20k synthetic events, its
sWeights and the sPlot ROC of a synthetic score (one normal law per truth class, independent of
the mass, as sPlot requires)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import StepPatch

from hepflows.core import plotting
from hepflows.core.metrics import roc
from hepflows.iso import figures
from hepflows.iso.columns import TRUTH_COLUMN
from hepflows.iso.figures import plot_auc_table, plot_isolation, plot_mass_fit
from hepflows.iso.mass_fit import BinnedComparison, binned_pulls, fit_mass
from hepflows.iso.roc_figures import plot_rejection, plot_roc_curves
from hepflows.iso.scan_figures import efp_label, plot_cone_scan, plot_efp_search
from hepflows.iso.splot import splot_roc, sweights
from hepflows.iso.synthetic import dimuon_kinematics

from helpers import assert_pdf_png, legend_bottom, render_figure

N_EVENTS = 20_000
MODELS = ("PFN", "9 cones + sum pT", "1 cone + sum pT")  # labels as a step passes them
SEPARATION = {"PFN": 1.6, "9 cones + sum pT": 1.3, "1 cone + sum pT": 1.1}
FPR_GRID = np.linspace(0.0, 1.0, 51)
BAND = "16-84% over 20 replicas"


# ----------------------------------------------------------------------------- inputs


@pytest.fixture(scope="module")
def sample() -> dict[str, np.ndarray]:
    return dimuon_kinematics(N_EVENTS, np.random.default_rng(5))


@pytest.fixture(scope="module")
def fit(sample):
    return fit_mass(sample["mass"])


@pytest.fixture(scope="module")
def comparison(sample, fit) -> BinnedComparison:
    return binned_pulls(sample["mass"], fit, bins=40)


@pytest.fixture(scope="module")
def scores(sample) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(6)
    truth = sample[TRUTH_COLUMN]
    return {m: rng.normal(SEPARATION[m] * truth, 1.0) for m in MODELS}


@pytest.fixture(scope="module")
def splot_curves(sample, fit, scores) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    sw = sweights(sample["mass"], fit)
    return {m: splot_roc(s, sw) for m, s in scores.items()}


@pytest.fixture(scope="module")
def bands(splot_curves) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A band of +-0.02 in TPR around each curve, on a common FPR grid."""
    out = {}
    for m, (fpr, tpr) in splot_curves.items():
        mid = np.interp(FPR_GRID, *np.maximum.accumulate(np.c_[fpr, tpr], axis=0).T)
        out[m] = (FPR_GRID, np.clip(mid - 0.02, 0, 1), np.clip(mid + 0.02, 0, 1))
    return out


def search_steps() -> list[dict]:
    """Rows as SearchStep.to_dict() writes them."""
    names = ["efp_k1_b0.5_12", "efp_k-1_b2_3", "efp_k0.25_b4_40"]
    return [
        {"iteration": i + 1, "feature": 100 + i, "feature_ado": 0.7, "feature_sign": 1,
         "n_disordered": 900 - 100 * i, "auc": auc, "model_ado": ado, "feature_name": name}
        for i, (name, auc, ado) in enumerate(
            zip(names, (0.862, 0.868, 0.870), (0.91, 0.93, 0.94), strict=True))
    ]  # fmt: skip


AUC_TABLE = pd.DataFrame(
    {
        "model": list(MODELS) * 2,
        "auc_mean": [0.8738, 0.8481, 0.8353, 0.8745, 0.8490, 0.8360],
        "auc_err": [0.0003, 0.0007, 0.0006] * 2,
        "tpr_at_50fpr": [0.957, 0.939, 0.922, 0.958, 0.940, 0.921],
        "n_replicas": [100] * 6,
        "kind": ["sPlot"] * 3 + ["truth"] * 3,
    }
)
CONE_N = np.arange(1, 19)
CONE_AUC = 0.852 - 0.02 * np.exp(-(CONE_N - 1) / 2.5)


# ----------------------------------------------------------------------------- rendering


def render(make: Callable[[Path], list[Path]], folder: Path):
    """(written paths, the figure handed to save_figure), the figure kept for inspection."""
    _, paths, fig, left_open = render_figure(make, folder, "figure")
    assert left_open == 0, "the figure was left open"
    return paths, fig


@pytest.fixture(scope="module")
def cases(comparison, fit, sample, splot_curves, bands, scores):
    truth = sample[TRUTH_COLUMN]
    sw = sweights(sample["mass"], fit)
    iso = np.abs(np.random.default_rng(7).normal(0.1 + 0.5 * (1 - truth), 0.1 + 0.3 * (1 - truth)))
    prompt = truth == 1
    return {
        "mass_fit": lambda out: plot_mass_fit(comparison, fit, out, title="Z→μμ"),
        "roc_splot": lambda out: plot_roc_curves(splot_curves, out, bands=bands, band_label=BAND),
        "roc_truth": lambda out: plot_roc_curves(
            {m: roc(truth, s) for m, s in scores.items()}, out, kind="truth"
        ),
        "rejection": lambda out: plot_rejection(
            splot_curves, out, bands=bands, band_label=BAND, auc={"PFN": (0.8738, 0.0003)}
        ),
        "cone_scan": lambda out: plot_cone_scan(
            CONE_N, CONE_AUC, np.full(18, 0.002), out, reference={"PFN": (0.874, 0.001)}, n_folds=5
        ),
        "efp_search": lambda out: plot_efp_search(
            search_steps(), out, pfn_auc=(0.874, 0.001), start={"auc": 0.848, "model_ado": 0.89}
        ),
        "isolation": lambda out: plot_isolation(iso[prompt], iso[~prompt], 0.45, out),
        "isolation_splot": lambda out: plot_isolation(
            iso,
            iso,
            0.45,
            out,
            weights_prompt=sw.prompt,
            weights_nonprompt=sw.nonprompt,
            weight_label="sWeights",
        ),  # fmt: skip
        "auc_table": lambda out: plot_auc_table(AUC_TABLE, out),
    }


class Rendered:
    """Each figure drawn once, when a test first asks for it (so no test pays for all)."""

    def __init__(self, cases, tmp_path_factory) -> None:
        self.cases, self.factory, self.done = cases, tmp_path_factory, {}

    def __getitem__(self, name: str):
        if name not in self.done:
            folder = self.factory.mktemp(name)
            self.done[name] = (folder, *render(self.cases[name], folder))
        return self.done[name]


@pytest.fixture(scope="module")
def rendered(cases, tmp_path_factory) -> Rendered:
    return Rendered(cases, tmp_path_factory)


NAMES = [
    "mass_fit", "roc_splot", "roc_truth", "rejection", "cone_scan", "efp_search", "isolation",
    "isolation_splot", "auc_table",
]  # fmt: skip


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", NAMES)
def test_each_figure_writes_a_pdf_and_a_png_that_read_back(rendered, name):
    folder, paths, fig = rendered[name]
    assert_pdf_png(paths, folder / "figure")
    image = mpimg.imread(paths[1])
    width, height = fig.get_size_inches() * plotting.PNG_DPI
    assert image.shape[:2] == (round(height), round(width))  # rows, columns: height first
    assert image.std() > 0.05  # drawn, not blank


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_carries_the_simulation_label(rendered, name):
    fig = rendered[name][2]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "hepflows" in texts and "Simulation" in texts


def test_the_pull_panel_shows_counts_minus_expected_over_sqrt_expected(rendered, comparison):
    fig = rendered["mass_fit"][2]
    ax, rax = fig.axes
    (steps,) = [p for p in rax.patches if isinstance(p, StepPatch)]
    expected = (comparison.counts - comparison.expected) / np.sqrt(comparison.expected)
    np.testing.assert_allclose(steps.get_data().values, expected, rtol=1e-12)
    np.testing.assert_allclose(steps.get_data().edges, comparison.edges)
    lo, hi = rax.get_ylim()
    assert lo == -hi and hi >= 3  # the 2 sigma band fits
    chi2, ndf = float(np.sum(expected**2)), comparison.counts.size - 6
    labels = legend_texts(ax)
    assert labels[0] == "pseudo-data"
    assert f"fit, $\\chi^2$/ndf = {chi2:.1f} / {ndf}" in labels
    assert {"prompt (Voigt)", "non-prompt (exponential)"} <= set(labels)
    assert any("1\\sigma" in t and "2\\sigma" in t for t in labels)
    assert rax.get_xlabel() == figures.MASS_LABEL and "GeV" in rax.get_xlabel()


def test_the_fit_curves_add_up_and_follow_the_data(rendered, comparison):
    """The total is prompt + non-prompt, and in events per bin it matches the binned
    expectation at the peak (a curve scaled wrongly would sit off the points)."""
    ax = rendered["mass_fit"][2].axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    total = next(ln for k, ln in lines.items() if k.startswith("fit"))
    prompt, nonprompt = lines["prompt (Voigt)"], lines["non-prompt (exponential)"]
    np.testing.assert_allclose(total.get_ydata(), prompt.get_ydata() + nonprompt.get_ydata())
    centers = 0.5 * (comparison.edges[1:] + comparison.edges[:-1])
    at = np.interp(centers, total.get_xdata(), total.get_ydata())
    peak = np.argmax(comparison.expected)
    assert at[peak] == pytest.approx(comparison.expected[peak], rel=0.05)
    assert ax.get_yscale() == "log"


def test_a_pull_beyond_the_range_is_marked(comparison, fit, tmp_path):
    counts = comparison.counts.copy()
    counts[10] += 20 * np.sqrt(comparison.expected[10])
    far = BinnedComparison(comparison.edges, counts, comparison.expected, comparison.pulls)
    _, fig = render(lambda out: plot_mass_fit(far, fit.values, out), tmp_path)
    rax = fig.axes[1]
    assert rax.get_ylim()[1] == 5.0  # capped
    markers = [ln for ln in rax.get_lines() if ln.get_marker() == "^"]
    assert len(markers) == 1 and markers[0].get_xdata()[0] == pytest.approx(
        0.5 * (comparison.edges[10] + comparison.edges[11])
    )


def test_roc_legends_name_the_models_with_their_auc_and_the_band(rendered, splot_curves):
    ax = rendered["roc_splot"][2].axes[0]
    labels = legend_texts(ax)
    for m in MODELS:
        fpr, tpr = splot_curves[m]
        assert f"{m} (AUC = {np.trapezoid(tpr, fpr):.3f})" in labels
    assert labels[-2:] == ["random", BAND]
    assert "sPlot" in ax.get_xlabel() and "non-prompt" in ax.get_xlabel()
    assert "prompt efficiency" in ax.get_ylabel()
    assert len(ax.collections) == len(MODELS)  # one band each
    truth = rendered["roc_truth"][2].axes[0]
    assert "truth" in truth.get_xlabel() and BAND not in legend_texts(truth)
    assert not truth.collections  # no bands given, none drawn


def test_rejection_is_one_over_fpr_on_a_log_axis(rendered, splot_curves):
    ax = rendered["rejection"][2].axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] == 1.0
    labels = legend_texts(ax)
    assert "PFN (AUC = 0.8738 $\\pm$ 0.0003)" in labels and BAND in labels
    line = ax.get_lines()[0]
    fpr, tpr = splot_curves["PFN"]
    keep = fpr > 0
    drawn = set(zip(line.get_xdata(), line.get_ydata(), strict=True))
    assert drawn <= set(zip(tpr[keep], 1.0 / fpr[keep], strict=True))  # thinned, not smoothed
    assert ax.get_xlabel().startswith("prompt efficiency")


def test_cone_scan_shows_mean_and_std_over_folds_below_the_legend(rendered):
    fig = rendered["cone_scan"][2]
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "mean $\\pm$ std over 5 CV folds"
    assert legend_texts(ax) == ["N cones + sum pT", "PFN ($\\pm$ 0.0010)"]
    lo, hi = ax.get_ylim()
    assert lo < CONE_AUC.min() - 0.002 and legend_bottom(fig) > 0.875  # PFN band under it
    points = next(ln for ln in ax.get_lines() if ln.get_marker() == "o")
    np.testing.assert_allclose(points.get_ydata(), CONE_AUC)
    assert ax.get_xlabel() == "number of isolation cones N"


def test_efp_search_names_each_chosen_efp(rendered):
    fig = rendered["efp_search"][2]
    ax, dax = fig.axes
    ticks = [t.get_text() for t in dax.get_xticklabels()]
    assert ticks == ["9 cones + sum pT", *(efp_label(s) for s in search_steps())]
    assert ticks[1] == "EFP 12\n$\\kappa$=1, $\\beta$=0.5"
    labels = legend_texts(ax)
    assert "PFN ($\\pm$ 0.0010)" in labels and "ADO with the PFN" in labels
    auc = next(ln for ln in ax.get_lines() if ln.get_marker() == "o")
    np.testing.assert_allclose(auc.get_ydata(), [0.848, 0.862, 0.868, 0.870])
    assert ax.get_ylim()[1] > 0.875  # the PFN band inside


def test_efp_label_prefers_the_graph_then_the_column_then_the_index():
    graph = {"n": 3, "d": 2, "kappa": 1.0, "beta": 0.5, "feature_name": "efp_k1_b0.5_4"}
    assert efp_label(graph) == "n=3, d=2\n$\\kappa$=1, $\\beta$=0.5"
    assert efp_label({"feature_name": "efp_k-1_b0.25_7"}) == "EFP 7\n$\\kappa$=-1, $\\beta$=0.25"
    assert efp_label({"feature_name": "iso_r450"}) == "iso_r450"
    assert efp_label({"feature": 5, "feature_name": ""}) == "feature 5"


def test_isolation_is_log_for_counts_and_linear_where_sweights_go_negative(rendered):
    ax = rendered["isolation"][2].axes[0]
    assert ax.get_yscale() == "log"
    assert legend_texts(ax) == ["prompt", "non-prompt"]
    assert "R = 0.45" in [t.get_text() for t in ax.texts]
    sp = rendered["isolation_splot"][2].axes[0]
    assert legend_texts(sp) == ["prompt (sWeights)", "non-prompt (sWeights)"]
    steps = [p for p in sp.patches if isinstance(p, StepPatch)]
    negative = any(np.any(p.get_data().values < 0) for p in steps)
    assert negative, "the test wants sWeights that make a bin negative"
    assert sp.get_yscale() == "linear" and "bins < 0" in sp.get_legend().get_title().get_text()


def test_isolation_histograms_are_normalised(rendered):
    ax = rendered["isolation"][2].axes[0]
    for p in (p for p in ax.patches if isinstance(p, StepPatch)):
        values, edges = p.get_data().values, p.get_data().edges
        assert np.sum(values * np.diff(edges)) == pytest.approx(1.0)


def test_auc_table_figure_lists_the_models_in_table_order(rendered):
    fig = rendered["auc_table"][2]
    ax, tax = fig.axes[:2]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(MODELS)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["sPlot", "truth"]
    assert legend.get_title().get_text() == "mean $\\pm$ std/√R over R = 100 replicas"
    xs = sorted(x for c in ax.containers for x in c[0].get_xdata())
    assert xs == sorted(AUC_TABLE["auc_mean"])
    lo, hi = ax.get_xlim()
    assert lo < 0.8353 - 0.0006 and hi > 0.8745 + 0.0003


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda out: plot_roc_curves({}, out), "expected at least one"),
        (lambda out: plot_roc_curves({"PFN": ([0, 1], [0, 0.5, 1])}, out), "equal length"),
        (lambda out: plot_roc_curves({"PFN": ([], [])}, out), "PFN fpr: expected at least one"),
        (lambda out: plot_rejection({"PFN": ([0, 1], [0, 1])}, out, kind="MC"), "kind: expected"),
        (
            lambda out: plot_roc_curves(
                {"PFN": ([0, 1], [0, 1])}, out, bands={"EFN": ([0], [0], [0])}
            ),
            "expected one of the curves",
        ),
        (lambda out: plot_cone_scan([1, 2], [0.8], [0.1, 0.1], out), "auc_mean 1"),
        (lambda out: plot_cone_scan([], [], [], out), "expected at least one"),
        (lambda out: plot_cone_scan([1], [0.8], [-0.1], out), "errors >= 0"),
        (lambda out: plot_efp_search([], out), "expected at least one step"),
        (lambda out: plot_efp_search([{"iteration": 1}], out), "missing \\['auc', 'model_ado'\\]"),
        (lambda out: plot_isolation([0.1], [], 0.4, out), "non-prompt isolation: expected"),
        (lambda out: plot_isolation([0.1], [0.2], 0.4, out, weights_prompt=[1, 2]), "weights 2"),
        (lambda out: plot_isolation([0.1], [0.2], 0.0, out), "R > 0"),
        (lambda out: plot_auc_table(AUC_TABLE.drop(columns="kind"), out), "missing \\['kind'\\]"),
        (lambda out: plot_auc_table(AUC_TABLE.iloc[:0], out), "at least one row"),
    ],
)
def test_bad_input_raises_a_value_error_that_says_what_was_expected(make, message, tmp_path):
    n_open = len(plt.get_fignums())
    with pytest.raises(ValueError, match=message):
        make(tmp_path / "bad.pdf")
    assert not list(tmp_path.iterdir())
    assert len(plt.get_fignums()) == n_open


def test_a_mass_comparison_with_mismatched_bins_is_refused(comparison, fit, tmp_path):
    short = BinnedComparison(comparison.edges[:-1], comparison.counts, comparison.expected,
                             comparison.pulls)  # fmt: skip
    with pytest.raises(ValueError, match="expected 41 edges and 40 expected counts"):
        plot_mass_fit(short, fit, tmp_path / "bad.pdf")
    values = {k: v for k, v in fit.values.items() if k != "tau"}
    with pytest.raises(ValueError, match="missing \\['tau'\\]"):
        plot_mass_fit(comparison, values, tmp_path / "bad.pdf")
