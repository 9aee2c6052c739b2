"""Step iso_fit_holdout_mass: the holdout sample's own mass fit, the fit of iso_fit_mass on
its events: its shapes give the holdout's sWeights, its covariance their fit-draw spread."""

from __future__ import annotations

from hepflows.core.cli import StepParser, run_step
from hepflows.iso.steps import fit_mass

main = fit_mass.main


def parser() -> StepParser:
    p = fit_mass.parser()
    p.description = __doc__
    return p


if __name__ == "__main__":
    run_step(parser(), main)
