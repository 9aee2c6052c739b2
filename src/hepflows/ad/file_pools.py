"""Real event files as the samples of an ``ad`` dataset (``source: files``).

A real analysis has one background file, one MC file and a signal file (the LHC Olympics R&D
file holds background and signal together, told apart by its ``label`` column). The workflow
needs disjoint samples for different jobs, so each file is shuffled once with a seed derived from
the master seed and then cut, in this fixed order, into pools:

* background: ``data`` (``n_data`` events, all regions), ``ideal`` and ``reference``
  (``n_ideal`` each), then ``test_background``: the next ``n_test_background`` SR events;
* MC: the first ``n_mc`` events;
* signal: ``signal_test`` (``n_test_signal`` SR events), ``signal_supervised`` (``n_signal`` SR
  events), and ``signal_inject``: every event after the one that filled those two quotas, in
  both regions, from which each data seed draws its injected signal.

Unlike the synthetic generators, every data seed shares the same background: there is only one
data set. A data seed then picks which signal events are injected and seeds the training. A file
too small for the sizes asked for is an error naming the file, the pool and both numbers.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.ad import synthetic_lhco
from hepflows.ad.readers import read_lhco, read_nonres_text
from hepflows.ad.regions import sr_mask
from hepflows.core.cli import StepParser
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import DataError, config_hash
from hepflows.core.seeding import derive_rng

BACKGROUND_POOLS = ("data", "ideal", "reference", "test_background")
SIGNAL_POOLS = ("signal_test", "signal_supervised", "signal_inject")
READABLE = ("lhco", "nonres")
KIND_POOLS = {"background": BACKGROUND_POOLS, "mc": ("mc",), "signal": SIGNAL_POOLS}
POOLS_HELP = "source: files: the pool tables cut from the real files (<pool>.h5)"


def read_pools(paths: list[str] | None) -> dict[str, EventTable] | None:
    """The pool tables a sample step was given, by pool name (the file stem); None if none."""
    if not paths:
        return None
    return {Path(p).stem: read_table(p) for p in paths}


def _labels(n: int, kind: str) -> np.ndarray:
    return np.full(n, int(kind == "signal"), dtype=np.int8)


def read_events(
    dataset: str, path: str | Path, kind: str, files: Mapping[str, Any], *, labelled: bool = False
) -> EventTable:
    """The events of one ``kind`` (background, mc or signal) in a file, in the dataset's columns.

    An R&D file gives its label-0 events as background or MC and its label-1 events as signal;
    a file without labels (a text file, a background-only HDF5 file) is all of one kind, unless
    ``labelled`` says the file must tell signal from background (signal taken from the
    background file).
    """
    if dataset == "lhco":
        table = read_lhco(path, files.get("key", "df"))
        if table.labels is None and labelled:
            raise DataError(
                f"{path}: no 'label' column, so its signal cannot be told from its background; "
                "name a signal file under files.signals"
            )
        if table.labels is None:
            return EventTable(table.data, list(table.columns), labels=_labels(len(table), kind))
        want = 1 if kind == "signal" else 0
        table = table.select(table.labels == want)
        if not len(table):
            raise DataError(f"{path}: no events with label {want} ({kind})")
    elif dataset == "nonres":
        events = read_nonres_text(path, files.get("columns") or {})
        table = EventTable(events.data, list(events.columns), labels=_labels(len(events), kind))
    else:
        raise ValueError(f"dataset {dataset!r} has no file reader; files work for {list(READABLE)}")
    return table


def shift_masses(dataset: str, table: EventTable, cfg: Mapping[str, Any]) -> EventTable:
    """The lhco stress test (jet masses += mj_shift * m_jj) applied to file events too."""
    shift = float(cfg.get("mj_shift") or 0.0)
    if not shift:
        return table
    if dataset != "lhco":
        raise ValueError(f"mj_shift applies to lhco, not {dataset}")
    return EventTable(
        synthetic_lhco.shift_jet_masses(table.data, shift), list(table.columns), labels=table.labels
    )


def shuffled(table: EventTable, master_seed: int, dataset: str, name: str) -> EventTable:
    """The file's events in an order fixed by the master seed (files are often sorted)."""
    order = derive_rng(master_seed, dataset, "files", name).permutation(len(table))
    return table.select(order)


def _short(path: str | Path, pool: str, need: int, have: int, what: str, hint: str) -> DataError:
    return DataError(f"{path}: pool {pool!r} needs {need} {what} but only {have} are left; {hint}")


def _take_sr(
    table: EventTable, start: int, n: int, cfg: Mapping[str, Any], where: tuple[Any, str, str]
) -> tuple[EventTable, int]:
    """The first ``n`` SR events from ``start`` on, and the index after the last one taken.

    ``where`` is (file, pool, hint) for the error message."""
    rest = table.select(np.arange(start, len(table)))
    idx = np.flatnonzero(sr_mask(rest, cfg["sr"]))
    if len(idx) < n:
        raise _short(where[0], where[1], n, len(idx), "SR events", where[2])
    taken = rest.select(idx[:n])
    end = start + (int(idx[n - 1]) + 1 if n else 0)
    return taken, end


def background_pools(
    table: EventTable, cfg: Mapping[str, Any], path: str | Path
) -> dict[str, EventTable]:
    """Disjoint data / ideal / reference / SR test pools, cut in order from a shuffled table."""
    sizes = {"data": cfg["n_data"], "ideal": cfg["n_ideal"], "reference": cfg["n_ideal"]}
    hint = "lower n_data, n_ideal or n_test_background, or give a larger file"
    pools: dict[str, EventTable] = {}
    start = 0
    for pool, n in sizes.items():
        if start + n > len(table):
            raise _short(path, pool, n, len(table) - start, "events", hint)
        pools[pool] = table.select(np.arange(start, start + n))
        start += n
    pools["test_background"], _ = _take_sr(
        table, start, cfg["n_test_background"], cfg, (path, "test_background", hint)
    )
    return pools


def mc_pool(table: EventTable, cfg: Mapping[str, Any], path: str | Path) -> EventTable:
    n = cfg["n_mc"]
    if n > len(table):
        raise _short(path, "mc", n, len(table), "events", "lower n_mc or give a larger file")
    return table.select(np.arange(n))


def signal_pools(
    table: EventTable, cfg: Mapping[str, Any], path: str | Path
) -> dict[str, EventTable]:
    """SR test and supervised signal, then everything after them as the injection pool."""
    hint = "lower n_test_signal or n_signal, or give a larger signal file"
    test, end = _take_sr(table, 0, cfg["n_test_signal"], cfg, (path, "signal_test", hint))
    supervised, end = _take_sr(table, end, cfg["n_signal"], cfg, (path, "signal_supervised", hint))
    inject = table.select(np.arange(end, len(table)))
    return {"signal_test": test, "signal_supervised": supervised, "signal_inject": inject}


def injected_signal(
    pool: EventTable, n_sig_sr: int, rng: np.random.Generator, box: Mapping[str, Any], path: str
) -> np.ndarray:
    """Signal events for one data seed: shuffled by the seed's stream, kept up to the one that
    fills the SR quota, so CR contamination follows the file's acceptance and a smaller
    injection is a subset of a larger one."""
    order = rng.permutation(len(pool))
    in_sr = sr_mask(pool, box)[order]
    if in_sr.sum() < n_sig_sr:
        raise DataError(
            f"{path}: the injection pool has {int(in_sr.sum())} SR signal events, the injection "
            f"needs {n_sig_sr}; lower n_test_signal or n_signal, or the injection"
        )
    last = int(np.flatnonzero(np.cumsum(in_sr) == n_sig_sr)[0])
    return pool.data[order[: last + 1]]


def pools_of(
    kind: str, table: EventTable, cfg: Mapping[str, Any], path: str | Path
) -> dict[str, EventTable]:
    """The pools one kind of file is cut into (see the module docstring for the order)."""
    if kind == "background":
        return background_pools(table, cfg, path)
    if kind == "mc":
        return {"mc": mc_pool(table, cfg, path)}
    return signal_pools(table, cfg, path)


def cut_file(
    dataset: str,
    kind: str,
    path: str,
    cfg: Mapping[str, Any],
    master_seed: int,
    signal: str | None = None,
) -> tuple[EventTable, dict[str, EventTable]]:
    """Read a file's events of one kind, apply the mass shift, shuffle, and cut into pools."""
    # Signal without a file of its own comes from the labelled background file.
    labelled = kind == "signal" and signal not in cfg["files"].get("signals", {})
    table = read_events(dataset, path, kind, cfg["files"], labelled=labelled)
    table = shift_masses(dataset, table, cfg)
    name = kind if signal is None else f"{kind}_{signal}"
    table = shuffled(table, master_seed, dataset, name)
    return table, pools_of(kind, table, cfg, path)


def read_step(kind: str, doc: str | None) -> tuple[Callable[[], StepParser], Callable[..., None]]:
    """The parser and main of the step that reads one kind of file (ad_read_<kind>)."""

    def parser() -> StepParser:
        p = StepParser(doc)
        p.add_argument("--dataset", required=True, choices=list(READABLE))
        if kind == "signal":
            p.add_argument("--signal", required=True, help="the signal's name")
        p.add_input("--file", help="the event file")
        p.add_output("--out", nargs="+", help="one table per pool, named <pool>.h5")
        return p

    def main(args: argparse.Namespace, params: dict[str, Any], log: logging.Logger) -> None:
        cfg, seed = params["dataset"], params["seed"]
        outputs = {Path(p).stem: p for p in args.out}
        expected = KIND_POOLS[kind]
        if sorted(outputs) != sorted(expected):
            raise ValueError(f"--out must name the pools {list(expected)}, got {sorted(outputs)}")
        signal = getattr(args, "signal", None)
        table, pools = cut_file(args.dataset, kind, args.file, cfg, seed, signal)
        chash = config_hash(params)
        for pool, out in outputs.items():
            write_table(
                out, pools[pool], seed=seed, config_hash=chash, extra_attrs={"file": args.file}
            )
        sizes = ", ".join(f"{p} {len(pools[p])}" for p in expected)
        log.info(f"{args.file}: {len(table)} {kind} events -> {sizes}")

    return parser, main
