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


def test_a_bootstrap_block_scores_the_holdout_chunk_by_chunk_and_resumes(tmp_path):
    """Every replica scores the whole holdout sample, read a chunk at a time; a finished
    replica's scores (test fold and holdout) are reused by a resumed job."""
    from hepflows.iso.cwola import cwola_table
    from hepflows.iso.folds import assign_folds
    from hepflows.iso.model_inputs import SampleScorer, model_inputs
    from hepflows.iso.models import model_spec
    from hepflows.iso.synthetic import dimuon_events
    from hepflows.iso.training_jobs import bootstrap_scores

    events = dimuon_events(3000, np.random.default_rng(1))
    labelled = cwola_table(events)
    folds = assign_folds(labelled.labels, 0).astype(np.float64)
    cwola = EventTable(folds[:, None], ["fold"], weights=labelled.weights, labels=labelled.labels)
    write_table(tmp_path / "holdout.h5", dimuon_events(1100, np.random.default_rng(2)), seed=2,
                config_hash="test")  # fmt: skip
    cfg = {"kind": "cones", "n_cones": 3}
    spec = model_spec("cones", {"width": 8, "layers": 1, "train": {"batch_size": 256}})
    holdout = SampleScorer(cfg, tmp_path / "holdout.h5", chunk=400)
    summed = type("Summed", (), {"predict": staticmethod(lambda x: x.sum(axis=1))})
    np.testing.assert_array_equal(
        holdout(summed), model_inputs(cfg, tmp_path / "holdout.h5").sum(1)
    )
    x = model_inputs(cfg, write_events(tmp_path, events))

    def run():
        return bootstrap_scores("cones", x, cwola, range(2), epochs=2, spec=spec, seed=5,
                                device="cpu", work_dir=tmp_path / "work", log=None,
                                holdout=holdout)  # fmt: skip

    first = run()
    assert first.test.shape == (2, int((folds == 0).sum())) and first.holdout.shape == (2, 1100)
    assert not np.array_equal(first.holdout[0], first.holdout[1])  # two replicas, two models
    (tmp_path / "work/replica_0001.npy").unlink()  # replica 1 was killed before it finished
    again = run()
    np.testing.assert_array_equal(again.holdout, first.holdout)
    np.testing.assert_array_equal(again.test, first.test)


def write_events(tmp_path, events):
    path = tmp_path / "events.h5"
    write_table(path, events, seed=1, config_hash="test")
    return path


def test_the_spread_of_splot_minus_truth_shrinks_as_one_over_root_n():
    """The statistical spread that says whether sPlot and truth AUCs disagree: it falls as
    1/sqrt(events), and the difference itself stays within a few spreads (no bias)."""
    from hepflows.core.metrics import auc
    from hepflows.iso.evaluation import TestFold, splot_truth_spread
    from hepflows.iso.mass_fit import REFERENCE
    from hepflows.iso.splot import splot_auc, sweights
    from hepflows.iso.synthetic import dimuon_kinematics

    spreads = []
    for n in (20_000, 80_000):
        cols = dimuon_kinematics(n, np.random.default_rng(n))
        truth = cols["truth_prompt"]
        score = truth + np.random.default_rng(1).standard_normal(n)  # independent of the mass
        sample = TestFold(np.arange(n), cols["mass"], truth)
        fit = {**REFERENCE, "n_prompt": truth.sum(), "n_nonprompt": n - truth.sum()}
        spreads.append(splot_truth_spread(score, sample, fit, resamples=40, seed=2))
        diff = splot_auc(score, sweights(cols["mass"], fit)) - auc(truth, score)
        assert abs(diff) < 3 * spreads[-1]
    assert 1.5 < spreads[0] / spreads[1] < 2.7  # sqrt(4) = 2
