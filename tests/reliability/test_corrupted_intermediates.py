"""What a job finds from an earlier one: an unreadable checkpoint is logged, moved aside and the
work starts afresh (with the result of a run from scratch); an intermediate file that lacks a key
its reader needs fails in one line naming the file and the key, and leaves no output."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from hepflows.ad.sr_classifier import train_member_scores, write_ensemble_scores
from hepflows.ad.steps import aggregate, evaluate, plot_closure, plot_max_sic, plot_sic_curves
from hepflows.core.checkpoints import WORK_DIR
from hepflows.core.classifiers import build_mlp
from hepflows.core.cli import run_step
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import DataError, read_json, resume_key, write_json
from hepflows.core.models import load_model, save_model
from hepflows.core.preprocessing import InputScaler
from hepflows.core.training import TrainConfig, fit

LOG = "hepflows.test_corrupted"


def damage(path: Path, how: str) -> None:
    """Break a file the ways a full disk, a copy or a crashed machine do."""
    if how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(b"\x00not a checkpoint\xff" * 64)
    else:
        raise ValueError(how)


def assert_set_aside(path: Path, text: str) -> None:
    """The log names the file, why it was unreadable and where it went."""
    aside = path.with_name(path.name + ".corrupt")
    line = next(line for line in text.splitlines() if f"{path}: cannot be read (" in line)
    assert f"moved to {aside}, starting afresh" in line


# --------------------------------------------------------------------------- training checkpoints


def problem() -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(384, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(384, 1, generator=g)
    return (x[:256], y[:256]), (x[256:], y[256:])


def mse(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def model(width: int = 16) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, width), nn.Tanh(), nn.Dropout(0.2), nn.Linear(width, 1))


CFG = TrainConfig(epochs=5, batch_size=64, lr=1e-2, device="cpu", patience=None, scheduler="step",
                  step_size=2)  # fmt: skip


class Killed(Exception):
    """Raised from on_epoch_end: the job dies right after a checkpoint was written."""


def interrupted(net: nn.Module, ckpt: Path, after: int = 2) -> None:
    def kill(epoch: int) -> None:
        if epoch == after:
            raise Killed

    train, val = problem()
    with pytest.raises(Killed):
        fit(net, mse, train, val, CFG, checkpoint=ckpt, on_epoch_end=kill)


@pytest.fixture(scope="module")
def from_scratch() -> tuple[nn.Module, list]:
    net = model()
    train, val = problem()
    result = fit(net, mse, train, val, CFG)
    return net, [(h["train_loss"], h["val_loss"], h["lr"]) for h in result.history]


@pytest.mark.parametrize(
    "how", ["truncated", "empty", "garbage", "not a checkpoint", "other model"]
)
def test_an_unreadable_checkpoint_is_set_aside_and_training_starts_afresh(
    tmp_path, caplog, from_scratch, how
):
    ckpt = tmp_path / "work" / "train.ckpt"
    if how == "not a checkpoint":
        ckpt.parent.mkdir()
        torch.save({"epoch": 2, "model": {}}, ckpt)
    elif how == "other model":  # loads, but half of it fits: nothing of it may stay
        interrupted(model(width=8), ckpt)
    else:
        interrupted(model(), ckpt)
        damage(ckpt, how)
    net = model()
    train, val = problem()
    with caplog.at_level(logging.INFO, logger=LOG):
        result = fit(net, mse, train, val, CFG, checkpoint=ckpt, log=logging.getLogger(LOG))
    assert_set_aside(ckpt, caplog.text)
    assert result.resumed_from is None and "resuming" not in caplog.text
    straight, history = from_scratch
    assert [(h["train_loss"], h["val_loss"], h["lr"]) for h in result.history] == history
    for key, value in straight.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key
    assert torch.load(ckpt, weights_only=True)["epoch"] == CFG.epochs  # a new, good checkpoint
    assert ckpt.with_name("train.ckpt.corrupt").is_file()


def test_a_readable_checkpoint_still_resumes(tmp_path, caplog, from_scratch):
    ckpt = tmp_path / "train.ckpt"
    interrupted(model(), ckpt)
    net = model()
    with caplog.at_level(logging.INFO, logger=LOG):
        result = fit(net, mse, *problem(), CFG, checkpoint=ckpt, log=logging.getLogger(LOG))
    assert result.resumed_from == 2 and "cannot be read" not in caplog.text
    for key, value in from_scratch[0].state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key


# --------------------------------------------------------------------------- the SR classifier


HGB = {"kind": "hgb", "max_iter": 5}


def member_inputs(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "x_signal_like": rng.normal(0.3, 1, (150, 2)),
        "x_template": rng.normal(0, 1, (200, 2)),
        "w_template": rng.uniform(0.5, 1.5, 200),
        "x_eval": rng.normal(0, 1, (60, 2)),
    }


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
def test_unreadable_finished_member_scores_are_set_aside_and_retrained(tmp_path, caplog, how):
    """Before, np.load failed on every rerun until someone deleted the file by hand."""
    kwargs = {"spec": HGB, "n_members": 2, "seeds": [3, 4], "device": "cpu", "work_dir": tmp_path}
    first = train_member_scores(**member_inputs(), **kwargs)
    done = tmp_path / "member_000.npy"
    damage(done, how)
    with caplog.at_level(logging.INFO, logger=LOG):
        again = train_member_scores(**member_inputs(), **kwargs, log=logging.getLogger(LOG))
    np.testing.assert_array_equal(again, first)
    assert_set_aside(done, caplog.text)
    assert "member 2/2: reusing finished scores" in caplog.text  # the readable one is kept


def test_member_scores_of_another_test_set_are_set_aside(tmp_path, caplog):
    kwargs = {"spec": HGB, "n_members": 1, "seeds": [3], "device": "cpu", "work_dir": tmp_path}
    first = train_member_scores(**member_inputs(), **kwargs)
    np.save(tmp_path / "member_000.npy", np.zeros(7))
    with caplog.at_level(logging.INFO, logger=LOG):
        again = train_member_scores(**member_inputs(), **kwargs, log=logging.getLogger(LOG))
    np.testing.assert_array_equal(again, first)
    assert_set_aside(tmp_path / "member_000.npy", caplog.text)


def discriminate_setup(tmp_path: Path) -> tuple[argparse.Namespace, dict, EventTable, list]:
    """The inputs of ad_discriminate on a tiny two-feature dataset, hgb members."""
    rng = np.random.default_rng(2)
    columns = ["c", "f1", "f2"]

    def table(n: int, shift: float, labels: bool = False) -> EventTable:
        data = rng.normal(shift, 1, (n, 3))
        return EventTable(data, columns, labels=rng.integers(0, 2, n) if labels else None)

    paths = {name: tmp_path / f"{name}.h5" for name in ("data", "template", "test")}
    data, template, test = table(150, 0.3), table(200, 0.0), table(60, 0.1, labels=True)
    for name, t in zip(paths, (data, template, test), strict=True):
        write_table(paths[name], t, seed=1, config_hash="x")
    scaler = InputScaler.fit(
        data, ["c"], ["f1", "f2"], context_steps=["standardize"], feature_steps=["standardize"]
    )
    scaler.save(tmp_path / "scaler.json")
    args = argparse.Namespace(
        test=str(paths["test"]), scaler=str(tmp_path / "scaler.json"), dataset="toy", data_seed=1,
        step_inputs=[paths["data"], paths["template"], paths["test"], tmp_path / "scaler.json"],
    )  # fmt: skip
    params = {"seed": 7, "device": "cpu", "dataset": {},
              "discrim": {"ensemble": 2, "weight_sigma_cut": None, "classifier": HGB,
                          "average_epochs": 1}}  # fmt: skip
    jobs = [(str(paths["template"]), "toy/s0/ideal", str(tmp_path / "out/scores.h5"))]
    return args, params, data, jobs


def test_an_unreadable_finished_ensemble_is_set_aside_and_retrained(tmp_path, caplog):
    """Before, a broken scores.h5 in the work folder was moved into place as the job's output."""
    args, params, data, jobs = discriminate_setup(tmp_path)
    log = logging.getLogger(LOG)
    out = Path(jobs[0][2])
    write_ensemble_scores(jobs, data, args, params, log)
    clean = read_table(out, require_labels=True)
    out.unlink()
    key_inputs = [str(p) for p in args.step_inputs if str(p) != jobs[0][0]] + [jobs[0][0]]
    work = out.parent / WORK_DIR / f"discriminate-{out.name}-{resume_key(params, key_inputs)}"
    work.mkdir(parents=True)
    (work / "scores.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with caplog.at_level(logging.INFO, logger=LOG):
        write_ensemble_scores(jobs, data, args, params, log)
    again = read_table(out, require_labels=True)
    np.testing.assert_array_equal(again.data, clean.data)
    np.testing.assert_array_equal(again.labels, clean.labels)
    assert_set_aside(work / "scores.h5", caplog.text)
    assert not (out.parent / WORK_DIR).exists()  # the set-aside file went with the work folder


# --------------------------------------------------------------------------- missing keys


def test_a_scaler_without_a_key_names_the_file_and_the_key(tmp_path):
    _, _, data, _ = discriminate_setup(tmp_path)
    path = tmp_path / "scaler.json"
    scaler = read_json(path)
    del scaler["context_columns"]
    write_json(path, scaler)
    with pytest.raises(DataError) as err:
        InputScaler.load(path)
    assert str(err.value) == (
        f"{path}: key 'context_columns' missing; expected an input scaler (as InputScaler.save "
        "writes it)"
    )
    scaler["context_columns"] = ["c"]
    del scaler["features"]["eps"]
    write_json(path, scaler)
    with pytest.raises(DataError, match=r"scaler.json: key 'features.eps' missing; expected"):
        InputScaler.load(path)


def test_a_model_spec_without_a_key_names_the_file_and_the_key(tmp_path):
    spec = {"kind": "mlp", "inputs": 3, "hidden": [4]}
    save_model(tmp_path / "clf", build_mlp(spec), spec)
    path = tmp_path / "clf.json"
    broken = read_json(path)
    del broken["inputs"]
    write_json(path, broken)
    with pytest.raises(DataError) as err:
        load_model(tmp_path / "clf")
    assert str(err.value) == f"{path}: key 'inputs' missing; expected a model spec of kind 'mlp'"


EVALUATION = {"method": "ideal", "injection": 0.05, "n_bkg_sr": 100.0, "s_over_sqrt_b": 0.5,
              "per_seed": [{"seed": 1, "max_sic": 2.0}],
              "summary": {"max_sic": {"median": 2.0, "p16": 1.5, "p84": 2.5}},
              "sic_curve": {"tpr": [0.1, 0.5], "median": [1.0, 2.0], "p16": [1.0, 1.5],
                            "p84": [1.0, 2.5]}}  # fmt: skip
CLOSURE = {"method": "ideal", "data_seed": 1,
           "CR": {"aucs": [0.5, 0.52], "joint": {"aucs": [0.5, 0.53]}},
           "SR": {"aucs": [0.51], "joint": {"aucs": [0.52]}}}  # fmt: skip
MAX_SIC_CSV = (
    "method,injection,n_bkg_sr,n_seeds,max_sic_median,max_sic_p16,max_sic_p84\n"
    "ideal,0.05,100,3,2,1.5,2.5\n"
)
CLOSURE_CSV = "method,region,median,p16,p84,n\nideal,CR,0.5,0.49,0.52,2\n"


def without(obj: dict, dotted: str) -> dict:
    """A deep copy of ``obj`` without the dotted key."""
    obj = json.loads(json.dumps(obj))
    *parents, last = dotted.split(".")
    node = obj
    for part in parents:
        node = node[part]
    del node[last]
    return obj


def run_failing(tmp_path: Path, module, argv: list[str], outputs: list[Path]) -> str:
    """Run a step that must fail on a bad input: exit 1, one line in the log, no output."""
    log = tmp_path / "step.log"
    with pytest.raises(SystemExit) as exit_:
        run_step(module.parser(), module.main, [*argv, "--log", str(log)])
    assert exit_.value.code == 1
    text = log.read_text()
    assert text.count("\n") == 1 and "Traceback" not in text, text
    assert not [p for p in outputs if p.exists()]
    return text


EXPECTED = {"evaluation": "an evaluation (written by ad_evaluate)",
            "closure": "a closure result (written by ad_closure)"}  # fmt: skip


@pytest.mark.parametrize(
    ("missing", "which"),
    [("summary", "evaluation"), ("summary.max_sic.p84", "evaluation"), ("method", "evaluation"),
     ("SR.aucs", "closure"), ("CR", "closure"), ("SR.joint.aucs", "closure")],
)  # fmt: skip
def test_aggregate_names_the_json_and_the_missing_key(tmp_path, missing, which):
    good_ev, good_cl = tmp_path / "ev.json", tmp_path / "cl.json"
    write_json(good_ev, EVALUATION)
    write_json(good_cl, CLOSURE)
    bad = tmp_path / f"bad_{which}.json"
    write_json(bad, without(EVALUATION if which == "evaluation" else CLOSURE, missing))
    evaluations = [good_ev, bad] if which == "evaluation" else [good_ev]
    closures = [good_cl, bad] if which == "closure" else [good_cl]
    outs = [tmp_path / "out/max_sic.csv", tmp_path / "out/closure.csv"]
    argv = ["--evaluations", *map(str, evaluations), "--closures", *map(str, closures),
            "--out-sic", str(outs[0]), "--out-closure", str(outs[1])]  # fmt: skip
    text = run_failing(tmp_path, aggregate, argv, outs)
    assert f"{bad}: key '{missing}' missing; expected {EXPECTED[which]}" in text


def test_plot_sic_curves_names_the_json_and_the_missing_key(tmp_path):
    bad = tmp_path / "ev.json"
    write_json(bad, without(EVALUATION, "sic_curve"))
    outs = [tmp_path / "out/sic.pdf", tmp_path / "out/sic.png"]
    text = run_failing(
        tmp_path, plot_sic_curves, ["--evaluations", str(bad), "--out", *map(str, outs)], outs
    )
    assert f"{bad}: key 'sic_curve' missing; expected {EXPECTED['evaluation']}" in text


@pytest.mark.parametrize(
    ("module", "csv", "column"),
    [(plot_max_sic, MAX_SIC_CSV, "n_bkg_sr"), (plot_max_sic, MAX_SIC_CSV, "max_sic_p16"),
     (plot_closure, CLOSURE_CSV, "region"), (plot_closure, CLOSURE_CSV, "p84")],
)  # fmt: skip
def test_a_summary_table_without_a_column_names_the_file_and_the_column(
    tmp_path, module, csv, column
):
    header, row = csv.splitlines()
    keep = [i for i, name in enumerate(header.split(",")) if name != column]
    bad = tmp_path / "table.csv"
    bad.write_text("\n".join(",".join(line.split(",")[i] for i in keep) for line in (header, row)))
    outs = [tmp_path / "out/fig.pdf", tmp_path / "out/fig.png"]
    text = run_failing(tmp_path, module, ["--table", str(bad), "--out", *map(str, outs)], outs)
    assert f"{bad}: column '{column}' missing; expected a summary table (written by ad_" in text


def test_evaluate_names_a_data_file_without_its_signal_region_count(tmp_path):
    scores = tmp_path / "scores.h5"
    table = EventTable(np.linspace(0, 1, 20)[:, None], ["score"], labels=np.arange(20) % 2)
    write_table(scores, table, seed=1, config_hash="x")
    data = tmp_path / "data.h5"
    write_table(data, EventTable(np.ones((3, 1)), ["x"]), seed=1, config_hash="x")
    out = tmp_path / "out/evaluation.json"
    argv = ["--method", "ideal", "--injection", "0.05", "--seeds", "1", "--scores", str(scores),
            "--data", str(data), "--out", str(out),
            "--params", json.dumps({"max_rel_unc": 0.4, "rejections": [1e3]})]  # fmt: skip
    text = run_failing(tmp_path, evaluate, argv, [out])
    assert (
        f"{data}: attribute 'n_bkg_sr' missing; expected an injected data set (written by" in text
    )
