"""Particle Flow Network (Komiske, Metodiev, Thaler 2019) on zero-padded, masked particles.

A PFN sums a learned per-particle embedding Phi over the real particles of an event and
classifies the sum with a network F. Phi runs on the real particles alone, gathered out of the
padded array by the mask, so padding contributes exactly nothing: the output does not depend
on the order of the particles, on how many padding slots there are, or on what the padding
holds (NaN included), and Phi's cost follows the number of real particles, not of slots.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hepflows.core import models
from hepflows.core.classifiers import (
    SavedTorchClassifier,
    activation_layer,
    check_xyw,
    mlp_options,
    stratified_split,
)
from hepflows.core.events import EventTable, as_mask
from hepflows.core.io import DataError
from hepflows.core.training import TrainConfig

__all__ = [
    "PFN_KEYS",
    "PFNClassifier",
    "ParticleFlowNetwork",
    "ParticleInputs",
    "build_pfn",
    "make_pfn_classifier",
    "particle_moments",
    "pfn_bce",
]

PFN_KEYS = {"inputs", "phi_sizes", "f_sizes", "activation", "dropout", "train"}
# Slots (events x slots) per prediction batch: bounds the memory of the padded inputs and of
# Phi's activations (one row per real particle, so at most one per slot).
_PREDICT_PARTICLES = 1 << 20


@dataclass(frozen=True, eq=False)
class ParticleInputs:
    """The particle inputs of a PFN: ``values`` (n, slots, features), ``mask`` (n, slots).

    A classifier's ``x`` must support ``len`` and row indexing (validation splits); this is
    the smallest container that does so for two arrays that must stay aligned.
    """

    values: np.ndarray
    mask: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.dtype != np.float32:
            values = values.astype(np.float64, copy=False)
        if values.ndim != 3:
            raise ValueError(
                f"particle values must be 3-D (n_events, n_slots, n_features), "
                f"got shape {values.shape}"
            )
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "mask", as_mask(np.asarray(self.mask), values.shape[:2]))

    def __len__(self) -> int:
        return self.values.shape[0]

    def __getitem__(self, index: Any) -> ParticleInputs:
        """Events by index array, boolean mask or slice (always a ParticleInputs)."""
        if isinstance(index, (int, np.integer)):
            raise TypeError("index ParticleInputs with an array or slice, not a single integer")
        return ParticleInputs(self.values[index], self.mask[index])

    @property
    def n_features(self) -> int:
        return self.values.shape[2]

    @classmethod
    def from_table(cls, table: EventTable) -> ParticleInputs:
        if table.particles is None or table.mask is None:
            where = f"{table.source}: " if table.source else ""
            raise DataError(f"{where}no particles (expected datasets 'particles' and 'mask')")
        return cls(table.particles, table.mask)


class ParticleFlowNetwork(nn.Module):
    """Phi on each real particle, the sum per event, F on the sum to one logit.

    ``phi_sizes`` ends with the latent size; every Phi layer, the latent one included, is
    followed by the activation (as in EnergyFlow). ``dropout`` acts in F only: in Phi it would
    drop a different subset of each particle's embedding, which the sum then mixes.
    """

    def __init__(
        self,
        inputs: int,
        phi_sizes: Sequence[int] = (100, 100, 128),
        f_sizes: Sequence[int] = (100, 100, 100),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if int(inputs) < 1 or not phi_sizes:
            raise ValueError(
                f"a PFN needs inputs >= 1 and at least one Phi size (the latent size), got "
                f"inputs={inputs}, phi_sizes={list(phi_sizes)}"
            )
        widths = [int(inputs), *(int(h) for h in phi_sizes)]
        phi: list[nn.Module] = []
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            phi += [nn.Linear(n_in, n_out), activation_layer(activation)]
        self.phi = nn.Sequential(*phi)
        widths = [widths[-1], *(int(h) for h in f_sizes)]
        head: list[nn.Module] = []
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            head += [nn.Linear(n_in, n_out), activation_layer(activation)]
            if dropout > 0:
                head.append(nn.Dropout(float(dropout)))
        head.append(nn.Linear(widths[-1], 1))
        self.f = nn.Sequential(*head)

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits (batch, 1) from values (batch, slots, features) and a bool mask (batch, slots).

        Phi sees only the real particles, (n_real, features) gathered by the mask, and their
        embeddings are summed into their events with ``index_add_``: padding never enters the
        computation (it may hold NaN), and Phi's cost follows the real particles, not the slots
        (a batch is padded to the largest count of its table: ~5 slots per real particle in
        the iso cones). An event without particles gets F of a zero sum. ``index_add_`` adds
        in a fixed order on the CPU; on CUDA it uses atomic adds, so repeated GPU runs may
        differ in the last bits unless ``torch.use_deterministic_algorithms(True)``.
        """
        events, slots = mask.nonzero(as_tuple=True)  # row-major: the order of values[mask]
        latent = self.phi(values[events, slots])
        summed = latent.new_zeros(mask.shape[0], latent.shape[1])
        return self.f(summed.index_add_(0, events, latent))


def build_pfn(spec: dict[str, Any]) -> ParticleFlowNetwork:
    """Build the network from its JSON spec (extra spec keys are ignored)."""
    return ParticleFlowNetwork(
        inputs=int(spec["inputs"]),
        phi_sizes=spec.get("phi_sizes", (100, 100, 128)),
        f_sizes=spec.get("f_sizes", (100, 100, 100)),
        activation=spec.get("activation", "relu"),
        dropout=float(spec.get("dropout", 0.0)),
    )


models.register_builder("pfn", build_pfn)


def pfn_bce(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Weighted BCE of a (values, mask, y, w) batch; w pre-scaled to mean 1 as in weighted_bce.

    The particles of events of weight 0 (not drawn into a bootstrap replica) are masked out
    before the network: their loss term is 0 anyway, Phi is spared their work, and the real
    particles that remain are exactly those of the drawn events, so what the undrawn events
    hold changes no bit of the training (Phi's matrix products would otherwise see them).
    """
    values, mask, y, w = batch
    logits = model(values, mask & (w != 0).unsqueeze(-1)).squeeze(-1)
    return (w * F.binary_cross_entropy_with_logits(logits, y, reduction="none")).mean()


def particle_moments(x: ParticleInputs, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std over the real particles, weighted by their event's weight.

    Weighted so that bootstrap counts passed as weights standardize exactly as the resampled
    set would, and an event of weight 0 has no influence at all. Negative weights count as 0
    (they could make a variance negative). A constant feature gets std 1.
    """
    # Select rather than multiply by 0: the sums then do not even see the ignored particles.
    keep = x.mask & (np.asarray(w) > 0)[:, None]
    w_real = np.broadcast_to(np.asarray(w, dtype=np.float64)[:, None], keep.shape)[keep]
    total = w_real.sum()
    if total <= 0:  # no real particle with a positive weight: nothing to standardize on
        return np.zeros(x.n_features), np.ones(x.n_features)
    real = x.values[keep].astype(np.float64, copy=False)
    mean = w_real @ real / total
    var = w_real @ (real - mean) ** 2 / total
    std = np.sqrt(var)
    return mean, np.where(std > 0, std, 1.0)


class PFNClassifier(SavedTorchClassifier):
    """PFN on standardized particles behind the ``Classifier`` interface (x: ParticleInputs)."""

    kind = "pfn"
    SPEC_ARGS = ("inputs", "phi_sizes", "f_sizes", "activation", "dropout")

    def __init__(
        self,
        inputs: int | None = None,
        phi_sizes: Sequence[int] = (100, 100, 128),
        f_sizes: Sequence[int] = (100, 100, 100),
        activation: str = "relu",
        dropout: float = 0.0,
        train: TrainConfig | dict[str, Any] | None = None,
        checkpoint: str | Path | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        activation_layer(activation)
        if not phi_sizes:
            raise ValueError("phi_sizes needs at least one size (the latent size)")
        self.inputs = inputs
        self.phi_sizes = [int(h) for h in phi_sizes]
        self.f_sizes = [int(h) for h in f_sizes]
        self.activation = activation
        self.dropout = float(dropout)
        self._untrained(train, checkpoint, log)

    def _check(self, x: Any, what: str) -> ParticleInputs:
        if not isinstance(x, ParticleInputs):
            raise TypeError(f"{what}: x must be ParticleInputs, got {type(x).__name__}")
        if len(x) == 0:
            raise DataError(f"{what}: no events")
        if self.inputs is not None and x.n_features != self.inputs:
            raise DataError(f"{what}: expected {self.inputs} particle features, got {x.n_features}")
        bad = (~np.isfinite(x.values) & x.mask[:, :, None]).sum(axis=(0, 1))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{what}: particle feature {j} has {int(bad[j])} NaN or inf values in real slots"
            )
        return x

    def _check_xyw(
        self, x: Any, y: np.ndarray, w: np.ndarray | None, what: str
    ) -> tuple[ParticleInputs, np.ndarray, np.ndarray]:
        x = self._check(x, what)
        # The label and weight checks of the tabular classifiers, on a featureless stand-in.
        _, y, w = check_xyw(np.empty((len(x), 0)), y, w, what)
        return x, y, w

    def _tensors(self, x: ParticleInputs) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.mean is not None and self.std is not None
        mask = torch.from_numpy(x.mask)
        values = torch.as_tensor(x.values, dtype=torch.float32)
        mean = torch.as_tensor(self.mean, dtype=torch.float32)
        std = torch.as_tensor(self.std, dtype=torch.float32)
        # Padding becomes exactly 0: the network never reads it, but no NaN rides along.
        return torch.where(mask.unsqueeze(-1), (values - mean) / std, 0.0), mask

    def fit(
        self,
        x: ParticleInputs,
        y: np.ndarray,
        w: np.ndarray | None = None,
        *,
        x_val: ParticleInputs | None = None,
        y_val: np.ndarray | None = None,
        w_val: np.ndarray | None = None,
    ) -> PFNClassifier:
        """Train; per-event weights ``w`` may be bootstrap counts (see resampling)."""
        x, y, w = self._check_xyw(x, y, w, "training set")
        if self.inputs is None:
            self.inputs = x.n_features
        if x_val is None and (y_val is not None or w_val is not None):
            raise ValueError("y_val/w_val given without x_val")
        if x_val is None and self.train.needs_validation:  # else: a fixed epoch count
            rng = np.random.default_rng(self.train.seed)
            tr, va = stratified_split(y, self.train.val_fraction, rng)
            x, y, w, x_val, y_val, w_val = x[tr], y[tr], w[tr], x[va], y[va], w[va]
            # A split of a weighted set can leave a class without weight: say so, not NaN.
            _, y_val, w_val = check_xyw(np.empty((len(va), 0)), y_val, w_val, "validation split")
        elif x_val is not None:
            if y_val is None:
                raise ValueError("x_val given without y_val")
            x_val, y_val, w_val = self._check_xyw(x_val, y_val, w_val, "validation set")

        self.mean, self.std = particle_moments(x, w)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.train.seed)
            self.module = build_pfn(self.spec())

        def tensors(xs: ParticleInputs, ys: np.ndarray, ws: np.ndarray) -> tuple[torch.Tensor, ...]:
            ws = ws / ws.mean()
            values, mask = self._tensors(xs)
            return values, mask, torch.from_numpy(ys).float(), torch.from_numpy(ws).float()

        val = None if x_val is None else tensors(x_val, y_val, w_val)
        return self._train(pfn_bce, tensors(x, y, w), val)

    def predict(self, x: ParticleInputs) -> np.ndarray:
        """P(class 1), float64 (n,); any number of slots (padding does not matter)."""
        if self.module is None:
            raise RuntimeError("PFNClassifier is not fitted")
        if not isinstance(x, ParticleInputs):
            raise TypeError(f"x must be ParticleInputs, got {type(x).__name__}")
        if x.n_features != self.inputs:
            raise DataError(
                f"expected particles of shape (n, n_slots, {self.inputs}), got {x.values.shape}"
            )
        batch = max(1, _PREDICT_PARTICLES // max(1, x.mask.shape[1]))
        self.module.eval()
        logits = [torch.zeros(0)]
        with torch.no_grad():
            for start in range(0, len(x), batch):
                values, mask = self._tensors(x[start : start + batch])
                logits.append(self.module(values, mask).squeeze(-1))
        return torch.sigmoid(torch.cat(logits).double()).numpy()


def make_pfn_classifier(
    spec: dict[str, Any],
    *,
    seed: int,
    device: str = "auto",
    checkpoint: str | Path | None = None,
    log: logging.Logger | None = None,
) -> PFNClassifier:
    """Build a PFN classifier from a config block; the workflow owns ``seed`` and ``device``."""
    params = dict(spec)
    kind = params.pop("kind", "pfn")
    if kind != "pfn":
        raise ValueError(f"expected classifier kind 'pfn', got {kind!r}")
    unknown = sorted(set(params) - PFN_KEYS)
    if unknown:
        raise ValueError(f"unknown option(s) for pfn classifier: {', '.join(unknown)}")
    params, cfg = mlp_options(params, seed=seed, device=device)
    return PFNClassifier(**params, train=cfg, checkpoint=checkpoint, log=log)
