"""The masked Particle Flow Network, its classifier, and bootstrap replicas as weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from hepflows.core import classifiers, models
from hepflows.core.classifiers import Classifier, make_classifier
from hepflows.core.events import EventTable
from hepflows.core.io import DataError
from hepflows.core.particle_flow import (
    ParticleFlowNetwork,
    ParticleInputs,
    PFNClassifier,
    build_pfn,
    particle_moments,
)
from hepflows.core.resampling import bootstrap_counts

FAST = {"epochs": 8, "batch_size": 128, "lr": 3e-3, "patience": 5, "device": "cpu"}
SIZES = {"phi_sizes": (32, 32, 16), "f_sizes": (32, 32)}
SLOTS = 12


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """These problems are tiny: thread start-up and contention cost more than they save."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


def muon_cones(seed: int, n: int = 1500) -> tuple[ParticleInputs, np.ndarray]:
    """n events per class: soft particles scattered in the cone at random slots, NaN padding;
    class 1 also has one hard particle collinear with the muon."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0.0, 1.0], n)
    k = np.minimum(rng.poisson(3, size=2 * n) + y.astype(int), SLOTS)
    # Random slots: rank of a uniform draw < k marks k random slots as real.
    mask = np.argsort(np.argsort(rng.random((2 * n, SLOTS)), axis=1), axis=1) < k[:, None]
    values = np.stack(
        [
            rng.exponential(0.05, size=(2 * n, SLOTS)),
            rng.uniform(-0.4, 0.4, size=(2 * n, SLOTS)),
            rng.uniform(-0.4, 0.4, size=(2 * n, SLOTS)),
            rng.integers(0, 3, size=(2 * n, SLOTS)).astype(float),
        ],
        axis=-1,
    )
    hard = np.flatnonzero(y == 1)
    slot = np.argmax(mask[hard], axis=1)  # one of their real slots becomes the hard particle
    values[hard, slot] = np.c_[
        rng.uniform(0.3, 1.0, len(hard)), rng.normal(0, 0.02, (len(hard), 2)), np.zeros(len(hard))
    ]
    values[~mask] = np.nan
    return ParticleInputs(values, mask), y


@pytest.fixture(scope="module")
def cones():
    return muon_cones(0), muon_cones(1, n=500)


def pfn(seed: int = 0, **kw) -> PFNClassifier:
    return PFNClassifier(**SIZES, train={**FAST, "seed": seed}, **kw)


def state(clf: PFNClassifier) -> dict[str, torch.Tensor]:
    assert clf.module is not None
    return clf.module.state_dict()


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# --- the network ----------------------------------------------------------------------------


def test_pfn_is_blind_to_order_padding_and_padding_values():
    torch.manual_seed(0)
    net = ParticleFlowNetwork(4, phi_sizes=(16, 8), f_sizes=(16,)).eval()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(32, 10, 4, generator=gen)
    mask = torch.rand(32, 10, generator=gen) < 0.6
    mask[0] = False  # no particles: F of a zero sum, still finite
    ref = net(x, mask)
    assert ref.shape == (32, 1) and torch.isfinite(ref).all()

    perm = torch.argsort(torch.rand(32, 10, generator=gen), dim=1)  # one permutation per event
    shuffled = net(
        torch.gather(x, 1, perm[..., None].expand(-1, -1, 4)), torch.gather(mask, 1, perm)
    )
    torch.testing.assert_close(shuffled, ref, atol=1e-6, rtol=0)

    garbage = torch.tensor([float("nan"), float("inf"), -1e30, 7.0]).expand(32, 5, 4)
    padded = net(
        torch.cat([x, garbage], dim=1), torch.cat([mask, torch.zeros(32, 5, dtype=bool)], 1)
    )
    torch.testing.assert_close(padded, ref, atol=1e-6, rtol=0)

    dirty = torch.where(mask[..., None], x, float("nan"))
    assert torch.equal(net(dirty, mask), ref)  # the garbage never enters the computation


def test_pfn_equals_the_masked_sum_over_all_slots():
    """Phi on the real particles only, summed per event, is the masked sum of Phi over every
    slot (the reference), to float32 rounding: the additions differ in order only."""
    torch.manual_seed(0)
    net = ParticleFlowNetwork(5, phi_sizes=(32, 32, 16), f_sizes=(32, 16))
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(64, 20, 5, generator=gen)
    mask = torch.arange(20) < torch.randint(0, 21, (64, 1), generator=gen)
    mask[:2] = False
    real = mask[..., None]
    ref = net.f(torch.where(real, net.phi(torch.where(real, x, 0.0)), 0.0).sum(dim=1))
    out = net(torch.where(real, x, float("nan")), mask)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    grads = torch.autograd.grad(out.sum(), list(net.parameters()))
    for g, g_ref in zip(grads, torch.autograd.grad(ref.sum(), list(net.parameters())), strict=True):
        torch.testing.assert_close(g, g_ref, rtol=1e-4, atol=1e-5)


def test_pfn_gradients_ignore_nan_padding():
    net = ParticleFlowNetwork(3, phi_sizes=(8,), f_sizes=())
    x = torch.randn(4, 5, 3)
    mask = torch.rand(4, 5) < 0.5
    net(torch.where(mask[..., None], x, float("nan")), mask).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_pfn_builder_architecture_and_model_round_trip(tmp_path):
    spec = {"kind": "pfn", "inputs": 4, "phi_sizes": [8, 6], "f_sizes": [5], "dropout": 0.1}
    net = build_pfn(spec)
    shapes = [
        (m.in_features, m.out_features) for m in net.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert shapes == [(4, 8), (8, 6), (6, 5), (5, 1)]
    assert sum(isinstance(m, torch.nn.Dropout) for m in net.f) == 1
    models.save_model(tmp_path / "pfn", net, spec)
    loaded, back = models.load_model(tmp_path / "pfn")
    x, mask = torch.randn(6, 7, 4), torch.rand(6, 7) < 0.5
    assert torch.equal(loaded(x, mask), net.eval()(x, mask)) and back["phi_sizes"] == [8, 6]
    with pytest.raises(ValueError, match="latent"):
        ParticleFlowNetwork(4, phi_sizes=())


# --- particle inputs ------------------------------------------------------------------------


def test_particle_inputs_container():
    x = ParticleInputs(np.zeros((5, 3, 2)), np.eye(5, 3, dtype=np.int64))
    assert len(x) == 5 and x.n_features == 2 and x.mask.dtype == bool
    sub = x[np.array([4, 0])]
    assert isinstance(sub, ParticleInputs) and sub.values.shape == (2, 3, 2)
    np.testing.assert_array_equal(sub.mask, x.mask[[4, 0]])
    assert len(x[1:3]) == 2 and len(x[x.mask[:, 0]]) == 1
    with pytest.raises(TypeError, match="array or slice"):
        x[0]
    with pytest.raises(ValueError, match="3-D"):
        ParticleInputs(np.zeros((5, 3)), np.ones((5, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"mask must have shape \(5, 3\)"):
        ParticleInputs(np.zeros((5, 3, 2)), np.ones((5, 2), dtype=bool))
    table = EventTable(
        np.zeros((5, 1)), ["a"], particles=x.values, mask=x.mask, particle_columns=["u", "v"]
    )
    np.testing.assert_array_equal(ParticleInputs.from_table(table).mask, x.mask)
    with pytest.raises(DataError, match=r"f\.h5: no particles"):
        ParticleInputs.from_table(EventTable(np.zeros((5, 1)), ["a"], source="f.h5"))


def test_standardization_uses_real_particles_of_weighted_training_events():
    x, _ = muon_cones(3, n=200)
    w = np.random.default_rng(0).integers(0, 3, size=len(x)).astype(float)
    mean, std = particle_moments(x, w)
    # The same as the moments of the resampled set (events repeated w times), padding excluded.
    rep = x[np.repeat(np.arange(len(x)), w.astype(int))]
    real = rep.values[rep.mask]
    np.testing.assert_allclose(mean, real.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(std, real.std(axis=0), rtol=1e-10)
    const = ParticleInputs(np.ones((3, 2, 1)), np.ones((3, 2), dtype=bool))
    assert particle_moments(const, np.ones(3))[1].tolist() == [1.0]


# --- the classifier -------------------------------------------------------------------------


def test_pfn_classifier_learns_and_survives_save_load(tmp_path, cones):
    (x, y), (xt, yt) = cones
    clf = pfn().fit(x, y)
    p = clf.predict(xt)
    assert isinstance(clf, Classifier)
    assert p.shape == (len(xt),) and p.dtype == np.float64 and np.all((p > 0) & (p < 1))
    assert roc_auc_score(yt, p) > 0.9
    # More padding slots at prediction time change nothing.
    wide = ParticleInputs(
        np.pad(xt.values, ((0, 0), (0, 5), (0, 0))), np.pad(xt.mask, ((0, 0), (0, 5)))
    )
    np.testing.assert_allclose(clf.predict(wide), p, atol=1e-6)

    clf.save(tmp_path / "pfn")
    spec = json.loads((tmp_path / "pfn.json").read_text())
    assert spec["kind"] == "pfn" and spec["inputs"] == 4 and spec["phi_sizes"] == [32, 32, 16]
    assert len(spec["mean"]) == len(spec["std"]) == 4
    loaded = PFNClassifier.load(tmp_path / "pfn")
    assert np.array_equal(loaded.predict(xt), p)
    assert loaded.train == clf.train


def test_same_seed_trains_the_same_weights_on_cpu(cones):
    (x, y), _ = cones
    x, y = x[::3], y[::3]
    cfg = {**FAST, "epochs": 2, "patience": None}
    a, b, c = (PFNClassifier(**SIZES, dropout=0.1, train={**cfg, "seed": s}) for s in (3, 3, 4))
    a.fit(x, y), b.fit(x, y), c.fit(x, y)
    assert_same_state(state(a), state(b))
    losses = [[(h["train_loss"], h["val_loss"]) for h in clf.result.history] for clf in (a, b)]
    assert losses[0] == losses[1]
    assert not torch.equal(state(a)["phi.0.weight"], state(c)["phi.0.weight"])


def test_pfn_classifier_input_errors(cones):
    (x, y), _ = cones
    clf = pfn()
    with pytest.raises(TypeError, match="ParticleInputs"):
        clf.fit(x.values, y)
    bad = x.values.copy()
    rows, slots = np.nonzero(x.mask)
    bad[rows[0], slots[0], 2] = np.inf
    with pytest.raises(DataError, match="particle feature 2 has 1 NaN or inf values in real slots"):
        clf.fit(ParticleInputs(bad, x.mask), y)
    with pytest.raises(DataError, match="both classes"):
        clf.fit(x, np.zeros(len(x)))
    with pytest.raises(DataError, match="weights"):
        clf.fit(x, y, np.ones(3))
    with pytest.raises(RuntimeError, match="not fitted"):
        clf.predict(x)
    with pytest.raises(DataError, match="expected 4 particle features"):
        PFNClassifier(inputs=4, **SIZES).fit(ParticleInputs(x.values[..., :3], x.mask), y)


def test_make_classifier_builds_pfn():
    clf = make_classifier(
        {"kind": "pfn", "phi_sizes": [8, 4], "f_sizes": [], "train": {"epochs": 3}},
        seed=7,
        device="cpu",
    )
    assert isinstance(clf, PFNClassifier) and clf.phi_sizes == [8, 4] and clf.f_sizes == []
    assert clf.train.seed == 7 and clf.train.epochs == 3 and clf.train.device == "cpu"
    with pytest.raises(ValueError, match="hidden"):
        make_classifier({"kind": "pfn", "hidden": [8]}, seed=0)
    with pytest.raises(ValueError, match="seed"):
        make_classifier({"kind": "pfn", "train": {"seed": 1}}, seed=0)


def test_upweighting_class_one_raises_probabilities(cones):
    (x, y), (xt, _) = cones
    few = {**FAST, "epochs": 3}
    plain = PFNClassifier(**SIZES, train=few).fit(x, y).predict(xt)
    weighted = PFNClassifier(**SIZES, train=few).fit(x, y, np.where(y == 1, 4.0, 1.0)).predict(xt)
    assert weighted.mean() > plain.mean() + 0.05


def test_resumes_from_checkpoint_to_the_uninterrupted_weights(tmp_path, cones, monkeypatch):
    (x, y), _ = cones
    x, y = x[::3], y[::3]
    cfg = {**FAST, "epochs": 4, "patience": None}
    straight = PFNClassifier(**SIZES, dropout=0.2, train=cfg).fit(x, y)

    def interrupted(*args, **kw):
        def stop(epoch: int) -> None:
            if epoch == 2:
                raise KeyboardInterrupt

        return real_fit(*args, **kw, on_epoch_end=stop)

    real_fit = classifiers.fit
    ckpt = tmp_path / "pfn.ckpt"
    monkeypatch.setattr(classifiers, "fit", interrupted)  # the loop every classifier trains in
    with pytest.raises(KeyboardInterrupt):
        PFNClassifier(**SIZES, dropout=0.2, train=cfg, checkpoint=ckpt).fit(x, y)
    monkeypatch.undo()
    resumed = PFNClassifier(**SIZES, dropout=0.2, train=cfg, checkpoint=ckpt).fit(x, y)
    assert resumed.result.resumed_from == 2 and len(resumed.result.history) == 4
    assert_same_state(state(resumed), state(straight))


# --- bootstrap replicas ---------------------------------------------------------------------


def test_bootstrap_counts_keep_class_sizes():
    labels = np.repeat(np.array(["bkg", "sig", "other"]), [7000, 2000, 1])
    counts = bootstrap_counts(labels, np.random.default_rng(0))
    assert counts.dtype == np.int64 and counts.shape == labels.shape and counts.min() >= 0
    assert counts.sum() == len(labels)
    for cls, size in (("bkg", 7000), ("sig", 2000), ("other", 1)):
        assert counts[labels == cls].sum() == size
    assert abs((counts == 0).mean() - np.exp(-1)) < 0.02  # Poisson(1) multiplicities
    again = bootstrap_counts(labels, np.random.default_rng(0))
    assert np.array_equal(counts, again)
    assert not np.array_equal(counts, bootstrap_counts(labels, np.random.default_rng(1)))
    assert bootstrap_counts(np.array([]), np.random.default_rng(0)).shape == (0,)
    with pytest.raises(ValueError, match="1-D"):
        bootstrap_counts(np.zeros((2, 2)), np.random.default_rng(0))


def test_events_not_drawn_into_a_replica_have_no_influence(cones):
    """Weight 0 means absent: changing the particles of undrawn events changes no bit."""
    (x, y), _ = cones
    x, y = x[::3], y[::3]
    w = bootstrap_counts(y, np.random.default_rng(4)).astype(float)
    undrawn = w == 0
    values, mask = x.values.copy(), x.mask.copy()
    values[undrawn] = 50.0 + np.nan_to_num(values[undrawn], nan=3.0)  # finite: may become real
    mask[undrawn] = ~mask[undrawn]
    cfg = {**FAST, "epochs": 3}
    a = PFNClassifier(**SIZES, train=cfg).fit(x, y, w)
    b = PFNClassifier(**SIZES, train=cfg).fit(ParticleInputs(values, mask), y, w)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert_same_state(state(a), state(b))
    losses = [[(h["train_loss"], h["val_loss"]) for h in c.result.history] for c in (a, b)]
    assert losses[0] == losses[1]
