"""The ad start-up checks: each bad value stops with one line naming the key and what was
expected; the shipped configs pass."""

from __future__ import annotations

import copy

import pytest
import yaml

from hepflows.ad.config_checks import check_ad_config
from hepflows.core.config_layers import compose
from hepflows.core.config_validation import ConfigError, validate_config

from helpers import ROOT

SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
WHOLE = ("sr", "files", "classifier", "flow", "base_flow", "top_flow")


def _config(*overlays: str) -> dict:
    layers = [yaml.safe_load((ROOT / "config" / name).read_text()) for name in overlays]
    return validate_config(compose([yaml.safe_load((ROOT / "config/config.yaml").read_text()),
                                    *layers], WHOLE), SCHEMA)  # fmt: skip


DEFAULT = _config()


@pytest.mark.parametrize("overlays", [(), ("test.yaml",), ("paper.yaml",), ("lhco.yaml",)])
def test_the_shipped_configs_pass(overlays):
    config = _config(*overlays)
    check_ad_config(config["ad"], config["seed"])


def _set(config: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = value


CASES = {
    "a feature as SR column": (
        {"ad.datasets.nonres.sr": {"m_jj": [1000.0, None]}},
        "ad.datasets.nonres.sr.m_jj", "not a column the SR may cut; expected one of ['ht', 'met']"),
    "an unknown SR column": (
        {"ad.datasets.toy.sr": {"mass": [1.0, None]}}, "ad.datasets.toy.sr.mass", "not a column"),
    "an SR box with lo >= hi": (
        {"ad.datasets.nonres.sr": {"ht": [900.0, 800.0]}},
        "ad.datasets.nonres.sr.ht", "lo 900.0 must be below hi 800.0"),
    "an SR open on every side": (
        {"ad.datasets.nonres.sr": {"ht": [None, None]}},
        "ad.datasets.nonres.sr", "the SR would leave no CR"),
    "an SR that holds every event": (
        {"ad.datasets.nonres.sr": {"ht": [0.0, None]}},
        "ad.datasets.nonres.sr", "holds every background event: it leaves no CR"),
    "an SR that holds no event": (
        {"ad.datasets.nonres.sr": {"ht": [1.0e9, None]}},
        "ad.datasets.nonres.sr", "holds none of 100000 background events"),
    "a data KDE of contexts in an open SR": (
        {"ad.datasets.nonres.context_source": "data_kde"}, "ad.datasets.nonres.context_source",
        "give ad.datasets.nonres.sr both bounds of ['ht', 'met'], or use mc_weighted"),
    "mj_shift without jet masses": (
        {"ad.datasets.nonres.mj_shift": 0.1}, "ad.datasets.nonres.mj_shift", "applies to lhco"),
    "an mlp option on hgb": (
        {"ad.closure.classifier": {"kind": "hgb", "hidden": [64]}},
        "ad.closure.classifier.hidden", "an option of mlp, not of hgb"),
    "an hgb option on mlp": (
        {"ad.discrim.classifier": {"kind": "mlp", "max_iter": 100}},
        "ad.discrim.classifier.max_iter", "an option of hgb, not of mlp"),
    "spline bins on a maf": (
        {"ad.generate.flow": {"type": "maf", "transforms": 2, "hidden": [8], "bins": 8}},
        "ad.generate.flow.bins", "apply to type nsf, not 'maf'"),
    "coupling layers on the toy's one feature": (
        {"ad.morph.base_flow": {"type": "maf", "transforms": 2, "hidden": [8], "coupling": True}},
        "ad.morph.base_flow.coupling", "need at least 2 features, this flow models 1"),
    "closure at an injection that is not scanned": (
        {"ad.closure_injections": [0, 0.02]}, "ad.closure_injections",
        "[0.02] not among the injections of nonres"),
    "too few events for the smallest injection": (
        {"ad.datasets.nonres.n_data": 1000}, "ad.datasets.nonres.n_data",
        "S/B 0.01 injects 0 signal events"),
    "epoch averaging of an hgb": (
        {"ad.discrim.classifier": {"kind": "hgb"}, "ad.discrim.average_epochs": 5},
        "ad.discrim.average_epochs", "averages the epochs of an mlp"),
    "split ensembles with one job per point": (
        {"ad.discrim.one_job_per": "point", "ad.discrim.members_per_job": 1},
        "ad.discrim.members_per_job", "needs ad.discrim.one_job_per: method"),
    "real files for the toy": (
        {"ad.datasets.toy.source": "files",
         "ad.datasets.toy.files": {"background": "b.h5", "mc": "m.h5", "signals": {}}},
        "ad.datasets.toy.source", "there is no file reader for toy"),
    "a text-file signal without its file": (
        {"ad.datasets.nonres.source": "files",
         "ad.datasets.nonres.files": {"background": "b.txt", "mc": "m.txt", "signals": {}}},
        "ad.datasets.nonres.files.signals", "no file for ['zp3000']"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_bad_value_is_named_with_what_was_expected(case):
    changes, key, expected = CASES[case]
    config = copy.deepcopy(DEFAULT)
    for where, value in changes.items():
        _set(config, where, value)
    with pytest.raises(ConfigError) as err:
        check_ad_config(config["ad"], config["seed"])
    message = str(err.value)
    assert err.value.key == key and message.startswith(f"config: {key}: ")
    assert expected in message and "\n" not in message


def test_a_disabled_dataset_is_not_probed():
    config = copy.deepcopy(DEFAULT)
    _set(config, "ad.datasets.toy.n_data", 100)  # ~3 SR events: S/B 0.01 would inject 0
    with pytest.raises(ConfigError, match="ad.datasets.toy.n_data"):
        check_ad_config(config["ad"], config["seed"])
    _set(config, "ad.datasets.toy.enabled", False)
    check_ad_config(config["ad"], config["seed"])


def test_a_data_set_that_would_get_no_signal_stops_its_job_too():
    """The start-up probe estimates; the job counts. Where they differ, the job stops, not
    writes a point labelled S/B > 0 without signal."""
    from hepflows.ad.samples import injected_data

    cfg = {**DEFAULT["ad"]["datasets"]["nonres"], "n_data": 2000}
    with pytest.raises(ValueError, match=r"S/B 0.001 injects 0 signal events: this data set has"):
        injected_data("nonres", "zp3000", 1, 0.001, cfg, 7)
    table, info = injected_data("nonres", "zp3000", 1, 0.0, cfg, 7)
    assert info["n_sig_sr"] == 0 and len(table) == 2000
