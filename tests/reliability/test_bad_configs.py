"""Bad configs, as a careless user writes them: each stops the run at start-up, before the DAG is
built, with one line that names the key and what was expected, and leaves no results folder.

The count of cases here is the "bad configs tried" figure of docs/reliability.md."""

from __future__ import annotations

import re

import pytest

from helpers import TEST_CONFIG, overlay, snakemake, tiny_args

pytestmark = pytest.mark.workflow

NONRES = "ad.datasets.nonres"
FILES = {"background": "b.txt", "mc": "m.txt"}
# (overlay on config/test.yaml, the key named, what the message says was expected)
BAD_CONFIGS = {
    # the schema: types, names, ranges
    "a typo in a key": (
        {"ad": {"discrim": {"ensembel": 3}}}, "ad.discrim", "('ensembel' was unexpected)"),
    "a string for a list": ({"ad": {"seeds": "one"}}, "ad.seeds", "'one' is not of type 'array'"),
    "a word for a number": (
        {"ad": {"generate": {"train": {"epochs": "many"}}}}, "ad.generate.train.epochs",
        "'many' is not of type 'integer'"),
    "an integer given as a float": (
        {"ad": {"discrim": {"ensemble": 2.0}}}, "ad.discrim.ensemble",
        "2.0 is not of type 'integer'"),
    "a scan without S/B = 0": (
        {"ad": {"injections": [0.01, 0.02]}}, "ad.injections", "0 must be among them"),
    "an SR bound missing": (
        {"ad": {"datasets": {"nonres": {"sr": {"ht": [800.0]}}}}}, f"{NONRES}.sr.ht",
        "is too short"),
    "a resource class of an older config": (
        {"ad": {"resources": {"train": {"threads": 1, "mem_mb": 4000, "runtime": 60}}}},
        "ad.resources", "('train' was unexpected)"),
    "zero members per job": (
        {"ad": {"discrim": {"members_per_job": 0}}}, "ad.discrim.members_per_job",
        "less than the minimum of 1"),
    "a signal the generator does not know": (
        {"ad": {"datasets": {"nonres": {"signals": ["zp9999"]}}}}, f"{NONRES}.signals[0]",
        "'zp9999' is not one of ['zp2000', 'zp3000', 'zp4000']"),
    "a signal name that is not a folder name": (
        {"ad": {"datasets": {"nonres": {"source": "files", "files": {**FILES, "signals": {
            "my sig": "s.txt"}}, "signals": ["my sig"]}}}}, f"{NONRES}.signals[0]",
        "expected a name of letters, digits and _"),
    "no closure injection": (
        {"ad": {"closure_injections": []}}, "ad.closure_injections", "should be non-empty"),
    "closure injections given twice": (
        {"ad": {"closure_injections": [0, 0]}}, "ad.closure_injections", "non-unique elements"),
    "files without their block": (
        {"ad": {"datasets": {"nonres": {"source": "files"}}}}, NONRES,
        "'files' is a required property"),
    # the start-up checks: several keys at once, or what a dataset is
    "an SR column that is not a context column": (
        {"ad": {"datasets": {"nonres": {"sr": {"m_jj": [1000.0, None]}}}}}, f"{NONRES}.sr.m_jj",
        "not a column the SR may cut; expected one of ['ht', 'met']"),
    "an SR box with lo >= hi": (
        {"ad": {"datasets": {"nonres": {"sr": {"ht": [900.0, 800.0]}}}}}, f"{NONRES}.sr.ht",
        "lo 900.0 must be below hi 800.0"),
    "an SR that leaves no CR": (
        {"ad": {"datasets": {"nonres": {"sr": {"ht": [0.0, None]}}}}}, f"{NONRES}.sr",
        "holds every background event: it leaves no CR"),
    "mj_shift without jet masses": (
        {"ad": {"datasets": {"nonres": {"mj_shift": 0.1}}}}, f"{NONRES}.mj_shift",
        "nonres has no jet masses to shift"),
    "an mlp option on an hgb": (
        {"ad": {"closure": {"classifier": {"kind": "hgb", "hidden": [64]}}}},
        "ad.closure.classifier.hidden", "an option of mlp, not of hgb"),
    "spline bins on a maf": (
        {"ad": {"generate": {"flow": {"type": "maf", "transforms": 2, "hidden": [8], "bins": 4}}}},
        "ad.generate.flow.bins", "spline bins apply to type nsf, not 'maf'"),
    "closure at an injection that is not scanned": (
        {"ad": {"closure_injections": [0.02]}}, "ad.closure_injections",
        "[0.02] not among the injections of nonres [0.0, 0.05]"),
    "so few events that a point gets no signal": (
        {"ad": {"injections": [0, 0.0001]}}, f"{NONRES}.n_data",
        "S/B 0.0001 injects 0 signal events; raise n_data or drop the injection"),
    "split ensembles with one job per point": (
        {"ad": {"discrim": {"one_job_per": "point", "members_per_job": 1}}},
        "ad.discrim.members_per_job", "needs ad.discrim.one_job_per: method"),
    "real files for a dataset without a reader": (
        {"ad": {"datasets": {"toy": {"enabled": True, "source": "files", "files": FILES}}}},
        "ad.datasets.toy.source", "there is no file reader for toy"),
    "a text-file signal without its own file": (
        {"ad": {"datasets": {"nonres": {"source": "files", "files": FILES}}}},
        f"{NONRES}.files.signals", "no file for ['zp3000']"),
    # iso
    "cms files without their folder": (
        {"iso": {"source": "cms"}}, "iso.cms.directory", "source: cms needs the folder"),
    "a single bootstrap replica": (
        {"iso": {"bootstrap": {"replicas": 1}}}, "iso.bootstrap.replicas",
        "less than the minimum of 2"),
    "a cone scan's name for another model": (
        {"iso": {"models": {"cones3": {"kind": "pfn"}}}}, "iso.models.cones3",
        "the name cones3 is the cone scan's model of 3 cones"),
    "an EFP outside the computed grid": (
        {"iso": {"models": {"mine": {"kind": "cones_efps", "n_cones": 9,
                                     "efps": ["efp_k2_b1_0"]}}}}, "iso.models.mine.efps",
        "efp_k2_b1_0: kappa 2, beta 1 is not in the EFP grid"),
    "a guided search without CV split 0": (
        {"iso": {"cv_splits": [1, 2]}}, "iso.cv_splits", "the guided EFP search runs on split 0"),
    "a holdout sample of fewer than no events": (
        {"iso": {"synthetic": {"holdout_events": -1}}}, "iso.synthetic.holdout_events",
        "less than the minimum of 0"),
    "a search reference that is no PFN": (
        {"iso": {"efp_search": {"reference": "cones1"}}}, "iso.efp_search.reference",
        "'cones1' is not a pfn model"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_a_bad_config_stops_before_any_job_naming_the_key(tmp_path, case):
    settings, key, expected = BAD_CONFIGS[case]
    results = tmp_path / "results"
    proc = snakemake(
        "-n", "all_AD", *tiny_args(results, overlay(tmp_path, "bad.yaml", settings)), check=False
    )
    output = proc.stdout + proc.stderr
    lines = [line for line in output.splitlines() if line.startswith("config: ")]
    assert proc.returncode != 0 and len(lines) == 1, output[-2000:]
    assert lines[0].startswith(f"config: {key}: ") and expected in lines[0], lines[0]
    assert "Building DAG" not in output
    assert not results.exists()


def test_a_results_folder_with_a_control_character_is_refused(tmp_path):
    """A newline would end a command line. (From a config file: --config folds it to a space.)"""
    bad = overlay(tmp_path, "bad.yaml", {"results": f"{tmp_path}/results\nrm -rf x"})
    proc = snakemake("-n", "all_AD", "--configfile", str(TEST_CONFIG), bad, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Building DAG" not in output
    assert "config: results: " in output and "any characters but control characters" in output
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def _shell_commands(results, *overlays: str) -> str:
    """The commands a dry run would run for one point's templates, whatever exists."""
    target = f"{results}/ad/nonres/zp3000/seed1/s0.05/generate/template.h5"
    proc = snakemake("-n", "-p", "--forceall", target, *tiny_args(results, *overlays))
    return proc.stdout + proc.stderr


def test_an_overlay_replaces_an_sr_box_and_a_classifier_whole(tmp_path):
    """config/README.md: an overlay that gives an SR box or a classifier replaces it; a training
    block merges key by key."""
    changed = overlay(tmp_path, "changed.yaml", {"ad": {
        "datasets": {"nonres": {"sr": {"ht": [900.0, None]}}},
        "context_weights": {"classifier": {"kind": "hgb", "max_iter": 50}},
        "generate": {"train": {"epochs": 3}}}})  # fmt: skip
    commands = _shell_commands(tmp_path / "results", changed)
    sr = set(re.findall(r'"sr":(\{[^}]*\})', commands))
    assert sr == {'{"ht":[900.0,null]}'}  # test.yaml's met cut is gone
    classifiers = set(re.findall(r'"classifier":(\{[^}]*\})', commands))
    assert classifiers == {'{"kind":"hgb","max_iter":50}'}  # no mlp key of test.yaml left
    train = re.findall(r'"train":(\{[^}]*\})', commands)
    # generate's training block merges: epochs here, the batch size of test.yaml and the
    # scheduler of config.yaml
    assert any('"batch_size":512,"epochs":3' in t and '"scheduler":"cosine"' in t for t in train)


def test_close_injections_keep_their_own_paths(tmp_path):
    """0.05 and 0.05000001 are two points, not one path that both write."""
    close = overlay(tmp_path, "close.yaml", {"ad": {"injections": [0, 0.05, 0.05000001]}})
    results = tmp_path / "results"
    proc = snakemake("-n", "--forceall", "-p", "all_AD", *tiny_args(results, close))
    output = proc.stdout + proc.stderr
    assert f"{results}/ad/nonres/zp3000/seed1/s0.05/data.h5" in output
    assert f"{results}/ad/nonres/zp3000/seed1/s0.05000001/data.h5" in output
