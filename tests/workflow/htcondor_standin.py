"""A stand-in HTCondor scheduler for tests/workflow/test_htcondor.py: Snakemake with the
htcondor executor plugin, in this process, against replacements of htcondor2.Schedd and
htcondor2.JobEventLog (the real htcondor2.Submit builds the descriptions). Each submitted job is
"run" by creating its files; one JSON line per submission goes to $HTCONDOR_STANDIN_RECORD, and
$HTCONDOR_STANDIN_FAIL_ONCE names a rule whose jobs fail on their first try.

Use: python tests/workflow/htcondor_standin.py SNAKEMAKE-ARGS..."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path


class _Event(dict):
    """An entry of the HTCondor job event log, as the plugin reads it."""

    def __init__(self, cluster, type, **fields):
        super().__init__(fields)
        self.cluster = cluster
        self.type = type


def _run_standin(argv: list[str]) -> None:
    """Snakemake with the htcondor executor against a stand-in scheduler (see module doc)."""
    import htcondor2

    record = open(os.environ["HTCONDOR_STANDIN_RECORD"], "a")  # noqa: SIM115 (open for the run)
    lock = threading.Lock()
    events: list[_Event] = []
    submitted: list[dict] = []

    class Result:
        def __init__(self, cluster: int):
            self._cluster = cluster

        def cluster(self) -> int:
            return self._cluster

    class Schedd:
        def submit(self, description):
            desc = dict(description)  # what the schedd gets, every value a string
            with lock:
                cluster = len(submitted) + 1
                submitted.append({"cluster": cluster, "submit": desc, "text": str(description)})
            Path(desc["log"]).touch()  # the plugin follows its jobs in this event log
            return Result(cluster)

        def query(self, *args, **kwargs):
            raise AssertionError("stand-in: the event log answers, no schedd query expected")

        history = query

        def act(self, *args, **kwargs):
            raise AssertionError("stand-in: nothing should be removed")

    class JobEventLog:
        def __init__(self, path):
            self.path = path

        def events(self, stop_after=None):
            with lock:
                new, events[:] = list(events), []
            yield from new

        def close(self):
            pass

    htcondor2.Schedd = Schedd
    htcondor2.JobEventLog = JobEventLog
    import snakemake_executor_plugin_htcondor as plugin

    plugin.JobEventLog = JobEventLog  # imported by name
    run_job = plugin.Executor.run_job

    fail_once = os.environ.get("HTCONDOR_STANDIN_FAIL_ONCE")  # a rule whose first jobs fail
    failed: set[str] = set()

    def run_job_then_finish(self, job):
        with self.lock:  # GPU jobs submitted and not yet seen to finish
            active_gpu = sum(info.job.resources.get("request_gpus", 0) for info in self.active_jobs)
        run_job(self, job)  # the plugin builds the description and submits it to Schedd above
        with lock:
            entry = submitted[-1]
        members = sorted(job.jobs, key=lambda j: j.jobid) if job.is_group() else [job]
        entry["group"] = job.is_group()
        entry["threads"] = job.threads
        entry["resources"] = {k: v for k, v in job.resources.items() if isinstance(v, int | str)}
        entry["active_gpu_jobs"] = active_gpu
        entry["jobs"] = [
            {
                "rule": j.rule.name,
                "threads": j.threads,
                "mem_mb": j.resources.get("mem_mb"),
                "disk_mb": j.resources.get("disk_mb"),
                "runtime": j.resources.get("runtime"),
            }
            for j in members
        ]
        first_try = str(job.output[0]) not in failed
        if not job.is_group() and job.rule.name == fail_once and first_try:
            # Killed on the pool: exit code 1, no outputs.
            failed.add(str(job.output[0]))
            record.write(json.dumps({**entry, "failed": True}) + "\n")
            record.flush()
            with lock:
                events.append(_Event(entry["cluster"], htcondor2.JobEventType.SUBMIT))
                events.append(
                    _Event(entry["cluster"], htcondor2.JobEventType.JOB_TERMINATED, ReturnValue=1)
                )
            return
        # "Run" the job: make every file it declares; Snakemake then finds its outputs.
        for j in members:
            for f in [*j.output, *j.log, *([j.benchmark] if j.benchmark else [])]:
                Path(f).parent.mkdir(parents=True, exist_ok=True)
                Path(f).touch()
        record.write(json.dumps(entry) + "\n")
        record.flush()
        with lock:
            cluster = entry["cluster"]
            events.append(_Event(cluster, htcondor2.JobEventType.SUBMIT))
            events.append(_Event(cluster, htcondor2.JobEventType.JOB_TERMINATED, ReturnValue=0))

    plugin.Executor.run_job = run_job_then_finish
    from snakemake.cli import main

    main(argv)


if __name__ == "__main__":
    _run_standin(sys.argv[1:])
