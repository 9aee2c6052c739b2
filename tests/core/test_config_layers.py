"""Overlays: a block of settings merges key by key, a block whose keys belong together (an SR box,
a classifier, a flow) is replaced whole, so no key of the base survives unseen."""

from __future__ import annotations

from hepflows.core.config_layers import compose

WHOLE = ("sr", "classifier", "flow")
BASE = {
    "seed": 1,
    "ad": {
        "datasets": {"nonres": {"sr": {"ht": [800.0, None], "met": [75.0, None]}, "n_data": 10}},
        "closure": {"classifier": {"kind": "hgb", "max_iter": 200}, "folds": 5},
        "generate": {
            "flow": {"type": "nsf", "bins": 8, "transforms": 4},
            "train": {"epochs": 30, "lr": 2e-3},
        },
    },
}


def test_an_sr_box_given_by_an_overlay_replaces_the_base_box():
    overlay = {"ad": {"datasets": {"nonres": {"sr": {"ht": [900.0, None]}}}}}
    nonres = compose([BASE, overlay], WHOLE)["ad"]["datasets"]["nonres"]
    assert nonres["sr"] == {"ht": [900.0, None]}  # the base's met cut is gone
    assert nonres["n_data"] == 10  # the dataset block itself merges


def test_switching_a_classifier_kind_leaves_no_key_of_the_old_kind():
    overlay = {"ad": {"closure": {"classifier": {"kind": "mlp", "hidden": [8]}}}}
    closure = compose([BASE, overlay], WHOLE)["ad"]["closure"]
    assert closure == {"classifier": {"kind": "mlp", "hidden": [8]}, "folds": 5}


def test_a_flow_is_replaced_and_a_training_block_merged():
    overlay = {
        "ad": {"generate": {"flow": {"type": "maf", "transforms": 2}, "train": {"lr": 1e-3}}}
    }
    generate = compose([BASE, overlay], WHOLE)["ad"]["generate"]
    assert generate["flow"] == {"type": "maf", "transforms": 2}  # no nsf bins left behind
    assert generate["train"] == {"epochs": 30, "lr": 1e-3}


def test_later_layers_win_and_the_inputs_stay_untouched():
    first = {"ad": {"closure": {"folds": 3}}}
    second = {"seed": 2, "ad": {"closure": {"folds": 4}}}
    config = compose([BASE, first, second], WHOLE)
    assert config["seed"] == 2 and config["ad"]["closure"]["folds"] == 4
    config["ad"]["datasets"]["nonres"]["sr"]["ht"][0] = 0.0
    assert BASE["ad"]["datasets"]["nonres"]["sr"]["ht"][0] == 800.0
    assert first == {"ad": {"closure": {"folds": 3}}}


def test_without_whole_blocks_everything_merges_as_snakemake_does():
    overlay = {"ad": {"datasets": {"nonres": {"sr": {"ht": [900.0, None]}}}}}
    sr = compose([BASE, overlay])["ad"]["datasets"]["nonres"]["sr"]
    assert sr == {"ht": [900.0, None], "met": [75.0, None]}
