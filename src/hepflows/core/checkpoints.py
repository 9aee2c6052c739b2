"""Resumable work of a job: one folder beside the job's outputs that survives a kill.

Training saves its checkpoint there every epoch; a step that trains several models keeps each
finished one there. The folder is keyed by the job's hyperparameters and its input files (size
and modification time, as Snakemake sees them), so a rerun with the same config and inputs
resumes, while a changed config or a regenerated input starts afresh. When the work completes
the folder goes, together with folders that killed runs with other keys left behind.

A file in it that cannot be read (truncated by a full disk or a crashed machine, overwritten by
hand) is set aside, never deleted and never fatal: see :func:`load_or_set_aside`.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from hepflows.core.io import PathLike, _one_line, resume_key

__all__ = ["CORRUPT_SUFFIX", "WORK_DIR", "keep_finished", "load_or_set_aside", "resumable"]

WORK_DIR = "checkpoints"  # the folder, beside the outputs, that holds every job's work
CORRUPT_SUFFIX = ".corrupt"  # appended to the name of a checkpoint that could not be read
_REASON_CHARS = 200  # torch's messages run to paragraphs; the log line keeps their start

T = TypeVar("T")


def load_or_set_aside(path: Path, load: Callable[[Path], T], log: logging.Logger) -> T | None:
    """What ``load`` makes of the checkpoint at ``path``; None if there is none, or if it cannot
    be read: then it is logged (path and reason) and renamed ``<name>.corrupt`` beside it, and the
    caller starts afresh.

    A checkpoint only saves time, so any failure to read or apply it (``load`` may apply it and
    must then leave the caller able to start over) is worth a fresh start rather than a job that
    fails on every rerun; an interrupt still propagates. In a :func:`resumable` folder the set-aside
    file goes with the folder once the job succeeds, and stays for inspection while it does not.
    """
    if not path.exists():
        return None
    try:
        return load(path)
    except Exception as exc:  # torch, numpy and h5py raise many types for a broken file
        aside = path.with_name(path.name + CORRUPT_SUFFIX)
        os.replace(path, aside)
        detail = _one_line(exc)
        reason = type(exc).__name__ + (f": {detail}" if detail != type(exc).__name__ else "")
        reason = reason[:_REASON_CHARS]
        log.warning(f"{path}: cannot be read ({reason}); moved to {aside}, starting afresh")
        return None


def keep_finished(path: Path, values: np.ndarray, checkpoint: Path | None = None) -> None:
    """Keep one finished piece of a job's work (an ensemble member's or a replica's scores) in
    its work folder, written atomically so a kill never leaves half a file, and drop the
    training checkpoint it no longer needs."""
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, values)
    tmp.replace(path)
    if checkpoint is not None and checkpoint.exists():
        checkpoint.unlink()


@contextlib.contextmanager
def resumable(
    name: str, params: Any, inputs: Sequence[PathLike], beside: PathLike
) -> Iterator[Path]:
    """Yield the work folder ``<dir of beside>/checkpoints/<name>-<file name of beside>-<key>/``
    (created if needed).

    It is removed only when the block finishes without an exception: an interrupted or failed
    job leaves it for the next attempt. With it go the folders of the same job (name and output)
    that runs with other keys left; the output's file name keeps apart the jobs that write
    beside each other (blocks of bootstrap replicas) and may run at the same time.
    """
    beside = Path(beside)
    root = beside.parent / WORK_DIR
    job = f"{name}-{beside.name}"
    work = root / f"{job}-{resume_key(params, [str(p) for p in inputs])}"
    work.mkdir(parents=True, exist_ok=True)
    yield work
    for folder in root.glob(f"{glob.escape(job)}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        root.rmdir()  # only when no other job's work is left in it
