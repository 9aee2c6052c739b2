"""Kills at points of a small ad chain, as a power cut, a batch system or an impatient user would
deliver them, each followed by the same command again: the chain must end with the outputs of an
uninterrupted run, leave no work folder behind and need nothing but the rerun (and Snakemake's
``--unlock`` where a SIGKILL left its lock). The counts printed (``pytest -s``) are the ones
docs/reliability.md quotes.

The chain: config/test.yaml with one data seed, injection 0 and the methods ideal, generate and
morph, up to the summary tables (17 jobs). generate trains for 12 epochs of small batches so that
a kill can land between two of its checkpoints.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pytest

from helpers import ENV, ROOT, SNAKEMAKE, overlay, tiny_args

pytestmark = [pytest.mark.workflow, pytest.mark.slow]

SEED = 1301  # the random kill times: fixed, so that every run of the test kills alike
SIGNAL_DIR = "ad/nonres/zp3000"
TARGET = f"{SIGNAL_DIR}/summary/max_sic.csv"
GENERATE = f"{SIGNAL_DIR}/seed1/s0/generate"
GENERATE_LOG = f"logs/{SIGNAL_DIR}/seed1/s0/generate.log"
EPOCHS = 12  # generate's, at ~0.3 s each: time enough to kill between two checkpoints
CHAIN = {
    "ad": {
        "seeds": [1],
        "injections": [0],
        "closure_injections": [0],
        "methods": ["ideal", "generate", "morph"],
        "generate": {"train": {"epochs": EPOCHS, "batch_size": 64, "patience": None}},
    }
}
N_JOBS = 17
LOCKED = "cannot be locked"
TEMP_FILE = re.compile(r"^\..+\.tmp-[0-9a-f]{8}(\.\w+)?$")  # hepflows.core.io.atomic_output


def command(results: Path, chain: str, *extra: str) -> list[str]:
    """The one command every attempt runs: the local profile (rerun-incomplete) on 2 cores."""
    return [*SNAKEMAKE, "--directory", str(ROOT), "--snakefile", str(ROOT / "Snakefile"),
            "--profile", str(ROOT / "profiles/local"), "--cores", "2", *extra,
            str(results / TARGET), *tiny_args(results, chain)]  # fmt: skip


def unlock(cmd: list[str]) -> list[str]:
    """``cmd`` with --unlock (before the targets and the multi-value flags)."""
    return [*cmd[: len(SNAKEMAKE)], "--unlock", *cmd[len(SNAKEMAKE) :]]


# ------------------------------------------------------------------ comparing two results folders
def file_names(results: Path) -> set[str]:
    """Every file of a results folder, hidden ones included, but the stray temp files of an
    atomic write that a SIGKILL cut short (counted apart)."""
    return {
        str(p.relative_to(results))
        for p in results.rglob("*")
        if p.is_file() and not TEMP_FILE.match(p.name)
    }


def differences(reference: Path, results: Path) -> list[str]:
    """What differs from the reference: files missing or extra anywhere (logs and benchmarks
    included), and the bytes of every output below ad/ (logs and timings differ by nature)."""
    want, got = file_names(reference), file_names(results)
    diffs = [f"missing: {n}" for n in sorted(want - got)]
    diffs += [f"extra: {n}" for n in sorted(got - want)]
    for name in sorted(want & got):
        if (
            name.startswith("ad/")
            and (reference / name).read_bytes() != (results / name).read_bytes()
        ):
            diffs.append(f"differs: {name}")
    return diffs


def stale_locks(results: Path) -> bool:
    """Whether a Snakemake lock in the working directory names a file of ``results``. (Any
    Snakemake that ends in the same working directory removes every lock there, so the answer
    is read at once after a kill.)"""
    for lock in (ROOT / ".snakemake/locks").glob("*.lock"):
        try:
            if str(results) in lock.read_text():
                return True
        except OSError:  # removed in between
            continue
    return False


# ------------------------------------------------------------------ faults and attempts
@dataclass
class Attempt:
    """One run of the command: its results folder, its output so far, when it started (the
    monotonic clock for delays, the wall clock for file times)."""

    results: Path
    output: Path
    started: float
    wall_start: float

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def jobs_done(self) -> int:
        return len(re.findall(r"^\d+ of \d+ steps", self.text(), re.M))


@dataclass(frozen=True)
class Fault:
    """A signal to the whole process group (Snakemake and its running jobs) once ``ready``
    holds for the attempt, plus ``delay`` seconds."""

    name: str
    sig: signal.Signals
    ready: Callable[[Attempt], bool]
    delay: float = 0.0


@dataclass
class Outcome:
    """What became of one fault."""

    fault: str
    injected: bool = False  # the run was still going when the signal went out
    survived: bool = False  # the same command ran on after it (see campaign)
    lock_left: bool = False  # a lock naming the results was there after the kill
    refused: bool = False  # the next run said the directory cannot be locked
    exit_code: int | None = None
    finished_jobs: int = 0  # jobs this attempt finished before the signal
    clean: bool = False  # no job had failed when the signal went out (or the run ended well)
    note: str = ""
    resumed: set[int] = field(default_factory=set)  # epochs generate resumed from, as logged


@dataclass
class Campaign:
    """The killed chain: its results folder, the outcome of every fault, the stray temp files
    and the jobs finished over all attempts."""

    results: Path
    outcomes: list[Outcome] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    jobs_run: int = 0
    final_output: str = ""


def after_jobs(k: int) -> Callable[[Attempt], bool]:
    """The attempt has just finished its k-th job: the next ones are running."""
    return lambda a: a.jobs_done() >= k


def after_seconds(t: float) -> Callable[[Attempt], bool]:
    """A kill at no particular point: t seconds after the attempt started."""
    return lambda a: time.monotonic() - a.started >= t


def mid_epoch(epoch: int) -> Callable[[Attempt], bool]:
    """generate, in this attempt, has saved its checkpoint of ``epoch`` or a later one (its
    log line follows the write) and trains the next epoch."""

    def ready(a: Attempt) -> bool:
        ckpts = (a.results / GENERATE).glob("checkpoints/generate-*/train.ckpt")
        if not any(_mtime(p) >= a.wall_start for p in ckpts):
            return False
        log = a.results / GENERATE_LOG
        done = re.findall(rf"epoch (\d+)/{EPOCHS} ", log.read_text() if log.exists() else "")
        return bool(done) and epoch <= int(done[-1]) < EPOCHS

    return ready


def _mtime(path: Path) -> float:
    """The modification time, 0 for a file that went in between (the job ended)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def rule_started(rule: str) -> Callable[[Attempt], bool]:
    """Snakemake has started a job of ``rule``."""
    return lambda a: re.search(rf"^(local)?rule {rule}:", a.text(), re.M) is not None


def faults() -> list[Fault]:
    """The kills, in the order they hit the one killed chain: keyed to its progress, plus two at
    seeded random times."""
    rng = random.Random(SEED)
    kill = signal.SIGKILL
    return [
        Fault("SIGKILL after the first finished job", kill, after_jobs(1)),
        Fault("SIGKILL mid-epoch of generate's training (epoch >= 3 saved)", kill, mid_epoch(3)),
        Fault("SIGTERM (graceful) after 2 finished jobs", signal.SIGTERM, after_jobs(2)),
        *(
            Fault(f"SIGKILL at a random time ({t:.1f} s after the start)", kill, after_seconds(t))
            for t in (round(rng.uniform(4.0, 14.0), 1) for _ in range(2))
        ),
        Fault("SIGKILL during the final aggregation", kill, rule_started("ad_aggregate"), 0.3),
    ]


def resumes(results: Path) -> set[int]:
    """The epochs generate's training resumed from, as its log says now (Snakemake deletes a
    job's log when it runs the job again, so the log is read while the attempt runs)."""
    log = results / GENERATE_LOG
    try:
        return {int(e) for e in re.findall(r"resuming from epoch (\d+)", log.read_text())}
    except OSError:
        return set()


def wait(proc: subprocess.Popen, until: Callable[[], bool], deadline: float, outcome: Outcome,
         results: Path) -> None:  # fmt: skip
    """Until ``until()`` holds or the run ends, noting every resume of the training."""
    while proc.poll() is None and not until():
        assert time.monotonic() < deadline, f"{outcome.fault}: never came"
        outcome.resumed |= resumes(results)
        time.sleep(0.05)
    outcome.resumed |= resumes(results)


def attempt(cmd: list[str], results: Path, output: Path, fault: Fault | None) -> Outcome:
    """Run ``cmd``; deliver ``fault`` to its process group when due (None: run to the end)."""
    state = Attempt(results, output, time.monotonic(), time.time())
    outcome = Outcome(fault.name if fault else "(none: run to the end)")
    with output.open("w") as out:
        proc = subprocess.Popen(cmd, env=ENV, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 300
    try:
        if fault is not None:
            wait(proc, lambda: fault.ready(state), deadline, outcome, results)
            due = time.monotonic() + fault.delay
            wait(proc, lambda: time.monotonic() >= due, deadline, outcome, results)
            if proc.poll() is None:
                so_far = state.text()
                outcome.finished_jobs = state.jobs_done()
                outcome.clean = not re.search(r"^Error in rule|Traceback", so_far, re.M)
                os.killpg(proc.pid, fault.sig)
                outcome.injected = True
        wait(proc, lambda: False, deadline, outcome, results)
    finally:
        try:  # nothing of the attempt outlives it (a SIGTERMed job that lingered, a timeout)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    outcome.exit_code = proc.returncode
    if not outcome.injected:
        outcome.finished_jobs = state.jobs_done()
        outcome.clean = proc.returncode == 0
    if outcome.injected:
        outcome.lock_left = stale_locks(results)
    return outcome


def run_on(
    cmd: list[str], results: Path, output: Path, fault: Fault | None, after: Outcome | None
) -> Outcome:
    """:func:`attempt`, and once more after ``--unlock`` if the run was refused for the lock
    that the previous fault (``after``) left: a finding that the counts show, not hidden."""
    outcome = attempt(cmd, results, output, fault)
    if not outcome.injected and outcome.exit_code != 0 and LOCKED in output.read_text():
        assert after is not None and after.injected, output.read_text()[-3000:]
        after.refused = True
        subprocess.run(unlock(cmd), env=ENV, capture_output=True, check=True)
        outcome = attempt(cmd, results, output, fault)
    return outcome


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> str:
    """The overlay that cuts config/test.yaml down to the chain."""
    return overlay(tmp_path_factory.mktemp("chain"), "chain.yaml", CHAIN)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, chain) -> Path:
    """The chain run once without interruption."""
    results = tmp_path_factory.mktemp("reference") / "results"
    proc = subprocess.run(command(results, chain), env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert len(re.findall(r"^\d+ of \d+ steps", proc.stderr, re.M)) == N_JOBS
    return results


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, chain, reference) -> Campaign:
    """The chain again in a fresh folder, hit by every fault of :func:`faults` in turn, each
    time rerun with the same command, then run to the end. A fault counts as survived when the
    run after it went on with no error (the lock aside, counted apart) and the chain ended."""
    folder = tmp_path_factory.mktemp("killed")
    results = folder / "results"
    cmd = command(results, chain)
    record = Campaign(results)
    previous: Outcome | None = None
    try:
        for i, fault in enumerate([*faults(), None]):
            outcome = run_on(cmd, results, folder / f"attempt{i}.txt", fault, previous)
            record.jobs_run += outcome.finished_jobs
            if fault is None:
                record.final_output = (folder / f"attempt{i}.txt").read_text()
            elif not outcome.injected:
                outcome.note = f"not injected: the run had ended (exit {outcome.exit_code})"
            if previous is not None and previous.injected:
                # The run after the fault went on without a failed job, until the next fault
                # or its end.
                previous.survived = outcome.clean
            record.outcomes.append(outcome)
            previous = outcome
    finally:
        if stale_locks(results):  # leave no lock of ours in the shared working directory
            subprocess.run(unlock(cmd), env=ENV, capture_output=True)
    record.temp_files = sorted(
        str(p.relative_to(results)) for p in results.rglob("*") if TEMP_FILE.match(p.name)
    )
    record.differences = differences(reference, results)
    if record.differences:  # which fault spoilt the outputs is not known: none survived
        for outcome in record.outcomes:
            outcome.survived = False
    return record


def counts(record: Campaign) -> dict[str, int]:
    """The numbers docs/reliability.md quotes (the final run to the end is no fault)."""
    faults_ = record.outcomes[:-1]
    return {
        "faults planned": len(faults_),
        "injected": sum(o.injected for o in faults_),
        "survived": sum(o.survived for o in faults_),
        "locks left by a kill": sum(o.lock_left for o in faults_),
        "reruns refused for the lock (needed --unlock)": sum(o.refused for o in faults_),
        "jobs finished over all attempts": record.jobs_run,
        "jobs in the chain": N_JOBS,
        "stray temp files": len(record.temp_files),
    }


# ------------------------------------------------------------------ the tests
def test_every_injected_fault_is_survived(campaign):
    for o in campaign.outcomes:
        flags = f"injected={o.injected} survived={o.survived} lock_left={o.lock_left}"
        print(f"{o.fault}: {flags} refused={o.refused} exit={o.exit_code} {o.note}")
    print(counts(campaign))
    print("stray temp files:", campaign.temp_files)
    final = campaign.outcomes[-1]
    assert final.exit_code == 0, campaign.final_output[-4000:]
    assert (campaign.results / TARGET).exists()
    n = counts(campaign)
    # The kills keyed to progress always land: the run is still going when they come.
    assert n["injected"] >= 4
    assert n["survived"] == n["injected"]


def test_outputs_equal_those_of_an_uninterrupted_run(reference, campaign):
    """Every output byte for byte: tables, JSON, figures, event files and models."""
    assert campaign.differences == []


def test_no_work_folder_temp_file_or_lock_is_left(campaign):
    results = campaign.results
    assert not list(results.rglob("checkpoints")) and not list(results.rglob("*.ckpt"))
    # A SIGKILL that cuts an atomic write short leaves its hidden temp file; the rerun of the
    # job removes those of its outputs (hepflows.core.cli.run_step).
    assert campaign.temp_files == []
    assert not stale_locks(results)


def test_a_training_killed_mid_epoch_resumes_from_its_checkpoint(campaign):
    """The attempts after the mid-epoch kill resume generate's training from a checkpoint of
    epoch 3 or later (read from its log while they run: a later fault may kill the resumed
    training, and Snakemake deletes the log when it reruns the job)."""
    i, mid = next(
        (i, o) for i, o in enumerate(campaign.outcomes) if o.fault.startswith("SIGKILL mid-epoch")
    )
    assert mid.injected
    resumed = set().union(*(o.resumed for o in campaign.outcomes[i + 1 :]))
    assert resumed and max(resumed) >= 3, resumed
    # The last run of the job trained to the end once, or resumed a training already complete
    # (killed while sampling), and made the template.
    log = (campaign.results / GENERATE_LOG).read_text()
    finished = log.count(f"epoch {EPOCHS}/{EPOCHS} ")
    assert finished == 1 or (finished == 0 and f"resuming from epoch {EPOCHS} " in log), log
    assert "generated" in log


def test_a_graceful_kill_leaves_no_lock(campaign):
    term = next(o for o in campaign.outcomes if o.fault.startswith("SIGTERM"))
    assert term.injected
    assert not term.lock_left and not term.refused


def test_the_comparison_sees_a_changed_number_a_missing_file_and_a_work_folder(reference, tmp_path):
    """The checks above can fail: one changed score (one ulp), one lost output, one left work
    folder and one changed byte of a table are each reported."""
    copy = tmp_path / "results"
    shutil.copytree(reference, copy)
    assert differences(reference, copy) == []
    scores = copy / f"{SIGNAL_DIR}/seed1/s0/generate/scores.h5"
    with h5py.File(scores, "r+") as f:
        data = f["data"][...]
        data.flat[7] = np.nextafter(data.flat[7], np.inf)
        f["data"][...] = data
    (copy / f"{SIGNAL_DIR}/evaluation/morph_s0.json").unlink()
    (copy / GENERATE / "checkpoints/generate-0").mkdir(parents=True)
    (copy / GENERATE / "checkpoints/generate-0/train.ckpt").write_bytes(b"x")
    table = copy / f"{SIGNAL_DIR}/summary/closure.csv"
    table.write_text(table.read_text().replace("0.", "1.", 1))
    assert differences(reference, copy) == [
        f"missing: {SIGNAL_DIR}/evaluation/morph_s0.json",
        f"extra: {GENERATE}/checkpoints/generate-0/train.ckpt",
        f"differs: {GENERATE}/scores.h5",
        f"differs: {SIGNAL_DIR}/summary/closure.csv",
    ]
