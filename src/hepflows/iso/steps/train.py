"""Step iso_train: one cross-validation split of one model, trained on the CWoLa labels of its
four training folds with early stopping on its validation fold; it scores every event (the test
fold for the evaluation, the validation fold for the guided EFP search)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from hepflows.core.cli import StepParser, run_step, step_work
from hepflows.core.event_files import write_table
from hepflows.core.events import EventTable
from hepflows.core.io import config_hash, write_json
from hepflows.core.metrics import auc
from hepflows.iso.evaluation import read_truth
from hepflows.iso.folds import split_masks
from hepflows.iso.model_inputs import training_inputs
from hepflows.iso.models import model_spec
from hepflows.iso.training_jobs import folds_of, train_split


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    cfg, split = params["model"], args.split
    x, cwola, efps = training_inputs(cfg, args.events, args.cwola, args.efps, args.search)
    spec = model_spec(cfg["kind"], params["network"])
    with step_work(args, params, "train") as work:
        clf = train_split(
            cfg["kind"], x, cwola, split, spec=spec, seed=params["seed"],
            device=params["device"], checkpoint=work / "train.ckpt", log=log,
        )  # fmt: skip
    scores = clf.predict(x)
    masks = split_masks(folds_of(cwola), split)
    result = clf.result
    assert result is not None
    metrics = {
        "model": args.name,
        "split": split,
        "efps": efps,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "best_val_loss": result.best_val_loss,
        "history": result.history,
        # What can be measured without truth: the CWoLa labels' AUC on the validation fold.
        "val_cwola_auc": auc(cwola.labels[masks.val], scores[masks.val], cwola.weights[masks.val]),
    }
    truth = read_truth(args.events)
    if truth is not None:
        metrics["test_truth_auc"] = auc(truth[masks.test], scores[masks.test])
    log.info(
        f"{args.name} split {split}: best epoch {result.best_epoch} of {len(result.history)}, "
        f"validation CWoLa AUC {metrics['val_cwola_auc']:.4f}"
        + (
            f", test truth AUC {metrics['test_truth_auc']:.4f}"
            if "test_truth_auc" in metrics
            else ""
        )
    )
    clf.save(Path(args.model_files[0]).with_suffix(""))
    table = EventTable(scores[:, None], ["score"])
    write_table(args.scores, table, seed=params["seed"], config_hash=config_hash(params))
    write_json(args.metrics, metrics)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--name", required=True, help="the model's name (iso.models)")
    p.add_argument("--split", type=int, required=True, help="the CV split, 0..4")
    p.add_input("--events", help="the event table (iso_events)")
    p.add_input("--cwola", help="folds, labels and weights (iso_label)")
    p.add_input("--efps", nargs="*", required=False, help="merged EFP tables (cones_efps)")
    p.add_input("--search", required=False, help="the guided search's result (guided EFPs)")
    p.add_output("--model-files", nargs=2, help="the trained model: STEM.pt and STEM.json")
    p.add_output("--scores", help="the model's score of every event (HDF5)")
    p.add_output("--metrics", help="best epoch, losses, AUCs (JSON)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
