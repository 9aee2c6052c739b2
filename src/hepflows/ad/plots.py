"""Step: the summary figures of one (dataset, signal). One figure per call, so that each plot is
a file target Snakemake can rebuild alone."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np
import pandas as pd

from hepflows.core.cli import StepParser, run_step
from hepflows.core.io import read_json, read_table
from hepflows.core.plotting import (
    plot_closure_summary,
    plot_max_sic_vs_sb,
    plot_sic_vs_efficiency,
    plot_weights,
)

# One order, so every figure gives a method the same colour and legend position.
METHOD_ORDER = ("ideal", "supervised", "reweight", "generate", "morph")


def _ordered(curves: dict[str, Any]) -> dict[str, Any]:
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return dict(sorted(curves.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def max_sic(args: argparse.Namespace) -> None:
    table = pd.read_csv(args.inputs[0])
    curves: dict[str, dict[str, Any]] = {}
    for method, rows in table.groupby("method", sort=False):
        rows = rows.sort_values("injection")
        if rows["injection"].isna().all():  # supervised: independent of the injection
            curves[method] = {"sb": None, **_band(rows, "max_sic")}
        else:
            curves[method] = {"sb": rows["injection"].to_numpy(), **_band(rows, "max_sic")}
    n_bkg = float(table["n_bkg_sr"].dropna().mean())
    plot_max_sic_vs_sb(_ordered(curves), args.out[0], n_bkg_sr=n_bkg, title=args.title)


def _band(rows: pd.DataFrame, key: str) -> dict[str, np.ndarray]:
    return {stat: rows[f"{key}_{stat}"].to_numpy() for stat in ("median", "p16", "p84")}


def sic_curves(args: argparse.Namespace) -> None:
    curves = {}
    for path in args.inputs:
        ev = read_json(path)
        curves[ev["method"]] = {k: np.asarray(v, dtype=float) for k, v in ev["sic_curve"].items()}
    plot_sic_vs_efficiency(_ordered(curves), args.out[0], title=args.title)


def closure(args: argparse.Namespace) -> None:
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    rows = sorted(
        pd.read_csv(args.inputs[0]).to_dict("records"), key=lambda r: rank.get(r["method"], 99)
    )
    plot_closure_summary(rows, args.out[0], title=args.title)


def weights(args: argparse.Namespace) -> None:
    if len(args.inputs) != len(args.labels):
        raise ValueError(f"{len(args.inputs)} inputs for {len(args.labels)} labels")
    pooled: dict[str, list[np.ndarray]] = {}
    for label, path in zip(args.labels, args.inputs, strict=True):
        table = read_table(path)
        w = table.weights if table.weights is not None else table.col("weight")
        pooled.setdefault(label, []).append(w)
    plot_weights({k: np.concatenate(v) for k, v in pooled.items()}, args.out[0], title=args.title)


FIGURES = {"max_sic": max_sic, "sic_curves": sic_curves, "closure": closure, "weights": weights}


def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
    FIGURES[args.figure](args)
    log.info(f"wrote {args.out}")


def parser() -> StepParser:
    p = StepParser(__doc__)
    p.add_argument("--figure", required=True, choices=sorted(FIGURES))
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--labels", nargs="*", default=[], help="legend label per input (weights)")
    p.add_argument("--title", default="")
    p.add_output("--out", nargs="+", help="the PDF and PNG the figure is written to")
    return p


if __name__ == "__main__":
    run_step(parser(), main)
