"""Step ad_make_testset: the labelled SR test set (signal and background) on which every method
is scored."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.samples import sample_parser, test_set, write_sample
from hepflows.core.cli import StepParser, run_step


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    write_sample(test_set, args, params, log)


def parser() -> StepParser:
    return sample_parser(__doc__)


if __name__ == "__main__":
    run_step(parser(), main)
