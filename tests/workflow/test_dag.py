"""The DAG a config plans: job counts at paper scale, per discrimination granularity, per
dataset. Every count is of the whole DAG (--forceall), so it holds whatever the results folder
holds; the last test runs every check again with a finished run in the results folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import ROOT, overlay, planned

pytestmark = pytest.mark.workflow

PAPER = ["all_AD", "--configfile", str(ROOT / "config/paper.yaml")]


def check_paper_scale(results: Path, tmp: Path) -> None:
    counts = planned(results, *PAPER)
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


def check_granularity(results: Path, tmp: Path) -> None:
    """One discrimination job per point, per method, or per part of an ensemble."""
    method = overlay(tmp, "method.yaml", {"ad": {"discrim": {"one_job_per": "method"}}})
    per_method = planned(results, *PAPER, method)
    per_point = planned(results, *PAPER)
    assert per_method["ad_discriminate"] == 4 * per_point["ad_discriminate"] == 840
    assert per_method["total"] - per_point["total"] == 630
    # The default config's ensembles of 3, one member per job: 3 parts and a merge each.
    parts = overlay(tmp, "parts.yaml", {"ad": {"discrim": {"members_per_job": 1}}})
    whole, split = planned(results, "all_AD"), planned(results, "all_AD", "--configfile", parts)
    assert split["ad_discriminate"] == 3 * whole["ad_discriminate"]
    assert split["ad_merge_members"] == whole["ad_discriminate"]


def check_lhco(results: Path, tmp: Path) -> None:
    shifted = overlay(tmp, "shift.yaml", {"ad": {"datasets": {"lhco": {"mj_shift": 0.1}}}})
    counts = planned(results, "all_AD", "--configfile", str(ROOT / "config/lhco.yaml"), shifted)
    lhco = yaml.safe_load((ROOT / "config/config.yaml").read_text())["ad"]["datasets"]["lhco"]
    points = 1 * len(lhco["injections"]) * 3  # signal x its own injections x seed
    assert counts["ad_make_data"] == counts["ad_generate"] == points
    assert counts["ad_make_static"] == 1
    assert "ad_read_background" not in counts  # synthetic: nothing to read


def check_default(results: Path, tmp: Path) -> None:
    """The signal-injection DAG of the default config: one data set per (signal, S/B, seed)."""
    counts = planned(results, "all_AD")
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())["ad"]
    points = sum(
        len(d["signals"]) * len(d.get("injections", config["injections"])) * len(config["seeds"])
        for d in config["datasets"].values()
        if d.get("enabled", True)
    )
    assert counts["ad_make_data"] == counts["ad_generate"] == points
    assert counts["ad_discriminate"] == 4 * points


def check_iso_paper_scale(results: Path, tmp: Path) -> None:
    """iso at the paper's scale: the EFP grid in chunks, 5 CV splits of every model and of the
    cone scan, 100 replicas in blocks of 10: low thousands of jobs at most."""
    counts = planned(results, "all_iso", "--configfile", str(ROOT / "config/paper.yaml"))
    assert 1000 < counts.pop("total") < 2000
    assert counts["iso_efps"] == 36 * 25 and counts["iso_merge_efps"] == 36
    # 4 compared models + the cone scan's 18 (cones1 and cones9 are shared): 20 x 5 splits.
    assert counts["iso_train"] == 100 and counts["iso_cv_summary"] == 20
    assert counts["iso_bootstrap"] == 4 * 10 and counts["iso_evaluate"] == 4
    assert counts["iso_search_efps"] == counts["iso_events"] == 1
    # The holdout sample: its events, fit and merge once; only the chosen EFPs, in 25 chunks.
    assert counts["iso_holdout_efps"] == 25 and counts["iso_merge_holdout_efps"] == 1


def check_iso_default(results: Path, tmp: Path) -> None:
    counts = planned(results, "all_iso")
    iso = yaml.safe_load((ROOT / "config/config.yaml").read_text())["iso"]
    models = set(iso["models"]) | {f"cones{n}" for n in iso["cone_scan"]}
    assert counts["iso_train"] == len(models) * len(iso["cv_splits"])
    grid = len(iso["efps"]["kappas"]) * len(iso["efps"]["betas"])
    assert counts["iso_efps"] == grid * iso["efps"]["jobs"] and counts["iso_merge_efps"] == grid
    assert iso["synthetic"]["holdout_events"] > 0
    assert counts["iso_holdout_events"] == counts["iso_fit_holdout_mass"] == 1


CHECKS = [
    check_paper_scale,
    check_granularity,
    check_lhco,
    check_default,
    check_iso_paper_scale,
    check_iso_default,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_dag_of_a_config(check, tmp_path):
    check(tmp_path / "results", tmp_path)


@pytest.mark.slow
def test_dag_checks_hold_after_a_finished_run(tiny_run, tmp_path):
    """As after the README's main command: a finished run in the results folder changes no count."""
    for check in CHECKS:
        check(tiny_run, tmp_path)
