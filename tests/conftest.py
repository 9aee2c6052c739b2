"""Shared fixtures: one tiny all_AD run serves every test that needs a finished run (~5 min)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import ROOT, snakemake, tiny_args


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The results folder of `all_AD` on config/test.yaml. Tests that change it work on a copy."""
    results = tmp_path_factory.mktemp("tiny") / "results"
    snakemake(
        "--profile", str(ROOT / "profiles/local"), "--cores", "2", "all_AD", *tiny_args(results),
        timeout=1800,
    )  # fmt: skip
    return results
