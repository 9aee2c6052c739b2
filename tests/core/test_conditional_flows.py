"""Conditional flows on numpy arrays (fit, sample, morph) and classifier density ratios."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hepflows.core.conditional_flows import (
    morph_events,
    sample_flow,
    sample_flow_epochs,
    train_conditional_flow,
    train_top_flow,
)
from hepflows.core.density_ratio import fit_density_ratio, ratio_weights

torch.set_num_threads(1)
FLOW = {"type": "maf", "transforms": 2, "hidden": [16, 16]}
TRAIN = {"epochs": 3, "batch_size": 256, "lr": 3e-3, "patience": None}


def test_density_ratio_weights_follow_the_analytic_ratio():
    rng = np.random.default_rng(1)
    num = rng.normal(0.5, 1.0, (20000, 1))
    den = rng.normal(0.0, 1.0, (40000, 1))
    spec = {"kind": "mlp", "hidden": [16, 16], "train": {"epochs": 10, "batch_size": 512}}
    clf = fit_density_ratio(num, den, spec, seed=3, device="cpu")
    x = np.array([[-1.0], [0.0], [1.0]])
    expected = np.exp(0.5 * x[:, 0] - 0.125)  # N(0.5, 1) / N(0, 1)
    np.testing.assert_allclose(ratio_weights(clf, x), expected, rtol=0.2)
    # Reweighting the denominator reproduces the numerator's mean.
    w = ratio_weights(clf, den)
    assert np.average(den[:, 0], weights=w) == pytest.approx(0.5, abs=0.05)


def test_conditional_flow_and_top_flow_train_and_transport():
    rng = np.random.default_rng(2)
    c = rng.normal(size=(4000, 1)).astype(np.float32)
    x_mc = (c + rng.normal(size=(4000, 2))).astype(np.float32)
    x_data = x_mc + 0.5
    base, base_spec, result = train_conditional_flow(
        x_mc, c, None, FLOW, TRAIN, seed=1, device="cpu"
    )
    assert base_spec["features"] == 2 and base_spec["context"] == 1
    assert len(result.history) == 3
    samples = sample_flow(base, c[:100], seed=5)
    assert samples.shape == (100, 2) and np.isfinite(samples).all()
    np.testing.assert_array_equal(samples, sample_flow(base, c[:100], seed=5))

    before = {k: v.clone() for k, v in base.state_dict().items()}
    model, spec, _ = train_top_flow(
        base, base_spec, FLOW, x_data, c, None, {**TRAIN, "epochs": 5}, seed=2, device="cpu"
    )
    assert spec["kind"] == "top_flow"
    for key, value in model.base.state_dict().items():
        torch.testing.assert_close(value, before[key])
    shift = (morph_events(model, x_mc, c) - x_mc).mean(axis=0)
    np.testing.assert_allclose(shift, [0.5, 0.5], atol=0.25)


def test_a_sample_shared_out_over_the_best_epochs():
    """CATHODE's epoch ensemble: the k best epochs each draw an equal block of the contexts; one
    epoch is the plain sample of the best flow."""
    rng = np.random.default_rng(3)
    c = rng.normal(size=(3000, 1)).astype(np.float32)
    x = (c + rng.normal(size=(3000, 2))).astype(np.float32)
    train = {**TRAIN, "epochs": 5}
    flow, _, result = train_conditional_flow(x, c, None, FLOW, train, seed=1, device="cpu",
                                             keep_best=3)  # fmt: skip
    states = result.top_states[0]
    assert len(states) == 3 and result.top_epochs[0][0] == result.best_epoch
    best = flow.state_dict()
    assert all(torch.equal(states[0][k], best[k]) for k in best)
    contexts = np.linspace(-1, 1, 900)[:, None]
    drawn = sample_flow_epochs(flow, states, contexts, seed=5)
    assert drawn.shape == (900, 2) and np.isfinite(drawn).all()
    np.testing.assert_array_equal(sample_flow_epochs(flow, states, contexts, seed=5), drawn)
    np.testing.assert_array_equal(
        sample_flow_epochs(flow, states[:1], contexts, seed=5), sample_flow(flow, contexts, 5)
    )
    # the first block comes from the best epoch, the others from other weights
    first = sample_flow(flow, contexts[:300], seed=5)
    assert not np.array_equal(drawn[:300], first)  # its own seed per block
    assert all(torch.equal(flow.state_dict()[k], best[k]) for k in best)  # flow untouched
