"""The common shell of every step module: arguments, threads, logging, clean failure, resume.

A step is called by Snakemake as ``python -m hepflows.<analysis>.steps.<verb> --params JSON ...``.
Hyperparameters arrive through ``--params`` (so Snakemake sees them and reruns on change);
inputs and outputs are plain paths, declared with :meth:`StepParser.add_input` and
:meth:`StepParser.add_output`. On a bad input the step removes the outputs it declared, so a
failed job never leaves a file that looks complete, and the user gets one line naming what was
wrong; any other error is written to the rule's log with its traceback before the job fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hepflows.core.checkpoints import resumable
from hepflows.core.io import DataError, remove_stale_temps
from hepflows.core.runtime import configure_threads, setup_logging

StepMain = Callable[[argparse.Namespace, dict[str, Any], logging.Logger], None]


class StepParser(argparse.ArgumentParser):
    """ArgumentParser that knows which of its arguments are inputs and which are outputs."""

    def __init__(self, description: str | None) -> None:
        super().__init__(description=description)
        self.input_dests: list[str] = []
        self.output_dests: list[str] = []
        self.add_argument("--params", default="{}", help="hyperparameters as a JSON object")
        self.add_argument("--threads", type=int, default=1, help="CPU threads this job may use")
        self.add_argument("--log", default=None, help="log file (appended)")

    def add_input(self, *flags: str, **kwargs: Any) -> None:
        """An input file (or files): part of the key of the step's resumable work."""
        kwargs.setdefault("required", True)
        action = self.add_argument(*flags, **kwargs)
        self.input_dests.append(action.dest)

    def add_output(self, *flags: str, **kwargs: Any) -> None:
        """An output file (or files): removed when the step fails (``required=False``: an
        optional one, removed only when given)."""
        kwargs.setdefault("required", True)
        action = self.add_argument(*flags, **kwargs)
        self.output_dests.append(action.dest)


def figure_parser(doc: str | None, flag: str, help: str, *, nargs: str | None = None) -> StepParser:
    """The arguments of a step that draws one figure: its input(s), a title, the PDF and PNG."""
    p = StepParser(doc)
    p.add_input(flag, nargs=nargs, help=help)
    p.add_argument("--title", default="", help="the figure's title")
    p.add_output("--out", nargs="+", help="the PDF and PNG the figure is written to")
    return p


def _paths(args: argparse.Namespace, dests: list[str]) -> list[Path]:
    paths: list[Path] = []
    for dest in dests:
        value = getattr(args, dest)
        values = value if isinstance(value, list) else [value]
        paths.extend(Path(v) for v in values if v)
    return paths


@contextlib.contextmanager
def step_work(args: argparse.Namespace, params: dict[str, Any], name: str) -> Iterator[Path]:
    """The step's resumable work folder, beside its first output and keyed by its params and
    every input it declared (see :func:`hepflows.core.checkpoints.resumable`)."""
    with resumable(name, params, args.step_inputs, args.step_outputs[0]) as work:
        yield work


def run_step(parser: StepParser, main: StepMain, argv: list[str] | None = None) -> None:
    """Parse arguments, pin threads, run ``main`` and turn failures into one clear line."""
    args = parser.parse_args(argv)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as err:
        parser.error(f"--params is not valid JSON: {err}")
    if not isinstance(params, dict):
        parser.error("--params must be a JSON object")
    configure_threads(args.threads)
    log = setup_logging(args.log, name=parser.prog)
    args.step_inputs = _paths(args, parser.input_dests)
    args.step_outputs = outputs = _paths(args, parser.output_dests)
    stale = sum(remove_stale_temps(p) for p in outputs)
    if stale:
        log.info(f"removed {stale} temp file(s) of these outputs that a killed run left")
    try:
        main(args, params, log)
    except (DataError, ValueError, KeyError, FileNotFoundError) as err:
        _remove(outputs)
        message = f"{parser.prog}: error: {err}".splitlines()[0]
        log.error(message)
        sys.exit(1)
    except Exception:
        _remove(outputs)
        log.exception(f"{parser.prog}: unexpected error")
        raise
    except BaseException:  # interrupted: the work folder keeps what a rerun resumes from
        _remove(outputs)
        raise


def _remove(paths: list[Path]) -> None:
    for path in paths:
        if path.is_file():
            path.unlink()
