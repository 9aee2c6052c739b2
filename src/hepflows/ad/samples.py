"""Build the event samples of an ``ad`` dataset: static MC/ideal/signal, injected data, test set.

Seeds: every sample has its own random stream derived from the master seed and its name (see
``hepflows.core.seeding``). The background of data seed k is the same for every injection and
every signal, and the signal events of a small injection are a subset of those of a larger one,
so an injection scan is nested exactly as in the original analysis.

With ``source: files`` the same functions take their events from the pools that
:mod:`hepflows.ad.file_pools` cut from the real files (``pools``, keyed by pool name).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hepflows.ad.datasets import SPECS, generate_background, generate_signal
from hepflows.ad.file_pools import POOLS_HELP, injected_signal, read_pools
from hepflows.core.cli import StepParser
from hepflows.core.event_files import write_table
from hepflows.core.events import EventTable
from hepflows.core.io import config_hash
from hepflows.core.regions import in_box
from hepflows.core.seeding import derive_rng

Generator = Callable[[int, np.random.Generator], np.ndarray]
Pools = Mapping[str, EventTable]
CHUNK = 500_000
SIGNAL_CHUNK = 2_000  # injected signal events are drawn this many at a time (a nested scan)
MAX_SIGNAL_CHUNKS = 10_000


def _shift(cfg: Mapping[str, Any]) -> float:
    """The lhco jet-mass shift of the config (absent for the other datasets)."""
    return float(cfg.get("mj_shift") or 0.0)


def _table(dataset: str, data: np.ndarray, labels: np.ndarray | None = None) -> EventTable:
    return EventTable(data=data, columns=list(SPECS[dataset].columns), labels=labels)


def generate_in_box(
    generate: Generator,
    n: int,
    box: Mapping[str, Any],
    columns: list[str],
    rng: np.random.Generator,
    *,
    chunk: int = CHUNK,
    max_chunks: int = 10_000,
) -> np.ndarray:
    """Exactly ``n`` events inside ``box``, generated in vectorized chunks."""
    kept: list[np.ndarray] = []
    have = 0
    for _ in range(max_chunks):
        if have >= n:
            break
        events = generate(chunk, rng)
        events = events[in_box(events, columns, box)]
        kept.append(events)
        have += len(events)
    else:
        raise ValueError(f"could not generate {n} events inside {dict(box)}: acceptance too small")
    return np.concatenate(kept)[:n] if kept else np.empty((0, len(columns)))


def _pool(pools: Pools, name: str) -> EventTable:
    if name not in pools:
        raise ValueError(f"source: files needs the {name!r} pool; given {sorted(pools)}")
    return pools[name]


def static_samples(
    dataset: str, cfg: Mapping[str, Any], master_seed: int, pools: Pools | None = None
) -> dict[str, EventTable]:
    """MC background and the two independent ideal backgrounds (template and SR reference).

    Synthetic: ``n_mc`` and ``n_ideal`` events in all regions, their SR parts topped up by draws
    inside the SR to at least ``n_sr_templates`` (default: ``sr_templates_per_data`` times the
    expected SR data), so that the ideal template is an upper bound and the MC-based templates
    are not held back by their own statistics."""
    if pools is not None:
        return {k: _table(dataset, _pool(pools, k).data) for k in ("mc", "ideal", "reference")}
    columns = list(SPECS[dataset].columns)

    def background(variant: str) -> Generator:
        return lambda n, rng: generate_background(
            dataset, n, rng, variant=variant, mj_shift=_shift(cfg)
        )

    drawn = {
        name: background(variant)(cfg[size], derive_rng(master_seed, dataset, name))
        for name, variant, size in (
            ("mc", cfg["mc_variant"], "n_mc"),
            ("ideal", "data", "n_ideal"),
            ("reference", "data", "n_ideal"),
        )
    }
    target = cfg.get("n_sr_templates")
    if target is None:  # the ideal background is the data's: its SR share is the data's
        share = in_box(drawn["ideal"], columns, cfg["sr"]).mean()
        target = int(np.ceil(cfg.get("sr_templates_per_data", 1) * share * cfg["n_data"]))
    out = {}
    for name, events in drawn.items():
        missing = target - int(in_box(events, columns, cfg["sr"]).sum())
        if missing > 0:
            variant = cfg["mc_variant"] if name == "mc" else "data"
            rng = derive_rng(master_seed, dataset, name, "sr_top_up")
            extra = generate_in_box(background(variant), missing, cfg["sr"], columns, rng)
            events = np.concatenate([events, extra])
        out[name] = _table(dataset, events)
    return out


def signal_pool(
    dataset: str, signal: str, cfg: Mapping[str, Any], master_seed: int, pools: Pools | None = None
) -> EventTable:
    """``n_signal`` SR signal events for the fully supervised classifier (independent of data)."""
    if pools is not None:
        events = _pool(pools, "signal_supervised").data
        return _table(dataset, events, labels=np.ones(len(events), dtype=np.int8))
    columns = list(SPECS[dataset].columns)
    events = generate_in_box(
        lambda n, rng: generate_signal(dataset, signal, n, rng, mj_shift=_shift(cfg)),
        cfg["n_signal"],
        cfg["sr"],
        columns,
        derive_rng(master_seed, dataset, "signal_pool", signal),
    )
    return _table(dataset, events, labels=np.ones(len(events), dtype=np.int8))


def injected_data(
    dataset: str,
    signal: str,
    data_seed: int,
    injection: float,
    cfg: Mapping[str, Any],
    master_seed: int,
    pools: Pools | None = None,
) -> tuple[EventTable, dict[str, float]]:
    """Background "data" of one seed plus signal at S/B = ``injection`` inside the SR.

    Returns the table (truth labels kept for diagnostics only) and the injection bookkeeping.
    """
    if injection < 0:
        raise ValueError(f"injection (S/B in the SR) must be >= 0, got {injection}")
    columns = list(SPECS[dataset].columns)
    box = cfg["sr"]
    if pools is not None:
        background = _pool(pools, "data").data
    else:
        background = generate_background(
            dataset,
            cfg["n_data"],
            derive_rng(master_seed, dataset, "data", data_seed),
            mj_shift=_shift(cfg),
        )
    n_bkg_sr = int(in_box(background, columns, box).sum())
    n_sig_sr = int(round(injection * n_bkg_sr))
    if injection > 0 and n_sig_sr == 0:
        raise ValueError(
            f"S/B {injection:g} injects 0 signal events: this data set has {n_bkg_sr} background "
            f"events in the SR; raise ad.datasets.{dataset}.n_data or drop the injection"
        )
    injected = np.empty((0, len(columns)))
    if n_sig_sr > 0 and pools is not None:
        inject = _pool(pools, "signal_inject")
        rng = derive_rng(master_seed, dataset, "injected_signal", signal, data_seed)
        path = str(inject.attrs.get("file", inject.source))
        injected = injected_signal(inject, n_sig_sr, rng, box, path)
    elif n_sig_sr > 0:
        injected = nested_signal(dataset, signal, n_sig_sr, cfg, master_seed, data_seed)
    data = np.concatenate([background, injected])
    labels = np.concatenate([np.zeros(len(background), np.int8), np.ones(len(injected), np.int8)])
    info = {
        "injection": float(injection),
        "n_bkg_sr": n_bkg_sr,
        "n_sig_sr": n_sig_sr,
        "n_sig_total": len(injected),
        "s_over_sqrt_b": n_sig_sr / np.sqrt(max(n_bkg_sr, 1)),
    }
    return _table(dataset, data, labels), info


def nested_signal(
    dataset: str,
    signal: str,
    n_sr: int,
    cfg: Mapping[str, Any],
    master_seed: int,
    data_seed: int,
    *,
    chunk: int = SIGNAL_CHUNK,
) -> np.ndarray:
    """Signal events, in generation order, up to the one that completes ``n_sr`` in the SR, so
    CR contamination follows the physical acceptance. They come in chunks of a fixed size, each
    from its own stream: a larger injection continues the same sequence, so the signal of a
    smaller one is its first rows (the scan is nested)."""
    columns = list(SPECS[dataset].columns)
    chunks, have = [], 0
    for k in range(MAX_SIGNAL_CHUNKS):
        rng = derive_rng(master_seed, dataset, "injected_signal", signal, data_seed, "chunk", k)
        events = generate_signal(dataset, signal, chunk, rng, mj_shift=_shift(cfg))
        chunks.append(events)
        have += int(in_box(events, columns, cfg["sr"]).sum())
        if have >= n_sr:
            pool = np.concatenate(chunks)
            last = int(np.flatnonzero(np.cumsum(in_box(pool, columns, cfg["sr"])) == n_sr)[0])
            return pool[: last + 1]
    raise ValueError(
        f"signal {signal}: {MAX_SIGNAL_CHUNKS * chunk} events hold {have} in the SR, fewer than "
        f"the {n_sr} to inject"
    )


def test_set(
    dataset: str, signal: str, cfg: Mapping[str, Any], master_seed: int, pools: Pools | None = None
) -> EventTable:
    """Labelled SR events: ``n_test_signal`` signal and ``n_test_background`` background."""
    columns = list(SPECS[dataset].columns)
    box = cfg["sr"]
    if pools is not None:
        sig, bkg = _pool(pools, "signal_test").data, _pool(pools, "test_background").data
        labels = np.concatenate([np.ones(len(sig), np.int8), np.zeros(len(bkg), np.int8)])
        return _table(dataset, np.concatenate([sig, bkg]), labels)
    sig = generate_in_box(
        lambda n, rng: generate_signal(dataset, signal, n, rng, mj_shift=_shift(cfg)),
        cfg["n_test_signal"],
        box,
        columns,
        derive_rng(master_seed, dataset, "test_signal", signal),
    )
    bkg = generate_in_box(
        lambda n, rng: generate_background(dataset, n, rng, mj_shift=_shift(cfg)),
        cfg["n_test_background"],
        box,
        columns,
        derive_rng(master_seed, dataset, "test_background"),
    )
    labels = np.concatenate([np.ones(len(sig), np.int8), np.zeros(len(bkg), np.int8)])
    return _table(dataset, np.concatenate([sig, bkg]), labels)


SignalSample = Callable[[str, str, Mapping[str, Any], int, Pools | None], EventTable]


def sample_parser(doc: str | None) -> StepParser:
    """The arguments of a step that makes one labelled sample of a (dataset, signal)."""
    p = StepParser(doc)
    p.add_argument("--dataset", required=True, choices=sorted(SPECS))
    p.add_argument("--signal", required=True)
    p.add_input("--pools", nargs="*", default=None, required=False, help=POOLS_HELP)
    p.add_output("--out")
    return p


def write_sample(
    make: SignalSample, args: argparse.Namespace, params: dict[str, Any], log: logging.Logger
) -> None:
    """Make a sample with :func:`test_set` or :func:`signal_pool` and write it."""
    table = make(
        args.dataset, args.signal, params["dataset"], params["seed"], read_pools(args.pools)
    )
    write_table(args.out, table, seed=params["seed"], config_hash=config_hash(params))
    n_sig = int(table.labels.sum())
    log.info(f"{n_sig} signal + {len(table) - n_sig} background SR events")
