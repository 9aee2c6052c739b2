"""The closure AUC that matters to the SR classifier: on the features alone, of the template it
trains against (after the weight cut); the joint AUC with the context beside it."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from hepflows.ad.closure_checks import closure_aucs
from hepflows.core.events import EventTable
from hepflows.core.preprocessing import InputScaler

COLUMNS = ["c", "x1", "x2"]
PARAMS = {
    "dataset": {},
    "discrim": {"weight_sigma_cut": 3},
    "closure": {"classifier": {"kind": "hgb", "max_iter": 30}, "folds": 2},
    "device": "cpu",
}


def _events(rng: np.random.Generator, n: int, context_mean: float = 0.0) -> np.ndarray:
    return np.column_stack([rng.normal(context_mean, 1, n), rng.normal(0, 1, (n, 2))])


def test_features_only_closure_and_the_weight_cut():
    """A template with the truth's features but shifted contexts closes on the features (what
    the SR classifier sees) and not jointly; a handful of events with huge weights, which the
    SR classifier never sees, do not spoil the headline."""
    rng = np.random.default_rng(0)
    truth = EventTable(_events(rng, 6000), COLUMNS)
    weights = np.ones(6000)
    template_events = _events(rng, 6000, context_mean=1.0)
    template_events[:5, 1] = 8.0  # far outside the truth's features ...
    weights[:5] = 500.0  # ... with weights above mean + 3 sigma
    template = EventTable(template_events, COLUMNS, weights=weights)
    steps = ["standardize"]
    scaler = InputScaler.fit(truth, ["c"], ["x1", "x2"], context_steps=steps, feature_steps=steps)
    result = closure_aucs({"SR": (template, truth)}, scaler, PARAMS, 1, logging.getLogger("t"))
    sr = result["SR"]
    assert sr["n_cut"] == 5 and sr["n_template"] == 5995
    assert sr["median"] == pytest.approx(0.5, abs=0.02)
    assert sr["joint"]["median"] > 0.65
    uncut = closure_aucs(
        {"SR": (template, truth)}, scaler, {**PARAMS, "dataset": {"weight_sigma_cut": None}}, 1,
        logging.getLogger("t"),
    )  # fmt: skip
    assert uncut["SR"]["n_cut"] == 0 and uncut["SR"]["median"] > 0.6
