"""Tests for hepflows.core.models: pickle-free save/load through the builder registry."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import hepflows
from hepflows.core.io import DataError
from hepflows.core.models import (
    architecture,
    load_model,
    model_paths,
    register_builder,
    save_model,
)
from hepflows.core.preprocessing import Preprocessor


def build_test_mlp(spec: dict) -> torch.nn.Module:
    layers: list[torch.nn.Module] = []
    width = spec["inputs"]
    for h in spec["hidden"]:
        layers += [torch.nn.Linear(width, h), torch.nn.BatchNorm1d(h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers)


register_builder("test_mlp", build_test_mlp)

SPEC = {"kind": "test_mlp", "inputs": 3, "hidden": [16, 16, 16]}


@pytest.fixture(scope="module")
def trained() -> torch.nn.Module:
    """A model (in eval mode) whose weights and BatchNorm buffers differ from a fresh build."""
    torch.manual_seed(0)
    model = build_test_mlp(SPEC)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(64, 3) * 2 + 1)  # updates running stats
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def test_save_load_identical_predictions(tmp_path, trained):
    stem = tmp_path / "models" / "clf"
    save_model(stem, trained, SPEC)
    assert sorted(p.name for p in stem.parent.iterdir()) == ["clf.json", "clf.pt"]

    loaded, spec = load_model(stem)
    assert not loaded.training
    assert spec["kind"] == "test_mlp" and spec["hidden"] == [16, 16, 16]
    assert spec["hepflows_version"] == hepflows.__version__
    x = torch.randn(32, 3)
    with torch.no_grad():
        assert torch.equal(loaded(x), trained(x))
        assert not torch.equal(build_test_mlp(SPEC).eval()(x), trained(x))  # not trivially equal
    for k, v in trained.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k


def test_pt_is_plain_state_dict(tmp_path, trained):
    stem = tmp_path / "m"
    save_model(stem, trained, SPEC)
    state = torch.load(tmp_path / "m.pt", weights_only=True)
    assert set(state) == set(trained.state_dict())
    assert all(isinstance(v, torch.Tensor) and v.device.type == "cpu" for v in state.values())
    spec = json.loads((tmp_path / "m.json").read_text())
    assert spec == {**SPEC, "hepflows_version": hepflows.__version__}


def test_spec_with_preprocessing_and_numpy_round_trips(tmp_path, trained):
    pre = Preprocessor().fit(np.random.default_rng(0).normal(size=(100, 3)))
    spec = {**SPEC, "inputs": np.int64(3), "preprocessing": pre.to_dict(), "auc": np.float32(0.5)}
    save_model(tmp_path / "m", trained, spec)
    _, back = load_model(tmp_path / "m")
    probe = np.ones((2, 3))
    restored = Preprocessor.from_dict(back["preprocessing"])
    np.testing.assert_array_equal(restored.transform(probe), pre.transform(probe))
    assert back["inputs"] == 3 and back["auc"] == 0.5


def test_stem_with_suffix(tmp_path, trained):
    assert model_paths("a/b.v1") == model_paths("a/b.v1.pt") == model_paths("a/b.v1.json")
    save_model(tmp_path / "flow.v1.pt", trained, SPEC)
    assert (tmp_path / "flow.v1.json").is_file()
    load_model(tmp_path / "flow.v1")


def test_missing_files_name_path(tmp_path, trained):
    stem = tmp_path / "absent"
    with pytest.raises(DataError) as err:
        load_model(stem)
    assert str(err.value) == f"{tmp_path / 'absent.json'}: file not found"
    save_model(stem, trained, SPEC)
    (tmp_path / "absent.pt").unlink()
    with pytest.raises(DataError) as err:
        load_model(stem)
    assert str(err.value) == f"{tmp_path / 'absent.pt'}: file not found"


def test_unknown_kind_and_bad_spec(tmp_path, trained):
    save_model(tmp_path / "m", trained, {**SPEC, "kind": "nobody_registered_this"})
    with pytest.raises(DataError, match=r"m\.json: unknown model kind 'nobody_registered_this'"):
        load_model(tmp_path / "m")
    (tmp_path / "m.json").write_text('{"inputs": 3}')
    with pytest.raises(DataError, match=r"m\.json: key 'kind' missing"):
        load_model(tmp_path / "m")
    save_model(tmp_path / "m", trained, {"kind": "test_mlp"})  # builder needs 'inputs'
    with pytest.raises(DataError, match=r"m\.json: key 'inputs' missing; expected a model"):
        load_model(tmp_path / "m")
    with pytest.raises(ValueError, match="'kind'"):
        save_model(tmp_path / "x", trained, {"inputs": 3})
    with pytest.raises(TypeError):
        save_model(tmp_path / "y", trained, {**SPEC, "bad": object()})
    assert not (tmp_path / "x.pt").exists() and not (tmp_path / "y.pt").exists()


def test_mismatched_state_dict(tmp_path, trained):
    save_model(tmp_path / "m", trained, SPEC)
    spec = {**SPEC, "hidden": [16, 16]}  # one layer fewer than the weights
    (tmp_path / "m.json").write_text(json.dumps(spec))
    with pytest.raises(DataError, match=r"m\.pt: state dict does not match .*unexpected keys"):
        load_model(tmp_path / "m")
    (tmp_path / "m.json").write_text(json.dumps({**SPEC, "hidden": [16, 8, 16]}))
    with pytest.raises(DataError, match=r"m\.pt: state dict does not fit .*size mismatch"):
        load_model(tmp_path / "m")


def test_pickled_objects_are_refused(tmp_path, trained):
    """A .pt holding arbitrary Python objects must not be unpickled."""
    save_model(tmp_path / "m", trained, SPEC)
    torch.save({"payload": Preprocessor()}, tmp_path / "m.pt")
    with pytest.raises(DataError, match=r"m\.pt: cannot be loaded with weights_only=True"):
        load_model(tmp_path / "m")
    (tmp_path / "m.pt").write_bytes(b"not a torch file")
    with pytest.raises(DataError, match=r"m\.pt: cannot be loaded"):
        load_model(tmp_path / "m")


def test_register_builder_conflicts():
    register_builder("test_mlp", build_test_mlp)  # same function again: fine
    with pytest.raises(ValueError, match="already registered"):
        register_builder("test_mlp", lambda spec: torch.nn.Linear(1, 1))
    register_builder("test_tmp", lambda spec: torch.nn.Linear(1, 1))
    register_builder("test_tmp", build_test_mlp, replace=True)
    with pytest.raises(ValueError, match="non-empty"):
        register_builder("", build_test_mlp)


def test_the_same_model_writes_the_same_bytes(tmp_path):
    """Reproducible files: torch.save given a path names its archive after the temp file."""
    model = torch.nn.Linear(3, 2)
    for folder in ("a", "b"):
        save_model(tmp_path / folder / "model", model, {"kind": "linear"})
    assert (tmp_path / "a/model.pt").read_bytes() == (tmp_path / "b/model.pt").read_bytes()


def test_facts_of_the_training_travel_beside_the_spec(tmp_path, trained):
    """A flow saved with its best epoch loads back: the builder sees the architecture alone (a
    best_epoch key inside the spec made the generate and morph flows unloadable)."""
    import hepflows.core.flows  # noqa: F401  (registers kind 'flow')
    from hepflows.core.flows import build_flow

    spec = {"kind": "flow", "type": "maf", "features": 2, "context": 1, "transforms": 2,
            "hidden": [8, 8]}  # fmt: skip
    save_model(tmp_path / "flow", build_flow(spec), spec, trained={"best_epoch": 7})
    _, back = load_model(tmp_path / "flow")
    assert back["trained"] == {"best_epoch": 7} and architecture(back) == spec
    with pytest.raises(ValueError, match=r"must not hold \['trained'\]"):
        save_model(tmp_path / "clf", trained, {**SPEC, "trained": {}})
