"""What each model of the comparison sees, read from the workflow's files: the cone columns of
the event table, chosen EFP columns from the merged EFP tables, or the particles. Steps that
train or score a model (cross-validation, bootstrap, the guided search) read it all alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from hepflows.core.event_files import read_table, table_columns
from hepflows.core.events import EventTable
from hepflows.core.io import DataError, PathLike, read_json
from hepflows.core.particle_flow import ParticleInputs
from hepflows.iso.columns import EVENT_COLUMNS
from hepflows.iso.models import cone_columns, cone_inputs, efp_inputs, particle_inputs

__all__ = [
    "TrainingInputs",
    "chosen_efps",
    "efp_matrix",
    "model_inputs",
    "SampleScorer",
    "training_inputs",
]

SCORE_CHUNK = 200_000  # events read and scored at a time by SampleScorer


def efp_matrix(
    columns: Sequence[str], paths: Sequence[PathLike], rows: slice | None = None
) -> np.ndarray:
    """(n_events, len(columns)): the named EFP columns, each from whichever merged EFP table
    holds it, in the order asked."""
    where: dict[str, Path] = {}
    for path in map(Path, paths):
        for column in table_columns(path):
            where.setdefault(column, path)
    missing = [c for c in columns if c not in where]
    if missing:
        raise DataError(
            f"EFP column(s) {', '.join(missing)} are in none of the EFP tables "
            f"{', '.join(map(str, paths)) or '(none given)'}: check iso.efps (kappas, betas, dmax)"
        )
    by_file: dict[Path, list[str]] = {}
    for c in columns:
        by_file.setdefault(where[c], []).append(c)
    values: dict[str, np.ndarray] = {}
    for path, cols in by_file.items():
        table = read_table(path, columns=cols, particles=False, rows=rows)
        values.update({c: table.data[:, i] for i, c in enumerate(cols)})
    return np.column_stack([values[c] for c in columns])


def chosen_efps(cfg: Mapping[str, Any], search: Mapping[str, Any] | None) -> list[str]:
    """The EFP columns of a cones_efps model: its list, or those the guided search chose."""
    if cfg["efps"] != "guided":
        return list(cfg["efps"])
    if search is None or not search.get("chosen"):
        raise DataError("a guided cones_efps model needs the search's chosen EFPs (none given)")
    return list(search["chosen"])


def model_inputs(
    cfg: Mapping[str, Any],
    events: PathLike,
    efp_tables: Sequence[PathLike] = (),
    efps: Sequence[str] = (),
    rows: slice | None = None,
) -> np.ndarray | ParticleInputs:
    """The inputs of model ``cfg`` (kind, n_cones) for every event of the event table (or the
    events ``rows`` of it)."""
    kind = cfg["kind"]
    if kind == "pfn":
        return particle_inputs(read_table(events, columns=list(EVENT_COLUMNS[:1]), rows=rows))
    table = read_table(events, columns=cone_columns(cfg["n_cones"]), particles=False, rows=rows)
    if kind == "cones":
        return cone_inputs(table, cfg["n_cones"])
    matrix = efp_matrix(efps, efp_tables, rows)
    if len(matrix) != len(table):
        raise DataError(
            f"the EFP tables hold {len(matrix)} events, the event table {events} {len(table)}"
        )
    return efp_inputs(table, cfg["n_cones"], matrix, list(efps), list(efps))


class TrainingInputs(NamedTuple):
    """What a training step reads: the model's inputs, the CWoLa table of the same events (folds,
    labels, weights) and the EFP columns the model uses."""

    x: np.ndarray | ParticleInputs
    cwola: EventTable
    efps: list[str]


def training_inputs(
    cfg: Mapping[str, Any],
    events: PathLike,
    cwola: PathLike,
    efp_tables: Sequence[PathLike] | None = None,
    search: PathLike | None = None,
) -> TrainingInputs:
    """The inputs of model ``cfg`` with its CWoLa table; ``search`` is the guided search's
    result (needed by a guided cones_efps model)."""
    result = read_json(search, ("chosen",), "an EFP search result") if search else None
    efps = chosen_efps(cfg, result) if cfg["kind"] == "cones_efps" else []
    x = model_inputs(cfg, events, efp_tables or (), efps)
    table = read_table(cwola, require_labels=True, require_weights=True)
    if len(table) != len(x):
        raise DataError(f"{cwola} has {len(table)} events, the event table {events} {len(x)}")
    return TrainingInputs(x, table, efps)


def _n_events(path: PathLike) -> int:
    return len(read_table(path, columns=[], particles=False))


class SampleScorer:
    """Scores every event of an event table with a trained model of ``cfg``, reading ``chunk``
    events at a time: a sample scored by many replicas (the synthetic holdout) may be larger
    than the training events, and only one chunk of it is in memory."""

    def __init__(
        self,
        cfg: Mapping[str, Any],
        events: PathLike,
        efp_tables: Sequence[PathLike] = (),
        efps: Sequence[str] = (),
        chunk: int = SCORE_CHUNK,
    ) -> None:
        self.cfg, self.events, self.chunk = cfg, events, chunk
        self.efp_tables, self.efps = list(efp_tables), list(efps)
        self.n_events = _n_events(events)
        for path in self.efp_tables:
            if (n := _n_events(path)) != self.n_events:
                raise DataError(f"{path} holds {n} events, the event table {events} "
                                f"{self.n_events}")  # fmt: skip

    def __call__(self, model: Any) -> np.ndarray:
        return np.concatenate([
            model.predict(model_inputs(self.cfg, self.events, self.efp_tables, self.efps,
                                       slice(a, a + self.chunk)))
            for a in range(0, self.n_events, self.chunk)
        ])  # fmt: skip
