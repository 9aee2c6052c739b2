"""Step ad_discriminate: the weakly supervised SR classifier. An ensemble of classifiers, SR data
(1) vs a background template (0), scores the labelled test set. One job may train the ensembles
of several methods (``discrim.one_job_per: point``: one --template, --tag and --out each), or,
with ``--members A B``, only members A..B-1 of one ensemble, writing each one's score
(``discrim.members_per_job``; ad_merge_members averages the parts)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.ad.regions import sr_mask
from hepflows.ad.sr_classifier import write_ensemble_scores
from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    if not len(args.template) == len(args.tag) == len(args.out):
        raise ValueError(
            f"--template, --tag and --out need one entry per classifier; got "
            f"{len(args.template)}, {len(args.tag)} and {len(args.out)}"
        )
    n = params["discrim"]["ensemble"]
    members = None if args.members is None or args.members == [0, n] else tuple(args.members)
    if members is not None and (not 0 <= members[0] < members[1] <= n or len(args.template) != 1):
        raise ValueError(
            f"--members {members[0]} {members[1]}: a part of one ensemble needs one template and "
            f"0 <= A < B <= ensemble ({n})"
        )
    data = read_table(args.data)
    write_ensemble_scores(
        list(zip(args.template, args.tag, args.out, strict=True)),
        data.select(sr_mask(data, params["dataset"]["sr"])),
        args,
        params,
        log,
        members=members,
    )


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_argument("--tag", required=True, nargs="+", help="names each ensemble's random streams")
    p.add_input("--data", help="the injected data set; its SR events are the signal-like class")
    p.add_input("--template", nargs="+", help="one background template per ensemble")
    p.add_input("--test", help="the labelled SR test set")
    p.add_input("--scaler")
    p.add_argument(
        "--members",
        type=int,
        nargs=2,
        metavar=("A", "B"),
        help="train members A..B-1 only and write each one's score (0 N: the whole ensemble)",
    )
    p.add_output("--out", nargs="+", help="each ensemble's score on the test set (HDF5)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
