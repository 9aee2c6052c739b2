"""What every template method reads and writes: data and MC split into CR training, CR hold-out
and SR events, the input scaler, and the random streams of one data set.

The splits are derived from the master seed and the sample's name, so every method of one data
set trains and is checked on exactly the same events.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.ad.regions import split_indices
from hepflows.core.cli import StepParser, step_work
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import DataError, config_hash
from hepflows.core.preprocessing import InputScaler
from hepflows.core.seeding import derive_rng, derive_seed


@dataclass
class Split:
    train: EventTable
    holdout: EventTable
    sr: EventTable


@dataclass
class TemplateInputs:
    data: Split
    mc: Split
    mc_all: EventTable
    mc_sr_index: np.ndarray  # positions of MC SR events in the full MC file (for context weights)
    mc_holdout_index: np.ndarray
    scaler: InputScaler
    master_seed: int
    dataset: str
    data_seed: int


def load_inputs(
    data_path: str | Path,
    mc_path: str | Path,
    scaler_path: str | Path,
    params: Mapping[str, Any],
    dataset: str,
    data_seed: int,
) -> TemplateInputs:
    cfg, master = params["dataset"], params["seed"]
    box, frac, cap = cfg["sr"], params["holdout_fraction"], cfg.get("max_cr_train")
    data = read_table(data_path)
    mc = read_table(mc_path)
    d_idx = split_indices(
        data,
        box,
        holdout_fraction=frac,
        split_rng=derive_rng(master, dataset, "holdout", data_seed),
        max_train=cap,
        subsample_rng=derive_rng(master, dataset, "cr_subsample", data_seed),
    )
    m_idx = mc_split_indices(mc, params, dataset)
    return TemplateInputs(
        data=Split(*(data.select(i) for i in d_idx)),
        mc=Split(*(mc.select(i) for i in m_idx)),
        mc_all=mc,
        mc_sr_index=m_idx[2],
        mc_holdout_index=m_idx[1],
        scaler=InputScaler.load(scaler_path),
        master_seed=master,
        dataset=dataset,
        data_seed=data_seed,
    )


def mc_split_indices(
    mc: EventTable, params: Mapping[str, Any], dataset: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(CR train, CR held-out, SR) rows of the MC: one split per dataset, whatever the data seed,
    so that a flow trained on MC once serves every data set."""
    cfg, master = params["dataset"], params["seed"]
    return split_indices(
        mc,
        cfg["sr"],
        holdout_fraction=params["holdout_fraction"],
        split_rng=derive_rng(master, dataset, "mc_holdout"),
        max_train=cfg.get("max_cr_train"),
        subsample_rng=derive_rng(master, dataset, "mc_cr_subsample"),
    )


def read_context_weights(path: str | Path, n_mc: int) -> np.ndarray:
    """Per-MC-event context weights; their count must match the MC file."""
    table = read_table(path, columns=["weight"])
    if len(table) != n_mc:
        raise DataError(
            f"{path}: column 'weight' has {len(table)} entries, expected {n_mc} (one per MC event)"
        )
    return table.col("weight")


def template_table(
    inputs: TemplateInputs,
    context: np.ndarray,
    features: np.ndarray,
    weights: np.ndarray | None = None,
) -> EventTable:
    """A template in the dataset's column order (raw units), optionally weighted."""
    s = inputs.scaler
    return EventTable(
        np.hstack([context, features]), [*s.context_columns, *s.feature_columns], weights=weights
    )


def template_parser(doc: str | None, *, context_weights: bool) -> StepParser:
    """A step parser with the arguments every template step shares."""
    p = StepParser(doc)
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-seed", type=int, required=True)
    p.add_input("--data", help="injected data set (HDF5)")
    p.add_input("--mc", help="MC background (HDF5)")
    p.add_input("--scaler", help="input preprocessing (JSON)")
    if context_weights:
        p.add_input("--context-weights", help="per-MC-event context weights (HDF5)")
    return p


@contextlib.contextmanager
def template_job(
    args: Any, params: Mapping[str, Any], name: str, log: logging.Logger
) -> Iterator[tuple[TemplateInputs, dict[str, Any]]]:
    """A template step's inputs (its arguments from :func:`template_parser`) and the options of
    its training: the device, a checkpoint in the step's resumable work folder (gone when the
    block completes) and the log."""
    inp = load_inputs(args.data, args.mc, args.scaler, params, args.dataset, args.data_seed)
    with step_work(args, dict(params), name) as work:
        yield inp, {"device": params["device"], "checkpoint": work / "train.ckpt", "log": log}


def write_templates(
    args: Any, templates: tuple[EventTable, EventTable], inp: TemplateInputs, params: Any
) -> None:
    """The SR template to --out, the template of the held-out CR to --out-cr."""
    sr, cr = templates
    write_template(args.out, sr, inp, params)
    write_template(args.out_cr, cr, inp, params)


def seed_of(master: int, dataset: str, data_seed: int, *names: object) -> int:
    """The seed of one random stream of a template job (training, sampling, ...)."""
    return derive_seed(master, dataset, data_seed, *names)


def stream_seed(inputs: TemplateInputs, *names: object) -> int:
    return seed_of(inputs.master_seed, inputs.dataset, inputs.data_seed, *names)


def write_template(
    path: str | Path, table: EventTable, inputs: TemplateInputs, params: Mapping[str, Any]
) -> None:
    write_table(path, table, seed=inputs.data_seed, config_hash=config_hash(dict(params)))
