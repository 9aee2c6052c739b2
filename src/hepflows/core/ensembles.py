"""Ensembles of MLP classifiers trained side by side as one stacked network.

A small MLP's training step on CPU is almost all framework overhead, so N members stacked
into batched matrix products train in little more than the time of one. Each member still
has its own initialisation, validation split and early stopping, exactly as if it were
trained alone; only the order in which batches are drawn is shared.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hepflows.core import models
from hepflows.core.classifiers import (
    activation_layer,
    check_xyw,
    mlp_options,
    stratified_split,
)
from hepflows.core.io import DataError, require
from hepflows.core.model_specs import check_classifier
from hepflows.core.training import TrainConfig, TrainResult, fit

_PREDICT_BATCH = 65536


class StackedMLP(nn.Module):
    """``n_members`` independent MLPs as one module: (batch, members, inputs) -> (batch, members).

    Every parameter carries the member index first, which is what the training loop needs
    to keep early stopping and best-epoch weights per member.
    """

    def __init__(
        self,
        n_members: int,
        inputs: int,
        hidden: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        seeds: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if seeds is not None and len(seeds) != n_members:
            raise ValueError(f"need one seed per member ({n_members}), got {len(seeds)}")
        self.n_members = int(n_members)
        self.act = activation_layer(activation)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        widths = [int(inputs), *(int(h) for h in hidden), 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            self.weights.append(nn.Parameter(torch.empty(self.n_members, n_in, n_out)))
            self.biases.append(nn.Parameter(torch.empty(self.n_members, n_out)))
        if seeds is not None:
            self.reset_parameters(seeds)

    def reset_parameters(self, seeds: Sequence[int]) -> None:
        """nn.Linear's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), one seed per member."""
        with torch.no_grad():
            for k, seed in enumerate(seeds):
                gen = torch.Generator().manual_seed(int(seed))
                for w, b in zip(self.weights, self.biases, strict=True):
                    bound = 1.0 / math.sqrt(w.shape[1])
                    w[k].uniform_(-bound, bound, generator=gen)
                    b[k].uniform_(-bound, bound, generator=gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(0, 1)  # (members, batch, inputs): one matrix product per member
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if i < last:
                h = self.drop(self.act(torch.baddbmm(b.unsqueeze(1), h, w)))
            else:
                # The one-output layer as a product and a sum over inputs, not baddbmm: with one
                # member baddbmm takes a matrix-vector kernel that rounds differently, and a
                # member trained in a part of a split ensemble drifted from the same member
                # trained in the whole (8e-4 in the scores after training).
                h = (h * w.transpose(1, 2)).sum(dim=-1) + b
        return h.transpose(0, 1)


def build_stacked_mlp(spec: dict[str, Any]) -> nn.Module:
    return StackedMLP(
        spec.get("stacked", spec["members"]),
        spec["inputs"],
        spec["hidden"],
        spec.get("activation", "relu"),
        float(spec.get("dropout", 0.0)),
    )


models.register_builder("mlp_ensemble", build_stacked_mlp)


def member_weighted_bce(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """One weighted BCE per member; weights are pre-scaled to mean 1 per member and set."""
    x, y, w = batch
    loss = F.binary_cross_entropy_with_logits(model(x), y, reduction="none")
    return (w * loss).mean(dim=0)


class MLPEnsemble:
    """``members`` weighted binary MLP classifiers; ``predict`` is their mean probability.

    With ``average_epochs`` = k > 1 each member's prediction is the mean over its k best
    epochs (by validation loss), as CATHODE does; the k snapshots of every member then sit
    side by side in one stacked network of members x k, so prediction stays one pass.
    """

    def __init__(
        self,
        seeds: Sequence[int],
        hidden: Sequence[int] = (64, 64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        train: TrainConfig | dict[str, Any] | None = None,
        checkpoint: str | Path | None = None,
        log: logging.Logger | None = None,
        inputs: int | None = None,
        average_epochs: int = 1,
    ) -> None:
        if not seeds:
            raise ValueError("an ensemble needs at least one member seed")
        if average_epochs < 1:
            raise ValueError(f"average_epochs must be >= 1, got {average_epochs}")
        activation_layer(activation)
        self.seeds = [int(s) for s in seeds]
        self.hidden = [int(h) for h in hidden]
        self.activation = activation
        self.dropout = float(dropout)
        if isinstance(train, dict):
            train = TrainConfig.from_dict(train)
        self.train = train if train is not None else TrainConfig(seed=self.seeds[0])
        self.checkpoint = checkpoint
        self.log = log
        self.inputs = inputs
        self.average_epochs = int(average_epochs)
        # (members, average_epochs): how much each snapshot counts in its member's mean; a
        # member that trained fewer epochs than average_epochs repeats snapshots at weight 0.
        self.snapshot_weights: np.ndarray | None = None
        self.module: StackedMLP | None = None
        self.mean: np.ndarray | None = None  # (members, inputs)
        self.std: np.ndarray | None = None
        self.result: TrainResult | None = None

    @property
    def members(self) -> int:
        return len(self.seeds)

    def spec(self) -> dict[str, Any]:
        if self.mean is None or self.std is None:
            raise RuntimeError("MLPEnsemble is not fitted")
        return {
            "kind": "mlp_ensemble",
            "members": self.members,
            "seeds": self.seeds,
            "inputs": self.inputs,
            "hidden": self.hidden,
            "activation": self.activation,
            "dropout": self.dropout,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "train": self.train.to_dict(),
            "average_epochs": self.average_epochs,
            "stacked": self.members * self.average_epochs,
            "snapshot_weights": None
            if self.snapshot_weights is None
            else self.snapshot_weights.tolist(),
        }

    def _stack(self, picked: np.ndarray, repeat: int = 1) -> torch.Tensor:
        """(members or 1, n, inputs) -> (n, members x repeat, inputs), each in its member's
        scaling (``repeat``: one copy per averaged snapshot of a member)."""
        assert self.mean is not None and self.std is not None
        mean = np.repeat(self.mean, repeat, axis=0)[:, None, :]
        std = np.repeat(self.std, repeat, axis=0)[:, None, :]
        scaled = (picked - mean) / std
        return torch.from_numpy(np.ascontiguousarray(scaled.transpose(1, 0, 2), np.float32))

    def fit(self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> MLPEnsemble:
        x, y, w = check_xyw(x, y, w, "training set")
        if self.inputs is None:
            self.inputs = x.shape[1]
        elif x.shape[1] != self.inputs:
            raise DataError(f"training set: expected {self.inputs} features, got {x.shape[1]}")
        # Same class counts and fraction give every member a split of the same size, so the
        # members' events stack into one (events, members) layout.
        rngs = [np.random.default_rng(s) for s in self.seeds]
        splits = [stratified_split(y, self.train.val_fraction, rng) for rng in rngs]
        tr = np.stack([t for t, _ in splits])
        va = np.stack([v for _, v in splits])
        x_train = x[tr]
        self.mean = x_train.mean(axis=1)
        std = x_train.std(axis=1)
        self.std = np.where(std > 0, std, 1.0)
        self.module = StackedMLP(
            self.members, self.inputs, self.hidden, self.activation, self.dropout, self.seeds
        )

        def tensors(rows: np.ndarray, x_rows: np.ndarray) -> tuple[torch.Tensor, ...]:
            ws = w[rows] / w[rows].mean(axis=1, keepdims=True)
            return (
                self._stack(x_rows),
                torch.from_numpy(y[rows].T.astype(np.float32)),
                torch.from_numpy(ws.T.astype(np.float32)),
            )

        self.result = fit(
            self.module,
            member_weighted_bce,
            tensors(tr, x_train),
            tensors(va, x[va]),
            self.train,
            checkpoint=self.checkpoint,
            log=self.log,
            keep_best=self.average_epochs,
        )
        if self.average_epochs > 1:
            self._stack_snapshots(self.result)
        return self

    def _stack_snapshots(self, result: TrainResult) -> None:
        """Replace the module by one holding every member's best-epoch snapshots."""
        assert result.top_states is not None and self.module is not None
        k = self.average_epochs
        weights = np.zeros((self.members, k))
        rows = []
        for m, states in enumerate(result.top_states):
            weights[m, : len(states)] = 1.0 / len(states)
            rows += [states[j % len(states)] for j in range(k)]
        stacked = StackedMLP(
            self.members * k, self.inputs, self.hidden, self.activation, self.dropout
        )
        stacked.load_state_dict({name: torch.stack([r[name] for r in rows]) for name in rows[0]})
        self.module, self.snapshot_weights = stacked.eval(), weights

    def predict_members(self, x: np.ndarray) -> np.ndarray:
        """P(class 1) per member, shape (members, n), float64."""
        if self.module is None:
            raise RuntimeError("MLPEnsemble is not fitted")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.inputs:
            raise DataError(f"expected x of shape (n, {self.inputs}), got {x.shape}")
        self.module.eval()
        k = self.average_epochs
        out = []
        with torch.no_grad():
            for start in range(0, len(x), _PREDICT_BATCH):
                batch = self._stack(x[None, start : start + _PREDICT_BATCH], repeat=k)
                out.append(self.module(batch))
        probs = torch.sigmoid(torch.cat(out).double()).numpy().T  # (members x k, n)
        if k == 1:
            return probs
        assert self.snapshot_weights is not None
        per_snapshot = probs.reshape(self.members, k, -1)
        return np.einsum("mkn,mk->mn", per_snapshot, self.snapshot_weights)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_members(x).mean(axis=0)

    def save(self, stem: str | Path) -> None:
        """Write stem.pt (stacked weights) and stem.json (spec incl. standardization)."""
        if self.module is None:
            raise RuntimeError("MLPEnsemble is not fitted")
        models.save_model(stem, self.module, self.spec())

    @classmethod
    def load(cls, stem: str | Path) -> MLPEnsemble:
        module, spec = models.load_model(stem)
        if spec.get("kind") != "mlp_ensemble":
            raise DataError(
                f"{stem}: expected an mlp_ensemble model, found kind {spec.get('kind')!r}"
            )
        keys = ("seeds", "hidden", "activation", "dropout", "inputs", "mean", "std")
        require(spec, keys, models.model_paths(stem)[1], expected="an mlp_ensemble model spec")
        ens = cls(
            seeds=spec["seeds"],
            hidden=spec["hidden"],
            activation=spec["activation"],
            dropout=spec["dropout"],
            train=spec.get("train"),
            inputs=spec["inputs"],
            average_epochs=spec.get("average_epochs", 1),
        )
        if spec.get("snapshot_weights") is not None:
            ens.snapshot_weights = np.asarray(spec["snapshot_weights"], dtype=np.float64)
        ens.module = module.eval()
        ens.mean = np.asarray(spec["mean"], dtype=np.float64)
        ens.std = np.asarray(spec["std"], dtype=np.float64)
        return ens


def make_mlp_ensemble(
    spec: dict[str, Any],
    *,
    seeds: Sequence[int],
    device: str = "auto",
    checkpoint: str | Path | None = None,
    log: logging.Logger | None = None,
    average_epochs: int = 1,
    batch_seed: int | None = None,
) -> MLPEnsemble:
    """Build from the same config block as an ``mlp`` classifier; one seed per member.

    ``batch_seed`` orders the mini-batches (default: the first member's seed). Members that
    share it train alike whether they stack with few or many others, which lets one ensemble
    be split over several jobs."""
    params = dict(spec)
    kind = params.pop("kind", None)
    if kind != "mlp":
        raise ValueError(f"a stacked ensemble needs an 'mlp' classifier, got kind {kind!r}")
    check_classifier(spec)
    first = int(seeds[0]) if batch_seed is None else int(batch_seed)
    params, cfg = mlp_options(params, seed=first, device=device)
    return MLPEnsemble(
        seeds,
        **params,
        train=cfg,
        checkpoint=checkpoint,
        log=log,
        average_epochs=average_epochs,
    )
