"""Stacked MLP ensembles: members behave as if trained alone, and the ensemble saves, loads,
resumes and scores like a classifier."""

import logging

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from hepflows.core.ensembles import (
    MLPEnsemble,
    StackedMLP,
    make_mlp_ensemble,
    member_weighted_bce,
)
from hepflows.core.io import DataError
from hepflows.core.training import TrainConfig, fit

FAST = {"epochs": 8, "batch_size": 128, "lr": 3e-3, "patience": 3, "device": "cpu"}


@pytest.fixture(autouse=True)
def single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def gaussians(seed: int, n: int = 1200, dim: int = 3, shift: float = 1.0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(size=(n, dim)), rng.normal(size=(n, dim)) + shift])
    return x, np.concatenate([np.zeros(n), np.ones(n)])


def ensemble(seeds, **train) -> MLPEnsemble:
    return MLPEnsemble(seeds, hidden=(16, 16), train={**FAST, "seed": 7, **train})


def test_each_member_trains_as_if_alone():
    """Member k of a stacked ensemble = a one-member ensemble with member k's seed."""
    x, y = gaussians(0)
    w = np.random.default_rng(1).uniform(0.5, 1.5, len(y))
    both = ensemble([11, 12], grad_clip=0.5).fit(x, y, w)
    alone = ensemble([12], grad_clip=0.5).fit(x, y, w)
    assert both.result is not None and alone.result is not None
    assert both.result.best_epochs[1] == alone.result.best_epoch
    np.testing.assert_allclose(both.predict_members(x)[1], alone.predict_members(x)[0], atol=1e-5)
    # ...and the other member is a different classifier.
    assert np.abs(both.predict_members(x)[0] - both.predict_members(x)[1]).max() > 1e-3


def test_ensemble_learns_and_averages_its_members():
    x, y = gaussians(0)
    xt, yt = gaussians(5, n=800)
    ens = ensemble([1, 2, 3]).fit(x, y)
    members = ens.predict_members(xt)
    assert members.shape == (3, len(xt)) and members.dtype == np.float64
    np.testing.assert_allclose(ens.predict(xt), members.mean(axis=0))
    # Two unit Gaussians one sigma apart per axis in 3-D: the optimal AUC is 0.89.
    assert roc_auc_score(yt, ens.predict(xt)) == pytest.approx(0.89, abs=0.02)


def test_saved_ensemble_reloads_and_predicts_identically(tmp_path):
    x, y = gaussians(0, n=400)
    ens = ensemble([4, 5]).fit(x, y)
    ens.save(tmp_path / "ens")
    back = MLPEnsemble.load(tmp_path / "ens")
    np.testing.assert_array_equal(back.predict_members(x), ens.predict_members(x))
    assert back.seeds == [4, 5] and back.hidden == [16, 16]


def test_members_stop_early_on_their_own():
    """Member 0 learns a real signal; member 1 sees labels it cannot learn and stops first."""
    torch.manual_seed(0)
    model = StackedMLP(2, inputs=1, hidden=[8], seeds=[1, 2])
    x = torch.linspace(-2, 2, 512).reshape(-1, 1)
    y0 = (x[:, 0] > 0).float()
    y1 = (torch.arange(512) % 2).float()  # alternating labels: nothing to learn
    xs = x[:, None, :].expand(-1, 2, -1).contiguous()
    ys = torch.stack([y0, y1], dim=1)
    ws = torch.ones_like(ys)
    val_y = torch.stack([y0, 1 - y1], dim=1)  # member 1's validation contradicts its training
    res = fit(
        model,
        member_weighted_bce,
        (xs, ys, ws),
        (xs, val_y, ws),
        TrainConfig(epochs=30, batch_size=64, lr=1e-2, patience=3, device="cpu"),
    )
    assert len(res.best_epochs) == 2
    # Member 1 stopped while member 0 went on improving.
    assert res.best_epochs[1] + 3 < res.best_epochs[0] <= len(res.history)
    for k in range(2):
        assert res.best_val_losses[k] == res.history[res.best_epochs[k] - 1]["member_val_loss"][k]
    # Each member ends with the weights of its own best epoch.
    with torch.no_grad():
        final = member_weighted_bce(model, (xs, val_y, ws)).tolist()
    assert final == pytest.approx(res.best_val_losses, rel=1e-5)
    with pytest.raises(ValueError, match="2 ensemble members"):
        _ = res.best_epoch


class Interrupt(Exception):
    pass


def test_interrupted_ensemble_resumes_bit_for_bit(tmp_path, caplog):
    x, y = gaussians(0, n=300)
    xs = torch.from_numpy(np.stack([x, x[::-1]], axis=1).astype(np.float32))
    ys = torch.from_numpy(np.stack([y, y[::-1]], axis=1).astype(np.float32))
    data = (xs, ys, torch.ones_like(ys))
    cfg = TrainConfig(epochs=5, batch_size=64, lr=3e-3, patience=2, device="cpu", seed=3)

    def model() -> StackedMLP:
        return StackedMLP(2, inputs=3, hidden=[8], dropout=0.2, seeds=[1, 2])

    straight = model()
    fit(straight, member_weighted_bce, data, data, cfg)

    def stop_after_2(epoch: int) -> None:
        if epoch == 2:
            raise Interrupt

    ckpt = tmp_path / "ens.ckpt"
    with pytest.raises(Interrupt):
        fit(
            model(),
            member_weighted_bce,
            data,
            data,
            cfg,
            checkpoint=ckpt,
            on_epoch_end=stop_after_2,
        )
    resumed = model()
    with caplog.at_level(logging.INFO, logger="hepflows"):
        fit(resumed, member_weighted_bce, data, data, cfg, checkpoint=ckpt)
    assert "resuming from epoch 2" in caplog.text
    for a, b in zip(resumed.state_dict().values(), straight.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_plateau_scheduler_is_refused_for_stacked_members():
    x, y = gaussians(0, n=100)
    with pytest.raises(ValueError, match="plateau"):
        ensemble([1, 2], scheduler="plateau").fit(x, y)


def test_config_block_errors_name_the_problem():
    spec = {"kind": "mlp", "hidden": [8], "train": {"epochs": 2}}
    ens = make_mlp_ensemble(spec, seeds=[1, 2, 3], device="cpu")
    assert ens.members == 3 and ens.train.seed == 1 and ens.train.epochs == 2
    with pytest.raises(ValueError, match="needs an 'mlp' classifier, got kind 'hgb'"):
        make_mlp_ensemble({"kind": "hgb"}, seeds=[1])
    with pytest.raises(ValueError, match="hiden"):
        make_mlp_ensemble({"kind": "mlp", "hiden": [8]}, seeds=[1])
    with pytest.raises(ValueError, match="train.seed is set by the workflow"):
        make_mlp_ensemble({"kind": "mlp", "train": {"seed": 3}}, seeds=[1])
    with pytest.raises(DataError, match="NaN"):
        ensemble([1]).fit(np.array([[np.nan], [1.0]]), np.array([0, 1]))


# ------------------------------------------------------------------ k best epochs (CATHODE)
def test_each_member_averages_its_k_best_epochs():
    x, y = gaussians(0, n=600)
    xt, _ = gaussians(9, n=200)
    ens = MLPEnsemble(
        [1, 2], hidden=(8,), train={**FAST, "patience": None, "seed": 7}, average_epochs=3
    ).fit(x, y)
    assert ens.result is not None and ens.result.top_epochs is not None
    history = ens.result.history
    for m, epochs in enumerate(ens.result.top_epochs):
        losses = [row["member_val_loss"][m] for row in history]
        assert epochs == sorted(range(1, 9), key=lambda e: losses[e - 1])[:3]
        assert epochs[0] == ens.result.best_epochs[m]
    # Each member's score is the plain mean of its three snapshots' predictions.
    assert ens.result.top_states is not None
    scaled = (xt - ens.mean[:, None, :]) / ens.std[:, None, :]  # (members, n, inputs)
    for m, states in enumerate(ens.result.top_states):
        probs = []
        for state in states:
            one = StackedMLP(1, inputs=3, hidden=[8])
            one.load_state_dict({name: value[None] for name, value in state.items()})
            with torch.no_grad():
                logit = one(torch.from_numpy(scaled[m][:, None, :].astype(np.float32)))
            probs.append(torch.sigmoid(logit.double())[:, 0].numpy())
        np.testing.assert_allclose(ens.predict_members(xt)[m], np.mean(probs, axis=0), atol=1e-6)


def test_averaged_ensemble_saves_and_reloads(tmp_path):
    x, y = gaussians(0, n=400)
    ens = MLPEnsemble([1, 2], hidden=(8,), train={**FAST, "seed": 7}, average_epochs=4).fit(x, y)
    ens.save(tmp_path / "ens")
    back = MLPEnsemble.load(tmp_path / "ens")
    assert back.average_epochs == 4
    np.testing.assert_array_equal(back.predict_members(x), ens.predict_members(x))


def test_a_member_stopped_before_k_epochs_averages_what_it_has():
    x, y = gaussians(0, n=400)
    ens = MLPEnsemble(
        [1], hidden=(8,), train={**FAST, "epochs": 2, "seed": 7}, average_epochs=5
    ).fit(x, y)
    assert ens.result is not None and ens.result.top_epochs is not None
    assert sorted(ens.result.top_epochs[0]) == [1, 2]
    np.testing.assert_allclose(ens.snapshot_weights, [[0.5, 0.5, 0, 0, 0]])
    assert ((ens.predict(x) > 0) & (ens.predict(x) < 1)).all()


def test_kept_epochs_survive_an_interruption(tmp_path):
    x, y = gaussians(0, n=300)
    xs = torch.from_numpy(np.stack([x, x[::-1]], axis=1).astype(np.float32))
    ys = torch.from_numpy(np.stack([y, y[::-1]], axis=1).astype(np.float32))
    data = (xs, ys, torch.ones_like(ys))
    cfg = TrainConfig(epochs=6, batch_size=64, lr=3e-3, patience=None, device="cpu", seed=3)

    def model() -> StackedMLP:
        return StackedMLP(2, inputs=3, hidden=[8], seeds=[1, 2])

    straight = fit(model(), member_weighted_bce, data, data, cfg, keep_best=3)

    def stop_after_4(epoch: int) -> None:
        if epoch == 4:
            raise Interrupt

    ckpt = tmp_path / "ens.ckpt"
    with pytest.raises(Interrupt):
        fit(model(), member_weighted_bce, data, data, cfg, checkpoint=ckpt, keep_best=3,
            on_epoch_end=stop_after_4)  # fmt: skip
    resumed = fit(model(), member_weighted_bce, data, data, cfg, checkpoint=ckpt, keep_best=3)
    assert resumed.top_epochs == straight.top_epochs
    for a_member, b_member in zip(resumed.top_states, straight.top_states, strict=True):
        for a, b in zip(a_member, b_member, strict=True):
            assert all(torch.equal(a[name], b[name]) for name in a)
