"""Binary classifiers (torch MLP, scikit-learn HistGradientBoosting) behind one interface.

Workflow steps (classifier two-sample tests, reweighting, anomaly detection) only need
fit / predict / save on weighted events, so they can switch model family from the config.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hepflows.core import models
from hepflows.core.io import DataError, require
from hepflows.core.model_specs import check_classifier
from hepflows.core.training import TrainConfig, TrainResult, fit

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}
_PREDICT_BATCH = 65536


def activation_layer(name: str) -> nn.Module:
    """The activation module for a config name; an unknown name lists the valid ones."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def build_mlp(spec: dict[str, Any]) -> nn.Module:
    """Build the logit network from its JSON spec (extra spec keys are ignored)."""
    act = spec.get("activation", "relu")
    activation_layer(act)
    dropout = float(spec.get("dropout", 0.0))
    widths = [int(spec["inputs"]), *(int(h) for h in spec.get("hidden", (64, 64, 64)))]
    layers: list[nn.Module] = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), activation_layer(act)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(widths[-1], 1))
    return nn.Sequential(*layers)


models.register_builder("mlp", build_mlp)


@runtime_checkable
class Classifier(Protocol):
    """A weighted binary classifier; ``predict`` returns P(class 1) as float64, shape (n,)."""

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        w: np.ndarray | None = None,
        *,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        w_val: np.ndarray | None = None,
    ) -> Classifier: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def save(self, stem: str | Path) -> None: ...


def check_xyw(
    x: np.ndarray, y: np.ndarray, w: np.ndarray | None, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate once here so both backends fail with the same readable message."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 2 or x.shape[0] == 0:
        raise DataError(f"{what}: x must be a non-empty 2-D array, got shape {x.shape}")
    n = x.shape[0]
    if y.shape != (n,) or not np.isin(y, (0, 1)).all():
        raise DataError(f"{what}: y must be 0/1 labels of shape ({n},)")
    if len(np.unique(y)) < 2:
        raise DataError(f"{what}: both classes are needed")
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    if w.shape != (n,) or not np.isfinite(w).all():
        raise DataError(f"{what}: weights must be finite with shape ({n},)")
    if not np.isfinite(x).all():
        raise DataError(f"{what}: x contains NaN or inf")
    if (w[y == 0].sum() <= 0) or (w[y == 1].sum() <= 0):
        raise DataError(f"{what}: each class needs a positive total weight")
    return x, y.astype(np.float64), w


def stratified_split(
    y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random (train, val) index arrays with ``fraction`` of each class in val."""
    perm = rng.permutation(len(y))
    grouped = perm[np.argsort(y[perm], kind="stable")]  # class-sorted, shuffled within class
    classes, first, counts = np.unique(y[grouped], return_index=True, return_counts=True)
    n_val = np.rint(counts * fraction).astype(int)
    rank = np.arange(len(y)) - np.repeat(first, counts)
    is_val = rank < np.repeat(n_val, counts)
    return np.sort(grouped[~is_val]), np.sort(grouped[is_val])


def weighted_bce(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """BCE-with-logits times per-event weight; weights are pre-scaled to mean 1 per set.

    With that scaling the batch mean of w*l is an unbiased estimate of sum(w*l)/sum(w)
    over the set, and the batched validation loss equals it exactly, without dividing
    by a batch's own weight sum (biased, and 0/0 for batches of weight-zero events).
    """
    x, y, w = batch
    logits = model(x).squeeze(-1)
    return (w * F.binary_cross_entropy_with_logits(logits, y, reduction="none")).mean()


class SavedTorchClassifier:
    """What a torch classifier on standardized inputs shares: saving and loading without pickle.

    A subclass names its model ``kind`` and the ``SPEC_ARGS`` of its spec that rebuild it; its
    spec holds the standardization (``mean``, ``std``) and the training settings.
    """

    kind: str
    SPEC_ARGS: tuple[str, ...]

    def _untrained(
        self,
        train: TrainConfig | dict[str, Any] | None,
        checkpoint: str | Path | None,
        log: logging.Logger | None,
    ) -> None:
        """The training settings, and the state that fit() fills in."""
        if isinstance(train, dict):
            train = TrainConfig.from_dict(train)
        self.train = train if train is not None else TrainConfig()
        self.checkpoint = checkpoint
        self.log = log
        self.module: nn.Module | None = None
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.result: TrainResult | None = None

    def _train(
        self, loss_fn: Any, train: tuple[torch.Tensor, ...], val: tuple[torch.Tensor, ...] | None
    ) -> Any:
        """Train the module with the shared loop (checkpoint, log) and keep the result."""
        self.result = fit(
            self.module, loss_fn, train, val, self.train, checkpoint=self.checkpoint, log=self.log
        )
        return self

    def spec(self) -> dict[str, Any]:
        """JSON spec that rebuilds this model (architecture, standardization, training)."""
        if self.mean is None or self.std is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted")
        return {
            "kind": self.kind,
            **{k: getattr(self, k) for k in self.SPEC_ARGS},
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "train": self.train.to_dict(),
        }

    def save(self, stem: str | Path) -> None:
        """Write stem.pt (weights) and stem.json (spec incl. standardization)."""
        if self.module is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted")
        models.save_model(stem, self.module, self.spec())

    @classmethod
    def load(cls, stem: str | Path) -> Any:
        module, spec = models.load_model(stem)
        if spec.get("kind") != cls.kind:
            raise DataError(f"{stem}: expected a {cls.kind} model, found kind {spec.get('kind')!r}")
        keys = [*cls.SPEC_ARGS, "mean", "std"]
        require(spec, keys, models.model_paths(stem)[1], expected=f"a {cls.kind} model spec")
        clf = cls(**{k: spec[k] for k in cls.SPEC_ARGS}, train=spec.get("train"))
        clf.module = module.eval()
        clf.mean = np.asarray(spec["mean"], dtype=np.float64)
        clf.std = np.asarray(spec["std"], dtype=np.float64)
        return clf


class MLPClassifier(SavedTorchClassifier):
    """Torch MLP on standardized inputs, trained with :func:`hepflows.core.training.fit`."""

    kind = "mlp"
    SPEC_ARGS = ("inputs", "hidden", "activation", "dropout")

    def __init__(
        self,
        inputs: int | None = None,
        hidden: Sequence[int] = (64, 64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        train: TrainConfig | dict[str, Any] | None = None,
        checkpoint: str | Path | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        activation_layer(activation)
        self.inputs = inputs
        self.hidden = [int(h) for h in hidden]
        self.activation = activation
        self.dropout = float(dropout)
        self._untrained(train, checkpoint, log)

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        assert self.mean is not None and self.std is not None
        return torch.from_numpy(((x - self.mean) / self.std).astype(np.float32))

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        w: np.ndarray | None = None,
        *,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        w_val: np.ndarray | None = None,
    ) -> MLPClassifier:
        x, y, w = check_xyw(x, y, w, "training set")
        if self.inputs is None:
            self.inputs = x.shape[1]
        elif x.shape[1] != self.inputs:
            raise DataError(f"training set: expected {self.inputs} features, got {x.shape[1]}")
        if x_val is None and (y_val is not None or w_val is not None):
            raise ValueError("y_val/w_val given without x_val")
        if x_val is None and self.train.needs_validation:  # else: a fixed epoch count
            rng = np.random.default_rng(self.train.seed)
            tr, va = stratified_split(y, self.train.val_fraction, rng)
            x, y, w, x_val, y_val, w_val = x[tr], y[tr], w[tr], x[va], y[va], w[va]
        elif x_val is not None:
            if y_val is None:
                raise ValueError("x_val given without y_val")
            x_val, y_val, w_val = check_xyw(x_val, y_val, w_val, "validation set")
            if x_val.shape[1] != self.inputs:
                raise DataError(
                    f"validation set: expected {self.inputs} features, got {x_val.shape[1]}"
                )

        self.mean = x.mean(axis=0)
        std = x.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)  # constant features stay finite
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.train.seed)
            self.module = build_mlp(self.spec())

        def tensors(xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> tuple[torch.Tensor, ...]:
            ws = ws / ws.mean()
            return self._tensor(xs), torch.from_numpy(ys).float(), torch.from_numpy(ws).float()

        val = None if x_val is None else tensors(x_val, y_val, w_val)
        return self._train(weighted_bce, tensors(x, y, w), val)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.module is None:
            raise RuntimeError("MLPClassifier is not fitted")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.inputs:
            raise DataError(f"expected x of shape (n, {self.inputs}), got {x.shape}")
        xt = self._tensor(x)
        self.module.eval()
        with torch.no_grad():
            logits = torch.cat([self.module(b).squeeze(-1) for b in xt.split(_PREDICT_BATCH)])
        return torch.sigmoid(logits.double()).numpy()


class HGBClassifier:
    """scikit-learn HistGradientBoostingClassifier: a strong, tuning-free tabular baseline."""

    def __init__(
        self,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        early_stopping: bool = True,
        seed: int = 0,
        log: logging.Logger | None = None,
    ) -> None:
        # Imported here: scikit-learn costs seconds to import, and most jobs train MLPs only.
        from sklearn.ensemble import HistGradientBoostingClassifier

        self.model = HistGradientBoostingClassifier(
            max_iter=int(max_iter),
            learning_rate=float(learning_rate),
            max_leaf_nodes=int(max_leaf_nodes),
            early_stopping=bool(early_stopping),
            random_state=seed,
        )
        self.log = log
        self.inputs: int | None = None

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        w: np.ndarray | None = None,
        *,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        w_val: np.ndarray | None = None,
    ) -> HGBClassifier:
        x, y, w = check_xyw(x, y, w, "training set")
        self.inputs = x.shape[1]
        # scikit-learn's HGB takes a ~10x slower path with sample weights (weighted binning),
        # so uniform weights, which change nothing, are not passed.
        sample_weight = None if np.all(w == w[0]) else w
        extra: dict[str, Any] = {}
        # An explicit validation set replaces sklearn's internal split for early stopping.
        if x_val is not None and self.model.early_stopping:
            if y_val is None:
                raise ValueError("x_val given without y_val")
            x_val, y_val, w_val = check_xyw(x_val, y_val, w_val, "validation set")
            extra = {"X_val": x_val, "y_val": y_val, "sample_weight_val": w_val}
        self.model.fit(x, y, sample_weight=sample_weight, **extra)
        if self.log is not None:
            self.log.info("HGB classifier trained for %d iterations", self.model.n_iter_)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.inputs is None:
            raise RuntimeError("HGBClassifier is not fitted")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.inputs:
            raise DataError(f"expected x of shape (n, {self.inputs}), got {x.shape}")
        return self.model.predict_proba(x)[:, 1].astype(np.float64)

    def save(self, stem: str | Path) -> None:
        raise TypeError(
            f"cannot save HGBClassifier to {stem}: scikit-learn models are only persistable "
            "with pickle, which this project does not use; store its predictions instead"
        )


def make_classifier(
    spec: dict[str, Any],
    *,
    seed: int,
    device: str = "auto",
    checkpoint: str | Path | None = None,
    log: logging.Logger | None = None,
) -> Classifier:
    """Build a classifier from a config block; the workflow owns ``seed`` and ``device``."""
    params = dict(spec)
    kind = params.pop("kind", None)
    if kind == "pfn":  # imported here: particle_flow imports this module
        from hepflows.core.particle_flow import make_pfn_classifier

        return make_pfn_classifier(spec, seed=seed, device=device, checkpoint=checkpoint, log=log)
    check_classifier(spec)
    if kind == "hgb":
        return HGBClassifier(**params, seed=seed, log=log)
    params, cfg = mlp_options(params, seed=seed, device=device)
    return MLPClassifier(**params, train=cfg, checkpoint=checkpoint, log=log)


def mlp_options(
    params: dict[str, Any], *, seed: int, device: str
) -> tuple[dict[str, Any], TrainConfig]:
    """Split an MLP config block (without ``kind``) into model options and training settings."""
    params = dict(params)
    train = dict(params.pop("train", None) or {})
    clash = sorted({"seed", "device"} & set(train))
    if clash:
        raise ValueError(f"train.{clash[0]} is set by the workflow, not the classifier spec")
    return params, TrainConfig.from_dict({**train, "seed": seed, "device": device})
