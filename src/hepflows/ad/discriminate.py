"""Step: SR discrimination. An ensemble of classifiers, SR data (1) vs background template (0),
scores the labelled test set. With ``--supervised`` the signal-like class is the truth signal
sample instead of data (the fully supervised upper bound)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from hepflows.ad.discrimination import clean_template_weights, train_ensemble_scores
from hepflows.ad.inputs import InputScaler
from hepflows.ad.regions import sr_mask
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import EventTable, config_hash, read_table, write_table
from hepflows.core.seeding import derive_seed


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    cfg, master, discrim = params["dataset"], params["seed"], params["discrim"]
    scaler = InputScaler.load(args.scaler)
    positives = read_table(args.positives)
    if not args.supervised:
        positives = positives.select(sr_mask(positives, cfg["sr"]))
    template = read_table(args.template)
    test = read_table(args.test, require_labels=True)
    keep, weights = clean_template_weights(
        template.weights, len(template), len(positives), discrim["weight_sigma_cut"]
    )
    log.info(
        f"{len(positives)} {'signal' if args.supervised else 'SR data'} events vs "
        f"{int(keep.sum())} template events ({int((~keep).sum())} dropped by the weight cut)"
    )
    n = discrim["ensemble"]
    seeds = [
        derive_seed(master, args.dataset, args.data_seed, args.tag, "member", k) for k in range(n)
    ]
    work = Path(args.out).parent / f"checkpoints-{config_hash(params)}"
    work.mkdir(parents=True, exist_ok=True)
    score = train_ensemble_scores(
        scaler.feat(positives),
        scaler.feat(template.select(keep)),
        weights,
        scaler.feat(test),
        discrim["classifier"],
        n_members=n,
        seeds=seeds,
        device=params["device"],
        work_dir=work,
        log=log,
    )
    table = EventTable(score[:, None], ["score"], labels=test.labels)
    write_table(args.out, table, seed=args.data_seed, config_hash=config_hash(params))
    for f in work.iterdir():
        f.unlink()
    work.rmdir()


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_argument("--tag", required=True, help="names this classifier's random streams")
    p.add_argument(
        "--positives", required=True, help="SR data, or the signal sample with --supervised"
    )
    p.add_argument("--supervised", action="store_true")
    p.add_argument("--template", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--scaler", required=True)
    p.add_output("--out", help="ensemble score on the test set (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
