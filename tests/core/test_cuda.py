"""The GPU path (device: cuda). Skipped, with the reason shown, where no CUDA device exists;
CI has none, so these run on a GPU machine: ``python -m pytest -rs tests/core/test_cuda.py``."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from hepflows.core import flows, models
from hepflows.core.classifiers import make_classifier
from hepflows.core.conditional_flows import sample_flow, train_conditional_flow
from hepflows.core.training import TrainConfig, fit

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device: the GPU path is not exercised here"
)

FLOW = {"type": "maf", "transforms": 2, "hidden": [32, 32]}
TRAIN = {"epochs": 10, "batch_size": 128, "lr": 5e-3, "patience": None, "scheduler": "cosine"}


def conditional_data(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(n, 1)).astype(np.float32)
    x = np.hstack([c + 0.3 * rng.normal(size=(n, 1)), rng.normal(size=(n, 1))]).astype(np.float32)
    return x, c


def test_flow_trains_on_cuda_and_comes_back_to_cpu(tmp_path):
    x, c = conditional_data()
    flow, spec, result = train_conditional_flow(x, c, None, FLOW, TRAIN, seed=3, device="cuda")
    assert next(flow.parameters()).device.type == "cpu"  # ready for CPU-side sampling and saving
    assert result.best_epoch >= 1 and np.isfinite(result.history[-1]["val_loss"])
    models.save_model(tmp_path / "flow", flow, spec)
    on_gpu, _ = models.load_model(tmp_path / "flow", map_location="cuda")
    assert next(on_gpu.parameters()).device.type == "cuda"
    ctx = torch.as_tensor(c[:500])
    lp_cpu = flows.log_prob(flow, torch.as_tensor(x[:500]), ctx)
    lp_gpu = flows.log_prob(on_gpu, torch.as_tensor(x[:500]).cuda(), ctx.cuda()).cpu()
    assert torch.allclose(lp_cpu, lp_gpu, atol=1e-4)
    # Samples follow the context: x0 tracks c with slope 1.
    drawn = sample_flow(flow, np.array([[-2.0]] * 2000 + [[2.0]] * 2000, np.float32), seed=5)
    assert drawn[2000:, 0].mean() - drawn[:2000, 0].mean() == pytest.approx(4.0, abs=0.5)


def test_seeded_cuda_sampling_repeats():
    x, c = conditional_data(n=1000)
    flow, _, _ = train_conditional_flow(x, c, None, FLOW, {**TRAIN, "epochs": 1}, seed=3)
    flow.cuda()
    ctx = torch.as_tensor(c).cuda()
    a = flows.sample(flow, ctx, generator_seed=11)
    b = flows.sample(flow, ctx, generator_seed=11)
    assert a.device.type == "cuda" and torch.equal(a, b)


def test_cuda_training_resumes_from_checkpoint(tmp_path):
    x, c = conditional_data(n=2000)
    data = (torch.as_tensor(x), torch.as_tensor(c), torch.ones(len(x)))
    spec = {**FLOW, "kind": "flow", "features": 2, "context": 1}
    cfg = TrainConfig.from_dict({**TRAIN, "seed": 1, "device": "cuda"})

    torch.manual_seed(0)
    straight = flows.build_flow(spec)
    fit(straight, flows.nll_loss, data, None, cfg)

    def stop_after_2(epoch: int) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    ckpt = tmp_path / "run.ckpt"
    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):
        fit(
            flows.build_flow(spec),
            flows.nll_loss,
            data,
            None,
            cfg,
            checkpoint=ckpt,
            on_epoch_end=stop_after_2,
        )
    torch.manual_seed(99)  # a different start: the checkpoint must win
    resumed = flows.build_flow(spec)
    result = fit(resumed, flows.nll_loss, data, None, cfg, checkpoint=ckpt)
    assert result.resumed_from == 2
    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-5), k


def test_mlp_classifier_on_cuda_separates_classes():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(0, 1, (3000, 3)), rng.normal(1, 1, (3000, 3))]).astype(np.float32)
    y = np.r_[np.zeros(3000), np.ones(3000)]
    spec = {"kind": "mlp", "hidden": [32, 32], "train": {"epochs": 5, "batch_size": 256}}
    clf = make_classifier(spec, seed=2, device="cuda").fit(x, y)
    p = clf.predict(x)
    assert p.shape == (6000,) and np.all((p > 0) & (p < 1))
    assert roc_auc_score(y, p) > 0.85  # three features shifted by 1 sigma: AUC ~0.89
