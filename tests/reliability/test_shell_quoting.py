"""Paths reach the shell quoted: a results folder with a space and a command substitution in its
name works, and nothing in the name runs."""

from __future__ import annotations

import uuid

import pytest

from helpers import ROOT, snakemake, tiny_args

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def test_a_results_folder_with_shell_syntax_runs_and_nothing_executes(tmp_path):
    marker = f"hepflows-ran-{uuid.uuid4().hex[:8]}"
    results = tmp_path / f"my results $(touch {marker}) `touch {marker}`; touch {marker}"
    point = results / "ad/nonres/zp3000/seed1/s0.05"
    targets = [point / "data.h5", point / "context_weights/weights.h5"]
    snakemake("--cores", "2", *map(str, targets), *tiny_args(results))
    assert all(t.is_file() and t.stat().st_size > 0 for t in targets)
    logs = list((results / "logs/ad").rglob("*.log"))
    assert logs  # the --log paths were quoted too
    # the shell would have run touch in the working directory of a job or of the test
    for where in (ROOT, tmp_path, results, results.parent):
        assert not (where / marker).exists()
