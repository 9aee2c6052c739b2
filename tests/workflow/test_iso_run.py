"""The tiny all_iso run (config/test.yaml, shared through tests/conftest.py): every table and
figure, the guided search's choice feeding its model, the bootstrap's blocks, reproducible
training, one figure rebuilt alone, and the public CMS layout read by the same workflow."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hepflows.core.event_files import read_table
from hepflows.core.io import read_json
from hepflows.iso.columns import TRUTH_COLUMN
from hepflows.iso.readers import write_cms
from hepflows.iso.synthetic import dimuon_events

from helpers import ROOT, dry_run, overlay, snakemake, tiny_args

pytestmark = [pytest.mark.workflow, pytest.mark.slow]
TEST = yaml.safe_load((ROOT / "config/test.yaml").read_text())["iso"]
MODELS = ["PFN", "9 cones + sum pT + guided EFPs", "9 cones + sum pT", "1 cone + sum pT"]


def test_tiny_all_iso_builds_every_table_and_figure(tiny_iso_run):
    base = tiny_iso_run / "iso"
    table = pd.read_csv(base / "summary/auc_table.csv")
    assert list(table["model"].unique()) == MODELS  # the config's order
    assert sorted(table["kind"].unique()) == ["sPlot", "sPlot, holdout", "truth", "truth, holdout"]
    holdout = table["kind"].str.endswith("holdout")
    assert (table.loc[holdout, "n_events"] == TEST["synthetic"]["holdout_events"]).all()
    folds = read_table(base / "cwola.h5").col("fold")
    assert (table.loc[~holdout, "n_events"] == (folds == 0).sum()).all()
    assert (table["n_replicas"] == TEST["bootstrap"]["replicas"]).all()
    assert table["auc_mean"].between(0, 1).all() and (table["auc_err"] > 0).all()
    # The gap column compares each model with the next of the same kind; the last has none.
    assert table.groupby("kind")["gap_to_next"].apply(lambda g: g.isna().sum()).eq(1).all()

    cv = pd.read_csv(base / "summary/cv.csv")
    assert set(cv["name"]) == {"pfn", "cones9_efps", "cones9", "cones1"}
    assert (cv.groupby("name")["split"].apply(sorted) == pd.Series([[0, 1]] * 4,
            index=sorted(set(cv["name"])))).all()  # fmt: skip
    scan = pd.read_csv(base / "summary/cone_scan.csv")
    assert sorted(scan["n_cones"].unique()) == TEST["cone_scan"]

    for name in ["mass_fit", "auc_table", "roc_splot", "roc_truth", "rejection_splot",
                 "rejection_truth", "cone_scan", "efp_search", "isolation_r0.45_splot",
                 "isolation_r0.1_truth"]:  # fmt: skip
        assert (base / f"plots/{name}.pdf").read_bytes()[:4] == b"%PDF"
        assert (base / f"plots/{name}.png").stat().st_size > 1000
    # No work folders or checkpoints are left behind by finished jobs.
    assert not list(tiny_iso_run.rglob("*.ckpt")) and not list(tiny_iso_run.rglob("checkpoints"))


def test_the_mass_fit_finds_the_generated_prompt_fraction(tiny_iso_run):
    fit = read_json(tiny_iso_run / "iso/evaluation/mass_fit.json")
    assert fit["n_events"] == TEST["synthetic"]["n_events"]
    # Generated: 95.6% prompt; the fit's error at 12k events is ~0.5%.
    assert abs(fit["prompt_fraction"] - 0.956) < 4 * fit["prompt_fraction_error"]
    assert abs(fit["values"]["mu"] - 90.8) < 4 * fit["errors"]["mu"]


def test_the_guided_search_feeds_its_model(tiny_iso_run):
    base = tiny_iso_run / "iso"
    search = read_json(base / "efp_search/trajectory.json")
    steps = TEST["efp_search"]["max_iterations"]
    assert len(search["chosen"]) == len(search["steps"]) == steps
    assert [s["feature_name"] for s in search["steps"]] == search["chosen"]
    assert all(c.startswith(("efp_k0_b1_", "efp_k1_b1_")) for c in search["chosen"])
    assert len(set(search["chosen"])) == len(search["chosen"])  # never the same EFP twice
    # Each pick repairs some of the pairs the model ordered unlike the PFN (ADO over 1/2).
    assert all(s["feature_ado"] > 0.5 and s["n_disordered"] > 0 for s in search["steps"])
    for split in (0, 1):
        metrics = read_json(base / f"cv/cones9_efps/split{split}/metrics.json")
        assert metrics["efps"] == search["chosen"]


def test_bootstrap_blocks_score_the_test_fold(tiny_iso_run):
    base = tiny_iso_run / "iso"
    folds = read_table(base / "cwola.h5").col("fold")
    parts = [read_table(base / f"bootstrap/cones1/part{p}.h5") for p in (0, 1)]
    assert [p.columns for p in parts] == [["replica_0", "replica_1"], ["replica_2"]]
    assert all(len(p) == int((folds == 0).sum()) for p in parts)
    evaluation = read_json(base / "evaluation/cones1.json")
    assert len(evaluation["replicas"]) == 3
    band = evaluation["splot"]["roc"]
    assert len(band["fpr"]) == len(band["median"]) == len(band["p16"])


def test_every_replica_scores_an_independent_holdout_sample(tiny_iso_run):
    base = tiny_iso_run / "iso"
    n = TEST["synthetic"]["holdout_events"]
    holdout = read_table(base / "holdout/events.h5", columns=["mass"], particles=False)
    events = read_table(base / "events.h5", columns=["mass"], particles=False)
    assert len(holdout) == n and not np.isin(holdout.col("mass"), events.col("mass")).any()
    assert read_json(base / "holdout/mass_fit.json")["n_events"] == n
    for model in ("cones1", "cones9_efps", "pfn"):
        parts = [read_table(base / f"bootstrap/{model}/holdout_part{p}.h5") for p in (0, 1)]
        assert [p.columns for p in parts] == [["replica_0", "replica_1"], ["replica_2"]]
        assert all(len(p) == n and np.isfinite(p.data).all() for p in parts)
        evaluation = read_json(base / f"evaluation/{model}.json")
        assert evaluation["holdout_n_events"] == n and len(evaluation["holdout_replicas"]) == 3
    # The guided model's holdout EFPs are exactly the search's choice, nothing of the grid.
    chosen = read_json(base / "efp_search/trajectory.json")["chosen"]
    assert read_table(base / "holdout/efps.h5").columns == chosen


def test_training_is_reproducible_and_one_figure_rebuilds_alone(tiny_iso_run, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(tiny_iso_run, results)
    plot = results / "iso/plots/cone_scan.pdf"
    plot.unlink()
    counts = dry_run(str(plot), *tiny_args(results))
    assert counts == {"iso_plot_cone_scan": 1, "total": 1}

    target = results / "iso/cv/cones9/split1/scores.h5"
    before = read_table(target).col("score")
    snakemake(str(target), "--cores", "1", "--forcerun", "iso_train", "--allowed-rules",
              "iso_train", *tiny_args(results))  # fmt: skip
    np.testing.assert_array_equal(read_table(target).col("score"), before)


def test_the_cms_layout_runs_through_the_same_workflow(tmp_path):
    """Files in the public layout (written here): read, labelled and fitted; no truth column."""
    events = dimuon_events(3000, np.random.default_rng(5))
    write_cms(tmp_path / "cms", events)
    results = tmp_path / "results"
    cms = overlay(tmp_path, "cms.yaml", {"iso": {"source": "cms",
                  "cms": {"directory": str(tmp_path / "cms")}}})  # fmt: skip
    snakemake(str(results / "iso/evaluation/mass_fit.json"), str(results / "iso/cwola.h5"),
              "--cores", "2", *tiny_args(results, cms))  # fmt: skip
    table = read_table(results / "iso/events.h5")
    assert TRUTH_COLUMN not in table.columns and len(table) == 3000
    np.testing.assert_allclose(table.col("mass"), events.col("mass"))


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("csv", r"dimuon_invariant_mass\.csv.*line 3"),
        ("key", r"pfn.*key"),
        ("nan", r"pfn.*(NaN|finite)"),
    ],
)
def test_broken_cms_files_stop_with_one_line_and_no_output(tmp_path, breakage, message):
    import re

    import lmdb

    events = dimuon_events(500, np.random.default_rng(6))
    cms = tmp_path / "cms"
    write_cms(cms, events)
    if breakage == "csv":
        path = cms / "cms_csvs/dimuon_invariant_mass.csv"
        lines = path.read_text().splitlines()
        lines[2] = "not-a-number"
        path.write_text("\n".join(lines) + "\n")
    else:
        with lmdb.open(str(cms / "pfn"), map_size=1 << 30) as env, env.begin(write=True) as txn:
            if breakage == "key":
                txn.delete(b"7")
            else:
                values = np.frombuffer(txn.get(b"7"), dtype=np.float64).copy().reshape(128, 4)
                values[0, 1] = np.nan
                txn.put(b"7", values.tobytes())
    results = tmp_path / "results"
    settings = {"iso": {"source": "cms", "cms": {"directory": str(cms)}}}
    proc = snakemake(str(results / "iso/events.h5"), "--cores", "1",
                     *tiny_args(results, overlay(tmp_path, "cms.yaml", settings)),
                     check=False)  # fmt: skip
    assert proc.returncode != 0
    log = (results / "logs/iso/events.log").read_text()
    errors = [line for line in log.splitlines() if "error:" in line]
    assert len(errors) == 1 and re.search(message, errors[0]), log
    assert not (results / "iso/events.h5").exists()


def test_the_report_shows_every_iso_figure_with_its_caption(tiny_iso_run, tmp_path):
    import html
    import json
    import re

    out = tmp_path / "report.html"
    snakemake("--report", str(out), "all_iso", *tiny_args(tiny_iso_run))
    page = out.read_text(encoding="utf-8")
    marker = "var results = "
    start = page.index(marker, page.index('<script id="results">')) + len(marker)
    results, _ = json.JSONDecoder().raw_decode(page, start)
    shown = {Path(p).resolve() for p in results}
    pngs = {p.resolve() for p in (tiny_iso_run / "iso/plots").glob("*.png")}
    assert len(pngs) == 12 and pngs <= shown
    key = {"mass_fit": "replaces truth", "isolation": "Relative isolation", "roc": "bootstrap",
           "rejection": "bootstrap", "cone_scan": "Cone scan", "efp_search": "ADO",
           "auc_table": "hierarchy"}  # fmt: skip
    for path, entry in results.items():
        caption = " ".join(html.unescape(re.sub(r"<[^>]+>", "", entry["caption"])).split())
        stem = Path(path).stem
        kind = next((k for k in key if stem.startswith(k)), None)
        if kind and path.endswith(".png"):
            assert key[kind] in caption, f"{stem}: {caption}"
