"""Which options each kind of model takes, checked without building one.

The workflow checks every classifier and flow block of the config at start-up with these
(before any job runs, without importing torch), and the builders check again with the same
functions, so a block that passes here builds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hepflows.core.config_validation import ConfigError

__all__ = ["CLASSIFIER_OPTIONS", "check_classifier", "check_flow"]

CLASSIFIER_OPTIONS: dict[str, frozenset[str]] = {
    "mlp": frozenset({"inputs", "hidden", "activation", "dropout", "train"}),
    "hgb": frozenset({"max_iter", "learning_rate", "max_leaf_nodes", "early_stopping"}),
}


def check_classifier(spec: Mapping[str, Any], where: str = "classifier") -> None:
    """An mlp or hgb block takes only its own kind's options (a ``hidden`` left over from an
    mlp block would otherwise be ignored by hgb, silently)."""
    kind = spec.get("kind")
    if kind not in CLASSIFIER_OPTIONS:
        raise ConfigError(
            f"{where}.kind", f"expected one of {sorted(CLASSIFIER_OPTIONS)}, got {kind!r}"
        )
    takes = CLASSIFIER_OPTIONS[kind]
    for key in sorted(set(spec) - takes - {"kind"}):
        other = [k for k, opts in CLASSIFIER_OPTIONS.items() if key in opts]
        hint = f"an option of {other[0]}, not of {kind}" if other else "not an option"
        raise ConfigError(f"{where}.{key}", f"{hint}; kind {kind} takes {', '.join(sorted(takes))}")


def check_flow(spec: Mapping[str, Any], where: str = "flow", features: int | None = None) -> None:
    """Options that only one type of flow uses, and coupling layers on one feature (which would
    leave the feature untransformed)."""
    if "bins" in spec and spec.get("type") != "nsf":
        raise ConfigError(
            f"{where}.bins", f"spline bins apply to type nsf, not {spec.get('type')!r}"
        )
    if spec.get("coupling") and features is not None and features < 2:
        raise ConfigError(
            f"{where}.coupling",
            f"coupling layers need at least 2 features, this flow models {features}",
        )
