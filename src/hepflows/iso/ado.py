"""Average decision ordering (ADO) and the bookkeeping of the guided EFP search.

Two classifiers f and g order a pair (x from label 1, x' from label 0) the same way when
sign(f(x) - f(x')) == sign(g(x) - g(x')). Per pair the decision ordering is

    DO = (1 + sign(f(x) - f(x')) * sign(g(x) - g(x'))) / 2,

1 when they agree, 0 when they disagree and 1/2 when either of them ties (equal scores), and
ADO is its mean over pairs. Counting a tie as 1/2 is the convention of the original's DO
(heaviside(0) = 1/2); it makes ADO(f, -g) = 1 - ADO(f, g) exactly, so "an EFP orders like the PFN
or like its negative" is max(ADO, 1 - ADO), and a constant score sits at 1/2, which matters for
EFPs and cones that are exactly 0 for many events.

The search (paper, section "guided EFP search"): on 50k pairs, take the pairs the current
isolation (+ EFP) network orders opposite to the PFN (:func:`disordered_pairs`; as in the
original, strictly opposite: a pair either of them ties is not counted), rank every EFP by its ADO
with the PFN on them (:func:`rank_by_ado`), add the best (:func:`choose_feature`), retrain, and
repeat until a target AUC or 20 iterations (:class:`StopRule`); :class:`SearchStep` records one
iteration.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np

from hepflows.core.io import DataError

__all__ = [
    "FeatureRanking",
    "Pairs",
    "SearchStep",
    "StopRule",
    "ado",
    "choose_feature",
    "decision_ordering",
    "disordered_pairs",
    "rank_by_ado",
    "sample_pairs",
]

# Memory for one block of candidate columns in rank_by_ado (gathered rows and both pair sides).
_BLOCK_BYTES = 64 * 2**20


class Pairs(NamedTuple):
    """Event index pairs: ``pos[i]`` has label 1, ``neg[i]`` label 0 (int64 arrays)."""

    pos: np.ndarray
    neg: np.ndarray

    def select(self, mask: np.ndarray) -> Pairs:
        """The pairs where ``mask`` (one bool per pair) is true."""
        return Pairs(self.pos[mask], self.neg[mask])


def sample_pairs(
    labels: np.ndarray,
    n_pairs: int,
    rng: np.random.Generator,
    among: np.ndarray | None = None,
) -> Pairs:
    """``n_pairs`` distinct (label-1, label-0) pairs, uniform over all such pairs.

    The paper uses 50k pairs of test-fold events (``among`` = the test-fold mask; indices
    refer to all events). Distinct, as the original's; drawn without replacement from the
    n1 * n0 possible pairs, which is exact and fast however large that product is.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
        raise DataError("labels must be 1-D 0/1 CWoLa labels")
    usable = np.ones(len(labels), dtype=bool) if among is None else np.asarray(among, dtype=bool)
    if usable.shape != labels.shape:
        raise DataError(f"among must be a boolean mask of shape {labels.shape}")
    ones = np.flatnonzero(usable & (labels == 1))
    zeros = np.flatnonzero(usable & (labels == 0))
    n_possible = len(ones) * len(zeros)
    if n_pairs < 1 or n_pairs > n_possible:
        raise DataError(
            f"cannot draw {n_pairs} distinct pairs from {len(ones)} label-1 and "
            f"{len(zeros)} label-0 events ({n_possible} pairs)"
        )
    code = rng.choice(n_possible, size=n_pairs, replace=False)
    return Pairs(ones[code // len(zeros)], zeros[code % len(zeros)])


def _pair_signs(score: np.ndarray, pairs: Pairs, what: str) -> np.ndarray:
    """sign(score[pos] - score[neg]) per pair (int8, by comparison: no overflow or wrap-around
    for integer scores), after checking the scores."""
    score = np.asarray(score)
    if score.ndim != 1:
        raise DataError(f"{what} must be per-event scores of shape (n_events,), got {score.shape}")
    _check_pairs(pairs, len(score), what)
    a, b = score[pairs.pos], score[pairs.neg]
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise DataError(f"{what} is NaN or inf for events in the pairs")
    return (a > b).astype(np.int8) - (a < b).astype(np.int8)


def _check_pairs(pairs: Pairs, n_events: int, what: str) -> None:
    if len(pairs.pos) != len(pairs.neg):
        raise DataError("pairs.pos and pairs.neg differ in length")
    if len(pairs.pos) == 0:
        raise DataError("ADO needs at least one pair")
    lo = min(pairs.pos.min(), pairs.neg.min())
    hi = max(pairs.pos.max(), pairs.neg.max())
    if lo < 0 or hi >= n_events:
        raise DataError(f"pairs reach event {hi}, but {what} has {n_events} events")


def decision_ordering(f: np.ndarray, g: np.ndarray, pairs: Pairs) -> np.ndarray:
    """DO per pair: 1 (same order), 0 (opposite) or 0.5 (a tie in f or g); float64."""
    prod = _pair_signs(f, pairs, "f").astype(np.int16) * _pair_signs(g, pairs, "g")
    return (1.0 + prod) / 2.0


def ado(f: np.ndarray, g: np.ndarray, pairs: Pairs) -> float:
    """Average decision ordering of per-event scores ``f`` and ``g`` over ``pairs``."""
    return float(decision_ordering(f, g, pairs).mean())


def disordered_pairs(f_ref: np.ndarray, f_model: np.ndarray, pairs: Pairs) -> Pairs:
    """The pairs that ``f_model`` orders opposite to ``f_ref`` (DO = 0; ties excluded)."""
    prod = _pair_signs(f_ref, pairs, "f_ref").astype(np.int16) * _pair_signs(
        f_model, pairs, "f_model"
    )
    return pairs.select(prod < 0)


class FeatureRanking(NamedTuple):
    """Per candidate feature: ``ado`` = max(ADO, 1 - ADO) with the reference, and ``sign``
    = +1 if the feature itself orders like the reference (ADO >= 1/2), -1 if its negative does."""

    ado: np.ndarray
    sign: np.ndarray


def rank_by_ado(
    candidates: Any, f_ref: np.ndarray, pairs: Pairs, block_bytes: int = _BLOCK_BYTES
) -> FeatureRanking:
    """ADO of every candidate feature (its value as a score) with ``f_ref`` on ``pairs``.

    ``candidates`` has shape (n_events, n_features): a numpy array, memmap or h5py dataset.
    Columns are processed in blocks of about ``block_bytes`` (50k pairs x 17k EFPs at once
    would need ~7 GB per float64 copy); each block reads only the rows in the pairs. With
    s = sign(f_ref(x) - f_ref(x')), sum_pairs s * sign(e(x) - e(x')) counts agreements minus
    disagreements, so ADO = 1/2 + that sum / (2 n_pairs) (ties count 1/2, see the module).
    """
    shape = getattr(candidates, "shape", None)
    if shape is None or len(shape) != 2:
        raise DataError(f"candidates must be 2-D (n_events, n_features), got shape {shape}")
    f_ref = np.asarray(f_ref)
    if f_ref.shape != shape[:1]:
        raise DataError(f"f_ref has shape {f_ref.shape}, candidates {shape[0]} events")
    s_ref = _pair_signs(f_ref, pairs, "f_ref")
    n_pairs = len(s_ref)
    # Pairs the reference ties add 1/2 to every feature's ADO: only the others are compared.
    rows, inverse = np.unique(np.concatenate([pairs.pos, pairs.neg]), return_inverse=True)
    ipos, ineg = inverse[:n_pairs], inverse[n_pairs:]
    up, down = s_ref > 0, s_ref < 0
    sides = [(ipos[up], ineg[up], 1), (ipos[down], ineg[down], -1)]
    itemsize = np.dtype(getattr(candidates, "dtype", np.float64)).itemsize
    per_column = len(rows) * itemsize + 2 * n_pairs * (itemsize + 1)
    width = max(1, block_bytes // per_column)
    agree = np.zeros(shape[1], dtype=np.int64)  # agreements minus disagreements
    for start in range(0, shape[1], width):
        block = np.asarray(candidates[rows, start : start + width])  # sorted rows: h5py too
        if not np.isfinite(block).all():
            bad = start + int(np.flatnonzero(~np.isfinite(block).all(axis=0))[0])
            raise DataError(f"candidate feature {bad} is NaN or inf for events in the pairs")
        cols = slice(start, start + block.shape[1])
        for i, j, s in sides:
            a, b = block[i], block[j]
            agree[cols] += s * (np.count_nonzero(a > b, axis=0) - np.count_nonzero(a < b, axis=0))
    # max(ADO, 1 - ADO) from |agree|: exactly the same for a feature and its negative
    sign = np.where(agree >= 0, 1, -1).astype(np.int8)
    return FeatureRanking(ado=0.5 + np.abs(agree) / (2.0 * n_pairs), sign=sign)


def choose_feature(ranking: FeatureRanking, exclude: Collection[int] = ()) -> int:
    """The feature with the highest ADO, skipping those already chosen; on equal ADO the lowest
    index wins (deterministic)."""
    scores = np.array(ranking.ado, dtype=np.float64)
    if len(exclude):
        scores[np.asarray(list(exclude), dtype=np.int64)] = -np.inf
    if not np.isfinite(scores).any():
        raise ValueError("every candidate feature is excluded")
    return int(np.argmax(scores))


@dataclass(frozen=True)
class SearchStep:
    """One iteration of the guided search: the feature it added and the model trained with it.

    ``feature_ado`` and ``feature_sign`` are its :func:`rank_by_ado` entry on the
    ``n_disordered`` pairs that the previous model ordered opposite to the PFN; ``auc`` and
    ``model_ado`` (ADO with the PFN on all pairs) are those of the model retrained with it.
    """

    iteration: int
    feature: int
    feature_ado: float
    feature_sign: int
    n_disordered: int
    auc: float
    model_ado: float
    feature_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (numpy numbers become plain Python ones)."""
        return {k: v.item() if isinstance(v, np.generic) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class StopRule:
    """When the search stops: the model reached ``target_auc`` (None: no target), or
    ``max_iterations`` features were added (the paper: 20)."""

    target_auc: float | None = None
    max_iterations: int = 20

    def __post_init__(self) -> None:
        if self.max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {self.max_iterations}")
        if self.target_auc is not None and not 0.0 < self.target_auc <= 1.0:
            raise ValueError(f"target_auc must be in (0, 1], got {self.target_auc}")

    def reason(self, auc: float, iterations: int) -> str | None:
        """Why to stop after ``iterations`` added features with the current model's ``auc``
        (the baseline's before the first), or None to go on."""
        if self.target_auc is not None and auc >= self.target_auc:
            return f"AUC {auc:.4f} reached the target {self.target_auc:.4f}"
        if iterations >= self.max_iterations:
            return f"{iterations} iterations done (max_iterations {self.max_iterations})"
        return None

    def should_stop(self, auc: float, iterations: int) -> bool:
        return self.reason(auc, iterations) is not None
