"""Benchmark: training throughput (events/s) of each model family at the default config's sizes.

Every family trains through hepflows' own code on synthetic events with the architecture and
batch size of config/config.yaml:
  mlp         the SALAD reweighting classifier (ad.reweight.classifier)
  ensemble    the stacked discrimination ensemble (ad.discrim, `ensemble` members side by side)
  maf         the CATHODE density (ad.generate.flow), conditioned on one context variable
  nsf         the same flow with rational-quadratic splines (type nsf)
  hgb         the closure classifier (ad.closure.classifier, scikit-learn)
events/s counts training events seen per second, validation passes included; for the ensemble
one event trains every member at once. Runs on the CPU with --threads torch threads, and again
on CUDA when a GPU is present. Writes benchmarks/results/training_throughput.json.
Usage: .venv/bin/python benchmarks/training_throughput.py [--events 100000] [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from hepflows.core.classifiers import make_classifier
from hepflows.core.conditional_flows import train_conditional_flow
from hepflows.core.ensembles import make_mlp_ensemble
from hepflows.core.runtime import configure_threads

ROOT = Path(__file__).resolve().parents[1]
FEATURES = 4  # the nonres and lhco feature count


def events(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two overlapping Gaussian classes plus a context that shifts them (a mass-like variable)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0.0, 1.0], [n - n // 2, n // 2]).astype(np.float32)
    c = rng.uniform(0.0, 1.0, (n, 1)).astype(np.float32)
    x = rng.normal(0.0, 1.0, (n, FEATURES)).astype(np.float32) + 0.3 * y[:, None] + c
    return x, y, c


def with_train(spec: dict[str, Any], epochs: int) -> dict[str, Any]:
    """The config's model with a fixed number of epochs (no early stop, no annealing)."""
    train = {**spec.get("train", {}), "epochs": epochs, "patience": None, "scheduler": "none"}
    return {**spec, "train": train}


def families(cfg: dict[str, Any], epochs: int, device: str) -> dict[str, Callable[..., Any]]:
    ad = cfg["ad"]
    mlp = with_train(ad["reweight"]["classifier"], epochs)
    ens = with_train(ad["discrim"]["classifier"], epochs)
    members = int(ad["discrim"]["ensemble"])
    flow_train = {
        **ad["generate"]["train"],
        "epochs": epochs,
        "patience": None,
        "scheduler": "none",
    }
    maf = dict(ad["generate"]["flow"])
    nsf = {**maf, "type": "nsf"}
    hgb = dict(ad["closure"]["classifier"])

    def flow(spec: dict[str, Any]) -> Callable[..., Any]:
        return lambda x, y, c: train_conditional_flow(
            x, c, None, spec, flow_train, seed=1, device=device
        )

    return {
        "mlp": lambda x, y, c: make_classifier(mlp, seed=1, device=device).fit(x, y),
        f"ensemble ({members} members)": lambda x, y, c: make_mlp_ensemble(
            ens, seeds=range(1, members + 1), device=device
        ).fit(x, y),
        "maf": flow(maf),
        "nsf": flow(nsf),
        "hgb": lambda x, y, c: make_classifier(hgb, seed=1).fit(x, y),
    }


def measure(name: str, train: Callable[..., Any], n: int, epochs: int, device: str) -> dict:
    train(*events(2000, seed=2))  # warm-up: first-call costs are not throughput
    x, y, c = events(n)
    start = time.perf_counter()
    train(x, y, c)
    seconds = time.perf_counter() - start
    passes = 1 if name == "hgb" else epochs  # a boosted model fits once; its trees are the work
    return {
        "family": name,
        "device": device,
        "events": n,
        "epochs": passes,
        "seconds": round(seconds, 2),
        "events_per_s": round(n * passes / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on the CPU")
    parser.add_argument("--config", default=str(ROOT / "config/config.yaml"))
    args = parser.parse_args()
    configure_threads(args.threads)
    cfg = yaml.safe_load(Path(args.config).read_text())
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        for name, train in families(cfg, args.epochs, device).items():
            if device == "cuda" and name == "hgb":
                continue  # scikit-learn: CPU only
            rows.append(measure(name, train, args.events, args.epochs, device))
            r = rows[-1]
            print(f"{name:22} {device:5} {r['events_per_s']:>10,} events/s  ({r['seconds']} s)")
    result = {"threads": args.threads, "torch": torch.__version__, "rows": rows}
    out = ROOT / "benchmarks/results/training_throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
