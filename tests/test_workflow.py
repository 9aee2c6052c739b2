"""The workflow as a user drives it: config validation, DAG sizes, a tiny all_AD run, reruns,
rebuilding one plot, and clear failures on bad input."""

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

from hepflows.ad.regions import sr_mask
from hepflows.core.io import read_json, read_table

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
ENV = {**os.environ, "CONDOR_CONFIG": "/dev/null"}

pytestmark = pytest.mark.workflow


def snakemake(*args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, "--directory", str(ROOT), "--snakefile", str(ROOT / "Snakefile"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def overlay(tmp: Path, name: str, settings: dict) -> str:
    path = tmp / name
    path.write_text(yaml.safe_dump(settings))
    return str(path)


def job_counts(output: str) -> dict[str, int]:
    """The first 'Job stats' table Snakemake prints (a dry run or a live run) as {rule: count}."""
    counts: dict[str, int] = {}
    table = output.split("Job stats:", 1)[-1]
    for line in table.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match:
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def dry_run(*args: str) -> dict[str, int]:
    # Targets first: multi-value flags (--configfile, --config, --quiet) swallow what follows.
    proc = snakemake("-n", *args, "--quiet", "rules")
    return job_counts(proc.stdout + proc.stderr)


def tiny_args(results: Path, *extra_configs: str) -> list[str]:
    return [
        "--configfile",
        str(ROOT / "config/test.yaml"),
        *extra_configs,
        "--config",
        f"results={results}",
    ]


# ------------------------------------------------------------------ config validation
@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"ad": {"discrim": {"ensembel": 3}}}, "ensembel"),
        ({"ad": {"seeds": "one"}}, "seeds"),
        ({"ad": {"generate": {"train": {"epochs": "many"}}}}, "epochs"),
        ({"ad": {"injections": [0.01, 0.02]}}, "injections"),
        ({"ad": {"datasets": {"nonres": {"sr": {"ht": [800.0]}}}}}, "['ht']"),
        # The resource classes of an older config: `train` is now one class per training step.
        ({"ad": {"resources": {"train": {"threads": 1, "mem_mb": 4000, "runtime": 60}}}}, "train"),
        ({"ad": {"discrim": {"members_per_job": 0}}}, "members_per_job"),
    ],
)
def test_invalid_config_stops_before_any_job(tmp_path, settings, expected):
    results = tmp_path / "results"
    proc = snakemake(
        "-n", "all_AD", *tiny_args(results, overlay(tmp_path, "bad.yaml", settings)), check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Error validating config" in output and expected in output
    assert "Building DAG" not in output
    assert not results.exists()


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (plain YAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise yaml.constructor.ConstructorError(None, None, f"keys given twice: {twice}",
                                                    node.start_mark)  # fmt: skip
        return super().construct_mapping(node, deep)


@pytest.mark.parametrize(
    "path",
    ["workflow/schemas/config.schema.yaml", "config/config.yaml", "config/test.yaml",
     "config/paper.yaml", "config/lhco.yaml", "profiles/local/config.v8+.yaml",
     "profiles/local-gpu/config.v8+.yaml", "profiles/htcondor/config.v8+.yaml",
     "profiles/slurm/config.v8+.yaml"],
)  # fmt: skip
def test_schema_and_configs_give_no_key_twice(path):
    yaml.load((ROOT / path).read_text(), Loader=_UniqueKeyLoader)


def test_missing_required_value_is_named():
    from snakemake.utils import validate

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    del config["ad"]["discrim"]["classifier"]
    with pytest.raises(Exception, match="'classifier' is a required property"):
        validate(config, str(ROOT / "workflow/schemas/config.schema.yaml"), set_default=True)


def test_schema_fills_defaults():
    from snakemake.utils import validate

    config = yaml.safe_load((ROOT / "config/test.yaml").read_text())
    validate(config, str(ROOT / "workflow/schemas/config.schema.yaml"), set_default=True)
    assert config["ad"]["evaluate"]["max_rel_unc"] == 0.4
    assert config["ad"]["discrim"]["weight_sigma_cut"] == 3
    assert config["ad"]["generate"]["train"]["patience"] == 10


# ------------------------------------------------------------------ DAG shapes
def test_paper_scale_dag_stays_in_the_low_thousands():
    counts = dry_run("all_AD", "--configfile", str(ROOT / "config/paper.yaml"))
    total = counts.pop("total")
    assert 1000 < total < 3000
    # 3 signals x 7 injections x 10 seeds data sets; one job trains the 4 weak methods'
    # ensembles at a point (discrim.one_job_per: point).
    assert counts["ad_make_data"] == 210
    assert counts["ad_discriminate"] == 210
    assert counts["ad_supervised"] == 30
    assert counts["ad_generate"] == counts["ad_morph"] == counts["ad_reweight"] == 210
    # The MC base flow of morph: one per seed, shared by every signal and injection.
    assert counts["ad_morph_base"] == 10


def test_one_discrimination_job_per_method_or_per_point(tmp_path):
    paper = ["all_AD", "--configfile", str(ROOT / "config/paper.yaml")]
    method = overlay(tmp_path, "method.yaml", {"ad": {"discrim": {"one_job_per": "method"}}})
    per_method = dry_run(*paper, method)
    per_point = dry_run(*paper)
    assert per_method["ad_discriminate"] == 4 * per_point["ad_discriminate"] == 840
    assert per_method["total"] - per_point["total"] == 630


def test_resonant_lhco_dataset_plans_its_scan(tmp_path):
    shifted = overlay(tmp_path, "shift.yaml", {"ad": {"datasets": {"lhco": {"mj_shift": 0.1}}}})
    counts = dry_run("all_AD", "--configfile", str(ROOT / "config/lhco.yaml"), shifted)
    lhco = yaml.safe_load((ROOT / "config/config.yaml").read_text())["ad"]["datasets"]["lhco"]
    points = 1 * len(lhco["injections"]) * 3  # signal x its own injections x seed
    assert counts["ad_make_data"] == counts["ad_generate"] == points
    assert counts["ad_make_static"] == 1
    assert "ad_read_background" not in counts  # synthetic: nothing to read


def test_signal_injection_dag_of_the_default_config():
    counts = dry_run("all_AD")
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())["ad"]
    points = sum(
        len(d["signals"]) * len(d.get("injections", config["injections"])) * len(config["seeds"])
        for d in config["datasets"].values()
        if d.get("enabled", True)
    )
    assert counts["ad_make_data"] == points
    assert counts["ad_generate"] == points


# ------------------------------------------------------------------ a tiny all_AD run
# tiny_run (tests/conftest.py): the results of all_AD on config/test.yaml, shared.


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
        assert morph_spec["base"] == {k: v for k, v in base_spec.items() if k != "hepflows_version"}
    # morph oversamples x2 here: two base-flow draws per MC SR context, each with its weight.
    mc = read_table(tiny_run / "ad/nonres/static/mc.h5")
    sr = yaml.safe_load((ROOT / "config/test.yaml").read_text())["ad"]["datasets"]["nonres"]["sr"]
    n_mc_sr = int(sr_mask(mc, sr).sum())
    morph = read_table(base / "seed1/s0/morph/template.h5")
    assert len(morph) == 2 * n_mc_sr and morph.weights is not None
    np.testing.assert_array_equal(morph.weights[:n_mc_sr], morph.weights[n_mc_sr:])
    # No checkpoints are left behind by finished jobs.
    assert not list(tiny_run.rglob("*.ckpt"))


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
        "hepflows.ad.reweight",
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
    checkpoints = list(target.parent.glob("checkpoints/generate-*.ckpt"))
    assert len(checkpoints) == 1

    # Running again finishes the work, resuming from the last epoch boundary.
    subprocess.run([*args, "--rerun-incomplete"], env=ENV, capture_output=True, check=True)
    _, after = log.read_text().split("resuming from epoch ", 1)
    epoch = int(after.split()[0])
    assert 3 <= epoch < 60
    # The rerun trains only the epochs after the checkpoint, up to the last one.
    assert f"epoch {epoch}/60 " not in after and f"epoch {epoch + 1}/60 " in after
    assert "epoch 60/60 " in after
    assert target.exists() and not list(target.parent.glob("checkpoints/*.ckpt"))


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
    assert len(list((point / "ideal").glob("checkpoints-*/scores.h5"))) == 1

    shutil.copy2(tmp_path / "template.h5", template)
    snakemake(*args)
    log = (results / "logs/ad/nonres/zp3000/seed1/s0.05/discriminate.log").read_text()
    assert log.count("zp3000/s0.05/ideal: reusing the finished ensemble") == 1
    for m in methods:
        np.testing.assert_array_equal(read_table(point / m / "scores.h5").data, before[m])
    assert not list(point.glob("*/checkpoints-*"))


def test_an_ensemble_split_over_jobs_gives_the_same_scores(tiny_run, tmp_path):
    """discrim.members_per_job: each member of the tiny 2-member ensembles trains in its own job
    and ad_merge_members averages them, with the numbers of one job per ensemble."""
    results = tmp_path / "results"
    shutil.copytree(tiny_run, results)  # copy2 keeps the times: the copy is up to date
    point = results / "ad/nonres/zp3000/seed1/s0.05"
    methods = ["ideal", "reweight", "generate", "morph"]
    before = {m: read_table(point / m / "scores.h5").data for m in methods}
    split = overlay(tmp_path, "split.yaml", {"ad": {"discrim": {"members_per_job": 1}}})
    counts = dry_run("all_AD", *tiny_args(tmp_path / "fresh", split))
    assert counts["ad_discriminate"] == 2 * 16 and counts["ad_merge_members"] == 16
    targets = [str(point / m / "scores.h5") for m in methods]
    snakemake(*targets, "--cores", "2", *tiny_args(results, split),
              "--forcerun", "ad_merge_members")  # fmt: skip
    for m in methods:
        assert sorted(p.name for p in (point / m).glob("part*")) == ["part0", "part1"]
        np.testing.assert_allclose(
            read_table(point / m / "scores.h5").data, before[m], rtol=0, atol=1e-6
        )


def test_members_per_job_with_one_job_per_point_stops_at_start_up(tmp_path):
    bad = {"ad": {"discrim": {"one_job_per": "point", "members_per_job": 1}}}  # ensemble: 2
    results = tmp_path / "results"
    proc = snakemake(
        "-n", "all_AD", *tiny_args(results, overlay(tmp_path, "bad.yaml", bad)), check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Building DAG" not in output
    assert "ad.discrim.members_per_job" in output and "one_job_per: method" in output
    assert not results.exists()


def test_a_dataset_sets_its_own_weight_cut(tiny_run, tmp_path):
    """ad.datasets.<d>.weight_sigma_cut overrides ad.discrim's, for that dataset's SR classifiers
    only (lhco uses none: the cut removed signal-like MC events and faked a signal)."""
    no_cut = overlay(
        tmp_path, "cut.yaml", {"ad": {"datasets": {"nonres": {"weight_sigma_cut": None}}}}
    )
    # Snakemake sees the changed params where it ran the jobs (its metadata is keyed by path).
    counts = dry_run("all_AD", *tiny_args(tiny_run, no_cut))
    assert counts["ad_discriminate"] == 16 and counts["ad_supervised"] == 2
    assert "ad_reweight" not in counts and "ad_closure" not in counts
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


# ------------------------------------------------------------------ source: files
def files_overlay(tmp: Path, files: dict, **lhco) -> str:
    sizes = {"n_data": 30000, "n_mc": 20000, "n_ideal": 10000, "n_signal": 400,
             "n_test_signal": 400, "n_test_background": 1000, "max_cr_train": 5000}  # fmt: skip
    settings = {"enabled": True, "source": "files", "files": files, "injections": [0, 0.05],
                **sizes, **lhco}  # fmt: skip
    return overlay(
        tmp,
        "files.yaml",
        {"ad": {"datasets": {"nonres": {"enabled": False}, "lhco": settings},
                "methods": ["ideal", "supervised"]}},
    )  # fmt: skip


def test_lhco_runs_on_files_in_the_rnd_layout(tmp_path):
    """The R&D file (background + signal, by label) and a Herwig-like MC file drive the scan."""
    from test_file_source import write_rnd

    from hepflows.ad import lhco_synth
    from hepflows.ad.readers import lhco_frame, read_lhco

    rnd, herwig = tmp_path / "events_anomalydetection.h5", tmp_path / "herwig.h5"
    write_rnd(rnd, 70000, 4000)
    rng = np.random.default_rng(5)
    mc = lhco_synth.background(20000, rng, "mc_reg")
    lhco_frame(mc, np.zeros(len(mc)), rng).to_hdf(herwig, key="df")
    results = tmp_path / "results"
    files = files_overlay(tmp_path, {"background": str(rnd), "mc": str(herwig)})
    base = results / "ad/lhco/wp3500"
    snakemake("--cores", "2", str(base / "summary/max_sic.csv"), *tiny_args(results, files))

    table = pd.read_csv(base / "summary/max_sic.csv")
    assert set(table["method"]) == {"ideal", "supervised"}
    supervised = table.loc[table["method"] == "supervised", "max_sic_median"].iloc[0]
    assert supervised > 3  # the file's signal is found: the labels and features made it through
    read = (results / "logs/ad/lhco/read_background.log").read_text()
    assert "70000 background events -> data 30000, ideal 10000, reference 10000" in read
    # Both data seeds hold the same file background; their injected signal differs.
    file_events = read_lhco(rnd)
    one = read_table(base / "seed1/s0.05/data.h5")
    two = read_table(base / "seed2/s0.05/data.h5")
    bkg_one, bkg_two = one.select(one.labels == 0).data, two.select(two.labels == 0).data
    np.testing.assert_array_equal(bkg_one, bkg_two)
    assert set(map(tuple, bkg_one)) <= set(map(tuple, file_events.data[file_events.labels == 0]))
    sig_one, sig_two = one.select(one.labels == 1).data, two.select(two.labels == 1).data
    assert set(map(tuple, sig_one)) <= set(map(tuple, file_events.data[file_events.labels == 1]))
    assert not np.array_equal(sig_one, sig_two)
    test = read_table(base / "test.h5")
    assert (test.labels == 0).sum() == 1000 and (test.labels == 1).sum() == 400
    test_rows = set(map(tuple, test.data))
    assert not test_rows & set(map(tuple, one.data))  # the test set never overlaps the data


def test_files_too_small_fail_the_read_job_with_the_numbers(tmp_path):
    rnd = tmp_path / "small.h5"
    from test_file_source import write_rnd

    write_rnd(rnd, 5000, 1000)
    results = tmp_path / "results"
    files = files_overlay(tmp_path, {"background": str(rnd), "mc": str(rnd)})
    target = results / "ad/lhco/static/files/data.h5"
    proc = snakemake("--cores", "1", str(target), *tiny_args(results, files), check=False)
    log = (results / "logs/ad/lhco/read_background.log").read_text()
    assert proc.returncode != 0
    assert f"{rnd}: pool 'data' needs 30000 events but only 5000 are left" in log
    assert not list((results / "ad/lhco/static/files").glob("*.h5"))


@pytest.mark.parametrize(
    ("dataset", "settings", "expected"),
    [
        ("toy", {"source": "files", "files": {"background": "b.h5", "mc": "m.h5"}},
         "ad.datasets.toy.source: there is no file reader for toy"),
        ("nonres", {"source": "files", "files": {"background": "b.txt", "mc": "m.txt"}},
         "ad.datasets.nonres.files.signals: no file for ['zp3000']"),
        ("nonres", {"source": "files"}, "'files' is a required property"),
    ],
)  # fmt: skip
def test_files_config_errors_stop_before_any_job(tmp_path, dataset, settings, expected):
    bad = overlay(tmp_path, "bad.yaml", {"ad": {"datasets": {dataset: settings}}})
    proc = snakemake("-n", "all_AD", *tiny_args(tmp_path / "results", bad), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and expected in output, output[-2000:]
    assert "Building DAG" not in output


def test_a_missing_event_file_is_named_before_any_job(tmp_path):
    files = files_overlay(tmp_path, {"background": "nowhere/rnd.h5", "mc": "nowhere/herwig.h5"})
    proc = snakemake("-n", "all_AD", *tiny_args(tmp_path / "results", files), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Missing input files" in output and "nowhere/rnd.h5" in output
