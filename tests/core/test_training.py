import logging
import math

import pytest
import torch
from torch import nn

from hepflows.core.training import TrainConfig, fit


def mse(model, batch):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def make_data(seed: int = 0, n: int = 512):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(n, 1, generator=g)
    return x, y


def make_model(seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 1))


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def cfg(**kw) -> TrainConfig:
    base = {"epochs": 5, "batch_size": 64, "lr": 1e-2, "device": "cpu", "patience": None}
    base.update(kw)
    return TrainConfig(**base)


# --- config --------------------------------------------------------------------------------


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match="bogus.*learning_rate|learning_rate.*bogus"):
        TrainConfig.from_dict({"epochs": 3, "bogus": 1, "learning_rate": 0.1})


def test_from_dict_coerces_yaml_strings_and_validates():
    c = TrainConfig.from_dict({"lr": "1e-3", "grad_clip": "5", "epochs": 7})
    assert c.lr == 1e-3 and isinstance(c.lr, float)
    assert c.grad_clip == 5.0 and c.epochs == 7
    with pytest.raises(ValueError, match="scheduler"):
        TrainConfig(scheduler="linear")
    with pytest.raises(ValueError):
        TrainConfig(patience=0)


# --- basic training -------------------------------------------------------------------------


def test_fit_learns_and_logs(caplog):
    x, y = make_data()
    xv, yv = make_data(seed=1, n=256)
    model = make_model()
    before = mse(model, (xv, yv)).item()
    log = logging.getLogger("hepflows.test_training")
    with caplog.at_level(logging.INFO, logger="hepflows.test_training"):
        res = fit(model, mse, (x, y), (xv, yv), cfg(epochs=20), log=log)
    assert len(res.history) == 20
    assert res.history[-1]["val_loss"] < 0.2 * before
    assert res.best_val_loss == min(h["val_loss"] for h in res.history)
    assert res.history[res.best_epoch - 1]["val_loss"] == res.best_val_loss
    assert res.resumed_from is None
    assert set(res.history[0]) == {"epoch", "train_loss", "val_loss", "lr", "seconds"}
    assert next(model.parameters()).device.type == "cpu"
    assert not model.training
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert len(lines) == 20
    assert lines[0].startswith("epoch 1/20 train_loss=")
    assert " val_loss=" in lines[0] and " lr=1.0e-02 time=" in lines[0]
    assert lines[0].endswith("[best]")


def test_same_seed_same_weights_different_seed_differs():
    x, y = make_data()
    runs = []
    for seed in (3, 3, 4):
        model = make_model(dropout=0.2)
        fit(model, mse, (x, y), None, cfg(seed=seed))
        runs.append(weights(model))
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert not all(torch.equal(runs[0][k], runs[2][k]) for k in runs[0])


def test_fit_does_not_disturb_caller_rng():
    x, y = make_data()
    model = make_model(dropout=0.5)
    torch.manual_seed(99)
    expected = torch.rand(3)
    torch.manual_seed(99)
    fit(model, mse, (x, y), None, cfg(epochs=2))
    assert torch.equal(torch.rand(3), expected)


def test_without_val_uses_train_loss():
    x, y = make_data()
    res = fit(make_model(), mse, (x, y), None, cfg())
    assert all(h["val_loss"] is None for h in res.history)
    assert res.best_val_loss == min(h["train_loss"] for h in res.history)


def test_params_subset_leaves_other_params_untouched():
    x, y = make_data()
    model = make_model()
    frozen = weights(model[0])
    fit(model, mse, (x, y), None, cfg(), params=model[3].parameters())
    assert all(torch.equal(v, model[0].state_dict()[k]) for k, v in frozen.items())
    assert not torch.equal(model[3].weight, make_model()[3].weight)


def test_non_finite_loss_raises():
    x, y = make_data()

    def bad(model, batch):
        return model(batch[0]).mean() * float("nan")

    with pytest.raises(FloatingPointError, match="epoch 1"):
        fit(make_model(), bad, (x, y), None, cfg())


def test_grad_clip_is_applied(monkeypatch):
    x, y = make_data(n=256)
    seen = []
    real = nn.utils.clip_grad_norm_

    def spy(params, max_norm, *a, **kw):
        seen.append(max_norm)
        return real(params, max_norm, *a, **kw)

    monkeypatch.setattr(nn.utils, "clip_grad_norm_", spy)
    fit(make_model(), mse, (x, y), None, cfg(epochs=2, grad_clip=0.5))
    assert seen == [0.5] * 8  # 2 epochs x 4 batches


# --- schedules ------------------------------------------------------------------------------


def test_step_schedule_steps_per_epoch_not_per_batch():
    x, y = make_data()  # 8 batches per epoch: per-batch stepping would decay much faster
    res = fit(
        make_model(), mse, (x, y), None, cfg(scheduler="step", step_size=2, gamma=0.5, lr=1e-3)
    )
    lrs = [h["lr"] for h in res.history]
    assert lrs == pytest.approx([1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4])


def test_cosine_schedule_per_epoch():
    x, y = make_data()
    res = fit(make_model(), mse, (x, y), None, cfg(scheduler="cosine", epochs=6, lr=1e-3))
    expected = [1e-3 * (1 + math.cos(math.pi * k / 6)) / 2 for k in range(6)]
    assert [h["lr"] for h in res.history] == pytest.approx(expected)


def test_plateau_schedule_reduces_lr_when_val_stalls():
    x, y = make_data(n=128)
    model = make_model()

    def flat(model, batch):
        # Zero gradient and constant loss: the validation loss never improves.
        return 0.0 * model(batch[0]).sum() + 1.0

    res = fit(model, flat, (x, y), (x, y), cfg(scheduler="plateau", epochs=9, lr=1e-3))
    lrs = [h["lr"] for h in res.history]
    # Scheduler patience defaults to 5 epochs: 1 good epoch + 6 bad ones trigger the drop.
    assert lrs[:7] == pytest.approx([1e-3] * 7)
    assert lrs[7:] == pytest.approx([5e-4] * 2)


# --- early stopping -------------------------------------------------------------------------


def diverging_problem():
    """Training pulls the weight towards 2 while validation wants 0: val gets worse each epoch."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 1, generator=g)
    return (x, 2 * x), (x, 0 * x)


def line_model() -> nn.Module:
    model = nn.Linear(1, 1, bias=False)
    nn.init.constant_(model.weight, 0.1)
    return model


def test_early_stopping_restores_best_weights():
    train, val = diverging_problem()
    model = line_model()
    res = fit(model, mse, train, val, cfg(epochs=20, patience=3))
    assert res.best_epoch == 1
    assert len(res.history) == 4  # best epoch + patience bad epochs
    vals = [h["val_loss"] for h in res.history]
    assert vals == sorted(vals)  # validation really got worse
    reference = line_model()
    fit(reference, mse, train, val, cfg(epochs=1))
    assert_same_weights(model, reference)


def test_restore_best_false_ends_on_the_last_epoch():
    train, val = diverging_problem()
    model, last = line_model(), {}
    fit(model, mse, train, val, cfg(epochs=4, restore_best=False),
        on_epoch_end=lambda epoch: last.update(weights(model)))  # fmt: skip
    assert torch.equal(model.weight, last["weight"])  # not epoch 1, the best on validation
    assert not cfg(restore_best=False).needs_validation
    assert cfg(restore_best=False, patience=3).needs_validation and cfg().needs_validation


def test_min_delta_counts_small_improvements_as_bad():
    x, y = make_data()
    res = fit(make_model(), mse, (x, y), None, cfg(epochs=20, patience=2, min_delta=1e6))
    assert res.best_epoch == 1 and len(res.history) == 3
    res = fit(make_model(), mse, (x, y), None, cfg(epochs=6, patience=2, min_delta=0.0))
    assert len(res.history) == 6


# --- checkpoints ----------------------------------------------------------------------------


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_bit_for_bit(tmp_path, caplog):
    x, y = make_data()
    xv, yv = make_data(seed=1, n=200)
    c = cfg(epochs=6, scheduler="step", step_size=2, weight_decay=1e-3, patience=4)

    straight = make_model(dropout=0.3)
    res_straight = fit(straight, mse, (x, y), (xv, yv), c)

    ckpt = tmp_path / "sub" / "run.ckpt"

    def stop_after_2(epoch: int) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    first = make_model(dropout=0.3)
    with pytest.raises(KeyboardInterrupt):
        fit(first, mse, (x, y), (xv, yv), c, checkpoint=ckpt, on_epoch_end=stop_after_2)
    state = torch.load(ckpt, weights_only=True)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert isinstance(state["generator"], torch.ByteTensor)
    assert [p.name for p in ckpt.parent.iterdir()] == ["run.ckpt"]  # no temp files left

    resumed = make_model(seed=123, dropout=0.3)  # different init: the checkpoint must win
    with caplog.at_level(logging.INFO, logger="hepflows"):
        res = fit(resumed, mse, (x, y), (xv, yv), c, checkpoint=ckpt)
    assert "resuming from epoch 2" in caplog.text
    assert res.resumed_from == 2
    assert_same_weights(resumed, straight)
    assert len(res.history) == 6
    for a, b in zip(res.history, res_straight.history, strict=True):
        assert (a["epoch"], a["train_loss"], a["val_loss"], a["lr"]) == (
            b["epoch"],
            b["train_loss"],
            b["val_loss"],
            b["lr"],
        )
    assert (res.best_epoch, res.best_val_loss) == (
        res_straight.best_epoch,
        res_straight.best_val_loss,
    )
    assert ckpt.exists()  # the caller deletes it after saving the final model


def test_resume_keeps_best_weights_and_early_stop_state(tmp_path):
    train, val = diverging_problem()
    ckpt = tmp_path / "run.ckpt"

    def stop_after_3(epoch: int) -> None:
        if epoch == 3:
            raise Interrupt

    c = cfg(epochs=20, patience=3)
    with pytest.raises(Interrupt):
        fit(line_model(), mse, train, val, c, checkpoint=ckpt, on_epoch_end=stop_after_3)
    model = line_model()
    res = fit(model, mse, train, val, c, checkpoint=ckpt)
    assert res.best_epoch == 1 and len(res.history) == 4
    reference = line_model()
    fit(reference, mse, train, val, cfg(epochs=1))
    assert_same_weights(model, reference)


def test_checkpoint_with_plateau_and_cosine_loads_weights_only(tmp_path):
    x, y = make_data(n=128)
    for sched in ("plateau", "cosine"):
        ckpt = tmp_path / f"{sched}.ckpt"
        fit(make_model(), mse, (x, y), (x, y), cfg(epochs=2, scheduler=sched), checkpoint=ckpt)
        state = torch.load(ckpt, weights_only=True)
        assert state["scheduler"] is not None and state["epoch"] == 2


def test_device_cuda_unavailable_is_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    x, y = make_data(n=64)
    with pytest.raises(RuntimeError, match="CUDA"):
        fit(make_model(), mse, (x, y), None, cfg(device="cuda"))


def test_mismatched_rows_rejected():
    x, y = make_data(n=64)
    with pytest.raises(ValueError, match="rows"):
        fit(make_model(), mse, (x, y[:10]), None, cfg())
