"""Benchmark: wall time and peak memory of each all_AD rule, from Snakemake's `benchmark:` files,
against what the config asks a cluster for (ad.resources).

Reads <results>/benchmarks/ad/<rule>/**.tsv (every ad rule writes one per job) and the matching
logs. For the training rules it also splits the wall time into the epochs (the `epoch k/N ...
time=` lines of the log, one series per model the job trains) and the rest (reading, sampling,
scoring), so a run with capped epochs predicts one with more:
    wall(E epochs) ~ other_s + E * epoch_s
(epoch_s takes each model's fastest epoch, the cost on cores of its own).
Writes benchmarks/results/rule_costs.json and prints a table. Usage:
    .venv/bin/python benchmarks/rule_costs.py [--results results] [--configfile config/paper.yaml]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
EPOCH = re.compile(r"epoch (\d+)/(\d+) .*?time=([\d.]+)s")


def merged_config(files: list[str]) -> dict[str, Any]:
    """config/config.yaml overlaid with each file in turn, as Snakemake merges --configfile."""

    def merge(base: dict, extra: dict) -> dict:
        out = dict(base)
        for key, value in extra.items():
            both = isinstance(value, dict) and isinstance(out.get(key), dict)
            out[key] = merge(out[key], value) if both else value
        return out

    cfg: dict[str, Any] = {}
    for f in [ROOT / "config/config.yaml", *files]:
        cfg = merge(cfg, yaml.safe_load(Path(f).read_text()) or {})
    return cfg


def resource_classes() -> dict[str, str]:
    """rule -> its class in ad.resources, as the rules' `ad_resources("...")` names it."""
    text = "".join(p.read_text() for p in sorted((ROOT / "workflow/rules/ad").glob("*.smk")))
    blocks = re.split(r"^\s*rule (\w+):", text, flags=re.MULTILINE)[1:]
    out = {}
    for name, body in zip(blocks[::2], blocks[1::2], strict=True):
        found = re.search(r'ad_resources\("(\w+)"', body)
        if found:
            out[name] = found.group(1)
    return out


def epoch_split(log: Path) -> tuple[float, float]:
    """(seconds per epoch summed over the models a job trains, each at its fastest epoch: the
    others may have shared the cores with other jobs; seconds spent in epochs in all). A model's
    series starts again at `epoch 1/`."""
    if not log.exists():
        return 0.0, 0.0
    series: list[list[float]] = []
    for k, _, sec in EPOCH.findall(log.read_text()):
        if k == "1" or not series:
            series.append([])
        series[-1].append(float(sec))
    return sum(min(s) for s in series), sum(map(sum, series))


def rule_rows(results: Path) -> list[dict[str, Any]]:
    rows = []
    bench = results / "benchmarks/ad"
    for rule_dir in sorted(p for p in bench.iterdir() if p.is_dir() and p.name.startswith("ad_")):
        jobs = []
        for tsv in rule_dir.rglob("*.tsv"):
            t = pd.read_csv(tsv, sep="\t").iloc[0]
            log = results / "logs/ad" / tsv.relative_to(rule_dir).with_suffix(".log")
            epoch_s, in_epochs = epoch_split(log)
            jobs.append(
                {
                    "s": float(t["s"]),
                    "rss": float(t["max_rss"]),
                    "epoch_s": epoch_s,
                    "in_epochs": in_epochs,
                }
            )
        if not jobs:  # a job still running
            continue
        walls = [j["s"] for j in jobs]
        row = {
            "rule": rule_dir.name,
            "jobs": len(jobs),
            "wall_s_median": round(statistics.median(walls), 1),
            "wall_s_max": round(max(walls), 1),
            "peak_rss_mb_max": round(max(j["rss"] for j in jobs)),
        }
        slowest = max(jobs, key=lambda j: j["s"])
        if slowest["epoch_s"]:
            row["epoch_s"] = round(slowest["epoch_s"], 1)
            row["other_s"] = round(slowest["s"] - slowest["in_epochs"], 1)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--configfile", nargs="*", default=[], help="overlays the run used")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/rule_costs.json"))
    args = parser.parse_args()
    res = merged_config(args.configfile)["ad"]["resources"]
    classes = resource_classes()
    rows = rule_rows(Path(args.results))
    for r in rows:
        asked = res[classes[r["rule"]]]
        r.update(
            resource_class=classes[r["rule"]],
            mem_mb=asked["mem_mb"],
            runtime_min=asked["runtime"],
            threads=asked["threads"],
        )
        r["fits"] = (
            r["peak_rss_mb_max"] <= asked["mem_mb"] and r["wall_s_max"] <= 60 * asked["runtime"]
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"results": args.results, "configs": args.configfile, "rows": rows}, indent=2)
    )
    head = f"{'rule':24} {'jobs':>4} {'wall s med/max':>15} {'peak MB':>8} {'asks MB':>8}"
    print(head + f" {'asks min':>8} {'epoch s':>8} {'other s':>8}  fits")
    for r in rows:
        wall = f"{r['wall_s_median']}/{r['wall_s_max']}"
        print(
            f"{r['rule']:24} {r['jobs']:>4} {wall:>15} {r['peak_rss_mb_max']:>8} {r['mem_mb']:>8} "
            f"{r['runtime_min']:>8} {r.get('epoch_s', ''):>8} {r.get('other_s', ''):>8}  "
            f"{'yes' if r['fits'] else 'NO'}"
        )


if __name__ == "__main__":
    main()
