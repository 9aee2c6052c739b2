"""The iso models: their inputs, specs, training on the core loop, and saving."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepflows.core.io import DataError
from hepflows.core.metrics import auc
from hepflows.core.particle_flow import ParticleInputs, PFNClassifier
from hepflows.iso.columns import CONE_SUM_PT, ISO_COLUMNS, TRUTH_COLUMN
from hepflows.iso.models import (
    ISO_SCALE,
    PFN_FEATURES,
    SUM_PT_SCALE,
    cone_columns,
    cone_inputs,
    efp_inputs,
    encode_pids,
    load_model,
    model_spec,
    particle_inputs,
    train_model,
)
from hepflows.iso.synthetic import dimuon_events

TINY_TRAIN = {"epochs": 3, "batch_size": 64, "lr": 1e-2}
TINY_MLP = {"width": 16, "layers": 3, "train": TINY_TRAIN}
TINY_PFN = {"phi_sizes": [16, 16, 32], "f_sizes": [16, 16], "train": TINY_TRAIN}


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def events():
    """Balanced prompt / non-prompt events: train (3000) and held-out test (2000) halves."""
    table = dimuon_events(5000, np.random.default_rng(5), prompt_fraction=0.5)
    truth = table.col(TRUTH_COLUMN).astype(np.int64)
    return table.select(np.arange(3000)), truth[:3000], table.select(np.arange(3000, 5000))


def _fit(kind, x, y, w, cfg, seed=0, **kwargs):
    if "validation" not in kwargs and "epochs" not in kwargs:
        kwargs["epochs"] = TINY_TRAIN["epochs"]
    return train_model(kind, x, y, w, spec=model_spec(kind, cfg), seed=seed, device="cpu", **kwargs)


def test_cone_inputs_take_the_largest_radii(events):
    train, _, _ = events
    assert cone_columns(1) == ["iso_r450", CONE_SUM_PT]
    assert cone_columns(9) == [*ISO_COLUMNS[9:], CONE_SUM_PT]
    assert cone_columns(9)[0] == "iso_r250"
    assert cone_columns(18) == [*ISO_COLUMNS, CONE_SUM_PT]
    x = cone_inputs(train, 1)
    assert x.shape == (3000, 2)
    np.testing.assert_allclose(x[:, 0], np.log1p(train.col("iso_r450") / ISO_SCALE))
    np.testing.assert_allclose(x[:, 1], np.log1p(train.col(CONE_SUM_PT) / SUM_PT_SCALE))
    assert cone_inputs(train, 9).shape == (3000, 10)
    for bad in (0, 19, 2.5, True):
        with pytest.raises(ValueError, match="n_cones"):
            cone_columns(bad)


def test_efp_inputs_append_the_chosen_columns_and_name_a_missing_one(events):
    train, _, _ = events
    names = ["efp_k1_b1_0", "efp_k1_b1_1", "efp_k1_b1_2"]
    efps = np.arange(3000 * 3, dtype=float).reshape(3000, 3)
    x = efp_inputs(train, 9, efps, names, ["efp_k1_b1_2", "efp_k1_b1_0"])
    assert x.shape == (3000, 12)
    np.testing.assert_array_equal(x[:, :10], cone_inputs(train, 9))
    np.testing.assert_array_equal(x[:, 10:], efps[:, [2, 0]])
    with pytest.raises(DataError, match="efp_k2_b1_0"):
        efp_inputs(train, 9, efps, names, ["efp_k1_b1_0", "efp_k2_b1_0"])
    with pytest.raises(DataError, match="shape"):
        efp_inputs(train, 9, efps[:10], names, names[:1])


def test_pids_become_charge_and_one_hot_species():
    enc = encode_pids(np.array([[211.0, -211.0], [22.0, 130.0], [11.0, -11.0]]))
    assert enc.shape == (3, 2, len(PFN_FEATURES) - 3)
    # charge, charged hadron, photon, neutral hadron, electron, muon
    assert enc[0, 0].tolist() == [1, 1, 0, 0, 0, 0]
    assert enc[0, 1].tolist() == [-1, 1, 0, 0, 0, 0]
    assert enc[1, 0].tolist() == [0, 0, 1, 0, 0, 0]
    assert enc[1, 1].tolist() == [0, 0, 0, 1, 0, 0]
    assert enc[2, 0].tolist() == [-1, 0, 0, 0, 1, 0]  # e- (PDG 11) has charge -1
    assert enc[2, 1].tolist() == [1, 0, 0, 0, 1, 0]
    with pytest.raises(DataError, match="321"):
        encode_pids(np.array([22.0, 321.0]))


def test_particle_inputs_keep_every_real_particle_in_fewer_slots(events):
    train, _, _ = events
    x = particle_inputs(train)
    counts = train.mask.sum(axis=1)
    assert x.values.shape == (3000, counts.max(), len(PFN_FEATURES))
    assert x.values.dtype == np.float32
    np.testing.assert_array_equal(x.mask.sum(axis=1), counts)
    assert (x.values[~x.mask] == 0).all()
    # The same pT_rel per event, summed in float64 (float32 sums depend on the slot order).
    kept = x.values[..., 0].astype(np.float64).sum(axis=1)
    given = np.where(train.mask, train.particles[..., 0], 0.0).astype(np.float64).sum(axis=1)
    np.testing.assert_allclose(kept, given)
    assert (x.values[x.mask][:, 4:].sum(axis=1) == 1).all()  # one species per particle
    # real particles behind padding (another file's layout) are moved to the front
    shuffled = train.select(np.arange(50))
    perm = np.random.default_rng(0).permutation(shuffled.mask.shape[1])
    shuffled.particles, shuffled.mask = shuffled.particles[:, perm], shuffled.mask[:, perm]
    y = particle_inputs(shuffled)
    np.testing.assert_array_equal(y.mask, x.mask[:50, : y.mask.shape[1]])
    np.testing.assert_allclose(
        np.sort(y.values[..., 0], axis=1), np.sort(x.values[:50, : y.mask.shape[1], 0], axis=1)
    )


def test_model_spec_fills_defaults_and_rejects_unknown_options():
    spec = model_spec("cones", {"width": 32, "train": {"lr": 1e-4}})
    assert spec["kind"] == "mlp" and spec["hidden"] == [32, 32, 32]
    assert spec["train"]["lr"] == 1e-4 and spec["train"]["patience"] == 10
    assert model_spec("pfn")["kind"] == "pfn"
    with pytest.raises(ValueError, match="phi_sizes"):
        model_spec("cones", {"phi_sizes": [8]})
    with pytest.raises(ValueError, match="kind"):
        model_spec("bdt")


def test_one_cone_model_and_tiny_pfn_separate_the_truth(events):
    train, truth, test = events
    w = np.ones(len(truth))
    y_test = test.col(TRUTH_COLUMN)
    val = np.arange(len(truth)) % 5 == 0
    x = cone_inputs(train, 1)
    mlp = _fit(
        "cones", x[~val], truth[~val], w[~val], TINY_MLP,
        validation=(x[val], truth[val], w[val]),
    )  # fmt: skip
    assert len(mlp.result.history) == 3
    assert auc(y_test, mlp.predict(cone_inputs(test, 1))) > 0.7  # measured 0.77
    pfn = _fit("pfn", particle_inputs(train), truth, w, TINY_PFN)
    assert isinstance(pfn, PFNClassifier)
    assert auc(y_test, pfn.predict(particle_inputs(test))) > 0.75  # measured 0.84


def test_same_seed_same_scores_on_cpu(events):
    train, truth, test = events
    w = np.ones(len(truth))
    x, xt = cone_inputs(train, 9), cone_inputs(test, 9)
    a, b, c = (_fit("cones", x, truth, w, TINY_MLP, seed=s).predict(xt) for s in (7, 7, 8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_weights_reach_the_loss(events):
    """Random labels carry no information: only the weights do. Dropping the non-prompt events
    of label 1 makes label 1 prompt-only; dropping its prompt ones makes it non-prompt-only.
    A model that uses the weights ranks the truth one way, then the other."""
    train, truth, test = events
    labels = np.random.default_rng(1).integers(0, 2, len(truth))
    x, xt = cone_inputs(train, 1), cone_inputs(test, 1)
    y_test = test.col(TRUTH_COLUMN)
    prompt_only = _fit("cones", x, labels, np.where(labels == 1, truth, 1.0), TINY_MLP)
    nonprompt_only = _fit("cones", x, labels, np.where(labels == 1, 1 - truth, 1.0), TINY_MLP)
    assert auc(y_test, prompt_only.predict(xt)) > 0.65  # measured 0.77
    assert auc(y_test, nonprompt_only.predict(xt)) < 0.35  # measured 0.23


def test_save_load_round_trip_gives_identical_scores(events, tmp_path):
    train, truth, test = events
    w = np.ones(len(truth))
    x = cone_inputs(train, 1)
    models = {
        "cones": (_fit("cones", x, truth, w, TINY_MLP), cone_inputs(test, 1)),
        "pfn": (
            _fit("pfn", particle_inputs(train.select(np.arange(500))), truth[:500], w[:500],
                 {**TINY_PFN, "train": {**TINY_TRAIN, "epochs": 1}}),
            particle_inputs(test),
        ),
    }  # fmt: skip
    for name, (model, xt) in models.items():
        model.save(tmp_path / name)
        loaded = load_model(tmp_path / f"{name}.json")
        assert type(loaded) is type(model)
        np.testing.assert_array_equal(loaded.predict(xt), model.predict(xt))


def test_train_model_needs_validation_or_epochs_and_matching_inputs(events):
    train, truth, _ = events
    w = np.ones(len(truth))
    x = cone_inputs(train, 1)
    spec = model_spec("cones", TINY_MLP)
    with pytest.raises(ValueError, match="either validation"):
        train_model("cones", x, truth, w, spec=spec, seed=0, device="cpu")
    with pytest.raises(ValueError, match="either validation"):
        train_model(
            "cones", x, truth, w, spec=spec, seed=0, device="cpu", epochs=2,
            validation=(x, truth, w),
        )  # fmt: skip
    with pytest.raises(TypeError, match="ParticleInputs"):
        train_model("pfn", x, truth, w, spec=model_spec("pfn"), seed=0, device="cpu", epochs=1)
    with pytest.raises(ValueError, match="'mlp' spec"):
        train_model("cones", x, truth, w, spec=model_spec("pfn"), seed=0, device="cpu", epochs=1)
    assert isinstance(particle_inputs(train), ParticleInputs)
