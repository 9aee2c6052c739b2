"""Step iso_label: the CWoLa labels (label 1 = opposite-sign in the Z window), the training
weights (same-sign events reweighted to opposite-sign in (eta, pT), the minority label scaled
up) and each event's cross-validation fold (6 folds stratified by label, fold 0 the test set)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import config_hash
from hepflows.iso.columns import EVENT_COLUMNS
from hepflows.iso.cwola import cwola_table
from hepflows.iso.folds import assign_folds


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    events = read_table(args.events, columns=list(EVENT_COLUMNS), particles=False)
    labelled = cwola_table(events)
    folds = assign_folds(labelled.labels, params["seed"])
    out = EventTable(
        folds[:, None].astype(np.float64), ["fold"], weights=labelled.weights,
        labels=labelled.labels,
    )  # fmt: skip
    share = labelled.labels.mean()
    log.info(f"{len(out)} events, {share:.1%} with label 1; fold sizes {np.bincount(folds)}")
    write_table(args.out, out, seed=params["seed"], config_hash=config_hash(params))


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_input("--events", help="the event table (iso_events)")
    p.add_output("--out", help="fold, CWoLa label and weight per event (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
