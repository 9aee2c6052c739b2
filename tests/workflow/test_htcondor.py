"""The HTCondor profile: the paper-scale dry run plans its jobs, and the submit descriptions the
HTCondor executor plugin writes for the jobs of all_AD carry each rule's CPUs, memory, disk and
GPUs, all from the resource classes of the config. No pool is needed: a stand-in scheduler
(htcondor_standin.py) takes the descriptions and "runs" each job by creating its files, so
Snakemake submits the whole DAG, group jobs included."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import ENV, ROOT, snakemake

PROFILE = ROOT / "profiles/htcondor"
STANDIN = Path(__file__).with_name("htcondor_standin.py")
# Each rule's class in ad.resources, with distinct numbers per class, so that a request taken
# from the wrong place shows.
RULE_CLASS = {
    "ad_make_static": "sample", "ad_make_testset": "sample", "ad_make_signal_pool": "sample",
    "ad_make_data": "sample", "ad_context_weights": "context_weights", "ad_reweight": "reweight",
    "ad_generate": "generate", "ad_morph_base": "morph_base", "ad_morph": "morph",
    "ad_closure": "closure", "ad_discriminate": "discriminate", "ad_supervised": "supervised",
    "ad_evaluate": "evaluate", "ad_evaluate_supervised": "evaluate", "ad_aggregate": "summary",
    "ad_plot_max_sic": "summary", "ad_plot_sic_curves": "summary", "ad_plot_closure": "summary",
    "ad_plot_weights": "summary",
}  # fmt: skip
CLASSES = ["read", "sample", "context_weights", "reweight", "generate", "morph_base", "morph",
           "closure", "discriminate", "supervised", "evaluate", "summary"]  # fmt: skip
RESOURCES = {
    c: {"threads": 1 + i % 3, "mem_mb": 700 + 100 * i, "runtime": 5 + i}
    for i, c in enumerate(CLASSES)
}
# What the default config says of each class: which train torch models (gpu: true) and which
# go into group jobs (group: summary). The profile names no rule: these decide.
DEFAULT_CLASSES = yaml.safe_load((ROOT / "config/config.yaml").read_text())["ad"]["resources"]
GPU_RULES = {r for r, c in RULE_CLASS.items() if DEFAULT_CLASSES[c].get("gpu")}
GROUPED_RULES = {r for r, c in RULE_CLASS.items() if DEFAULT_CLASSES[c].get("group")}
MEM_FIELD = "htcondor_request_mem_mb"

pytestmark = pytest.mark.workflow


# ------------------------------------------------------------------ helpers


def standin_workflow(tmp: Path) -> Path:
    """A copy of the workflow, so the stand-in run keeps its .snakemake state out of the repo.

    The rules declare their memory twice (class_resources in common.smk): as mem_mb and as the
    numeric htcondor_request_mem_mb, the only memory the plugin (0.3) reads besides a string
    request_memory; Snakemake cannot derive one resource from another in a profile."""
    wf = tmp / "wf"
    wf.mkdir()
    for name in ["Snakefile", "workflow", "config", "envs"]:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, wf / name)
    assert MEM_FIELD in (wf / "workflow/rules/common.smk").read_text()
    return wf


def run_standin(
    tmp: Path, profile: Path, *args: str, fail_once: str = "", settings: dict | None = None
) -> list[dict]:
    """Snakemake with `profile` against the stand-in scheduler on a copy of the workflow with the
    tiny config (config/test.yaml, distinct RESOURCES, a GPU-capable device unless `settings`
    say otherwise); returns the submissions."""
    wf = standin_workflow(tmp)
    overlay = tmp / "resources.yaml"
    overlay.write_text(
        yaml.safe_dump({"device": "auto", "ad": {"resources": RESOURCES}, **(settings or {})})
    )
    record = tmp / "submissions.jsonl"
    cmd = [
        sys.executable, str(STANDIN),
        "--directory", str(wf), "--snakefile", str(wf / "Snakefile"), "--profile", str(profile),
        "--htcondor-jobdir", str(tmp / "htcondor"), "--seconds-between-status-checks", "1",
        "--latency-wait", "1", *args,
        "--configfile", str(wf / "config/test.yaml"), str(overlay),
        "--config", f"results={tmp / 'results'}",
    ]  # fmt: skip
    env = {**ENV, "HTCONDOR_STANDIN_RECORD": str(record), "HTCONDOR_STANDIN_FAIL_ONCE": fail_once}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert re.search(r"(\d+) of \1 steps \(100%\) done", proc.stderr), proc.stderr[-3000:]
    return [json.loads(line) for line in record.read_text().splitlines()]


def memory(mb: int) -> set[str]:
    """request_memory as the plugin writes it: MB, or GB when a whole number of GiB."""
    return {f"{mb}MB"} | ({f"{mb // 1024}GB"} if mb % 1024 == 0 else set())


# ------------------------------------------------------------------ tests
def test_paper_scale_dry_run_with_the_htcondor_profile(tmp_path):
    # Targets first: multi-value flags (--configfile, --config) swallow what follows.
    proc = snakemake(
        "-n", "--profile", str(PROFILE), "all_AD", "--quiet", "rules",
        "--configfile", str(ROOT / "config/paper.yaml"), "--config", f"results={tmp_path}",
    )  # fmt: skip
    total = re.search(r"^total\s+(\d+)$", proc.stdout + proc.stderr, re.MULTILINE)
    assert total, proc.stdout[-2000:]
    assert 300 < int(total.group(1)) < 5000
    assert not list(tmp_path.iterdir())


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> list[dict]:
    return run_standin(tmp_path_factory.mktemp("htcondor"), PROFILE, "all_AD")


def test_every_rule_of_all_ad_is_submitted_once_per_job(submissions):
    rules = {job["rule"] for s in submissions for job in s["jobs"]}
    rules_text = "".join(p.read_text() for p in (ROOT / "workflow/rules/ad").glob("*.smk"))
    ad_rules = set(re.findall(r"^\s*rule (ad_\w+):", rules_text, re.MULTILINE))
    ad_rules -= {"ad_read_background", "ad_read_mc", "ad_read_signal"}  # source: files only
    ad_rules -= {"ad_merge_members"}  # discrim.members_per_job only
    assert rules == ad_rules
    batches = [s["submit"]["batch_name"] for s in submissions]
    assert len(set(batches)) == len(batches)


def test_single_jobs_request_their_rules_cpus_memory_disk_and_gpus(submissions):
    singles = [s for s in submissions if not s["group"]]
    assert len(singles) > 40
    for s in singles:
        (job,) = s["jobs"]
        sub, rule = s["submit"], job["rule"]
        where = f"{rule}:\n{s['text']}"
        # The rule's threads and memory, from its class in ad.resources (not capped, not defaults).
        res = RESOURCES[RULE_CLASS[rule]]
        assert (job["threads"], job["mem_mb"]) == (res["threads"], res["mem_mb"]), where
        assert sub["request_cpus"] == str(job["threads"]), where
        assert sub.get("request_memory") in memory(job["mem_mb"]), where
        # Disk in KiB: what Snakemake takes the job's disk_mb to be.
        assert sub.get("request_disk") == str(1024 * job["disk_mb"]), where
        assert job["disk_mb"] == s["resources"]["htcondor_request_disk_mb"] >= 1000, where
        if rule in GPU_RULES:
            assert sub.get("request_gpus") == "1", where
        else:
            assert "request_gpus" not in sub, where
        assert sub["getenv"] == "True" and sub["max_retries"] == "2", where
        assert sub["batch_name"].startswith(rule), where
        # HTCondor's plain argument syntax takes neither kind of quote.
        assert "'" not in sub["arguments"] and '"' not in sub["arguments"], where
    # request_gpus=1 limits each job, not the pool: GPU jobs are submitted side by side.
    assert max(s["active_gpu_jobs"] for s in singles if s["jobs"][0]["rule"] in GPU_RULES) >= 2


def test_group_jobs_bundle_the_small_steps_within_bounds(submissions):
    cores = int(yaml.safe_load((PROFILE / "config.v8+.yaml").read_text())["cores"])
    groups = [s for s in submissions if s["group"]]
    assert groups
    for s in groups:
        sub, jobs, res = s["submit"], s["jobs"], s["resources"]
        where = s["text"]
        assert {j["rule"] for j in jobs} <= GROUPED_RULES and len(jobs) > 1, where
        # Steps side by side add up, at most `cores` of them; memory and disk follow.
        assert 1 <= int(sub["request_cpus"]) == s["threads"] <= min(cores, len(jobs)), where
        for field, member in [(MEM_FIELD, "mem_mb"), ("htcondor_request_disk_mb", "disk_mb")]:
            each = max(j[member] for j in jobs)
            assert each <= res[field] <= int(sub["request_cpus"]) * each, where
        assert sub["request_memory"] in memory(res[MEM_FIELD]), where
        assert sub["request_disk"] == str(1024 * res["htcondor_request_disk_mb"]), where
        assert "request_gpus" not in sub, where
        # Strings, so not summed over the members.
        assert sub["getenv"] == "True" and sub["max_retries"] == "2", where


def test_site_examples_of_the_profile_reach_the_submit_description(tmp_path):
    # The commented site settings, uncommented, on the first jobs of the DAG.
    text = (PROFILE / "config.v8+.yaml").read_text()
    site = re.sub(r"^  # (\w+: )", r"  \1", text, flags=re.MULTILINE)
    assert site.count("\n") == text.count("\n") and len(site) == len(text) - 2 * 7
    profile = tmp_path / "site"
    profile.mkdir()
    (profile / "config.v8+.yaml").write_text(site)
    scaler = tmp_path / "results/ad/nonres/static/scaler.json"  # made by ad_make_static
    submissions = run_standin(tmp_path, profile, str(scaler))
    assert {j["rule"] for s in submissions for j in s["jobs"]} == {"ad_make_static"}
    text = submissions[0]["text"]
    for line in [
        'MY.AccountingGroup = "group_u_YOURGROUP.yourname"',
        'MY.JobFlavour = "tomorrow"',
        'MY.WantOS = "el9"',
        'requirements = OpSysAndVer == "AlmaLinux9"',
        "MY.RequestRuntime = 43200",
        "universe = container",
        "container_image = /cvmfs/unpacked.cern.ch/registry.hub.docker.com/YOUR/IMAGE:TAG",
    ]:
        assert f"\n{line}\n" in text, text


def test_a_failed_job_comes_back_with_more_memory_and_time(tmp_path):
    """Snakemake retries (the slurm profile's `retries`) ask for 2x the memory and runtime
    (class_resources in common.smk): a job killed for either comes back with more."""
    target = tmp_path / "results/ad/nonres/zp3000/test.h5"
    subs = run_standin(tmp_path, PROFILE, str(target), "--retries", "1",
                       fail_once="ad_make_testset")  # fmt: skip
    tries = [s for s in subs if s["jobs"][0]["rule"] == "ad_make_testset"]
    assert [bool(s.get("failed")) for s in tries] == [True, False]
    first, second = (s["jobs"][0] for s in tries)
    res = RESOURCES["sample"]
    assert (first["mem_mb"], first["runtime"]) == (res["mem_mb"], res["runtime"])
    assert (second["mem_mb"], second["runtime"]) == (2 * res["mem_mb"], 2 * res["runtime"])
    assert tries[1]["submit"]["request_memory"] in memory(2 * res["mem_mb"])


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        ({"device": "cpu"}, "device: cpu"),
        ({"ad": {"resources": {**RESOURCES, "context_weights": {**RESOURCES["context_weights"],
                                                               "gpu": False}}}}, "gpu: false"),
    ],
)  # fmt: skip
def test_no_gpu_is_requested_where_the_config_says_so(tmp_path, settings, why):
    target = tmp_path / "results/ad/nonres/zp3000/seed1/s0/context_weights/weights.h5"
    subs = run_standin(tmp_path, PROFILE, str(target), settings=settings)
    rules = [s["jobs"][0]["rule"] for s in subs]
    assert "ad_context_weights" in rules, why
    assert not [s["text"] for s in subs if "request_gpus" in s["submit"]], why
