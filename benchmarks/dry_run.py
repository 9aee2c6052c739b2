"""Benchmark: how long `snakemake -n all_AD` takes and how many jobs it plans, per config.

Writes benchmarks/results/dry_run.json and prints a table. Usage:
    .venv/bin/python benchmarks/dry_run.py [--repeat 3] [config/paper.yaml ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dry_run(configfile: str | None, quiet: bool) -> tuple[float, int]:
    """One dry run into an empty results folder: the plan a fresh clone gets."""
    empty = tempfile.mkdtemp(prefix="hepflows-dry-run-")
    cmd = [sys.executable, "-m", "snakemake", "-n", "all_AD", "--config", f"results={empty}"]
    if configfile:
        cmd += ["--configfile", configfile]
    if quiet:
        cmd += ["--quiet", "rules"]
    env = {**os.environ, "CONDOR_CONFIG": "/dev/null"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=True)
    seconds = time.perf_counter() - start
    match = re.search(r"^total\s+(\d+)$", proc.stdout + proc.stderr, re.MULTILINE)
    return seconds, int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("configs", nargs="*", default=["config/paper.yaml", None])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for config in args.configs:
        for quiet in (False, True):
            times, jobs = [], 0
            for _ in range(args.repeat):
                seconds, jobs = dry_run(config, quiet)
                times.append(seconds)
            rows.append(
                {
                    "config": config or "config/config.yaml",
                    "output": "quiet rules" if quiet else "full",
                    "jobs": jobs,
                    "median_s": round(statistics.median(times), 2),
                    "min_s": round(min(times), 2),
                    "max_s": round(max(times), 2),
                    "cores": os.cpu_count(),
                }
            )
    out = ROOT / "benchmarks/results/dry_run.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    print(f"{'config':22} {'output':12} {'jobs':>6} {'median s':>9} {'min s':>7} {'max s':>7}")
    for r in rows:
        print(
            f"{r['config']:22} {r['output']:12} {r['jobs']:>6} {r['median_s']:>9} "
            f"{r['min_s']:>7} {r['max_s']:>7}"
        )


if __name__ == "__main__":
    main()
