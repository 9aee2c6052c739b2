"""The guided EFP search of the paper: find the pairs (label 1, label 0) that the current
isolation(+EFP) model orders opposite to the PFN, add the EFP that orders most of those pairs as
the PFN does (average decision ordering, ADO), retrain, repeat.

Our choices against the original's: the pairs come from the validation fold of CV split 0 (the
original draws them from the test fold, on which the models are then reported), and each
iteration's model trains on split 0's training folds with early stopping on that validation
fold, so nothing the search selects on is the test fold. The stop rule looks at the validation
fold's sPlot AUC; the test fold's sPlot (and truth) AUC of every iteration is recorded for the
trajectory figure.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from hepflows.core.event_files import table_columns
from hepflows.core.events import EventTable
from hepflows.core.seeding import derive_rng
from hepflows.iso.ado import (
    Pairs,
    SearchStep,
    StopRule,
    ado,
    disordered_pairs,
    rank_by_ado,
    sample_pairs,
)
from hepflows.iso.evaluation import TestFold, score_metrics
from hepflows.iso.mass_fit import MassFit
from hepflows.iso.model_inputs import efp_matrix
from hepflows.iso.models import cone_inputs, model_spec
from hepflows.iso.splot import splot_auc, sweights
from hepflows.iso.training_jobs import folds_of, train_split

__all__ = ["best_candidate", "guided_search"]


def best_candidate(
    tables: Sequence[Path], f_ref: np.ndarray, f_model: np.ndarray, pairs: Pairs, exclude: set[str]
) -> dict[str, Any]:
    """The EFP column (over every merged EFP table) with the highest ADO with ``f_ref`` on the
    pairs ``f_model`` orders opposite to it; ties go to the first table and column."""
    bad = disordered_pairs(f_ref, f_model, pairs)
    best: dict[str, Any] = {"ado": -1.0, "n_disordered": len(bad.pos)}
    if len(bad.pos) == 0:
        raise ValueError("the model orders every pair as the reference does: nothing to add")
    for path in tables:
        names = table_columns(path)
        with h5py.File(path, "r") as f:
            ranking = rank_by_ado(f["data"], f_ref, bad)
        scores = np.where([n in exclude for n in names], -np.inf, ranking.ado)
        i = int(np.argmax(scores))
        if np.isfinite(scores[i]) and scores[i] > best["ado"]:
            best.update(ado=float(scores[i]), sign=int(ranking.sign[i]), column=names[i], index=i)
    if "column" not in best:
        raise ValueError("every EFP is already chosen")
    return best


def guided_search(
    events: EventTable,
    cwola: EventTable,
    tables: Sequence[Path],
    *,
    f_ref: np.ndarray,
    f_start: np.ndarray,
    n_cones: int,
    network: dict[str, Any],
    fit: MassFit,
    test: TestFold,
    n_pairs: int,
    stop: StopRule,
    seed: int,
    device: str,
    work_dir: Path | None,
    log: logging.Logger,
) -> dict[str, Any]:
    """The search's trajectory: the start model, one record per added EFP, the chosen EFPs."""
    folds = folds_of(cwola)
    val = np.flatnonzero(folds == 1)
    pairs = sample_pairs(cwola.labels, n_pairs, derive_rng(seed, "iso", "efp-pairs"),
                         among=folds == 1)  # fmt: skip
    val_weights = sweights(events.col("mass")[val], fit)

    def record(score: np.ndarray) -> dict[str, Any]:
        m = score_metrics(score[test.index], test, fit)
        return {
            "auc": splot_auc(score[val], val_weights),
            "model_ado": ado(f_ref, score, pairs),
            "test_splot_auc": m["splot_auc"],
            **({"test_truth_auc": m["truth_auc"]} if "truth_auc" in m else {}),
        }

    start = record(f_start)
    log.info(f"start ({n_cones} cones): validation sPlot AUC {start['auc']:.4f}, ADO with the "
             f"reference {start['model_ado']:.4f}, {len(pairs.pos)} pairs")  # fmt: skip
    steps: list[dict[str, Any]] = []
    chosen: list[str] = []
    current, reason = f_start, stop.reason(start["auc"], 0)
    spec = model_spec("cones_efps", network)
    while reason is None:
        best = best_candidate(tables, f_ref, current, pairs, set(chosen))
        chosen.append(best["column"])
        x = np.hstack([cone_inputs(events, n_cones), efp_matrix(chosen, tables)])
        ckpt = work_dir / f"iteration_{len(chosen)}.ckpt" if work_dir is not None else None
        clf = train_split("cones_efps", x, cwola, 0, spec=spec, seed=seed, device=device,
                          checkpoint=ckpt, log=log)  # fmt: skip
        current = clf.predict(x)
        rec = record(current)
        step = SearchStep(
            iteration=len(chosen), feature=best["index"], feature_ado=best["ado"],
            feature_sign=best["sign"], n_disordered=best["n_disordered"], auc=rec["auc"],
            model_ado=rec["model_ado"], feature_name=best["column"],
        )  # fmt: skip
        steps.append({**step.to_dict(), **rec})
        log.info(f"iteration {len(chosen)}: {best['column']} (ADO {best['ado']:.4f} on "
                 f"{best['n_disordered']} disordered pairs) -> validation sPlot AUC "
                 f"{rec['auc']:.4f}, ADO {rec['model_ado']:.4f}")  # fmt: skip
        reason = stop.reason(rec["auc"], len(chosen))
    log.info(f"stopped: {reason}")
    return {"start": start, "reference_scores": record(f_ref), "steps": steps, "chosen": chosen,
            "stop_reason": reason, "n_pairs": len(pairs.pos)}  # fmt: skip
