"""Step iso_plot_isolation: the relative isolation of prompt and non-prompt muons in one cone,
separated by the mass fit's sWeights (what the data say) or by the truth (synthetic events)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from hepflows.core.cli import figure_parser, run_step
from hepflows.core.event_files import read_table
from hepflows.core.io import DataError, read_json
from hepflows.iso.columns import ISO_COLUMNS, ISO_RADII, TRUTH_COLUMN
from hepflows.iso.figures import plot_isolation
from hepflows.iso.mass_fit import fit_from_dict
from hepflows.iso.splot import sweights


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    matches = [i for i, r in enumerate(ISO_RADII) if abs(r - args.radius) < 1e-6]
    if not matches:
        raise ValueError(f"--radius {args.radius}: not an isolation radius ({ISO_RADII.tolist()})")
    column = ISO_COLUMNS[matches[0]]
    events = read_table(args.events, particles=False)
    iso = events.col(column)
    if args.separation == "truth":
        if TRUTH_COLUMN not in events.columns:
            raise DataError(f"{args.events}: no truth column {TRUTH_COLUMN!r} (real data)")
        prompt = events.col(TRUTH_COLUMN) == 1
        plot_isolation(iso[prompt], iso[~prompt], args.radius, args.out[0], title=args.title)
        return
    w = sweights(events.col("mass"), fit_from_dict(read_json(args.fit), str(args.fit)))
    plot_isolation(iso, iso, args.radius, args.out[0], weights_prompt=w.prompt,
                   weights_nonprompt=w.nonprompt, weight_label="sWeights",
                   title=args.title)  # fmt: skip


def parser():
    p = figure_parser(__doc__, "--events", "the event table (iso_events)")
    p.add_input("--fit", help="the mass fit (iso_fit_mass)")
    p.add_argument("--radius", type=float, required=True, help="the cone radius")
    p.add_argument("--separation", choices=("splot", "truth"), required=True)
    return p


if __name__ == "__main__":
    run_step(parser(), main)
