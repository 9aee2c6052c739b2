"""The tiny all_AD run (config/test.yaml, shared by every test here through tests/conftest.py):
every table and plot, reruns of exactly the jobs a change touches, one plot rebuilt alone, clear
failures on bad input, kill and resume, job granularity that leaves the numbers as they are."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

import hepflows.core.flows  # noqa: F401  (registers the flow kinds load_model builds)
from hepflows.ad.regions import sr_mask
from hepflows.core.event_files import read_table
from hepflows.core.io import read_json
from hepflows.core.models import architecture, load_model

from helpers import ENV, ROOT, SNAKEMAKE, dry_run, overlay, snakemake, tiny_args

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def test_tiny_all_ad_builds_every_table_and_plot(tiny_run):
    base = tiny_run / "ad/nonres/zp3000"
    table = pd.read_csv(base / "summary/max_sic.csv")
    weak = table[table["method"] != "supervised"]
    assert set(weak["method"]) == {"ideal", "reweight", "generate", "morph"}
    assert sorted(set(weak["injection"])) == [0.0, 0.05]
    assert (table["n_seeds"] == 2).all()
    assert np.isfinite(table["max_sic_median"]).all()
    # The FPR = 1 point (SIC = 1) always passes the FPR floor, so max SIC is at least 1.
    assert (table["max_sic_p16"] >= 1.0 - 1e-9).all()
    # the share of the injected signal that the templates learn from in the CR
    share = weak.set_index(["method", "injection"])["signal_in_cr"]
    assert (share.xs(0.0, level="injection") == 0.0).all()
    assert share.xs(0.05, level="injection").between(0.05, 0.5).all()
    supervised = table[table["method"] == "supervised"]
    assert len(supervised) == 1 and supervised["auc_median"].iloc[0] > 0.9

    closure = pd.read_csv(base / "summary/closure.csv")
    assert set(closure["region"]) == {"CR", "SR"}
    assert closure["median"].between(0.3, 0.9).all()

    for name in ["max_sic_vs_sb", "closure_summary", "sic_vs_efficiency_s0.05", "weights_s0"]:
        assert (base / f"plots/{name}.pdf").read_bytes()[:4] == b"%PDF"
        assert (base / f"plots/{name}.png").stat().st_size > 1000

    scores = read_table(base / "seed1/s0.05/generate/scores.h5", require_labels=True)
    test = read_table(base / "test.h5", require_labels=True)
    assert len(scores) == len(test) == 5000
    assert scores.attrs["hepflows_version"]
    evaluation = read_json(base / "evaluation/ideal_s0.05.json")
    assert len(evaluation["sic_curve"]["median"]) == len(evaluation["sic_curve"]["tpr"])
    # morph stands on the MC base flow of its seed, trained once in static/ for all injections.
    base_spec = read_json(tiny_run / "ad/nonres/static/morph_base/seed1/flow.json")
    for inj in ("0", "0.05"):
        morph_spec = read_json(base / f"seed1/s{inj}/morph/flow.json")
        assert morph_spec["base"] == architecture(base_spec)
    # The saved flows load back (their best epoch beside the spec, not in it).
    for stem in ("seed1/s0/generate/flow", "seed1/s0.05/morph/flow"):
        flow, spec = load_model(base / stem)
        assert not flow.training and spec["trained"]["best_epoch"] >= 1
    # morph oversamples x2 here: two base-flow draws per MC SR context, each with its weight.
    mc = read_table(tiny_run / "ad/nonres/static/mc.h5")
    sr = yaml.safe_load((ROOT / "config/test.yaml").read_text())["ad"]["datasets"]["nonres"]["sr"]
    n_mc_sr = int(sr_mask(mc, sr).sum())
    morph = read_table(base / "seed1/s0/morph/template.h5")
    assert len(morph) == 2 * n_mc_sr and morph.weights is not None
    np.testing.assert_array_equal(morph.weights[:n_mc_sr], morph.weights[n_mc_sr:])
    # No work folders or checkpoints are left behind by finished jobs.
    assert not list(tiny_run.rglob("*.ckpt")) and not list(tiny_run.rglob("checkpoints"))


def test_finished_run_has_nothing_left_to_do(tiny_run):
    proc = snakemake("-n", "all_AD", *tiny_args(tiny_run))
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_one_hyperparameter_reruns_exactly_its_jobs(tiny_run, tmp_path):
    changed = overlay(tmp_path, "epochs.yaml", {"ad": {"generate": {"train": {"epochs": 3}}}})
    counts = dry_run("all_AD", *tiny_args(tiny_run, changed))
    # 2 seeds x 2 injections generate templates, their discrimination and closure (s = 0),
    # then the evaluation of generate at both injections and the summary downstream.
    assert counts["ad_generate"] == 4
    assert counts["ad_discriminate"] == 4
    assert counts["ad_closure"] == 2
    assert counts["ad_evaluate"] == 2
    for untouched in [
        "ad_reweight",
        "ad_morph",
        "ad_context_weights",
        "ad_make_data",
        "ad_supervised",
    ]:
        assert untouched not in counts

    # morph: the top flow is per data set, the MC base flow per seed (2 here), shared.
    top = overlay(tmp_path, "top.yaml", {"ad": {"morph": {"top_train": {"epochs": 3}}}})
    counts = dry_run("all_AD", *tiny_args(tiny_run, top))
    assert counts["ad_morph"] == 4 and "ad_morph_base" not in counts
    base = overlay(tmp_path, "base.yaml", {"ad": {"morph": {"base_train": {"epochs": 3}}}})
    counts = dry_run("all_AD", *tiny_args(tiny_run, base))
    assert counts["ad_morph_base"] == 2 and counts["ad_morph"] == 4
    assert "ad_generate" not in counts and "ad_reweight" not in counts

    ensemble = overlay(tmp_path, "ensemble.yaml", {"ad": {"discrim": {"ensemble": 3}}})
    counts = dry_run("all_AD", *tiny_args(tiny_run, ensemble))
    assert counts["ad_discriminate"] == 16 and counts["ad_supervised"] == 2
    assert "ad_generate" not in counts and "ad_closure" not in counts


def test_one_plot_rebuilds_alone(tiny_run):
    target = tiny_run / "ad/nonres/zp3000/plots/max_sic_vs_sb.pdf"
    target.unlink()
    counts = dry_run(str(target), *tiny_args(tiny_run))
    assert counts == {"ad_plot_max_sic": 1, "total": 1}
    snakemake("--cores", "1", str(target), *tiny_args(tiny_run))
    assert target.read_bytes()[:4] == b"%PDF"


# ------------------------------------------------------------------ bad input
def run_reweight(tiny_run: Path, data: Path, out_dir: Path) -> subprocess.CompletedProcess:
    static = tiny_run / "ad/nonres/static"
    params = json.dumps(
        {
            "seed": 7,
            "device": "cpu",
            "holdout_fraction": 0.2,
            "dataset": {"sr": {"ht": [800, None], "met": [75, None]}, "max_cr_train": 5000},
            "method": {"classifier": {"kind": "hgb", "max_iter": 5}},
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "hepflows.ad.steps.reweight",
        "--dataset",
        "nonres",
        "--data-seed",
        "1",
        "--data",
        str(data),
        "--mc",
        str(static / "mc.h5"),
        "--scaler",
        str(static / "scaler.json"),
        "--out",
        str(out_dir / "template.h5"),
        "--out-cr",
        str(out_dir / "template_cr.h5"),
        "--params",
        params,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)


def test_truncated_input_gives_one_clear_line_and_no_output(tiny_run, tmp_path):
    good = tiny_run / "ad/nonres/zp3000/seed1/s0/data.h5"
    broken = tmp_path / "data.h5"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    proc = run_reweight(tiny_run, broken, tmp_path / "out")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and str(broken) in errors[0] and "HDF5" in errors[0]
    assert not list(tmp_path.glob("out/*"))


def test_nan_in_data_is_named_and_leaves_no_output(tiny_run, tmp_path):
    good = tiny_run / "ad/nonres/zp3000/seed1/s0/data.h5"
    bad = tmp_path / "data_nan.h5"
    bad.write_bytes(good.read_bytes())
    with h5py.File(bad, "r+") as f:
        data = f["data"][...]
        columns = [c if isinstance(c, str) else c.decode() for c in f["data"].attrs["columns"]]
        data[5, columns.index("met")] = np.nan
        f["data"][...] = data
    proc = run_reweight(tiny_run, bad, tmp_path / "out")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and str(bad) in errors[0] and "'met'" in errors[0]
    assert not list(tmp_path.glob("out/*"))


# ------------------------------------------------------------------ kill and resume
def run_until(args: list[str], done, what: str, timeout: float = 240) -> None:
    """Start Snakemake, wait until ``done()`` holds, then SIGKILL it (as a crash would)."""
    proc = subprocess.Popen(
        args, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + timeout
    try:
        while not done():
            if time.time() > deadline:
                pytest.fail(what)
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_killed_training_resumes_from_its_checkpoint(tiny_run, tmp_path):
    slow = overlay(
        tmp_path,
        "slow.yaml",
        {"ad": {"generate": {"train": {"epochs": 60, "batch_size": 32, "patience": None}}}},
    )
    # A copy, so that the shared run keeps its own parameters for the tests after this one.
    results = tmp_path / "results"
    shutil.copytree(tiny_run, results)  # copy2 keeps the times: the copy is up to date
    target = results / "ad/nonres/zp3000/seed2/s0/generate/template.h5"
    log = results / "logs/ad/nonres/zp3000/seed2/s0/generate.log"
    args = [
        *SNAKEMAKE,
        "--directory",
        str(ROOT),
        "--cores",
        "1",
        str(target),
        *tiny_args(results, slow),
    ]
    # --nolock: a SIGKILLed Snakemake leaves its lock behind, as it would after a power cut.
    args += ["--forcerun", "ad_generate", "--allowed-rules", "ad_generate", "--nolock"]

    def reached_epoch_3() -> bool:
        return log.exists() and re.search(r"epoch ([3-9]|[1-5]\d)/60 ", log.read_text()) is not None

    run_until(args, reached_epoch_3, "training never reached epoch 3")
    assert not target.exists()
    checkpoints = list(target.parent.glob("checkpoints/generate-*/train.ckpt"))
    assert len(checkpoints) == 1

    # Running again finishes the work, resuming from the last epoch boundary.
    subprocess.run([*args, "--rerun-incomplete"], env=ENV, capture_output=True, check=True)
    _, after = log.read_text().split("resuming from epoch ", 1)
    epoch = int(after.split()[0])
    assert 3 <= epoch < 60
    # The rerun trains only the epochs after the checkpoint, up to the last one.
    assert f"epoch {epoch}/60 " not in after and f"epoch {epoch + 1}/60 " in after
    assert "epoch 60/60 " in after
    assert target.exists() and not (target.parent / "checkpoints").exists()


def test_one_job_per_point_gives_the_same_scores_and_resumes(tiny_run, tmp_path):
    """discrim.one_job_per: point trains every method's ensemble in one job, with the numbers
    of one job per method; after a failure it keeps the ensembles it had finished."""
    results = tmp_path / "results"
    shutil.copytree(tiny_run, results)  # copy2 keeps the times: the copy is up to date
    point = results / "ad/nonres/zp3000/seed1/s0.05"
    methods = ["ideal", "reweight", "generate", "morph"]
    before = {m: read_table(point / m / "scores.h5").data for m in methods}
    per_point = overlay(tmp_path, "point.yaml", {"ad": {"discrim": {"one_job_per": "point"}}})
    targets = [str(point / m / "scores.h5") for m in methods]
    args = [*targets, "--cores", "1", *tiny_args(results, per_point)]
    args += ["--forcerun", "ad_discriminate", "--allowed-rules", "ad_discriminate"]

    # The second template is unreadable: the job fails after the first ensemble is done.
    template = point / "reweight/template.h5"
    shutil.copy2(template, tmp_path / "template.h5")
    template.write_bytes(template.read_bytes()[:1000])
    failed = snakemake(*args, check=False)
    assert failed.returncode != 0
    assert not any((point / m / "scores.h5").exists() for m in methods)
    assert len(list((point / "ideal").glob("checkpoints/discriminate-*/scores.h5"))) == 1

    shutil.copy2(tmp_path / "template.h5", template)
    snakemake(*args)
    log = (results / "logs/ad/nonres/zp3000/seed1/s0.05/discriminate.log").read_text()
    assert log.count("zp3000/s0.05/ideal: reusing the finished ensemble") == 1
    for m in methods:
        np.testing.assert_array_equal(read_table(point / m / "scores.h5").data, before[m])
    assert not list(point.glob("*/checkpoints"))


SPLIT_METHODS = ["ideal", "reweight", "generate", "morph"]


@pytest.fixture(scope="module")
def split_run(tiny_run, tmp_path_factory):
    """The tiny run with discrim.members_per_job 1: each member of the 2-member ensembles of
    one point retrains in its own job and ad_merge_members averages them. Returns the point,
    the scores of one job per ensemble, and the fresh DAG's job counts."""
    tmp_path = tmp_path_factory.mktemp("split")
    results = tmp_path / "results"
    shutil.copytree(tiny_run, results)  # copy2 keeps the times: the copy is up to date
    point = results / "ad/nonres/zp3000/seed1/s0.05"
    before = {m: read_table(point / m / "scores.h5").data for m in SPLIT_METHODS}
    split = overlay(tmp_path, "split.yaml", {"ad": {"discrim": {"members_per_job": 1}}})
    counts = dry_run("all_AD", *tiny_args(tmp_path / "fresh", split))
    targets = [str(point / m / "scores.h5") for m in SPLIT_METHODS]
    snakemake(*targets, "--cores", "2", *tiny_args(results, split),
              "--forcerun", "ad_merge_members")  # fmt: skip
    return point, before, counts


def test_an_ensemble_split_over_jobs_trains_and_merges_every_member(split_run):
    point, before, counts = split_run
    assert counts["ad_discriminate"] == 2 * 16 and counts["ad_merge_members"] == 16
    for m in SPLIT_METHODS:
        assert sorted(p.name for p in (point / m).glob("part*")) == ["part0", "part1"]
        after = read_table(point / m / "scores.h5").data
        assert after.shape == before[m].shape and np.isfinite(after).all()


def test_an_ensemble_split_over_jobs_gives_the_same_scores_up_to_rounding(split_run):
    """Each part trains its members with the whole ensemble's seeds and batch order, so the
    merged scores are the one-job scores, up to the stacked network's sums over the batch, whose
    order depends on the number of members (docs/ad.md). On some CPUs that is bitwise (the 2-core
    Xeon of 2026-12-02), on others training amplifies it to a median 1.5e-4 and at most 9.1e-3
    (stop 19, this config). Two members of one ensemble differ by a median 0.013-0.030 here."""
    point, before, _ = split_run
    for m in SPLIT_METHODS:
        diff = np.abs(read_table(point / m / "scores.h5").data - before[m])
        assert np.median(diff) <= 1e-3 and diff.max() <= 5e-2, (m, np.median(diff), diff.max())


def test_a_dataset_sets_its_own_weight_cut(tiny_run, tmp_path):
    """ad.datasets.<d>.weight_sigma_cut overrides ad.discrim's, for that dataset's SR classifiers
    and their closure (whose headline is on the cut template) only (lhco uses none: the cut
    removed signal-like MC events and faked a signal)."""
    no_cut = overlay(
        tmp_path, "cut.yaml", {"ad": {"datasets": {"nonres": {"weight_sigma_cut": None}}}}
    )
    # Snakemake sees the changed params where it ran the jobs (its metadata is keyed by path).
    counts = dry_run("all_AD", *tiny_args(tiny_run, no_cut))
    assert counts["ad_discriminate"] == 16 and counts["ad_supervised"] == 2
    assert counts["ad_closure"] == 8  # 4 weak methods x 2 seeds at S/B = 0
    assert "ad_reweight" not in counts and "ad_generate" not in counts
    results = tmp_path / "results"
    shutil.copytree(tiny_run, results)
    log = results / "logs/ad/nonres/zp3000/seed1/s0/reweight/discriminate.log"
    assert not re.search(r"\(0 dropped by the weight cut\)", log.read_text())
    target = results / "ad/nonres/zp3000/seed1/s0/reweight/scores.h5"
    snakemake(str(target), "--cores", "1", "--forcerun", "ad_discriminate",
              "--allowed-rules", "ad_discriminate", *tiny_args(results, no_cut))  # fmt: skip
    assert re.search(r"\(0 dropped by the weight cut\)", log.read_text())


def test_lhco_generate_samples_sr_mjj_from_the_data_kde(tmp_path):
    """The resonant CATHODE template: SR m_jj drawn from a KDE of the SR data, inside the SR."""
    sizes = {"n_data": 30000, "n_mc": 30000, "n_ideal": 30000, "n_signal": 500,
             "n_test_signal": 500, "n_test_background": 2000, "max_cr_train": 5000}  # fmt: skip
    tiny_lhco = overlay(
        tmp_path,
        "lhco.yaml",
        {"ad": {"datasets": {"nonres": {"enabled": False},
                             "lhco": {"enabled": True, "mj_shift": 0.1, **sizes}}}},
    )  # fmt: skip
    results = tmp_path / "results"
    point = results / "ad/lhco/wp3500/seed1/s0.05"
    snakemake("--cores", "2", str(point / "generate/template.h5"), *tiny_args(results, tiny_lhco))
    template = read_table(point / "generate/template.h5")
    data = read_table(point / "data.h5")
    in_sr = (data.data[:, 0] > 3.3) & (data.data[:, 0] <= 3.7)
    mjj = template.data[:, 0]
    assert len(template) == 2 * int(in_sr.sum())  # oversample 2 in the tiny config
    assert ((mjj > 3.3) & (mjj <= 3.7)).all()
    # Not a resampling of the data's values: the kernel smooths them.
    assert len(np.intersect1d(mjj, data.data[in_sr, 0])) < 0.01 * len(mjj)
    assert abs(np.median(mjj) - np.median(data.data[in_sr, 0])) < 0.02
