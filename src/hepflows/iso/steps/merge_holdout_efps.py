"""Step iso_merge_holdout_efps: the holdout sample's chunks of chosen EFP columns into one
table, checked as iso_merge_efps checks its chunks (every event once, in order)."""

from __future__ import annotations

from hepflows.core.cli import StepParser, run_step
from hepflows.iso.steps import merge_efps

main = merge_efps.main


def parser() -> StepParser:
    p = merge_efps.parser()
    p.description = __doc__
    return p


if __name__ == "__main__":
    run_step(parser(), main)
