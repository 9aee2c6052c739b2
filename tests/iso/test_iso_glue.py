"""The glue between the iso library and its rules: model names and labels, event chunks, ROC
curves on a common grid, the AUC table's gaps, the search's candidate choice, the mass fit's
JSON round trip."""

from __future__ import annotations

import numpy as np
import pytest

from hepflows.core.event_files import write_table
from hepflows.core.events import EventTable
from hepflows.core.io import DataError
from hepflows.iso.ado import Pairs
from hepflows.iso.config_checks import all_models, model_label
from hepflows.iso.evaluation import FPR_GRID, tpr_on_grid
from hepflows.iso.guided_search import best_candidate
from hepflows.iso.mass_fit import fit_from_dict, fit_mass, fit_to_dict
from hepflows.iso.model_inputs import efp_matrix
from hepflows.iso.steps.efps import chunk_rows
from hepflows.iso.steps.summary import auc_table


def test_the_cone_scan_shares_the_configured_cones_models():
    iso = {"models": {"pfn": {"kind": "pfn"}, "cones9": {"kind": "cones", "n_cones": 9}},
           "cone_scan": [1, 9]}  # fmt: skip
    models = all_models(iso)
    assert list(models) == ["pfn", "cones9", "cones1"]
    assert models["cones1"] == {"kind": "cones", "n_cones": 1}


@pytest.mark.parametrize(
    ("cfg", "label"),
    [
        ({"kind": "pfn"}, "PFN"),
        ({"kind": "cones", "n_cones": 1}, "1 cone + sum pT"),
        ({"kind": "cones", "n_cones": 9}, "9 cones + sum pT"),
        ({"kind": "cones_efps", "n_cones": 9, "efps": "guided"}, "9 cones + sum pT + guided EFPs"),
        ({"kind": "cones_efps", "n_cones": 9, "efps": ["efp_k1_b1_2"]}, "9 cones + sum pT + 1 EFP"),
        ({"kind": "pfn", "label": "my PFN"}, "my PFN"),
    ],
)
def test_model_labels_are_what_a_physicist_reads(cfg, label):
    assert model_label(cfg) == label


def test_event_chunks_cover_every_event_once():
    chunks = [chunk_rows(1003, 4, p) for p in range(4)]
    assert chunks[0].start == 0 and chunks[-1].stop == 1003
    assert all(a.stop == b.start for a, b in zip(chunks[:-1], chunks[1:], strict=True))
    with pytest.raises(ValueError, match="--part must be in 0..3"):
        chunk_rows(1003, 4, 4)


def test_roc_on_the_grid_keeps_the_upper_envelope_of_a_curve_that_steps_back():
    fpr = np.array([0.0, 0.2, 0.15, 0.5, 1.0])  # an sPlot curve may step back
    tpr = np.array([0.0, 0.6, 0.55, 0.9, 1.0])
    on_grid = tpr_on_grid(fpr, tpr)
    assert on_grid.shape == FPR_GRID.shape
    assert np.all(np.diff(on_grid) >= 0) and on_grid[-1] == 1.0
    assert on_grid[np.searchsorted(FPR_GRID, 0.2)] == pytest.approx(0.6)


def _evaluation(name, auc, err):
    summary = {"mean": auc, "error": err, "std": err * 2, "n": 4}
    return {"model": name, "label": name.upper(), "n_replicas": 4,
            "splot": {"auc": summary, "tpr_at_50fpr": summary}}  # fmt: skip


def test_auc_table_gaps_count_only_beyond_both_errors():
    evaluations = [_evaluation("a", 0.90, 0.002), _evaluation("b", 0.895, 0.002),
                   _evaluation("c", 0.894, 0.002)]  # fmt: skip
    cv = {n: {"epochs": 5, "splot_auc": {"mean": 0.9, "std": 0.01}} for n in "abc"}
    table = auc_table(evaluations, cv)
    assert list(table["model"]) == ["A", "B", "C"]
    np.testing.assert_allclose(table["gap_to_next"][:2], [0.005, 0.001])
    assert list(table["gap_significant"][:2]) == [True, False]
    assert np.isnan(table["gap_to_next"].iloc[2])


def test_the_search_picks_the_efp_that_repairs_the_disordered_pairs(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    f_ref = rng.normal(size=n)
    f_model = rng.normal(size=n)
    good = f_ref + 0.01 * rng.normal(size=n)
    cols = {"efp_k1_b1_0": rng.normal(size=n), "efp_k1_b1_1": -good}
    write_table(tmp_path / "k1_b1.h5", EventTable(np.column_stack(list(cols.values())),
                list(cols)), seed=None, config_hash="h")  # fmt: skip
    pairs = Pairs(np.arange(0, 200), np.arange(200, 400))
    best = best_candidate([tmp_path / "k1_b1.h5"], f_ref, f_model, pairs, set())
    assert best["column"] == "efp_k1_b1_1" and best["sign"] == -1 and best["ado"] > 0.95
    again = best_candidate([tmp_path / "k1_b1.h5"], f_ref, f_model, pairs, {"efp_k1_b1_1"})
    assert again["column"] == "efp_k1_b1_0"
    np.testing.assert_array_equal(efp_matrix(["efp_k1_b1_1"], [tmp_path / "k1_b1.h5"])[:, 0],
                                  cols["efp_k1_b1_1"])  # fmt: skip
    with pytest.raises(DataError, match="efp_k2_b1_0 are in none of the EFP tables"):
        efp_matrix(["efp_k2_b1_0"], [tmp_path / "k1_b1.h5"])


def test_the_mass_fit_survives_its_json(tmp_path):
    from hepflows.iso.synthetic import dimuon_kinematics

    mass = dimuon_kinematics(20000, np.random.default_rng(3))["mass"]
    fit = fit_mass(mass)
    back = fit_from_dict(fit_to_dict(fit))
    assert dict(back.values) == dict(fit.values)
    np.testing.assert_array_equal(np.asarray(back.covariance), np.asarray(fit.covariance))
    assert back.prompt_fraction_error == pytest.approx(fit.prompt_fraction_error)
    with pytest.raises(DataError, match="not a mass fit"):
        fit_from_dict({"values": {}}, "fit.json")
