"""The isolation models: their inputs from an event table, their specs, and training them.

Three kinds, as in the paper, all trained by CWoLa on the core's classifiers and training loop:

* ``cones``: the last ``n_cones`` relative isolations (the largest radii) and the cone sum pT,
  into an MLP of 3 hidden layers of width l (:class:`~hepflows.core.classifiers.MLPClassifier`);
* ``cones_efps``: the same with chosen energy flow polynomials appended;
* ``pfn``: the cone particles into a particle flow network
  (:class:`~hepflows.core.particle_flow.PFNClassifier`).

This module is glue: inputs, a config block turned into a core spec, and one ``train_model``
for cross-validation splits (early stopping on the validation fold) and bootstrap replicas
(a fixed epoch count, weights = CWoLa weights x draw counts). Standardization is the
classifiers' own, fitted on the training events only, and saved in their JSON spec.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.core.classifiers import MLPClassifier, make_classifier
from hepflows.core.events import EventTable
from hepflows.core.io import DataError, read_json
from hepflows.core.models import model_paths
from hepflows.core.particle_flow import ParticleInputs, PFNClassifier
from hepflows.iso.columns import CONE_SUM_PT, ISO_COLUMNS, PARTICLE_COLUMNS

__all__ = [
    "DEFAULTS",
    "ISO_SCALE",
    "MODEL_KINDS",
    "PFN_FEATURES",
    "PID_SPECIES",
    "SUM_PT_SCALE",
    "cone_columns",
    "cone_inputs",
    "efp_inputs",
    "encode_pids",
    "load_model",
    "model_spec",
    "particle_inputs",
    "train_model",
]

MODEL_KINDS = ("cones", "cones_efps", "pfn")
IsoClassifier = MLPClassifier | PFNClassifier

# PDG id -> (species, electric charge). The species are what particle flow reconstructs; the
# muon class is for real files (a second muon inside the cone), absent from the synthetic ones.
PID_SPECIES = ("charged_hadron", "photon", "neutral_hadron", "electron", "muon")
_PIDS = {
    211: ("charged_hadron", 1.0),
    -211: ("charged_hadron", -1.0),
    22: ("photon", 0.0),
    130: ("neutral_hadron", 0.0),
    11: ("electron", -1.0),
    -11: ("electron", 1.0),
    13: ("muon", -1.0),
    -13: ("muon", 1.0),
}
PFN_FEATURES = ("pt_rel", "d_eta", "d_phi", "charge", *PID_SPECIES)
# The scales of cone_inputs' log(1 + x / scale): the bulk of the prompt muons (iso.md: relative
# isolation at R = 0.45 peaks near 0.1; prompt cone sum pT below 15 GeV, median ~5 GeV).
ISO_SCALE = 0.1
SUM_PT_SCALE = 5.0  # GeV

# Our defaults: small widths for CPU training of the synthetic workflow. On 60k CWoLa events 3 x 64
# does what 3 x 256 does (truth AUC 1 cone 0.869 vs 0.862, 9 cones 0.823 vs 0.838, seed spread
# ~0.01) in less time; a PFN of width 64 takes ~20 s per epoch on 48k events, one thread.
# The paper's: width 256, PFN Phi (256, 256, 256, 512) and F (256,) x 4, LeakyReLU, Adam with
# lr 5e-7 to 3e-6 at batch 256 on 1M events, up to 300 epochs, patience 10, min_delta 3.3e-4.
_TRAIN = {
    "epochs": 300,
    "batch_size": 256,
    "lr": 1e-3,
    "patience": 10,
    "min_delta": 3.3e-4,
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "cones": {"width": 64, "layers": 3, "activation": "leaky_relu", "train": _TRAIN},
    "cones_efps": {"width": 64, "layers": 3, "activation": "leaky_relu", "train": _TRAIN},
    "pfn": {
        "phi_sizes": [64, 64, 64, 128],
        "f_sizes": [64, 64, 64, 64],
        "activation": "leaky_relu",
        "train": _TRAIN,
    },
}
_MLP_OPTIONS = {"width", "layers", "activation", "dropout", "train"}
_PFN_OPTIONS = {"phi_sizes", "f_sizes", "activation", "dropout", "train"}


def _check_kind(kind: str) -> None:
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown iso model kind {kind!r}; choose from {', '.join(MODEL_KINDS)}")


# --------------------------------------------------------------------------- inputs


def cone_columns(n_cones: int) -> list[str]:
    """The columns of the ``n_cones``-cone model: the ``n_cones`` largest radii, then the cone
    sum pT. The original takes ``iso[-N:]``: 1 cone is R = 0.45, 9 cones are R = 0.25..0.45."""
    if isinstance(n_cones, bool) or int(n_cones) != n_cones or not 1 <= n_cones <= len(ISO_COLUMNS):
        raise ValueError(f"n_cones must be an integer in 1..{len(ISO_COLUMNS)}, got {n_cones!r}")
    return [*ISO_COLUMNS[len(ISO_COLUMNS) - int(n_cones) :], CONE_SUM_PT]


def cone_inputs(table: EventTable, n_cones: int) -> np.ndarray:
    """(n_events, n_cones + 1) float64: the columns of :func:`cone_columns`, each as
    log(1 + x / scale), scale ``ISO_SCALE`` for the isolations and ``SUM_PT_SCALE`` for the sum.

    Why: both have long tails (isolation beyond 10, sum pT beyond 100 GeV) while the prompt
    muons sit near 0.1 and 5 GeV; standardized as they are, the bulk is squeezed into a sliver.
    The transform is linear below the scale and logarithmic above, monotone, fixed (nothing
    to fit or save) and keeps the zeros. Measured (MLP 3 x 64, truth labels, 24k training
    events, 3 seeds): truth AUC 9 cones 0.873 -> 0.877, 1 cone 0.872 -> 0.873, in about half
    the epochs.
    """
    x = table.cols(cone_columns(n_cones))
    scale = np.r_[np.full(x.shape[1] - 1, ISO_SCALE), SUM_PT_SCALE]
    return np.log1p(np.maximum(x, 0.0) / scale)


def efp_inputs(
    table: EventTable,
    n_cones: int,
    efps: np.ndarray,
    names: Sequence[str],
    chosen: Sequence[str],
) -> np.ndarray:
    """The cone inputs with the ``chosen`` EFP columns of ``efps`` (named ``names``) appended,
    in the order of ``chosen``, as computed (standardized by the classifier; not log-scaled:
    not measured yet). The EFP rows must be the table's events, in its order."""
    efps = np.asarray(efps, dtype=np.float64)
    names = list(names)
    if efps.ndim != 2 or efps.shape != (len(table), len(names)):
        raise DataError(
            f"EFPs must have shape ({len(table)}, {len(names)}) (events x names), got {efps.shape}"
        )
    index = {name: i for i, name in enumerate(names)}
    missing = [c for c in chosen if c not in index]
    if missing:
        raise DataError(
            f"EFP column(s) {', '.join(map(repr, missing))} not among the {len(names)} computed "
            f"(e.g. {', '.join(names[:3])})"
        )
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"chosen EFPs repeat a column: {list(chosen)}")
    return np.hstack([cone_inputs(table, n_cones), efps[:, [index[c] for c in chosen]]])


def encode_pids(pid: np.ndarray) -> np.ndarray:
    """PDG ids (any shape) -> (..., 1 + len(PID_SPECIES)): the charge, then a one-hot species.

    Why not the raw id, as the original fed it: a network sees a number's size, and a raw id
    says that a photon (22) lies between an electron (11) and a pion (211), and a pi- (-211)
    furthest from a pi+. The one-hot puts every species at the same distance; the charge is
    the one ordered quantity. Unknown ids are an error (no silent "other" class). Measured
    (PFN Phi 32-32-64, F 32-32, 8 epochs, 15k balanced events, truth labels, 2 seeds): truth
    AUC 0.854 one-hot, 0.856 raw id: no loss, no measurable gain on the synthetic events.
    """
    pid = np.asarray(pid)
    rounded = np.rint(pid).astype(np.int64)
    known = np.array(sorted(_PIDS))
    pos = np.searchsorted(known, rounded).clip(0, len(known) - 1)
    ok = (known[pos] == rounded) & (rounded == pid)
    if not ok.all():
        bad = sorted({float(v) for v in np.asarray(pid)[~ok].ravel()[:1000]})
        raise DataError(
            f"unknown particle id(s) {bad[:5]}; known PDG ids: {', '.join(map(str, known))}"
        )
    species = [PID_SPECIES.index(_PIDS[k][0]) for k in known]
    rows = np.column_stack([[_PIDS[k][1] for k in known], np.eye(len(PID_SPECIES))[species]])
    return rows[pos]  # one row (charge, one-hot) per known id, gathered


def particle_inputs(table: EventTable) -> ParticleInputs:
    """The PFN's inputs: per particle ``PFN_FEATURES`` (pT_rel, d_eta, d_phi, then the
    :func:`encode_pids` columns), float32.

    The real particles are moved to the front and the slots cut at the largest count of the
    table: a PFN sums over particles, so their order does not matter, and the padding, which Phi
    skips, still costs memory (128 slots hold ~16 particles on average).
    """
    if table.particles is None or table.mask is None or table.particle_columns is None:
        raise DataError(f"{table.source or 'table'}: no particles (the PFN needs them)")
    missing = [c for c in PARTICLE_COLUMNS if c not in table.particle_columns]
    if missing:
        raise DataError(
            f"{table.source or 'table'}: particle column(s) {', '.join(missing)} missing; "
            f"have {', '.join(table.particle_columns)}"
        )
    mask = table.mask
    counts = mask.sum(axis=1)
    front = np.arange(max(int(counts.max(initial=0)), 1)) < counts[:, None]
    # The real particles in row-major order are each event's in slot order: they fill the
    # front slots of the same events. Only they are encoded (~16 of 128 slots per event).
    real = table.particles[mask][:, [table.particle_columns.index(c) for c in PARTICLE_COLUMNS]]
    out = np.zeros((*front.shape, len(PFN_FEATURES)), dtype=np.float32)
    out[front] = np.concatenate([real[:, :3], encode_pids(real[:, 3])], axis=1)
    return ParticleInputs(out, front)


# --------------------------------------------------------------------------- specs and training


def model_spec(kind: str, cfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The core classifier spec of an iso model kind from its config block (missing keys take
    :data:`DEFAULTS`; ``train`` merges key by key). ``cones``/``cones_efps`` take ``width`` and
    ``layers`` (the paper's l and 3); ``pfn`` takes ``phi_sizes`` (the last is the latent size)
    and ``f_sizes``; all take ``activation``, ``dropout`` and ``train`` (a TrainConfig block
    without seed and device, which the workflow sets)."""
    _check_kind(kind)
    cfg = dict(cfg or {})
    allowed = _PFN_OPTIONS if kind == "pfn" else _MLP_OPTIONS
    unknown = sorted(set(cfg) - allowed)
    if unknown:
        raise ValueError(
            f"unknown option(s) for iso model {kind!r}: {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(allowed))}"
        )
    merged = {**DEFAULTS[kind], **cfg}
    merged["train"] = {**DEFAULTS[kind]["train"], **dict(cfg.get("train") or {})}
    if kind == "pfn":
        return {"kind": "pfn", **merged}
    width, layers = int(merged.pop("width")), int(merged.pop("layers"))
    if width < 1 or layers < 1:
        raise ValueError(f"width and layers must be >= 1, got {width} and {layers}")
    return {"kind": "mlp", "hidden": [width] * layers, **merged}


def train_model(
    kind: str,
    inputs: np.ndarray | ParticleInputs,
    labels: np.ndarray,
    weights: np.ndarray,
    *,
    spec: Mapping[str, Any],
    seed: int,
    device: str = "auto",
    checkpoint: str | Path | None = None,
    log: logging.Logger | None = None,
    epochs: int | None = None,
    validation: tuple[Any, np.ndarray, np.ndarray] | None = None,
) -> IsoClassifier:
    """A fitted classifier of ``kind`` on (inputs, CWoLa labels, weights).

    Exactly one of ``validation`` = (inputs, labels, weights) of the validation fold (early
    stopping, the best epoch's weights: cross-validation) and ``epochs`` (a fixed count without
    validation: bootstrap replicas, whose ``weights`` are the CWoLa weights times the draw
    counts). With ``epochs`` the weights are those of the last epoch, as the paper's replicas,
    and no epoch is evaluated on held-out events (none are set aside).
    """
    _check_kind(kind)
    expected = "pfn" if kind == "pfn" else "mlp"
    if spec.get("kind") != expected:
        raise ValueError(f"iso model {kind!r} needs a {expected!r} spec, got {spec.get('kind')!r}")
    want = ParticleInputs if kind == "pfn" else np.ndarray
    if not isinstance(inputs, want):
        raise TypeError(f"iso model {kind!r} takes {want.__name__} inputs, got {type(inputs)}")
    if (epochs is None) == (validation is None):
        raise ValueError("give either validation (early stopping) or epochs (a fixed count)")
    train = dict(spec.get("train") or {})
    if epochs is not None:
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
        train.update(epochs=int(epochs), patience=None, min_delta=0.0, restore_best=False)
    x_val, y_val, w_val = validation or (None, None, None)
    clf = make_classifier(
        {**spec, "train": train}, seed=seed, device=device, checkpoint=checkpoint, log=log
    )
    assert isinstance(clf, MLPClassifier | PFNClassifier)
    return clf.fit(inputs, labels, weights, x_val=x_val, y_val=y_val, w_val=w_val)


def load_model(stem: str | Path) -> IsoClassifier:
    """A model saved with ``save(stem)``, of whichever class its JSON spec names."""
    spec = read_json(model_paths(stem)[1], ("kind",), "a saved iso model spec")
    classes: dict[str, type[MLPClassifier] | type[PFNClassifier]] = {
        "mlp": MLPClassifier,
        "pfn": PFNClassifier,
    }
    if spec["kind"] not in classes:
        raise DataError(f"{stem}: not an iso model (kind {spec['kind']!r}, expected mlp or pfn)")
    return classes[spec["kind"]].load(stem)
