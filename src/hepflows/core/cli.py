"""The common shell of every step module: arguments, threads, logging, clean failure.

A step is called by Snakemake as ``python -m hepflows.<analysis>.<step> --params JSON ...``.
Hyperparameters arrive through ``--params`` (so Snakemake sees them and reruns on change);
inputs and outputs are plain paths. On any failure the outputs the step declared are removed,
so an interrupted or failed job never leaves a file that looks complete, and the user gets one
line naming what was wrong.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hepflows.core.io import DataError
from hepflows.core.runtime import configure_threads, setup_logging

StepMain = Callable[[argparse.Namespace, dict[str, Any], logging.Logger], None]


class StepParser(argparse.ArgumentParser):
    """ArgumentParser that knows which of its arguments are outputs."""

    def __init__(self, description: str) -> None:
        super().__init__(description=description)
        self.output_dests: list[str] = []
        self.add_argument("--params", default="{}", help="hyperparameters as a JSON object")
        self.add_argument("--threads", type=int, default=1, help="CPU threads this job may use")
        self.add_argument("--log", default=None, help="log file (appended)")

    def add_output(self, *flags: str, **kwargs: Any) -> None:
        action = self.add_argument(*flags, required=True, **kwargs)
        self.output_dests.append(action.dest)


def _declared_outputs(parser: StepParser, args: argparse.Namespace) -> list[Path]:
    paths: list[Path] = []
    for dest in parser.output_dests:
        value = getattr(args, dest)
        values = value if isinstance(value, list) else [value]
        paths.extend(Path(v) for v in values if v)
    return paths


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
    outputs = _declared_outputs(parser, args)
    try:
        main(args, params, log)
    except (DataError, ValueError, KeyError, FileNotFoundError) as err:
        _remove(outputs)
        message = f"{parser.prog}: error: {err}".splitlines()[0]
        log.error(message)
        sys.exit(1)
    except BaseException:
        _remove(outputs)
        raise


def _remove(paths: list[Path]) -> None:
    for path in paths:
        if path.is_file():
            path.unlink()
