"""Process-level setup shared by every workflow script: threads, device, seeds, logging."""

from __future__ import annotations

import logging
import os
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    import torch

_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

# threadpool_limits restores the old limits when garbage-collected, so keep it referenced.
_blas_limiter: threadpool_limits | None = None


def configure_threads(n: int) -> None:
    """Pin torch, BLAS/OpenMP and child processes to ``n`` threads.

    Snakemake gives each job a core budget; without this, torch and numpy each spawn
    one thread per machine core and parallel jobs oversubscribe the CPU.
    """
    global _blas_limiter
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    for var in _THREAD_ENV_VARS:
        os.environ[var] = str(n)
    # Steps that never train do not pay for importing torch; one imported later reads the
    # environment set above.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            # Only settable before the first parallel op; later calls keep the existing pool.
            pass
    _blas_limiter = threadpool_limits(limits=n)


def resolve_device(name: str) -> torch.device:
    """Turn a config string into a device, failing early rather than mid-training."""
    import torch

    name = name.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {name!r} requested but CUDA is not available on this machine; "
                "use device: auto or cpu"
            )
        return torch.device(name)
    raise ValueError(f"unknown device {name!r}; expected 'auto', 'cpu' or 'cuda[:N]'")


def seed_everything(seed: int) -> None:
    """Seed global RNGs for third-party code that does not take an explicit generator."""
    import torch

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - legacy global state used by some libraries
    torch.manual_seed(seed)


_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def setup_logging(log_path: str | Path | None, name: str = "hepflows") -> logging.Logger:
    """Log to stderr and (appending) to the rule's log file, so Snakemake keeps both.

    Idempotent: calling again replaces the handlers instead of duplicating lines.
    """
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    formatter = logging.Formatter(_FORMAT)
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(formatter)
    logger.addHandler(stream)
    if log_path is not None:
        path = Path(log_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, mode="a", encoding="utf-8")
        file_handler.setFormatter(formatter)
        logger.addHandler(file_handler)
    return logger
