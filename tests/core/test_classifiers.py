import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from hepflows.core import classifiers
from hepflows.core.classifiers import (
    Classifier,
    HGBClassifier,
    MLPClassifier,
    build_mlp,
    make_classifier,
    stratified_split,
)
from hepflows.core.io import DataError
from hepflows.core.training import TrainConfig

FAST = {"epochs": 12, "batch_size": 256, "lr": 3e-3, "patience": 5, "device": "cpu"}


def gaussians(seed: int, n: int = 1500, dim: int = 3, shift: float = 1.0):
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=(n, dim))
    x1 = rng.normal(size=(n, dim)) + shift
    x = np.concatenate([x0, x1])
    y = np.concatenate([np.zeros(n), np.ones(n)])
    return x, y


def mlp(seed: int = 0, **kw) -> MLPClassifier:
    return MLPClassifier(hidden=(16, 16, 16), train={**FAST, "seed": seed}, **kw)


def hgb(seed: int = 0) -> HGBClassifier:
    return HGBClassifier(max_iter=50, seed=seed)


FACTORIES = {"mlp": mlp, "hgb": hgb}


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """These problems are tiny: thread start-up and contention cost more than they save."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    return gaussians(0), gaussians(1, n=1000)


# --- building -------------------------------------------------------------------------------


def test_build_mlp_architecture():
    net = build_mlp({"kind": "mlp", "inputs": 5, "hidden": [8, 7, 6], "dropout": 0.1})
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(5, 8), (8, 7), (7, 6), (6, 1)]
    assert sum(isinstance(m, torch.nn.Dropout) for m in net) == 3
    assert net(torch.zeros(4, 5)).shape == (4, 1)
    with pytest.raises(ValueError, match="activation"):
        build_mlp({"inputs": 2, "activation": "swish2"})


def test_make_classifier_kinds_and_validation():
    clf = make_classifier(
        {"kind": "mlp", "hidden": [8], "train": {"epochs": 3}}, seed=7, device="cpu"
    )
    assert isinstance(clf, MLPClassifier) and isinstance(clf, Classifier)
    assert clf.train.seed == 7 and clf.train.epochs == 3 and clf.train.device == "cpu"
    assert clf.inputs is None  # inferred at fit time
    h = make_classifier({"kind": "hgb", "max_iter": 5}, seed=3)
    assert isinstance(h, HGBClassifier) and h.model.random_state == 3 and h.model.max_iter == 5
    with pytest.raises(ValueError, match="kind"):
        make_classifier({"kind": "svm"}, seed=0)
    with pytest.raises(ValueError, match="n_estimators"):
        make_classifier({"kind": "hgb", "n_estimators": 5}, seed=0)
    with pytest.raises(ValueError, match="learning_rate"):
        make_classifier({"kind": "mlp", "train": {"learning_rate": 1.0}}, seed=0)
    with pytest.raises(ValueError, match="seed"):
        make_classifier({"kind": "mlp", "train": {"seed": 1}}, seed=0)


def test_stratified_split():
    y = np.r_[np.zeros(100), np.ones(50)]
    tr, va = stratified_split(y, 0.2, np.random.default_rng(0))
    assert np.array_equal(np.sort(np.r_[tr, va]), np.arange(150))
    assert (y[va] == 0).sum() == 20 and (y[va] == 1).sum() == 10
    tr2, va2 = stratified_split(y, 0.2, np.random.default_rng(0))
    assert np.array_equal(va, va2)
    _, va3 = stratified_split(y, 0.2, np.random.default_rng(1))
    assert not np.array_equal(va, va3)


# --- behaviour shared by both backends ------------------------------------------------------


@pytest.mark.parametrize("kind", FACTORIES)
def test_separates_shifted_gaussians(kind, data):
    (x, y), (xt, yt) = data
    p = FACTORIES[kind]().fit(x, y).predict(xt)
    assert p.shape == (len(xt),) and p.dtype == np.float64
    assert np.all((p > 0) & (p < 1))
    assert roc_auc_score(yt, p) > 0.8


@pytest.mark.parametrize("kind", FACTORIES)
def test_upweighting_class_one_raises_probabilities(kind, data):
    (x, y), (xt, _) = data
    plain = FACTORIES[kind]().fit(x, y).predict(xt)
    w = np.where(y == 1, 4.0, 1.0)
    weighted = FACTORIES[kind]().fit(x, y, w).predict(xt)
    # Calibrated output is 4 f1 / (4 f1 + f0): e.g. 0.5 -> 0.8 where the classes overlap.
    assert weighted.mean() > plain.mean() + 0.1


@pytest.mark.parametrize("kind", FACTORIES)
def test_weight_zero_events_are_ignored(kind, data):
    (x, y), (xt, yt) = data
    rng = np.random.default_rng(5)
    flipped = rng.random(len(y)) < 0.6
    y_bad = np.where(flipped, 1 - y, y)
    w = np.where(flipped, 0.0, 1.0)
    auc_weighted = roc_auc_score(yt, FACTORIES[kind]().fit(x, y_bad, w).predict(xt))
    auc_unweighted = roc_auc_score(yt, FACTORIES[kind]().fit(x, y_bad).predict(xt))
    assert auc_weighted > 0.8
    assert auc_unweighted < 0.5  # mostly wrong labels really do poison an unweighted fit


@pytest.mark.parametrize("kind", FACTORIES)
def test_same_seed_is_deterministic(kind, data):
    (x, y), (xt, _) = data
    a = FACTORIES[kind](seed=11).fit(x, y).predict(xt)
    b = FACTORIES[kind](seed=11).fit(x, y).predict(xt)
    assert np.array_equal(a, b)
    if kind == "mlp":  # HGB without subsampling is seed-independent apart from its split
        c = FACTORIES[kind](seed=12).fit(x, y).predict(xt)
        assert not np.array_equal(a, c)


@pytest.mark.parametrize("kind", FACTORIES)
def test_bad_inputs_raise_data_error(kind):
    x, y = gaussians(0, n=50)
    clf = FACTORIES[kind]()
    with pytest.raises(DataError, match="NaN"):
        clf.fit(np.where(np.arange(100)[:, None] == 3, np.nan, x), y)
    with pytest.raises(DataError, match="both classes"):
        clf.fit(x, np.zeros(100))
    with pytest.raises(DataError, match="weights"):
        clf.fit(x, y, np.ones(99))
    with pytest.raises(RuntimeError, match="not fitted"):
        clf.predict(x)
    clf.fit(x, y)
    with pytest.raises(DataError, match="shape"):
        clf.predict(x[:, :2])


# --- MLP specifics --------------------------------------------------------------------------


def test_mlp_save_load_identical_predictions(tmp_path, data):
    (x, y), (xt, _) = data
    x = np.c_[x, np.full(len(x), 2.5)]  # a constant feature must not break standardization
    xt = np.c_[xt, np.full(len(xt), 2.5)]
    clf = MLPClassifier(hidden=(16, 12, 8), dropout=0.1, train={**FAST, "epochs": 3})
    clf.fit(x, y)
    p = clf.predict(xt)
    assert np.isfinite(p).all()
    stem = tmp_path / "clf"
    clf.save(stem)
    spec = json.loads((tmp_path / "clf.json").read_text())
    assert spec["kind"] == "mlp" and spec["hidden"] == [16, 12, 8] and spec["inputs"] == 4
    assert spec["std"][-1] == 1.0 and len(spec["mean"]) == 4
    loaded = MLPClassifier.load(stem)
    assert np.array_equal(loaded.predict(xt), p)
    assert loaded.train == clf.train


def test_mlp_uses_given_validation_set_and_checkpoint(tmp_path, data):
    (x, y), (xt, yt) = data
    ckpt = tmp_path / "mlp.ckpt"
    clf = mlp(checkpoint=ckpt)
    clf.fit(x, y, x_val=xt, y_val=yt)
    assert ckpt.exists()
    res = clf.result
    assert res is not None and res.best_val_loss == min(h["val_loss"] for h in res.history)
    # The reported validation loss is the weighted BCE over exactly the given set.
    p = np.clip(clf.predict(xt), 1e-12, 1 - 1e-12)
    bce = -np.mean(yt * np.log(p) + (1 - yt) * np.log(1 - p))
    assert res.best_val_loss == pytest.approx(bce, rel=1e-4)


def test_a_fixed_epoch_count_sets_nothing_aside_for_validation(data):
    """Bootstrap replicas train a fixed number of epochs on every event they were given."""
    (x, y), _ = data
    fixed = TrainConfig(epochs=3, batch_size=128, patience=None, restore_best=False)
    clf = MLPClassifier(hidden=(8,), train=fixed).fit(x, y)
    assert clf.result is not None
    assert [h["val_loss"] for h in clf.result.history] == [None] * 3
    assert clf.mean == pytest.approx(x.mean(axis=0))  # standardized on all events, none held out


def test_mlp_input_count_checked(data):
    (x, y), _ = data
    with pytest.raises(DataError, match="features"):
        MLPClassifier(inputs=5, train=FAST).fit(x, y)


def test_weighted_bce_matches_weighted_mean():
    logits = torch.tensor([[0.3], [-1.0], [2.0]])
    y = torch.tensor([1.0, 0.0, 0.0])
    w = torch.tensor([0.5, 2.0, 0.0])
    w_norm = w / w.mean()
    loss = classifiers.weighted_bce(lambda x: x, (logits, y, w_norm))
    per = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], y, reduction="none")
    assert loss.item() == pytest.approx(((w * per).sum() / w.sum()).item(), rel=1e-6)


# --- HGB specifics --------------------------------------------------------------------------


def test_hgb_save_raises_clear_error(tmp_path, data):
    (x, y), _ = data
    clf = hgb().fit(x, y)
    with pytest.raises(TypeError, match="predictions"):
        clf.save(tmp_path / "hgb")
    assert not list(tmp_path.iterdir())


def test_hgb_early_stops_on_the_given_validation_set(data):
    (x, y), (xt, yt) = data
    good = HGBClassifier(max_iter=300, seed=0).fit(x, y, x_val=xt, y_val=yt)
    # Inverted validation labels get worse from the first iteration: stop after the patience.
    bad = HGBClassifier(max_iter=300, seed=0).fit(x, y, x_val=xt, y_val=1 - yt)
    assert bad.model.n_iter_ <= 12 < good.model.n_iter_


def test_train_config_accepted_directly():
    cfg = TrainConfig(epochs=2)
    assert MLPClassifier(train=cfg).train is cfg


def test_hgb_uniform_weights_give_the_unweighted_model():
    """Uniform weights are dropped before scikit-learn (its weighted path is ~10x slower)."""
    rng = np.random.default_rng(5)
    x = np.vstack([rng.normal(0, 1, (2000, 3)), rng.normal(0.5, 1, (2000, 3))])
    y = np.repeat([0.0, 1.0], 2000)
    plain = HGBClassifier(max_iter=30, seed=2).fit(x, y).predict(x)
    uniform = HGBClassifier(max_iter=30, seed=2).fit(x, y, np.full(len(y), 2.5)).predict(x)
    np.testing.assert_array_equal(plain, uniform)
