"""Run every benchmark and write one short table of their figures.

  dry_run.py              dry-run time and job count, paper-scale and default configs
  training_throughput.py  events/s of each model family at the default sizes (CPU; CUDA if present)
  rule_costs.py           wall time and peak memory of each all_AD rule of a finished run
  thread_pinning.py       two training jobs sharing the cores, pinned to 1 thread or not

Each script writes its JSON under benchmarks/results/; this one adds summary.md. Rule costs need
a finished run (default: results/ from `snakemake --profile profiles/local all_AD`); without
one that part is skipped and says so. Usage:
    .venv/bin/python benchmarks/run_all.py [--results results] [--configfile ...] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks/results"


def run(script: str, *args: str) -> None:
    print(f"== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], check=True)


def load(name: str) -> object | None:
    path = OUT / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def section(title: str, header: list[str], rows: list[list[object]]) -> list[str]:
    """A markdown heading and table."""
    lines = ["", f"## {title}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    return lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows]


def summary() -> str:
    lines = []
    dry = load("dry_run")
    if dry:
        lines += section(
            "Dry run (`snakemake -n all_AD`)",
            ["config", "output", "jobs", "median s"],
            [[r["config"], r["output"], r["jobs"], r["median_s"]] for r in dry],
        )
    thr = load("training_throughput")
    if thr:
        lines += section(
            f"Training throughput ({thr['threads']} torch thread(s) on the CPU)",
            ["family", "device", "events/s", "events x epochs", "s"],
            [
                [r["family"], r["device"], f"{r['events_per_s']:,}",
                 f"{r['events']:,} x {r['epochs']}", r["seconds"]]
                for r in thr["rows"]
            ],
        )  # fmt: skip
    costs = load("rule_costs")
    if costs:
        lines += section(
            f"Rule costs ({costs['results']}, configs {costs['configs'] or 'default'})",
            ["rule", "jobs", "wall s median / max", "peak MB", "asks MB", "asks min", "fits"],
            [
                [r["rule"], r["jobs"], f"{r['wall_s_median']} / {r['wall_s_max']}",
                 r["peak_rss_mb_max"], r["mem_mb"], r["runtime_min"], "yes" if r["fits"] else "NO"]
                for r in costs["rows"]
            ],
        )  # fmt: skip
    pin = load("thread_pinning")
    if pin:
        lines += section(
            f"Two training jobs on {pin['cores']} cores",
            ["setting", "fit s per job", "wall s"],
            [[r["setting"], r["fit_seconds"], r["wall_seconds"]] for r in pin["rows"]],
        )
        lines += ["", f"Slowdown without pinning: x{pin['slowdown_unpinned']}"]
    return "\n".join(lines).lstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--configfile", nargs="*", default=[], help="overlays that run used")
    parser.add_argument("--quick", action="store_true", help="one repeat, fewer events")
    args = parser.parse_args()
    run("dry_run.py", "--repeat", "1" if args.quick else "3")
    run("training_throughput.py", *(["--events", "20000", "--epochs", "1"] if args.quick else []))
    if (Path(args.results) / "benchmarks/ad").is_dir():
        run("rule_costs.py", "--results", args.results, "--configfile", *args.configfile)
    else:
        print(f"== rule_costs.py skipped: no finished run under {args.results}/benchmarks/ad")
        (OUT / "rule_costs.json").unlink(missing_ok=True)  # not a stale run's figures
    run("thread_pinning.py", *(["--epochs", "2"] if args.quick else []))
    (OUT / "summary.md").write_text(summary())
    print(f"\nwrote {OUT / 'summary.md'}")


if __name__ == "__main__":
    main()
