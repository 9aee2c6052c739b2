"""Early stopping and best-epoch weights for the training loop, kept per member of a stacked
ensemble, so each member stops and keeps its weights exactly as if it were trained alone."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from hepflows.core.training import TrainConfig


def n_members(model: nn.Module) -> int:
    """Members of a stacked ensemble (1 for an ordinary model)."""
    return int(getattr(model, "n_members", 1))


def cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


class BestTracker:
    """Early stopping and best-epoch weights, kept per member of a stacked ensemble.

    A member that runs out of patience keeps the weights of its best epoch, exactly as if it
    had been trained alone; the loop stops once every member has.
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, keep_best: int = 1) -> None:
        if keep_best < 1:
            raise ValueError(f"keep_best must be >= 1, got {keep_best}")
        self.model, self.cfg, self.keep_best = model, cfg, keep_best
        self.members = n_members(model)
        self.stacked = hasattr(model, "n_members")  # parameters carry the member index first
        if self.members > 1 and cfg.scheduler == "plateau":
            raise ValueError(
                "scheduler 'plateau' would couple the members of a stacked ensemble through "
                "one learning rate; use 'none', 'cosine' or 'step'"
            )
        self.best_loss = [math.inf] * self.members
        self.best_epoch = [0] * self.members
        self.bad_epochs = [0] * self.members
        self.best_state = cpu_state(model)
        # Per member: (loss, epoch, weights) of its keep_best best epochs, best first.
        self.top: list[list[tuple[float, int, dict[str, torch.Tensor]]]] = [
            [] for _ in range(self.members)
        ]

    def stopped(self, k: int) -> bool:
        return self.cfg.patience is not None and self.bad_epochs[k] >= self.cfg.patience

    def all_stopped(self) -> bool:
        return all(self.stopped(k) for k in range(self.members))

    def update(self, epoch: int, monitor: list[float]) -> list[int]:
        """Record one epoch; returns the members whose validation loss improved."""
        # A stopped member's slice keeps training with the others; its epochs no longer count.
        active = [k for k in range(self.members) if not self.stopped(k)]
        improved = []
        for k in active:
            loss = monitor[k]
            if loss < self.best_loss[k] - self.cfg.min_delta:
                self.best_loss[k], self.best_epoch[k], self.bad_epochs[k] = loss, epoch, 0
                improved.append(k)
            else:
                self.bad_epochs[k] += 1
        ranked = []
        if self.keep_best > 1:
            ranked = [
                k
                for k in active
                if len(self.top[k]) < self.keep_best or monitor[k] < self.top[k][-1][0]
            ]
        if improved or ranked:
            current = cpu_state(self.model)
            if improved and self.members == 1:
                self.best_state = current
            elif improved:
                for key, value in current.items():
                    self.best_state[key][improved] = value[improved]
            for k in ranked:
                self._keep(k, monitor[k], epoch, current)
        return improved

    def _keep(self, k: int, loss: float, epoch: int, current: dict[str, torch.Tensor]) -> None:
        """Insert this epoch into member k's best epochs, dropping the worst beyond keep_best."""
        weights = {n: v[k].clone() for n, v in current.items()} if self.stacked else current
        top = self.top[k]
        top.append((loss, epoch, weights))
        top.sort(key=lambda entry: (entry[0], entry[1]))
        del top[self.keep_best :]

    def describe(self, improved: list[int]) -> str:
        if self.members == 1:
            return " [best]" if improved else ""
        done = [k for k in range(self.members) if self.stopped(k)]
        text = f" best={len(improved)}/{self.members}"
        return text + (f" stopped={len(done)}" if done else "")

    def state(self) -> dict[str, Any]:
        return {
            "best_model": self.best_state,
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "top": self.top,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.best_state = state["best_model"]
        self.best_loss = list(state["best_loss"])
        self.best_epoch = list(state["best_epoch"])
        self.bad_epochs = list(state["bad_epochs"])
        self.top = [[tuple(entry) for entry in member] for member in state.get("top", self.top)]
