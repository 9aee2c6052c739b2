"""Resumable work of a job: one folder beside the job's outputs that survives a kill.

Training saves its checkpoint there every epoch; a step that trains several models keeps each
finished one there. The folder is keyed by the job's hyperparameters and its input files (size
and modification time, as Snakemake sees them), so a rerun with the same config and inputs
resumes, while a changed config or a regenerated input starts afresh. When the work completes
the folder goes, together with folders that killed runs with other keys left behind.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hepflows.core.io import PathLike, resume_key

__all__ = ["WORK_DIR", "resumable"]

WORK_DIR = "checkpoints"  # the folder, beside the outputs, that holds every job's work


@contextlib.contextmanager
def resumable(
    name: str, params: Any, inputs: Sequence[PathLike], beside: PathLike
) -> Iterator[Path]:
    """Yield the work folder ``<dir of beside>/checkpoints/<name>-<key>/`` (created if needed).

    It is removed only when the block finishes without an exception: an interrupted or failed
    job leaves it for the next attempt.
    """
    root = Path(beside).parent / WORK_DIR
    work = root / f"{name}-{resume_key(params, [str(p) for p in inputs])}"
    work.mkdir(parents=True, exist_ok=True)
    yield work
    for folder in root.glob(f"{name}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        root.rmdir()  # only when no other job's work is left in it
