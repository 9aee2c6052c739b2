"""Benchmark: the cost of two concurrent training jobs that each take every core, against two
jobs pinned to one thread each (what the rules' `threads` give them).

Each job trains the discrimination MLP (3x64) on 100k synthetic events for a fixed number of
epochs through hepflows' own training loop. Writes benchmarks/results/thread_pinning.json.
Usage: .venv/bin/python benchmarks/thread_pinning.py [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

JOB = """
import sys, time
import numpy as np
from hepflows.core.runtime import configure_threads
threads, epochs = int(sys.argv[1]), int(sys.argv[2])
if threads > 0:
    configure_threads(threads)
from hepflows.core.classifiers import make_classifier
rng = np.random.default_rng(1)
x = np.vstack([rng.normal(0, 1, (50000, 5)), rng.normal(0.3, 1, (50000, 5))])
y = np.repeat([0.0, 1.0], 50000)
spec = {"kind": "mlp", "hidden": [64, 64, 64],
        "train": {"epochs": epochs, "batch_size": 256, "lr": 1e-3, "patience": None}}
start = time.perf_counter()
make_classifier(spec, seed=1, device="cpu").fit(x, y)
print(time.perf_counter() - start)
"""


def run_pair(threads: int, epochs: int) -> list[float]:
    """Two jobs at once; threads = 0 leaves torch at its default (every core)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", JOB, str(threads), str(epochs)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    return [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    rows = []
    for label, threads in (("pinned, 1 thread each", 1), (f"unpinned ({cores} threads each)", 0)):
        start = time.perf_counter()
        fits = run_pair(threads, args.epochs)
        rows.append(
            {
                "setting": label,
                "fit_seconds": [round(f, 2) for f in fits],
                "wall_seconds": round(time.perf_counter() - start, 2),
            }
        )
    slowdown = max(rows[1]["fit_seconds"]) / max(rows[0]["fit_seconds"])
    result = {
        "cores": cores,
        "epochs": args.epochs,
        "rows": rows,
        "slowdown_unpinned": round(slowdown, 2),
    }
    out = ROOT / "benchmarks/results/thread_pinning.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    for r in rows:
        print(f"{r['setting']:32} fit {r['fit_seconds']} s, wall {r['wall_seconds']} s")
    print(f"slowdown without pinning: x{result['slowdown_unpinned']}")


if __name__ == "__main__":
    main()
