"""The single training loop shared by every torch model (flows, classifiers, MDN, PFN).

Keeping one loop means seeding, LR scheduling, early stopping and resumable
checkpoints behave identically everywhere and are tested once.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hepflows.core.checkpoints import load_or_set_aside
from hepflows.core.early_stopping import BestTracker, cpu_state, n_members
from hepflows.core.io import atomic_output
from hepflows.core.runtime import resolve_device

LossFn = Callable[[nn.Module, tuple[torch.Tensor, ...]], torch.Tensor]
"""Returns the mean loss of one batch; the batch is a tuple like (x, y, w) or (x, c).

The loss is a scalar, or for a stacked ensemble (a module with ``n_members`` > 1 whose
parameters all carry the member index as their first dimension) one loss per member.
"""

SCHEDULERS = ("none", "cosine", "step", "plateau")
VAL_FRACTION = 0.2
_FLOAT_FIELDS = ("lr", "weight_decay", "min_delta", "gamma")


@dataclass
class TrainConfig:
    """Optimisation settings; one block of the workflow config maps onto it.

    ``scheduler``: "none", "cosine" (over ``epochs``), "step" (``step_size``, ``gamma``) or
    "plateau" (factor ``gamma`` after half of ``patience`` epochs without improvement).
    Every scheduler steps once per epoch. ``restore_best``: end with the weights of the best
    epoch (else the last epoch's: a fixed epoch count, as bootstrap replicas train); a run that
    neither stops early nor restores needs no validation set (:attr:`needs_validation`).
    ``val_fraction`` is the share of the events that the
    callers of :func:`fit` (classifiers, ensembles, flows) hold out for validation; this is its
    one default in the project.
    """

    epochs: int = 50
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int | None = 10
    min_delta: float = 0.0
    scheduler: str = "none"
    step_size: int = 10
    gamma: float = 0.5
    device: str = "auto"
    seed: int = 0
    grad_clip: float | None = None
    val_fraction: float = VAL_FRACTION
    restore_best: bool = True

    @property
    def needs_validation(self) -> bool:
        """Whether the epochs must be judged on held-out events: early stopping or the best
        epoch's weights; otherwise the running training loss is all the loop watches."""
        return self.patience is not None or self.restore_best

    def __post_init__(self) -> None:
        # YAML reads "1e-3" as a string, so coerce instead of failing deep inside Adam.
        for name in _FLOAT_FIELDS:
            setattr(self, name, float(getattr(self, name)))
        if self.grad_clip is not None:
            self.grad_clip = float(self.grad_clip)
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {self.scheduler!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.step_size < 1:
            raise ValueError("epochs, batch_size and step_size must be >= 1")
        if self.patience is not None and self.patience < 1:
            raise ValueError("patience must be >= 1 or None")
        self.val_fraction = float(self.val_fraction)
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a config mapping; unknown keys are typos, so they are errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """What the loop did; history rows are {"epoch", "train_loss", "val_loss", "lr", "seconds"}.

    For a stacked ensemble the row losses are member means, the rows also hold
    "member_train_loss" and "member_val_loss", and ``best_epochs`` has one entry per member.
    """

    history: list[dict[str, Any]]
    best_epochs: list[int]
    best_val_losses: list[float]
    resumed_from: int | None
    # With keep_best = k > 1: per member, the epochs and weights of its k best epochs (best
    # first; fewer if it trained fewer epochs). A stacked member's weights are its slices.
    top_epochs: list[list[int]] | None = None
    top_states: list[list[dict[str, torch.Tensor]]] | None = None

    @property
    def best_epoch(self) -> int:
        return self._single(self.best_epochs)

    @property
    def best_val_loss(self) -> float:
        return self._single(self.best_val_losses)

    @staticmethod
    def _single(values: list[Any]) -> Any:
        if len(values) != 1:
            raise ValueError(f"{len(values)} ensemble members: use best_epochs / best_val_losses")
        return values[0]


def _make_optimizer(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.weight_decay > 0:
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr)


def _make_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig) -> Any | None:
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma)
    if cfg.scheduler == "plateau":
        # Half the early-stopping patience, so the LR gets a chance to drop before we give up.
        wait = max(1, (cfg.patience or 10) // 2)
        return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=cfg.gamma, patience=wait)
    return None


def _mean_loss(
    model: nn.Module,
    loss_fn: LossFn,
    data: tuple[torch.Tensor, ...],
    batch_size: int,
) -> list[float]:
    """Batch-size-weighted mean of per-batch losses (one per member), in eval mode."""
    model.eval()
    n = data[0].shape[0]
    total = torch.zeros(n_members(model), dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, n, batch_size):
            batch = tuple(t[start : start + batch_size] for t in data)
            total += loss_fn(model, batch).detach().double().cpu().reshape(-1) * batch[0].shape[0]
    return (total / n).tolist()


def _clip_member_grads(params: list[nn.Parameter], max_norm: float, members: int) -> None:
    """Clip each member's gradient norm on its own, so that members stay independent."""
    if members == 1:
        nn.utils.clip_grad_norm_(params, max_norm)
        return
    grads = [p.grad for p in params if p.grad is not None]
    sq = sum(g.pow(2).reshape(members, -1).sum(dim=1) for g in grads)
    scale = (max_norm / (torch.sqrt(sq) + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.reshape(members, *([1] * (g.dim() - 1))))


def _train_epoch(
    model: nn.Module,
    loss_fn: LossFn,
    data: tuple[torch.Tensor, ...],
    opt: torch.optim.Optimizer,
    params: list[nn.Parameter],
    cfg: TrainConfig,
    gen: torch.Generator,
) -> list[float]:
    model.train()
    members = n_members(model)
    n = data[0].shape[0]
    perm = torch.randperm(n, generator=gen).to(data[0].device)
    total = torch.zeros(members, device=data[0].device)
    for start in range(0, n, cfg.batch_size):
        idx = perm[start : start + cfg.batch_size]
        batch = tuple(t[idx] for t in data)
        loss = loss_fn(model, batch)
        opt.zero_grad(set_to_none=True)
        # Members share no parameter, so the gradient of the sum is each member's own.
        loss.sum().backward()
        if cfg.grad_clip is not None:
            _clip_member_grads(params, cfg.grad_clip, members)
        opt.step()
        # Accumulate on device: a .item() per batch would force a GPU sync each step.
        total += loss.detach().reshape(-1) * idx.shape[0]
    return (total.double().cpu() / n).tolist()


def _check_data(data: tuple[torch.Tensor, ...], what: str) -> None:
    if not data:
        raise ValueError(f"{what} data is an empty tuple")
    n = data[0].shape[0]
    if n == 0:
        raise ValueError(f"{what} data has no rows")
    if any(t.shape[0] != n for t in data):
        raise ValueError(f"{what} tensors disagree on the number of rows")


def fit(
    model: nn.Module,
    loss_fn: LossFn,
    train: tuple[torch.Tensor, ...],
    val: tuple[torch.Tensor, ...] | None,
    cfg: TrainConfig,
    *,
    checkpoint: str | Path | None = None,
    log: logging.Logger | None = None,
    params: Iterable[nn.Parameter] | None = None,
    on_epoch_end: Callable[[int], None] | None = None,
    keep_best: int = 1,
) -> TrainResult:
    """Train ``model`` in place, returning it on CPU in eval mode with the best epoch's weights
    (the last epoch's if not ``cfg.restore_best``).

    The best epoch is judged on ``val`` (or on the training loss if ``val`` is None).
    ``keep_best`` > 1 also keeps the weights of each member's ``keep_best`` best epochs in the
    result (CATHODE averages the predictions of a classifier's 10 best epochs).
    If ``checkpoint`` exists, training resumes from it and reproduces the uninterrupted
    run exactly on CPU; one that cannot be read or applied is set aside as ``<name>.corrupt``
    and training starts afresh (:func:`hepflows.core.checkpoints.load_or_set_aside`). The file
    is rewritten atomically after every epoch and left in
    place for the caller to delete once the final model is saved. ``on_epoch_end(epoch)``
    runs after each checkpoint write (raising from it simulates an interruption).
    """
    log = log or logging.getLogger("hepflows")
    _check_data(train, "training")
    if val is not None:
        _check_data(val, "validation")
    device = resolve_device(cfg.device)
    model.to(device)
    train = tuple(t.to(device) for t in train)
    val = tuple(t.to(device) for t in val) if val is not None else None
    params = [p for p in (model.parameters() if params is None else params) if p.requires_grad]
    if not params:
        raise ValueError("no trainable parameters")

    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    cuda_devices = [device.index or 0] if device.type == "cuda" else []

    # Dropout draws from torch's global RNG; fork it so the run is a function of cfg.seed
    # (and the checkpoint) alone, without disturbing the caller's RNG stream.
    with torch.random.fork_rng(devices=cuda_devices):
        run = _start(model, params, cfg, keep_best, ckpt_path, device, log)
        opt, sched, gen, best, history = run.opt, run.sched, run.gen, run.best, run.history
        for epoch in range(run.epoch + 1, cfg.epochs + 1):
            if best.all_stopped():
                break
            t0 = time.perf_counter()
            lr = opt.param_groups[0]["lr"]
            train_loss = _train_epoch(model, loss_fn, train, opt, params, cfg, gen)
            val_loss = _mean_loss(model, loss_fn, val, cfg.batch_size) if val is not None else None
            monitor = train_loss if val_loss is None else val_loss
            if not all(math.isfinite(m) for m in monitor):
                raise FloatingPointError(
                    f"non-finite loss at epoch {epoch}: train={train_loss} val={val_loss}"
                )
            if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                sched.step(monitor[0])
            elif sched is not None:
                sched.step()
            improved = best.update(epoch, monitor)
            seconds = time.perf_counter() - t0
            history.append(_history_row(epoch, train_loss, val_loss, lr, seconds))
            if ckpt_path is not None:
                _save_checkpoint(
                    ckpt_path,
                    {
                        "epoch": epoch,
                        "config": cfg.to_dict(),
                        "model": cpu_state(model),
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict() if sched is not None else None,
                        "generator": gen.get_state(),
                        "torch_rng": torch.get_rng_state(),
                        "cuda_rng": torch.cuda.get_rng_state(device) if cuda_devices else None,
                        "best": best.state(),
                        "history": history,
                    },
                )
            row = history[-1]
            val_txt = f" val_loss={row['val_loss']:.4f}" if val_loss is not None else ""
            log.info(
                "epoch %d/%d train_loss=%.4f%s lr=%.1e time=%.1fs%s",
                epoch,
                cfg.epochs,
                row["train_loss"],
                val_txt,
                lr,
                seconds,
                best.describe(improved),
            )
            if on_epoch_end is not None:
                on_epoch_end(epoch)

    if best.all_stopped():
        log.info("early stopping: no improvement for %d epochs", cfg.patience)
    if cfg.restore_best:
        model.load_state_dict(best.best_state)
    model.to("cpu").eval()
    top = best.top if keep_best > 1 else None
    return TrainResult(
        history=history,
        best_epochs=list(best.best_epoch),
        best_val_losses=list(best.best_loss),
        resumed_from=run.resumed_from,
        top_epochs=[[epoch for _, epoch, _ in member] for member in top] if top else None,
        top_states=[[state for _, _, state in member] for member in top] if top else None,
    )


@dataclass
class _Run:
    """The state of a training run that a checkpoint holds besides the model's weights."""

    opt: torch.optim.Optimizer
    sched: Any | None
    gen: torch.Generator  # the order of the mini-batches
    best: BestTracker
    history: list[dict[str, Any]]
    epoch: int = 0  # the last epoch done
    resumed_from: int | None = None

    @classmethod
    def fresh(
        cls, model: nn.Module, params: list[nn.Parameter], cfg: TrainConfig, keep_best: int
    ) -> _Run:
        torch.manual_seed(cfg.seed)
        opt = _make_optimizer(params, cfg)
        best = BestTracker(model, cfg, keep_best)
        return cls(
            opt, _make_scheduler(opt, cfg), torch.Generator().manual_seed(cfg.seed), best, []
        )


def _start(
    model: nn.Module,
    params: list[nn.Parameter],
    cfg: TrainConfig,
    keep_best: int,
    ckpt_path: Path | None,
    device: torch.device,
    log: logging.Logger,
) -> _Run:
    """The run resumed from the checkpoint, or a fresh one if there is none or it cannot be read
    (then it is set aside, and the run is exactly the one without a checkpoint)."""
    run = _Run.fresh(model, params, cfg, keep_best)
    if ckpt_path is None or not ckpt_path.exists():
        return run
    initial = cpu_state(model)

    def restore(path: Path) -> _Run:
        return _restore(path, model, run, cfg, device, log)

    if load_or_set_aside(ckpt_path, restore, log) is not None:
        log.info("resuming from epoch %d (%s)", run.epoch, ckpt_path)
        return run
    model.load_state_dict(initial)  # a restore that failed half way may have changed it
    return _Run.fresh(model, params, cfg, keep_best)


def _restore(
    path: Path,
    model: nn.Module,
    run: _Run,
    cfg: TrainConfig,
    device: torch.device,
    log: logging.Logger,
) -> _Run:
    """Load the checkpoint into the model and ``run``; any error means it is unusable."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["config"] != cfg.to_dict():
        log.warning("checkpoint %s was written with a different config", path)
    model.load_state_dict(state["model"])
    run.opt.load_state_dict(state["optimizer"])
    if run.sched is not None and state["scheduler"] is not None:
        run.sched.load_state_dict(state["scheduler"])
    run.gen.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    if device.type == "cuda" and state["cuda_rng"] is not None:
        torch.cuda.set_rng_state(state["cuda_rng"], device)
    run.history = state["history"]
    run.best.load_state(state["best"])
    run.epoch = run.resumed_from = state["epoch"]
    return run


def _history_row(
    epoch: int, train: list[float], val: list[float] | None, lr: float, seconds: float
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "epoch": epoch,
        "train_loss": math.fsum(train) / len(train),
        "val_loss": None if val is None else math.fsum(val) / len(val),
        "lr": lr,
        "seconds": seconds,
    }
    if len(train) > 1:
        row["member_train_loss"] = train
        row["member_val_loss"] = val
    return row


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp, open(tmp, "wb") as f:  # see models.save_model
        torch.save(state, f)
