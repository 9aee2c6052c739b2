"""Step ad_make_signal_pool: the SR signal sample the fully supervised classifier trains on,
independent of every data set."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.samples import sample_parser, signal_pool, write_sample
from hepflows.core.cli import StepParser, run_step


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    write_sample(signal_pool, args, params, log)


def parser() -> StepParser:
    return sample_parser(__doc__)


if __name__ == "__main__":
    run_step(parser(), main)
