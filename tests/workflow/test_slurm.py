"""profiles/slurm on a real Slurm cluster: the tiny all_AD through a one-node cluster that
scripts/slurm_cluster.sh starts here, and proof that every job went through sbatch.

Needs root (the script installs slurm-wlm and munge with apt-get when they are missing and starts
munged, slurmctld and slurmd); skipped, with the reason, where that cannot be had."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, SNAKEMAKE, job_counts

SCRIPT = ROOT / "scripts/slurm_cluster.sh"
SLURM_BINARIES = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "munged")
RUN_TIMEOUT = 1200  # s; the run takes ~5 min on a quiet 2-core machine

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def cluster(command: str, cluster_dir: Path, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), command, str(cluster_dir)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def log_tails(cluster_dir: Path, lines: int = 5) -> str:
    tails = []
    for name in ("slurmctld.log", "slurmd.log", "apt.log"):
        path = cluster_dir / name
        if path.exists():
            tails.append(f"--- {name}:\n" + "\n".join(path.read_text().splitlines()[-lines:]))
    return "\n".join(tails)


@pytest.fixture(scope="module")
def slurm_conf():
    """A one-node Slurm cluster for this module; stopped (its jobs cancelled) even on failure."""
    if os.geteuid() != 0:
        pytest.skip("Slurm test needs root: it installs slurm-wlm/munge and starts the daemons")
    if not all(map(shutil.which, SLURM_BINARIES)) and not shutil.which("apt-get"):
        pytest.skip("Slurm test: no Slurm binaries and no apt-get to install slurm-wlm munge")
    cluster_dir = Path(tempfile.mkdtemp(prefix="hepflows-slurm-"))
    try:
        try:
            start = cluster("start", cluster_dir, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.skip(f"Slurm test: the cluster did not start in 600 s\n{log_tails(cluster_dir)}")
        if start.returncode != 0:
            why = f"exit {start.returncode}:\n{start.stderr[-2000:]}\n{log_tails(cluster_dir)}"
            pytest.skip(f"Slurm test: the one-node cluster did not start ({why})")
        yield cluster_dir / "slurm.conf"
    finally:
        stop = cluster("stop", cluster_dir, timeout=120)
        if stop.returncode == 0:
            shutil.rmtree(cluster_dir, ignore_errors=True)


def test_tiny_all_ad_runs_every_job_through_slurm(slurm_conf, tmp_path):
    results, slurm_logs = tmp_path / "results", tmp_path / "slurm_logs"
    env = {**os.environ, "SLURM_CONF": str(slurm_conf), "CONDOR_CONFIG": "/dev/null"}
    # Targets first: multi-value flags (--configfile, --config) swallow what follows.
    # fmt: off
    cmd = [*SNAKEMAKE, "--directory", str(ROOT), "--snakefile", str(ROOT / "Snakefile"),
           "--profile", str(ROOT / "profiles/slurm"), "all_AD",
           # Test-only settings: there is no slurmdbd, so job states come from squeue (sacct
           # would be polled forever); the first status check after 2 s, not 40; keep every
           # job's Slurm log for the checks below.
           "--slurm-status-command", "squeue",
           "--slurm-init-seconds-before-status-checks", "2",
           "--slurm-keep-successful-logs", "--slurm-logdir", str(slurm_logs),
           "--configfile", str(ROOT / "config/test.yaml"),
           "--config", f"results={results}"]
    # fmt: on
    # Own session: on timeout SIGKILL the whole group (Snakemake answers SIGTERM by waiting for
    # its running jobs); the fixture's stop cancels what is left in Slurm.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"snakemake through Slurm ran past {RUN_TIMEOUT} s:\n{output[-4000:]}")
    assert proc.returncode == 0, f"snakemake through Slurm failed:\n{output[-6000:]}"

    # The results, as a local run makes them.
    base = results / "ad/nonres/zp3000"
    table = pd.read_csv(base / "summary/max_sic.csv")
    assert set(table["method"]) == {"ideal", "reweight", "generate", "morph", "supervised"}
    for plot in ("max_sic_vs_sb", "closure_summary", "sic_vs_efficiency_s0.05", "weights_s0"):
        assert (base / f"plots/{plot}.pdf").stat().st_size > 0

    # Every job but the local target rule went through sbatch.
    planned = job_counts(output)
    total = planned.pop("total")
    assert sum(planned.values()) == total
    local = set(re.findall(r"^localrule (\w+):", output, flags=re.M))
    assert local == {"all_AD"}
    remote = Counter({rule: n for rule, n in planned.items() if rule not in local})

    # 1) Slurm ran each submission, and nothing else, to completion: the plugin names every
    # Slurm job after the run ID, and MinJobAge (an hour here) keeps finished jobs in squeue.
    run_id = re.search(r"SLURM run ID: (\S+)", output).group(1)
    submitted = re.findall(r"Job (\S+) has been submitted with SLURM jobid (\d+) ", output)
    assert len({job for job, _ in submitted}) == len(submitted)  # each once: no retries
    slurm_ids = sorted(slurm_id for _, slurm_id in submitted)
    squeue = subprocess.run(
        ["squeue", "--noheader", "--states=all", "--name", run_id, "--format=%i|%T"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    states = dict(line.split("|") for line in squeue.split())
    assert states == {slurm_id: "COMPLETED" for slurm_id in slurm_ids}

    # 2) Inside those Slurm jobs (their --output logs), each planned job ran once: a group job
    # (evaluation, summary and plots, see profiles/slurm) runs several in one Slurm job.
    logs = sorted(slurm_logs.rglob("*.log"))
    assert sorted(p.stem for p in logs) == slurm_ids
    ran = Counter()
    for log in logs:
        text = log.read_text()
        assert re.search(r"\d+ of \d+ steps \(100%\) done", text), f"{log}:\n{text[-2000:]}"
        ran.update(re.findall(r"^\s*rule (\w+):", text, flags=re.M))
    assert ran == remote
    assert len(submitted) < sum(remote.values())  # the profile's groups took effect
