"""Step ad_plot_weights: the per-event weights of the weighted SR templates at one injection,
pooled over data seeds per method (plots/weights_s<S/B>.pdf and .png)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from hepflows.ad.figures import plot_weights
from hepflows.core.cli import StepParser, figure_parser, run_step
from hepflows.core.event_files import read_table


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    if len(args.templates) != len(args.labels):
        raise ValueError(f"{len(args.templates)} templates for {len(args.labels)} labels")
    pooled: dict[str, list[np.ndarray]] = {}
    for label, path in zip(args.labels, args.templates, strict=True):
        table = read_table(path)
        if table.weights is None:
            raise ValueError(f"{path}: the template has no weights to plot")
        pooled.setdefault(label, []).append(table.weights)
    plot_weights({k: np.concatenate(v) for k, v in pooled.items()}, args.out[0], title=args.title)
    log.info(f"wrote {args.out}")


def parser() -> StepParser:
    p = figure_parser(__doc__, "--templates", "weighted SR templates", nargs="+")
    p.add_argument("--labels", nargs="+", required=True, help="legend label per template")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
