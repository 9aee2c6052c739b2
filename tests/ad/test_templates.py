"""Unit checks of the SR context draws and of the SR classifier (weights, ensembles, parts)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from hepflows.ad.sr_classifier import clean_template_weights, train_member_scores
from hepflows.ad.templates import draw_contexts

torch.set_num_threads(1)
FLOW = {"type": "maf", "transforms": 2, "hidden": [16, 16]}
TRAIN = {"epochs": 3, "batch_size": 256, "lr": 3e-3, "patience": None}


def test_contexts_are_drawn_by_weight():
    contexts = np.arange(4.0)[:, None]
    drawn = draw_contexts(contexts, np.array([0.0, 1.0, 3.0, 0.0]), 4000, np.random.default_rng(0))
    values, counts = np.unique(drawn, return_counts=True)
    assert list(values) == [1.0, 2.0]
    assert counts[1] / counts[0] == pytest.approx(3.0, rel=0.15)


def test_template_weights_cut_and_equalized():
    w = np.ones(1000)
    w[0] = 500.0  # one event from a classifier output near 1
    keep, kept = clean_template_weights(w, 1000, 250.0, sigma_cut=3)
    assert not keep[0] and keep[1:].all()
    assert kept.sum() == pytest.approx(250.0)
    keep, kept = clean_template_weights(None, 10, 20.0, sigma_cut=3)
    assert keep.all() and np.allclose(kept, 2.0)
    with pytest.raises(ValueError, match="no template event"):
        clean_template_weights(np.zeros(5), 5, 1.0, sigma_cut=3)


def test_discriminator_ensemble_checkpoints_in_its_work_dir_and_resumes(tmp_path, caplog):
    """A killed discrimination job restarts from the ensemble checkpoint in its work folder."""
    rng = np.random.default_rng(0)
    x_data, x_template = rng.normal(0.3, 1, (600, 2)), rng.normal(0, 1, (900, 2))
    x_eval = rng.normal(0, 1, (200, 2))
    spec = {"kind": "mlp", "hidden": [8], "train": {"epochs": 3, "batch_size": 128}}

    def scores() -> np.ndarray:
        return train_member_scores(
            x_data, x_template, np.full(900, 600 / 900), x_eval, spec,
            n_members=2, seeds=[5, 6], device="cpu", work_dir=tmp_path,
        ).mean(axis=0)  # fmt: skip

    first = scores()
    assert [p.name for p in tmp_path.iterdir()] == ["ensemble.ckpt"]
    with caplog.at_level(logging.INFO, logger="hepflows"):
        again = scores()
    assert "resuming from epoch 3" in caplog.text
    np.testing.assert_array_equal(again, first)
    assert first.shape == (200,) and ((first > 0) & (first < 1)).all()


def test_discriminator_can_average_each_members_best_epochs(tmp_path):
    rng = np.random.default_rng(0)
    x_data, x_template = rng.normal(0.3, 1, (600, 2)), rng.normal(0, 1, (900, 2))
    x_eval = rng.normal(0, 1, (200, 2))
    spec = {"kind": "mlp", "hidden": [8], "train": {"epochs": 4, "batch_size": 128}}
    args = (x_data, x_template, np.full(900, 600 / 900), x_eval, spec)
    best = train_member_scores(*args, n_members=2, seeds=[5, 6], device="cpu")
    averaged = train_member_scores(*args, n_members=2, seeds=[5, 6], device="cpu", average_epochs=3)
    assert averaged.shape == best.shape and not np.allclose(averaged, best)
    with pytest.raises(ValueError, match="average_epochs = 3 needs an 'mlp' classifier"):
        train_member_scores(
            x_data, x_template, np.full(900, 600 / 900), x_eval, {"kind": "hgb", "max_iter": 5},
            n_members=1, seeds=[1], device="cpu", average_epochs=3,
        )  # fmt: skip


def test_an_ensemble_split_over_jobs_scores_as_one_job():
    """discrim.members_per_job: members trained in parts, with the whole ensemble's batch order,
    score exactly as when they stack in one network."""
    rng = np.random.default_rng(0)
    x_data, x_template = rng.normal(0.3, 1, (600, 2)), rng.normal(0, 1, (900, 2))
    x_eval = rng.normal(0, 1, (200, 2))
    spec = {"kind": "mlp", "hidden": [8], "train": {"epochs": 4, "batch_size": 128, "patience": 2}}
    args = (x_data, x_template, np.full(900, 600 / 900), x_eval, spec)
    seeds = [5, 6, 7]
    whole = train_member_scores(*args, n_members=3, seeds=seeds, device="cpu")
    parts = [
        train_member_scores(*args, n_members=len(s), seeds=s, device="cpu", batch_seed=5)
        for s in ([5, 6], [7])
    ]
    assert whole.shape == (3, 200)
    # Bitwise: with one member, baddbmm's output layer took another kernel and drifted by 5e-8.
    np.testing.assert_array_equal(np.vstack(parts), whole)
    # Without the shared batch order the last member trains differently.
    alone = train_member_scores(*args, n_members=1, seeds=[7], device="cpu")
    assert np.abs(alone[0] - whole[2]).max() > 1e-4


def test_extreme_context_weights_are_dropped_before_drawing():
    """generate's contexts: a weight far above the rest (a classifier output near 1) would make
    one MC event stand for hundreds of template events; as for the other templates, weights
    above mean + 3 sigma are dropped."""
    contexts = np.arange(100.0)[:, None]
    weights = np.ones(100)
    weights[7] = 60.0
    rng = np.random.default_rng(0)
    drawn = draw_contexts(contexts, weights, 10_000, rng, sigma_cut=3)
    assert 7.0 not in drawn and len(np.unique(drawn)) == 99
    uncut = draw_contexts(contexts, weights, 10_000, np.random.default_rng(0))
    assert (uncut == 7.0).mean() == pytest.approx(60 / 159, abs=0.02)


@pytest.mark.parametrize("region", ["cr", "all"])
def test_the_morph_base_flow_learns_the_mc_where_configured(region, caplog):
    """FETA trains its simulation flow on the sidebands and the SR together (the MC holds no
    signal); base_region: cr keeps it to the CR. The held-out CR stays out either way."""
    from hepflows.ad.samples import static_samples
    from hepflows.ad.template_inputs import mc_split_indices
    from hepflows.ad.templates import train_morph_base
    from hepflows.core.preprocessing import InputScaler

    cfg = {"sr": {"ht": [800.0, None], "met": [75.0, None]}, "n_mc": 4000, "n_ideal": 100,
           "n_data": 100, "n_sr_templates": 100, "mc_variant": "mc_reg",
           "max_cr_train": None}  # fmt: skip
    mc = static_samples("nonres", cfg, 7)["mc"]
    scaler = InputScaler.fit(mc, ["ht", "met"], ["m_jj", "tau21_j1", "tau21_j2", "tau32_j1",
                             "tau32_j2"], context_steps=["standardize"],
                             feature_steps=["standardize"])  # fmt: skip
    params = {"seed": 7, "device": "cpu", "holdout_fraction": 0.2, "dataset": cfg,
              "method": {"base_flow": FLOW, "base_train": {**TRAIN, "epochs": 1},
                         "base_region": region}}  # fmt: skip
    with caplog.at_level(logging.INFO):
        train_morph_base(mc, scaler, params, "nonres", 1, checkpoint=None,
                         log=logging.getLogger("test"))  # fmt: skip
    cr_train, held, sr = mc_split_indices(mc, params, "nonres")
    expected = len(cr_train) + (len(sr) if region == "all" else 0)
    assert f"training the base flow on {expected} MC events ({region})" in caplog.text
