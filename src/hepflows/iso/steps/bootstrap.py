"""Step iso_bootstrap: a block of a model's bootstrap replicas (``--part`` of
``bootstrap.replicas`` in blocks of ``bootstrap.per_job``): each resamples the training pool
within each label, trains for the epoch count of the model's cross-validation and scores the
test fold and, if given, the synthetic holdout sample."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import StepParser, run_step, step_work
from hepflows.core.event_files import write_table
from hepflows.core.events import EventTable
from hepflows.core.io import config_hash, read_json
from hepflows.iso.bootstrap import job_replicas
from hepflows.iso.model_inputs import SampleScorer, training_inputs
from hepflows.iso.models import model_spec
from hepflows.iso.training_jobs import bootstrap_scores


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    cfg, boot = params["model"], params["bootstrap"]
    replicas = job_replicas(args.part, boot["replicas"], boot["per_job"])
    x, cwola, efps = training_inputs(cfg, args.events, args.cwola, args.efps, args.search)
    if (args.holdout_events is None) != (args.holdout_out is None):
        raise ValueError("--holdout-events and --holdout-out go together")
    holdout = None
    if args.holdout_events:
        holdout = SampleScorer(cfg, args.holdout_events, args.holdout_efps or (), efps)
    epochs = read_json(args.cv_summary, ("epochs",), "a CV summary")["epochs"]
    log.info(f"{args.name}: replicas {replicas.start}..{replicas.stop - 1}, {epochs} epochs each")
    with step_work(args, params, "bootstrap") as work:
        scores = bootstrap_scores(
            cfg["kind"], x, cwola, replicas, epochs=epochs,
            spec=model_spec(cfg["kind"], params["network"]), seed=params["seed"],
            device=params["device"], work_dir=work, log=log, holdout=holdout,
        )  # fmt: skip
    names = [f"replica_{b}" for b in replicas]
    outputs = [(args.out, scores.test), (args.holdout_out, scores.holdout)]
    for path, values in outputs:
        if path is not None:
            table = EventTable(values.T, names)
            write_table(path, table, seed=params["seed"], config_hash=config_hash(params))


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--name", required=True, help="the model's name")
    p.add_argument("--part", type=int, required=True, help="the block of replicas")
    p.add_input("--events", help="the event table (iso_events)")
    p.add_input("--cwola", help="folds, labels and weights (iso_label)")
    p.add_input("--cv-summary", help="the model's CV summary (its epoch count)")
    p.add_input("--efps", nargs="*", required=False, help="merged EFP tables (cones_efps)")
    p.add_input("--search", required=False, help="the guided search's result (guided EFPs)")
    p.add_input("--holdout-events", required=False, help="the holdout sample (synthetic only)")
    p.add_input("--holdout-efps", nargs="*", required=False,
                help="the holdout sample's EFPs of the model (cones_efps)")  # fmt: skip
    p.add_output("--out", help="the replicas' scores of the test-fold events (HDF5)")
    p.add_output("--holdout-out", required=False, help="their scores of the holdout sample")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
