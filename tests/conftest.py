"""Shared fixtures: one tiny all_AD run (~5 min) and one tiny all_iso run (~3 min) serve every
test that needs a finished run of its analysis."""

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


@pytest.fixture(scope="session")
def tiny_iso_run(tmp_path_factory) -> Path:
    """The results folder of `all_iso` on config/test.yaml. Tests that change it work on a copy."""
    results = tmp_path_factory.mktemp("tiny_iso") / "results"
    snakemake(
        "--profile", str(ROOT / "profiles/local"), "--cores", "2", "all_iso", *tiny_args(results),
        timeout=1800,
    )  # fmt: skip
    return results
