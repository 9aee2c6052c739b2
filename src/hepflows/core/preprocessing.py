"""Invertible feature preprocessing for flows and classifiers, fitted once and saved as JSON.

The chain is built so that inputs outside the fitted range (data or signal when the
scaler was fitted on background MC) stay finite in both directions: ``minmax`` leaves
a margin around the fitted range, ``logit`` clips before taking logs, and the inverse
``sigmoid`` saturates instead of overflowing. ``log`` is for positive, steeply falling
quantities (energies, masses): it turns their power-law tails into something a flow's
conditioner sees as evenly as the bulk.

:class:`InputScaler` pairs two such chains with the column names they apply to: the context
(the conditioning variables) and the features of an event table, fitted once per dataset and
shared by every classifier and flow of an analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.core.events import EventTable
from hepflows.core.io import DataError, read_json, write_json

STEPS = ("log", "minmax", "logit", "standardize")
_LOG_FLOOR = 0.5  # values below half the smallest fitted one are clipped there
_MAX_EXP = 700.0  # exp() overflows float64 just above 709
_MAX_FLOAT = float(np.finfo(np.float64).max)
_FORMAT = "hepflows.preprocessor/1"
# The keys of a saved preprocessor and of a saved input scaler (which holds two preprocessors).
_PREPROCESSOR_KEYS = ("format", "steps", "eps", "margin", "n_features", "params")
_SCALER_KEYS = ("context_columns", "feature_columns") + tuple(
    f"{part}.{key}" for part in ("context", "features") for key in _PREPROCESSOR_KEYS
)
_SCALER = "an input scaler (as InputScaler.save writes it)"


def _sigmoid(y: np.ndarray) -> np.ndarray:
    """Logistic function without overflow warnings for large |y|."""
    e = np.exp(-np.abs(y))
    return np.where(y >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class Preprocessor:
    """Chain of elementwise invertible steps, each fitted on the previous step's output."""

    def __init__(
        self,
        steps: Sequence[str] = ("minmax", "logit", "standardize"),
        eps: float = 1e-6,
        margin: float = 0.05,
    ) -> None:
        if isinstance(steps, str):
            raise TypeError("steps must be a sequence of step names, not a string")
        unknown = [s for s in steps if s not in STEPS]
        if unknown:
            raise ValueError(f"unknown preprocessing step(s) {unknown}; known: {', '.join(STEPS)}")
        if not 0.0 < eps < 0.5:
            raise ValueError(f"eps must be in (0, 0.5), got {eps}")
        if not margin >= 0.0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.steps = list(steps)
        self.eps = float(eps)
        self.margin = float(margin)
        self.n_features: int | None = None
        self._params: list[dict[str, np.ndarray]] = []

    @property
    def fitted(self) -> bool:
        return self.n_features is not None

    def __repr__(self) -> str:
        state = f"n_features={self.n_features}" if self.fitted else "unfitted"
        return f"Preprocessor(steps={self.steps}, eps={self.eps}, margin={self.margin}, {state})"

    # ----------------------------------------------------------------------- fitting

    def fit(self, x: np.ndarray, weights: np.ndarray | None = None) -> Preprocessor:
        """Fit all steps; weights only affect ``standardize`` (mean/std)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"fit needs a non-empty (n_events, n_features) array, got {x.shape}")
        if not np.isfinite(x).all():
            bad = np.flatnonzero(~np.isfinite(x).all(axis=0)).tolist()
            raise ValueError(f"fit input has non-finite values in feature(s) {bad}")
        w = None
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != (x.shape[0],):
                raise ValueError(f"weights must have shape ({x.shape[0]},), got {w.shape}")
            if not np.isfinite(w).all() or w.sum() <= 0:
                raise ValueError("weights must be finite with a positive sum")
        params = []
        for name in self.steps:
            p = getattr(self, f"_fit_{name}")(x, w)
            params.append(p)
            x = getattr(self, f"_fwd_{name}")(x, p)
        self._params = params
        self.n_features = x.shape[1]
        return self

    def _fit_log(self, x: np.ndarray, w: np.ndarray | None) -> dict[str, np.ndarray]:
        lo = x.min(axis=0)
        if (lo <= 0).any():
            bad = np.flatnonzero(lo <= 0).tolist()
            raise ValueError(f"log step needs positive values; feature(s) {bad} reach <= 0")
        return {"floor": _LOG_FLOOR * lo}

    def _fit_minmax(self, x: np.ndarray, w: np.ndarray | None) -> dict[str, np.ndarray]:
        lo, hi = x.min(axis=0), x.max(axis=0)
        span = hi - lo
        # Constant columns: any positive width works; 1 maps the value to 0.5.
        flat = span <= 1e-12 * np.maximum(1.0, np.abs(lo))
        pad = np.where(flat, 0.5, self.margin * span)
        return {"low": lo - pad, "high": hi + pad}

    def _fit_logit(self, x: np.ndarray, w: np.ndarray | None) -> dict[str, np.ndarray]:
        return {}

    def _fit_standardize(self, x: np.ndarray, w: np.ndarray | None) -> dict[str, np.ndarray]:
        mean = np.average(x, axis=0, weights=w)
        # Clip at 0: negative MC weights can make the weighted variance slightly negative.
        var = np.maximum(np.average((x - mean) ** 2, axis=0, weights=w), 0.0)
        std = np.sqrt(var)
        # Constant columns get scale 1 rather than a tiny floor, so that values
        # outside the fitted range are not blown up to ~1e12.
        std = np.where(std <= 1e-12 * np.maximum(1.0, np.abs(mean)), 1.0, std)
        return {"mean": mean, "std": std}

    # ----------------------------------------------------------------------- elementwise steps

    def _fwd_log(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return np.log(np.clip(x, p["floor"], _MAX_FLOAT))

    def _inv_log(self, y: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return np.exp(np.minimum(y, _MAX_EXP))

    def _ladj_log(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return -np.log(np.clip(x, p["floor"], _MAX_FLOAT))

    def _fwd_minmax(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return (x - p["low"]) / (p["high"] - p["low"])

    def _inv_minmax(self, y: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return y * (p["high"] - p["low"]) + p["low"]

    def _ladj_minmax(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return np.broadcast_to(-np.log(p["high"] - p["low"]), x.shape)

    def _fwd_logit(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        q = np.clip(x, self.eps, 1.0 - self.eps)
        return np.log(q) - np.log1p(-q)

    def _inv_logit(self, y: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return _sigmoid(y)

    def _ladj_logit(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        # Derivative of the unclipped logit at the clipped point: exact inside
        # [eps, 1-eps], finite (instead of log 0) outside.
        q = np.clip(x, self.eps, 1.0 - self.eps)
        return -np.log(q) - np.log1p(-q)

    def _fwd_standardize(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return (x - p["mean"]) / p["std"]

    def _inv_standardize(self, y: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return y * p["std"] + p["mean"]

    def _ladj_standardize(self, x: np.ndarray, p: dict[str, np.ndarray]) -> np.ndarray:
        return np.broadcast_to(-np.log(p["std"]), x.shape)

    # ----------------------------------------------------------------------- public maps

    def _check(self, x: np.ndarray, what: str) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError(f"Preprocessor.{what}() called before fit()")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected shape (n, {self.n_features}), got {x.shape}")
        return x

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Raw features -> network space (float64)."""
        x = self._check(x, "transform")
        for name, p in zip(self.steps, self._params, strict=True):
            x = getattr(self, f"_fwd_{name}")(x, p)
        return x

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Network space -> raw features; samples beyond the range saturate at its edges."""
        y = self._check(y, "inverse")
        for name, p in zip(reversed(self.steps), reversed(self._params), strict=True):
            y = getattr(self, f"_inv_{name}")(y, p)
        return y

    def log_abs_det_jacobian(self, x: np.ndarray) -> np.ndarray:
        """Per-event log|det d transform/dx|, so that log p_x = log p_y + this."""
        x = self._check(x, "log_abs_det_jacobian")
        total = np.zeros(x.shape[0])
        for name, p in zip(self.steps, self._params, strict=True):
            total += getattr(self, f"_ladj_{name}")(x, p).sum(axis=1)
            x = getattr(self, f"_fwd_{name}")(x, p)
        return total

    # ----------------------------------------------------------------------- persistence

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description; floats round-trip exactly through JSON."""
        if not self.fitted:
            raise RuntimeError("Preprocessor.to_dict() called before fit()")
        return {
            "format": _FORMAT,
            "steps": list(self.steps),
            "eps": self.eps,
            "margin": self.margin,
            "n_features": self.n_features,
            "params": [{k: v.tolist() for k, v in p.items()} for p in self._params],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessor:
        """Rebuild from :meth:`to_dict` output; ValueError on anything inconsistent."""
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ValueError(f"not a preprocessor description (expected format {_FORMAT!r})")
        try:
            pre = cls(steps=d["steps"], eps=d["eps"], margin=d["margin"])
            k = int(d["n_features"])
            raw_params = d["params"]
        except KeyError as exc:
            raise ValueError(f"preprocessor description lacks key {exc}") from None
        if len(raw_params) != len(pre.steps):
            raise ValueError(f"{len(raw_params)} parameter sets for {len(pre.steps)} steps")
        expected = {
            "log": {"floor"},
            "minmax": {"low", "high"},
            "logit": set(),
            "standardize": {"mean", "std"},
        }
        params = []
        for name, raw in zip(pre.steps, raw_params, strict=True):
            if set(raw) != expected[name]:
                raise ValueError(f"step {name!r} needs parameters {sorted(expected[name])}")
            p = {key: np.asarray(val, dtype=np.float64) for key, val in raw.items()}
            for key, val in p.items():
                if val.shape != (k,) or not np.isfinite(val).all():
                    raise ValueError(f"step {name!r} parameter {key!r} must be {k} finite floats")
            params.append(p)
        pre._params = params
        pre.n_features = k
        return pre

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Preprocessor:
        d = read_json(path, _PREPROCESSOR_KEYS, "a preprocessor description")
        try:
            return cls.from_dict(d)
        except (ValueError, TypeError) as exc:
            raise DataError(f"{path}: invalid preprocessor ({exc})") from None


@dataclass
class InputScaler:
    """The context and feature preprocessing of one dataset, with the columns each applies to.

    Fitted once and saved as JSON; it stays finite outside the fitted range (signal in the far
    tails, signal-region contexts beyond the control region), so a flow never sees NaN or inf.
    """

    context_columns: list[str]
    feature_columns: list[str]
    context: Preprocessor
    features: Preprocessor

    @classmethod
    def fit(
        cls,
        table: EventTable,
        context_columns: Sequence[str],
        feature_columns: Sequence[str],
        *,
        context_steps: Sequence[str],
        feature_steps: Sequence[str],
    ) -> InputScaler:
        return cls(
            list(context_columns),
            list(feature_columns),
            Preprocessor(context_steps).fit(table.cols(context_columns)),
            Preprocessor(feature_steps).fit(table.cols(feature_columns)),
        )

    def ctx(self, table: EventTable) -> np.ndarray:
        return self.context.transform(table.cols(self.context_columns)).astype(np.float32)

    def feat(self, table: EventTable) -> np.ndarray:
        return self.features.transform(table.cols(self.feature_columns)).astype(np.float32)

    def both(self, table: EventTable) -> np.ndarray:
        """Context and features side by side, for classifiers that see the whole event."""
        return np.hstack([self.ctx(table), self.feat(table)])

    def feat_inverse(self, y: np.ndarray) -> np.ndarray:
        return self.features.inverse(np.asarray(y, dtype=np.float64))

    def save(self, path: str | Path) -> None:
        write_json(
            path,
            {
                "context_columns": self.context_columns,
                "feature_columns": self.feature_columns,
                "context": self.context.to_dict(),
                "features": self.features.to_dict(),
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> InputScaler:
        d = read_json(path, _SCALER_KEYS, _SCALER)
        try:
            return cls(
                list(d["context_columns"]),
                list(d["feature_columns"]),
                Preprocessor.from_dict(d["context"]),
                Preprocessor.from_dict(d["features"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: invalid input scaler ({exc})") from None
