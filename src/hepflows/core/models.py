"""Saving and loading torch models without pickle.

A model on disk is two files: ``<stem>.pt`` holds only the state dict (tensors), and
``<stem>.json`` holds the spec needed to rebuild the module through a registered
builder. Loading uses ``torch.load(weights_only=True)``, so a model file can never
execute code, and the JSON spec stays human-readable for provenance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

import hepflows
from hepflows.core.io import DataError, _dumps, atomic_output, read_json, require, write_json

Builder = Callable[[dict], torch.nn.Module]

_BUILDERS: dict[str, Builder] = {}


def register_builder(kind: str, builder: Builder, *, replace: bool = False) -> None:
    """Register how to rebuild models of ``kind`` from their JSON spec.

    Registering a different builder for a taken kind raises unless ``replace``, so two
    modules cannot silently shadow each other; re-registering the same function (also
    after a module reload) is fine.
    """
    if not isinstance(kind, str) or not kind:
        raise ValueError("model kind must be a non-empty string")
    old = _BUILDERS.get(kind)
    if old is not None and not replace and not _same_function(old, builder):
        raise ValueError(f"a different builder is already registered for model kind {kind!r}")
    _BUILDERS[kind] = builder


def registered_kinds() -> list[str]:
    return sorted(_BUILDERS)


def _same_function(a: Builder, b: Builder) -> bool:
    def ident(f: Builder) -> tuple[Any, Any]:
        return getattr(f, "__module__", None), getattr(f, "__qualname__", id(f))

    return a is b or ident(a) == ident(b)


def model_paths(stem: str | Path) -> tuple[Path, Path]:
    """(weights, spec) paths; a trailing .pt or .json on ``stem`` is dropped."""
    stem = str(stem)
    for suffix in (".pt", ".json"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return Path(stem + ".pt"), Path(stem + ".json")


# Written beside a spec by save_model, not part of it: a builder never sees them.
SAVED_META = ("hepflows_version", "trained")


def architecture(spec: Mapping[str, Any]) -> dict:
    """A saved spec without what save_model wrote beside it: what rebuilds the model."""
    return {k: v for k, v in spec.items() if k not in SAVED_META}


def save_model(
    stem: str | Path,
    model: torch.nn.Module,
    spec: dict,
    trained: Mapping[str, Any] | None = None,
) -> None:
    """Write ``<stem>.pt`` (state dict on CPU), then ``<stem>.json`` (spec, and under
    ``trained`` facts of the training such as the best epoch), each atomically."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("kind"), str):
        raise ValueError("model spec must be a dict with a string 'kind'")
    if set(spec) & set(SAVED_META):
        raise ValueError(f"model spec must not hold {sorted(set(spec) & set(SAVED_META))}")
    full = {**spec, "hepflows_version": hepflows.__version__}
    if trained:
        full["trained"] = dict(trained)
    _dumps(full)  # fail on a non-JSON spec before anything is written
    pt_path, json_path = model_paths(stem)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    # Through a file object: given a path, torch names the archive inside after the (random)
    # temp file, and the same model would not write the same bytes twice.
    with atomic_output(pt_path) as tmp, open(tmp, "wb") as f:
        torch.save(state, f)
    write_json(json_path, full)


def load_model(
    stem: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[torch.nn.Module, dict]:
    """Rebuild a saved model in eval mode; returns (model, spec)."""
    pt_path, json_path = model_paths(stem)
    spec = read_json(json_path)
    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
        raise DataError(f"{json_path}: key 'kind' missing (expected a model spec with a kind)")
    kind = spec["kind"]
    builder = _BUILDERS.get(kind)
    if builder is None:
        known = ", ".join(registered_kinds()) or "none"
        raise DataError(
            f"{json_path}: unknown model kind {kind!r}; registered: {known} "
            "(import the module that registers it)"
        )
    if not pt_path.is_file():
        raise DataError(f"{pt_path}: file not found")
    try:
        state = torch.load(pt_path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        msg = " ".join(str(exc).split())[:300]
        raise DataError(f"{pt_path}: cannot be loaded with weights_only=True ({msg})") from None
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise DataError(f"{pt_path}: expected a state dict of tensors")
    try:
        model = builder(architecture(spec))
    except Exception as exc:
        if isinstance(exc, KeyError):  # the builders read their keys straight from the spec
            require(spec, [str(exc.args[0])], json_path, expected=f"a model spec of kind {kind!r}")
        raise DataError(
            f"{json_path}: cannot build model of kind {kind!r} from spec "
            f"({type(exc).__name__}: {exc})"
        ) from None
    _check_keys(pt_path, kind, model.state_dict(), state)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # e.g. shape mismatch
        msg = " ".join(str(exc).split())
        raise DataError(
            f"{pt_path}: state dict does not fit model of kind {kind!r} ({msg})"
        ) from None
    model.to(map_location)
    model.eval()
    return model, spec


def _check_keys(path: Path, kind: str, expected: Mapping, got: Mapping) -> None:
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys: {json.dumps(missing[:5])}")
        if unexpected:
            parts.append(f"unexpected keys: {json.dumps(unexpected[:5])}")
        raise DataError(
            f"{path}: state dict does not match model of kind {kind!r} ({'; '.join(parts)})"
        )
