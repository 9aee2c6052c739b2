"""Step iso_search_efps: the guided EFP search (:mod:`hepflows.iso.guided_search`) on CV split
0: EFPs added one at a time to the start model's cones, each the one that best repairs the
pairs the current model orders unlike the reference PFN."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import StepParser, run_step, step_work
from hepflows.core.event_files import read_table
from hepflows.core.io import read_json, write_json
from hepflows.iso.ado import StopRule
from hepflows.iso.evaluation import read_test_fold
from hepflows.iso.guided_search import guided_search
from hepflows.iso.mass_fit import fit_from_dict
from hepflows.iso.models import cone_columns


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    search, n_cones = params["search"], params["n_cones"]
    events = read_table(args.events, columns=["mass", *cone_columns(n_cones)], particles=False)
    cwola = read_table(args.cwola, require_labels=True, require_weights=True)
    fit = fit_from_dict(read_json(args.fit), str(args.fit))
    f_ref = read_table(args.reference, columns=["score"]).col("score")
    f_start = read_table(args.start, columns=["score"]).col("score")
    stop = StopRule(target_auc=search["target_auc"], max_iterations=search["max_iterations"])
    with step_work(args, params, "search_efps") as work:
        result = guided_search(
            events, cwola, args.efps, f_ref=f_ref, f_start=f_start, n_cones=n_cones,
            network=params["network"], fit=fit, test=read_test_fold(args.events, args.cwola),
            n_pairs=search["pairs"], stop=stop, seed=params["seed"], device=params["device"],
            work_dir=work, log=log,
        )  # fmt: skip
    result.update(reference=search["reference"], start_model=search["start"], n_cones=n_cones)
    write_json(args.out, result)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_input("--events", help="the event table (iso_events)")
    p.add_input("--cwola", help="folds, labels and weights (iso_label)")
    p.add_input("--efps", nargs="+", help="every merged EFP table (the candidates)")
    p.add_input("--reference", help="the reference PFN's scores of CV split 0 (iso_train)")
    p.add_input("--start", help="the start model's scores of CV split 0 (iso_train)")
    p.add_input("--fit", help="the mass fit (iso_fit_mass)")
    p.add_output("--out", help="the trajectory and the chosen EFPs (JSON)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
