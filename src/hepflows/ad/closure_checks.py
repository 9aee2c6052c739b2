"""Closure of a background template: can classifiers tell the template from the truth?

In the held-out CR the truth is the CR data no template saw; in the SR it is an independent
reference background. Both are scored out of fold (:mod:`hepflows.core.two_sample`), so an AUC
of 0.5 means closure; plus the ratio of template to truth in every variable.

The headline AUC is the one that matters to the SR classifier: on what it sees, the features
alone, and on the template it trains against, after the weight cut (the original's definition).
The joint AUC (context and features) says besides whether the template also reproduces the
context distribution.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from hepflows.ad.datasets import axis_label
from hepflows.ad.regions import split_indices
from hepflows.ad.sr_classifier import weight_sigma_cut
from hepflows.core.density_ratio import usable_weights
from hepflows.core.events import EventTable
from hepflows.core.metrics import percentile_band
from hepflows.core.preprocessing import InputScaler
from hepflows.core.seeding import derive_rng, derive_seed
from hepflows.core.two_sample import out_of_fold_aucs

Regions = dict[str, tuple[EventTable, EventTable]]  # region -> (template, truth)


def _cap(table: EventTable, n: int, seed: int) -> EventTable:
    if len(table) <= n:
        return table
    return table.select(derive_rng(seed, "cap").choice(len(table), size=n, replace=False))


def closure_seed(params: Mapping[str, Any], dataset: str, data_seed: int, method: str) -> int:
    return derive_seed(params["seed"], dataset, data_seed, "closure", method)


def closure_regions(
    data: EventTable,
    template: EventTable,
    template_cr: EventTable,
    reference: EventTable,
    params: Mapping[str, Any],
    dataset: str,
    data_seed: int,
    seed: int,
) -> Regions:
    """Template and truth of both regions, each capped at ``closure.max_events``."""
    _, held, _ = split_indices(
        data,
        params["dataset"]["sr"],
        holdout_fraction=params["holdout_fraction"],
        split_rng=derive_rng(params["seed"], dataset, "holdout", data_seed),
    )
    cap = params["closure"]["max_events"]
    return {
        "CR": (_cap(template_cr, cap, seed), _cap(data.select(held), cap, seed + 1)),
        "SR": (_cap(template, cap, seed + 2), _cap(reference, cap, seed + 3)),
    }


def closure_aucs(
    regions: Regions,
    scaler: InputScaler,
    params: Mapping[str, Any],
    seed: int,
    log: logging.Logger,
) -> dict[str, Any]:
    """Per region: the out-of-fold AUCs on the features (the headline) and on context and
    features (``joint``), each with the median and 16/84 percentiles over the folds; the
    template's weights cut as for the SR classifier."""
    cut = weight_sigma_cut(params)
    result: dict[str, Any] = {}
    for region, (template, truth) in regions.items():
        keep = np.ones(len(template), bool)
        if template.weights is not None:
            keep = usable_weights(template.weights, cut)
        kept = template.select(keep)
        features = _aucs(scaler.feat(kept), kept.weights, scaler.feat(truth), params, seed, log)
        joint = _aucs(scaler.both(kept), kept.weights, scaler.both(truth), params, seed, log)
        result[region] = {
            **features,
            "joint": joint,
            "n_template": len(kept),
            "n_cut": int((~keep).sum()),
            "n_truth": len(truth),
        }
        log.info(
            f"{region} closure AUC {features['median']:.4f} [{features['p16']:.4f}, "
            f"{features['p84']:.4f}] on the features, {joint['median']:.4f} with the context "
            f"({int((~keep).sum())} template events cut by weight)"
        )
    return result


def _aucs(
    x_template: np.ndarray,
    w_template: np.ndarray | None,
    x_truth: np.ndarray,
    params: Mapping[str, Any],
    seed: int,
    log: logging.Logger,
) -> dict[str, Any]:
    closure = params["closure"]
    aucs = out_of_fold_aucs(
        x_template, w_template, x_truth, None, closure["classifier"],
        n_folds=closure["folds"], seed=seed, device=params["device"], log=log,
    )  # fmt: skip
    median, p16, p84 = percentile_band(aucs)
    return {"aucs": aucs, "median": median, "p16": p16, "p84": p84}


def ratio_panels(
    template: EventTable,
    truth: EventTable,
    scaler: InputScaler,
    dataset: str,
    labels: tuple[str, str],
) -> list[dict[str, Any]]:
    """One ratio panel per column (context first), template against truth; ``labels`` names
    (truth, template) in the legend."""
    truth_label, template_label = labels
    return [
        {
            "hists": {
                truth_label: (truth.col(column), None),
                template_label: (template.col(column), template.weights),
            },
            "xlabel": axis_label(dataset, column),
            "range": _display_range(truth.col(column)),
        }
        for column in scaler.context_columns + scaler.feature_columns
    ]


def _display_range(values: np.ndarray) -> tuple[float, float]:
    """Central 99.8% of the truth, so heavy tails do not squeeze the bulk into one bin."""
    lo, hi = np.quantile(values, [0.001, 0.999])
    return float(lo), float(hi)
