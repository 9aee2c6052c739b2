"""The weakly supervised SR classifier: an ensemble of classifiers, SR data (1) against the
background template (0), whose mean output on the labelled test set is the anomaly score. With
the truth signal sample in place of the data it is the fully supervised upper bound.

An ensemble may be split over jobs (``discrim.members_per_job``): each part trains its members
with the whole ensemble's seeds and batch order, and writes one score column per member.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.core.checkpoints import keep_finished, load_or_set_aside, resumable
from hepflows.core.classifiers import make_classifier
from hepflows.core.density_ratio import usable_weights
from hepflows.core.ensembles import make_mlp_ensemble
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import DataError, config_hash
from hepflows.core.preprocessing import InputScaler
from hepflows.core.seeding import derive_seed


def clean_template_weights(
    weights: np.ndarray | None, n_template: int, n_target: float, sigma_cut: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Drop events with extreme weights and scale the rest to a total of ``n_target``.

    Returns (mask of kept template events, their weights); see
    :func:`hepflows.core.density_ratio.usable_weights`.
    """
    w = np.ones(n_template) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = usable_weights(w, sigma_cut)
    if not keep.any():
        raise ValueError("no template event survives the weight cut")
    kept = w[keep]
    return keep, kept * (n_target / kept.sum())


def weight_sigma_cut(params: Mapping[str, Any]) -> float | None:
    """The cut on template weights before the SR classifier: the dataset's own (lhco: none, see
    config.yaml; null there means no cut) or ad.discrim's."""
    return params["dataset"].get("weight_sigma_cut", params["discrim"]["weight_sigma_cut"])


def member_columns(start: int, stop: int) -> list[str]:
    """Column names of members start..stop-1 in a part of a split ensemble's scores."""
    return [f"member_{k:03d}" for k in range(start, stop)]


def _member_path(directory: Path, k: int) -> Path:
    return directory / f"member_{k:03d}.npy"


def train_member_scores(
    x_signal_like: np.ndarray,
    x_template: np.ndarray,
    w_template: np.ndarray,
    x_eval: np.ndarray,
    spec: Mapping[str, Any],
    *,
    n_members: int,
    seeds: list[int],
    device: str = "auto",
    work_dir: Path | None = None,
    log: logging.Logger | None = None,
    average_epochs: int = 1,
    batch_seed: int | None = None,
) -> np.ndarray:
    """Each member's score on ``x_eval``, shape (n_members, n).

    ``average_epochs`` = k > 1: each MLP member scores with the mean of its k best epochs.
    ``batch_seed`` orders the MLP mini-batches (default: the first member's seed); with the
    whole ensemble's first seed, a slice of its members scores exactly as in the whole.

    MLP members train side by side as one stacked network (checkpointed every epoch); other
    kinds train one after the other, each member's scores kept in ``work_dir`` as soon as it
    finishes. Either way a killed job resumes where it stopped.
    """
    if len(seeds) != n_members:
        raise ValueError(f"need one seed per ensemble member ({n_members}), got {len(seeds)}")
    x = np.concatenate([x_signal_like, x_template])
    y = np.concatenate([np.ones(len(x_signal_like)), np.zeros(len(x_template))])
    w = np.concatenate([np.ones(len(x_signal_like)), w_template])
    if spec.get("kind") == "mlp":
        if log:
            log.info(f"training {n_members} MLP members side by side (seeds {seeds})")
        ckpt = work_dir / "ensemble.ckpt" if work_dir is not None else None
        ensemble = make_mlp_ensemble(
            dict(spec),
            seeds=seeds,
            device=device,
            checkpoint=ckpt,
            log=log,
            average_epochs=average_epochs,
            batch_seed=batch_seed,
        )
        scores = ensemble.fit(x, y, w).predict_members(x_eval)
        if log and ensemble.result is not None:
            log.info(f"best epoch per member: {ensemble.result.best_epochs}")
        return scores
    if average_epochs != 1:
        raise ValueError(
            f"average_epochs = {average_epochs} needs an 'mlp' classifier (it averages "
            f"epochs), not {spec.get('kind')!r}"
        )
    scores = np.empty((n_members, len(x_eval)))
    for k, seed in enumerate(seeds):
        done = _member_path(work_dir, k) if work_dir is not None else None
        finished = _finished_member(done, len(x_eval), log) if done is not None else None
        if finished is not None:
            scores[k] = finished
            if log:
                log.info(f"member {k + 1}/{n_members}: reusing finished scores")
            continue
        if log:
            log.info(f"member {k + 1}/{n_members}: training (seed {seed})")
        ckpt = work_dir / f"member_{k:03d}.ckpt" if work_dir is not None else None
        clf = make_classifier(dict(spec), seed=seed, device=device, checkpoint=ckpt, log=log)
        clf.fit(x, y, w)
        scores[k] = clf.predict(x_eval)
        if done is not None:
            keep_finished(done, scores[k], ckpt)
    return scores


def _finished_member(path: Path, n: int, log: logging.Logger | None) -> np.ndarray | None:
    """A finished member's scores on the ``n`` test events, if its file can be read."""

    def load(p: Path) -> np.ndarray:
        scores = np.load(p)  # numpy refuses pickled content by default
        if scores.shape != (n,) or not np.isfinite(scores).all():
            raise DataError(f"expected {n} finite scores, got shape {scores.shape}")
        return scores

    return load_or_set_aside(path, load, log or logging.getLogger("hepflows"))


def _finished_ensemble(path: Path, test: EventTable, log: logging.Logger) -> bool:
    """Whether a finished ensemble's scores can be read, and are of this test set."""

    def load(p: Path) -> bool:
        table = read_table(p, require_labels=True)
        if not np.array_equal(table.labels, test.labels):
            raise DataError("its labels are not those of the test set")
        return True

    return bool(load_or_set_aside(path, load, log))


def ensemble_scores(
    positives: EventTable,
    template: EventTable,
    test: EventTable,
    scaler: InputScaler,
    params: Mapping[str, Any],
    *,
    dataset: str,
    data_seed: int,
    tag: str,
    members: tuple[int, int] | None,
    work_dir: Path,
    log: logging.Logger,
    positives_name: str = "SR data",
) -> EventTable:
    """One ensemble's score on the test set: the mean over its members (column ``score``), or
    with ``members`` = (A, B) the scores of members A..B-1 (one column per member).

    ``tag`` names the ensemble's random streams (each member's seed derives from it).
    """
    discrim = params["discrim"]
    cut = weight_sigma_cut(params)
    keep, weights = clean_template_weights(template.weights, len(template), len(positives), cut)
    log.info(
        f"{tag}: {len(positives)} {positives_name} events vs {int(keep.sum())} template events "
        f"({int((~keep).sum())} dropped by the weight cut)"
    )
    n = discrim["ensemble"]
    seeds = [derive_seed(params["seed"], dataset, data_seed, tag, "member", k) for k in range(n)]
    start, stop = members if members is not None else (0, n)
    # The whole ensemble's batch order: a part's members train exactly as in one job.
    scores = train_member_scores(
        scaler.feat(positives),
        scaler.feat(template.select(keep)),
        weights,
        scaler.feat(test),
        discrim["classifier"],
        n_members=stop - start,
        seeds=seeds[start:stop],
        device=params["device"],
        work_dir=work_dir,
        log=log,
        average_epochs=discrim["average_epochs"],
        batch_seed=seeds[0],
    )
    if members is None:
        return EventTable(scores.mean(axis=0)[:, None], ["score"], labels=test.labels)
    return EventTable(scores.T, member_columns(start, stop), labels=test.labels)


def write_ensemble_scores(
    jobs: Sequence[tuple[str, str, str]],
    positives: EventTable,
    args: Any,
    params: Mapping[str, Any],
    log: logging.Logger,
    *,
    members: tuple[int, int] | None = None,
    positives_name: str = "SR data",
) -> None:
    """Train and write the ensembles of ``jobs`` = (template file, tag, output file) of a step
    whose ``args`` name the labelled ``test`` set, the ``scaler``, ``dataset`` and ``data_seed``.

    One job may train several ensembles (discrim.one_job_per: point). Each finished one is kept
    in its work folder until all are done, so a killed job resumes with the next ensemble
    (Snakemake deletes the outputs of an incomplete job, not the work folders); a work folder is
    keyed by the step's inputs other than the other ensembles' templates.
    """
    templates = {str(template) for template, _, _ in jobs}
    inputs = [str(p) for p in args.step_inputs if str(p) not in templates]
    test = read_table(args.test, require_labels=True)
    scaler = InputScaler.load(args.scaler)
    with contextlib.ExitStack() as stack:
        finished = []
        for template_path, tag, out in jobs:
            key_inputs = [*inputs, template_path]
            work = stack.enter_context(resumable("discriminate", params, key_inputs, out))
            done = work / "scores.h5"
            if _finished_ensemble(done, test, log):
                log.info(f"{tag}: reusing the finished ensemble in {work}")
            else:
                table = ensemble_scores(
                    positives,
                    read_table(template_path),
                    test,
                    scaler,
                    params,
                    dataset=args.dataset,
                    data_seed=args.data_seed,
                    tag=tag,
                    members=members,
                    work_dir=work,
                    log=log,
                    positives_name=positives_name,
                )
                write_table(done, table, seed=args.data_seed, config_hash=config_hash(dict(params)))
            finished.append((done, Path(out)))
        for done, out in finished:
            done.replace(out)


def merge_member_scores(parts: list[tuple[str, EventTable]], n_members: int) -> EventTable:
    """The ensemble's score from its parts: the mean over every member, as if one job had
    trained them all. A part missing or repeating a member is an error naming the file."""
    columns: dict[str, np.ndarray] = {}
    labels = None
    first = parts[0][0]
    for path, part in parts:
        if labels is None:
            labels = part.labels
        elif not np.array_equal(part.labels, labels):
            raise DataError(f"{path}: its test events differ from {first}'s")
        for name in part.columns:
            if name in columns:
                raise DataError(f"{path}: {name} is also in another part")
            columns[name] = part.col(name)
    expected = member_columns(0, n_members)
    if sorted(columns) != expected:
        missing = sorted(set(expected) - set(columns))
        extra = sorted(set(columns) - set(expected))
        raise DataError(
            f"{[p for p, _ in parts]}: expected the {n_members} members of discrim.ensemble; "
            f"missing {missing}, not in the ensemble {extra}"
        )
    score = np.mean([columns[c] for c in expected], axis=0)
    return EventTable(score[:, None], ["score"], labels=labels)
