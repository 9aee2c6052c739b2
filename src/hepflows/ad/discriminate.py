"""Step: SR discrimination. An ensemble of classifiers, SR data (1) vs background template (0),
scores the labelled test set. With ``--supervised`` the signal-like class is the truth signal
sample instead of data (the fully supervised upper bound). With ``--members A B`` the job trains
only members A..B-1 of the ensemble and writes each one's score (hepflows.ad.merge_members
averages the parts; discrim.members_per_job)."""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path
from typing import Any

from hepflows.ad.discrimination import (
    clean_template_weights,
    member_columns,
    train_member_scores,
)
from hepflows.ad.inputs import InputScaler
from hepflows.ad.regions import sr_mask
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import EventTable, config_hash, read_table, resume_key, write_table
from hepflows.core.seeding import derive_seed


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    if not len(args.template) == len(args.tag) == len(args.out):
        raise ValueError(
            f"--template, --tag and --out need one entry per classifier; got "
            f"{len(args.template)}, {len(args.tag)} and {len(args.out)}"
        )
    if args.members is not None:
        start, stop = args.members
        n = params["discrim"]["ensemble"]
        if not 0 <= start < stop <= n or len(args.template) != 1:
            raise ValueError(
                f"--members {start} {stop}: needs one template and 0 <= A < B <= ensemble ({n})"
            )
    cfg = params["dataset"]
    scaler = InputScaler.load(args.scaler)
    positives = read_table(args.positives)
    if not args.supervised:
        positives = positives.select(sr_mask(positives, cfg["sr"]))
    test = read_table(args.test, require_labels=True)
    # One job may train the ensembles of several methods (discrim.one_job_per: point). Each
    # finished one is kept in its work folder, so a killed job resumes with the next method:
    # Snakemake deletes all outputs of an incomplete job, not the work folders.
    finished = []
    for template_path, tag, out in zip(args.template, args.tag, args.out, strict=True):
        inputs = [args.positives, template_path, args.test, args.scaler]
        work = Path(out).parent / f"checkpoints-{resume_key(params, inputs)}"
        done = work / "scores.h5"
        if done.exists():
            log.info(f"{tag}: reusing the finished ensemble in {work}")
        else:
            template = read_table(template_path)
            work.mkdir(parents=True, exist_ok=True)
            table = _ensemble_scores(
                args, params, tag, positives, template, test, scaler, work, log
            )
            write_table(done, table, seed=args.data_seed, config_hash=config_hash(params))
        finished.append((done, Path(out)))
    for done, out in finished:
        done.replace(out)
        # This work folder and any left by killed runs with other settings or inputs.
        for work in out.parent.glob("checkpoints-*"):
            shutil.rmtree(work)


def _ensemble_scores(
    args: argparse.Namespace,
    params: dict[str, Any],
    tag: str,
    positives: EventTable,
    template: EventTable,
    test: EventTable,
    scaler: InputScaler,
    work: Path,
    log: logging.Logger,
) -> EventTable:
    """The mean score of one ensemble (signal-like vs one template) on the test set."""
    discrim = params["discrim"]
    # A dataset may set its own cut (lhco: none, see config.yaml); null there means no cut.
    cut = params["dataset"].get("weight_sigma_cut", discrim["weight_sigma_cut"])
    keep, weights = clean_template_weights(template.weights, len(template), len(positives), cut)
    log.info(
        f"{tag}: {len(positives)} {'signal' if args.supervised else 'SR data'} events vs "
        f"{int(keep.sum())} template events ({int((~keep).sum())} dropped by the weight cut)"
    )
    n = discrim["ensemble"]
    seeds = [
        derive_seed(params["seed"], args.dataset, args.data_seed, tag, "member", k)
        for k in range(n)
    ]
    start, stop = args.members if args.members is not None else (0, n)
    # The whole ensemble's batch order: a part's members train exactly as in one job.
    scores = train_member_scores(
        scaler.feat(positives),
        scaler.feat(template.select(keep)),
        weights,
        scaler.feat(test),
        discrim["classifier"],
        n_members=stop - start,
        seeds=seeds[start:stop],
        device=params["device"],
        work_dir=work,
        log=log,
        average_epochs=discrim["average_epochs"],
        batch_seed=seeds[0],
    )
    if args.members is None:
        return EventTable(scores.mean(axis=0)[:, None], ["score"], labels=test.labels)
    return EventTable(scores.T, member_columns(start, stop), labels=test.labels)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_argument("--tag", required=True, nargs="+", help="names each ensemble's random streams")
    p.add_argument(
        "--positives", required=True, help="SR data, or the signal sample with --supervised"
    )
    p.add_argument("--supervised", action="store_true")
    p.add_argument("--template", required=True, nargs="+", help="one per ensemble")
    p.add_argument("--test", required=True)
    p.add_argument("--scaler", required=True)
    p.add_argument(
        "--members",
        type=int,
        nargs=2,
        metavar=("A", "B"),
        help="train members A..B-1 only and write each one's score",
    )
    p.add_output("--out", nargs="+", help="each ensemble's score on the test set (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
