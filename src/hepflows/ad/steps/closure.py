"""Step ad_closure: the closure of one template. Classifiers template vs truth on held-out CR
events (truth = held-out CR data) and in the SR (truth = the independent reference background),
scored out of fold; plus ratio-to-truth plots for every column."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from hepflows.ad.closure_checks import closure_aucs, closure_regions, closure_seed, ratio_panels
from hepflows.ad.datasets import SPECS
from hepflows.ad.names import DATASET_NAMES, method_name
from hepflows.core.cli import StepParser, run_step
from hepflows.core.event_files import read_table
from hepflows.core.io import write_json
from hepflows.core.plotting import plot_ratio_grid
from hepflows.core.preprocessing import InputScaler

# The truth a template is compared with, by region (hepflows.ad.closure_checks.closure_regions).
TRUTH_NAMES = {"CR": "held-out CR data", "SR": "SR background"}


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    scaler = InputScaler.load(args.scaler)
    seed = closure_seed(params, args.dataset, args.data_seed, args.method)
    regions = closure_regions(
        read_table(args.data),
        read_table(args.template),
        read_table(args.template_cr),
        read_table(args.reference),
        params,
        args.dataset,
        args.data_seed,
        seed,
    )
    result = closure_aucs(regions, scaler, params, seed, log)
    write_json(args.out, {"method": args.method, "data_seed": args.data_seed, **result})
    name = method_name(args.method)
    for region, (template, truth) in regions.items():
        reference = TRUTH_NAMES.get(region, "truth")
        plot_ratio_grid(
            ratio_panels(template, truth, scaler, args.dataset, (reference, f"{name} template")),
            reference,
            Path(args.out).parent / f"ratios_{region}.pdf",
            title=f"{DATASET_NAMES.get(args.dataset, args.dataset)}: {region} closure of the "
            f"{name} template, data seed {args.data_seed}",
        )


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--dataset", required=True, choices=sorted(SPECS))
    p.add_argument("--method", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_input("--data")
    p.add_input("--template", help="SR template")
    p.add_input("--template-cr", help="template of the held-out CR")
    p.add_input("--reference", help="independent SR background (truth)")
    p.add_input("--scaler")
    p.add_output("--out", help="closure AUCs (JSON)")
    p.add_output("--out-plots", nargs="+", help="ratio plots this step draws (for clean-up)")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
