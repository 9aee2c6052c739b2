"""The shell of every step: declared inputs and outputs, one clear line for a bad input, the
traceback of an unexpected error in the rule's log, and the resumable work folder."""

from __future__ import annotations

import json
import os

import pytest

from hepflows.core.checkpoints import resumable
from hepflows.core.cli import StepParser, run_step, step_work
from hepflows.core.io import DataError, atomic_output


def parser() -> StepParser:
    p = StepParser("a test step")
    p.add_input("--data")
    p.add_output("--out")
    return p


def argv(tmp_path, **params):
    data = tmp_path / "data.txt"
    if not data.exists():
        data.write_text("events")
    return [
        "--data", str(data), "--out", str(tmp_path / "out" / "result.txt"),
        "--log", str(tmp_path / "step.log"), "--params", json.dumps(params),
    ]  # fmt: skip


def test_a_bad_input_is_one_line_and_no_output(tmp_path, capsys):
    def main(args, params, log):
        args.step_outputs[0].parent.mkdir()
        args.step_outputs[0].write_text("half")
        raise DataError(f"{args.data}: column 'met' missing")

    with pytest.raises(SystemExit) as exit_:
        run_step(parser(), main, argv(tmp_path))
    assert exit_.value.code == 1
    assert not (tmp_path / "out/result.txt").exists()
    log = (tmp_path / "step.log").read_text()
    assert log.count("\n") == 1 and "column 'met' missing" in log and "Traceback" not in log


def test_an_unexpected_error_reaches_the_log_with_its_traceback(tmp_path):
    def main(args, params, log):
        args.step_outputs[0].parent.mkdir()
        args.step_outputs[0].write_text("half")
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        run_step(parser(), main, argv(tmp_path))
    assert not (tmp_path / "out/result.txt").exists()
    log = (tmp_path / "step.log").read_text()
    assert "unexpected error" in log and "Traceback" in log
    assert "RuntimeError: CUDA out of memory" in log


def test_the_step_knows_its_declared_inputs_and_outputs(tmp_path):
    seen = {}

    def main(args, params, log):
        seen.update(inputs=args.step_inputs, outputs=args.step_outputs)

    run_step(parser(), main, argv(tmp_path))
    assert seen == {"inputs": [tmp_path / "data.txt"], "outputs": [tmp_path / "out/result.txt"]}


def run_with_work(tmp_path, fail: bool, **params):
    """A step that leaves a file in its work folder, then fails or finishes; the folder."""
    folders = []

    def main(args, params, log):
        with step_work(args, params, "train") as work:
            folders.append(work)
            (work / "epoch.ckpt").write_text("state")
            if fail:
                raise RuntimeError("killed")
            args.step_outputs[0].write_text("done")

    if fail:
        with pytest.raises(RuntimeError):
            run_step(parser(), main, argv(tmp_path, **params))
    else:
        run_step(parser(), main, argv(tmp_path, **params))
    return folders[0]


def test_the_work_folder_survives_a_failure_and_goes_when_the_job_completes(tmp_path):
    work = run_with_work(tmp_path, fail=True, epochs=3)
    assert work.parent == tmp_path / "out/checkpoints" and work.name.startswith("train-")
    assert (work / "epoch.ckpt").exists()
    # The same params and inputs resume in the same folder ...
    assert run_with_work(tmp_path, fail=True, epochs=3) == work
    # ... other params in another, and a finished job removes both.
    other = run_with_work(tmp_path, fail=True, epochs=4)
    assert other != work and work.exists()
    run_with_work(tmp_path, fail=False, epochs=4)
    assert (tmp_path / "out/result.txt").read_text() == "done"
    assert not (tmp_path / "out/checkpoints").exists()


def test_a_changed_input_starts_afresh(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("events")
    with pytest.raises(RuntimeError), resumable("train", {}, [data], tmp_path / "out.h5") as w1:
        raise RuntimeError("killed")
    os.utime(data, ns=(0, 10**9))  # a regenerated input: another modification time
    with resumable("train", {}, [data], tmp_path / "out.h5") as w2:
        assert w2 != w1
    assert not w1.exists() and not w2.exists()


def test_jobs_writing_beside_each_other_keep_their_work_apart(tmp_path):
    """Two blocks of bootstrap replicas write part0.h5 and part1.h5 into one folder and run at
    the same time with the same params and inputs: one finishing must not take the other's
    work (the iso default run lost a replica's scores to this)."""
    data = tmp_path / "data.txt"
    data.write_text("events")
    with resumable("bootstrap", {}, [data], tmp_path / "part0.h5") as w0:
        with resumable("bootstrap", {}, [data], tmp_path / "part1.h5") as w1:
            (w1 / "replica_0002.npy").write_bytes(b"1")
        assert w0 != w1 and w0.exists() and not w1.exists()
        (w0 / "replica_0000.npy").write_bytes(b"0")
    assert not (tmp_path / "checkpoints").exists()


def test_a_rerun_removes_the_temp_files_a_killed_write_left(tmp_path):
    """A SIGKILL during an atomic write leaves ``.<name>.tmp-<hex>``; the next run of the step
    removes those of its own outputs, and no other file."""
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".result.txt.tmp-0badf00d.txt", out / ".result.txt.tmp-12345678.txt"]
    others = [out / ".other.txt.tmp-0badf00d.txt", out / "result.txt.notes"]
    for path in [*stale, *others]:
        path.write_text("half")

    def main(args, params, log):
        with atomic_output(args.step_outputs[0]) as tmp:
            tmp.write_text("whole")

    run_step(parser(), main, argv(tmp_path))
    assert (out / "result.txt").read_text() == "whole"
    assert not any(p.exists() for p in stale) and all(p.exists() for p in others)
    assert "removed 2 temp file(s)" in (tmp_path / "step.log").read_text()
