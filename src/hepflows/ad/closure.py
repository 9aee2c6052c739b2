"""Step: closure of one template. Classifiers template vs truth on held-out CR events (truth =
held-out CR data) and in the SR (truth = the independent reference background), scored out of
fold; plus ratio-to-truth plots for every column."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.ad.discrimination import out_of_fold_closure_aucs
from hepflows.ad.generators import SPECS
from hepflows.ad.inputs import InputScaler
from hepflows.ad.regions import split_indices
from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import EventTable, read_table, write_json
from hepflows.core.metrics import percentile_band
from hepflows.core.plotting import plot_ratio_grid
from hepflows.core.seeding import derive_rng, derive_seed


def _cap(table: EventTable, n: int, seed: int) -> EventTable:
    if len(table) <= n:
        return table
    return table.select(derive_rng(seed, "cap").choice(len(table), size=n, replace=False))


def axis_label(dataset: str, column: str) -> str:
    spec = SPECS[dataset]
    unit = spec.units.get(column, "")
    return spec.labels.get(column, column) + (f" [{unit}]" if unit else "")


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    cfg, master, closure = params["dataset"], params["seed"], params["closure"]
    scaler = InputScaler.load(args.scaler)
    data = read_table(args.data)
    _, held, _ = split_indices(
        data,
        cfg["sr"],
        holdout_fraction=params["holdout_fraction"],
        split_rng=derive_rng(master, args.dataset, "holdout", args.data_seed),
    )
    seed = derive_seed(master, args.dataset, args.data_seed, "closure", args.method)
    cap = closure["max_events"]
    regions = {
        "CR": (
            _cap(read_table(args.template_cr), cap, seed),
            _cap(data.select(held), cap, seed + 1),
        ),
        "SR": (
            _cap(read_table(args.template), cap, seed + 2),
            _cap(read_table(args.reference), cap, seed + 3),
        ),
    }
    result: dict[str, Any] = {"method": args.method, "data_seed": args.data_seed}
    for region, (template, truth) in regions.items():
        aucs = out_of_fold_closure_aucs(
            scaler.both(template),
            template.weights,
            scaler.both(truth),
            None,
            closure["classifier"],
            n_folds=closure["folds"],
            seed=seed,
            device=params["device"],
            log=log,
        )
        median, p16, p84 = percentile_band(aucs)
        result[region] = {
            "aucs": aucs,
            "median": median,
            "p16": p16,
            "p84": p84,
            "n_template": len(template),
            "n_truth": len(truth),
        }
        log.info(f"{region} closure AUC {median:.4f} [{p16:.4f}, {p84:.4f}]")
    write_json(args.out, result)

    for region, (template, truth) in regions.items():
        panels = [
            {
                "hists": {
                    "truth": (truth.col(column), None),
                    f"{args.method} template": (template.col(column), template.weights),
                },
                "xlabel": axis_label(args.dataset, column),
                "range": _display_range(truth.col(column)),
            }
            for column in scaler.context_columns + scaler.feature_columns
        ]
        out = Path(args.out).parent / f"ratios_{region}.pdf"
        plot_ratio_grid(
            panels, "truth", out, title=f"{args.dataset}: {region} closure, {args.method}"
        )


def _display_range(values) -> tuple[float, float]:
    """Central 99.8% of the truth, so heavy tails do not squeeze the bulk into one bin."""
    lo, hi = np.quantile(values, [0.001, 0.999])
    return float(lo), float(hi)


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True, choices=sorted(SPECS))
    p.add_argument("--method", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--template", required=True, help="SR template")
    p.add_argument("--template-cr", required=True, help="template of the held-out CR")
    p.add_argument("--reference", required=True, help="independent SR background (truth)")
    p.add_argument("--scaler", required=True)
    p.add_output("--out", help="closure AUCs (JSON)")
    p.add_output("--out-plots", nargs="+", help="ratio plots this step draws (for clean-up)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
