"""The config of a run from its layers: the workflow's config file, then each ``--configfile``
overlay, then ``--config key=value``.

Snakemake merges every nested block key by key. That is right for a block of independent
settings (``train: {epochs: 100}`` keeps the batch size), and wrong for a block whose keys only
make sense together: an overlay ``sr: {ht: [900, null]}`` would keep the base's ``met`` cut, and
switching a classifier to ``mlp`` would keep the ``hgb`` keys. Blocks named in ``whole`` are
therefore replaced by an overlay that gives them; every other block is merged.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Mapping
from typing import Any

__all__ = ["compose"]


def _merge(base: dict, layer: Mapping, whole: Collection[str]) -> dict:
    for key, value in layer.items():
        if isinstance(value, Mapping) and key not in whole and isinstance(base.get(key), dict):
            _merge(base[key], value, whole)
        else:
            base[key] = copy.deepcopy(_plain(value))
    return base


def _plain(value: Any) -> Any:
    """Mappings as dicts (Snakemake hands ``--config`` values over as immutable maps)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def compose(layers: Iterable[Mapping], whole: Collection[str] = ()) -> dict:
    """Each layer on top of the ones before: nested blocks merge key by key, except blocks whose
    key is in ``whole`` (at any depth), which a later layer replaces as a whole."""
    config: dict = {}
    for layer in layers:
        _merge(config, layer or {}, frozenset(whole))
    return config
