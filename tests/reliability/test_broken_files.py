"""Bad values in the event files a step reads: every one is refused in one line that names the
file, the column, the first bad row (and how many rows are bad) and what was expected, and the
step that read it leaves no output behind."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from hepflows.ad import synthetic_lhco
from hepflows.ad.file_pools import read_step
from hepflows.ad.readers import lhco_frame, read_lhco, read_lhco_table, read_nonres_text
from hepflows.ad.steps import evaluate
from hepflows.core.cli import run_step
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable
from hepflows.core.io import DataError

from helpers import overlay, snakemake, tiny_args, write_rnd

BAD_ROW = 3
FINITE = "expected a finite number"
NON_NEGATIVE = "expected a finite number >= 0"
BINARY = "expected 0 (background) or 1 (signal)"


def rnd_frame(n: int = 8) -> pd.DataFrame:
    """A small R&D table (GeV) of synthetic events, labels alternating."""
    rng = np.random.default_rng(0)
    return lhco_frame(synthetic_lhco.background(n, rng), np.arange(n) % 2, rng)


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


# (column, bad value, what the message must say was expected)
RND_CASES = [
    ("tau1j1", np.nan, NON_NEGATIVE),
    ("tau2j1", np.nan, NON_NEGATIVE),  # tau21 of jet 1 would be NaN
    ("tau2j2", np.inf, NON_NEGATIVE),
    ("tau3j1", -0.2, NON_NEGATIVE),
    ("tau1j2", -0.5, NON_NEGATIVE),  # silently gave tau21 = 0
    ("mj1", -5.0, NON_NEGATIVE),  # silently became m_jmin = -0.005 TeV
    ("pxj2", -np.inf, FINITE),
    ("label", 2.0, BINARY),
    ("label", np.nan, BINARY),
]


@pytest.mark.parametrize("layout", ["fixed", "table"])
@pytest.mark.parametrize(("column", "value", "expected"), RND_CASES)
def test_a_bad_value_in_an_rnd_file_names_file_column_and_row(
    tmp_path, layout, column, value, expected
):
    frame = rnd_frame()
    frame.loc[BAD_ROW, column] = value
    frame.loc[BAD_ROW + 2, column] = value
    path = tmp_path / "events_anomalydetection.h5"
    frame.to_hdf(path, key="df", format=layout)
    with pytest.raises(DataError) as err:
        read_lhco(path)
    text = one_line(err)
    assert text.startswith(f"{path}: column '{column}' has 2 bad value(s), first at row 3 (")
    assert text.endswith(expected)


def test_bad_values_in_several_rnd_columns_name_the_first_and_count_the_others(tmp_path):
    frame = rnd_frame()
    frame.loc[5, "tau2j1"] = np.nan
    frame.loc[1, "mj2"] = -1.0
    frame.loc[2, "tau3j2"] = np.nan
    path = tmp_path / "rnd.h5"
    frame.to_hdf(path, key="df")
    with pytest.raises(DataError) as err:
        read_lhco(path)
    assert one_line(err) == (
        f"{path}: column 'tau2j1' has 1 bad value(s), first at row 5 (nan); {NON_NEGATIVE} "
        "(bad values in 2 more column(s): 'mj2', 'tau3j2')"
    )


def test_a_valid_rnd_file_reads_exactly_as_before(tmp_path):
    """Zero masses and tau1 = 0 (single-constituent jets) are valid and read as they were."""
    frame = rnd_frame()
    frame.loc[2, ["mj1", "tau1j1", "tau2j1", "tau3j1"]] = 0.0
    path = tmp_path / "rnd.h5"
    frame.to_hdf(path, key="df")
    table = read_lhco(path)
    assert table.data[2, 1] == 0.0 and 0.0 in table.data[2, 3:]


NONRES_HEADER = "j1_pt m_jj tau21_j1 tau21_j2 tau32_j1 tau32_j2 met phi_met ht"


def write_nonres(path: Path, n: int = 6, bad: dict | None = None) -> Path:
    """A nonres text file; ``bad`` = {(data row from 1, column): text} replaces values."""
    rng = np.random.default_rng(1)
    names = NONRES_HEADER.split()
    rows = [[f"{v:.6g}" for v in rng.uniform(0.2, 900.0, len(names))] for _ in range(n)]
    for (row, column), text in (bad or {}).items():
        rows[row - 1][names.index(column)] = text
    path.write_text("\n".join([NONRES_HEADER, *(" ".join(r) for r in rows)]) + "\n")
    return path


@pytest.mark.parametrize(
    ("column", "text", "shown", "expected"),
    [
        ("met", "abc", "'abc'", NON_NEGATIVE),  # a string in a numeric column
        ("m_jj", "-40.5", "-40.5", NON_NEGATIVE),
        ("tau21_j2", "nan", "nan", NON_NEGATIVE),
        ("ht", "inf", "inf", NON_NEGATIVE),
        ("tau32_j1", "1,5", "'1,5'", NON_NEGATIVE),  # a decimal comma
    ],
)
def test_a_bad_value_in_a_nonres_text_file_names_file_column_and_data_row(
    tmp_path, column, text, shown, expected
):
    path = write_nonres(tmp_path / "qcd.txt", bad={(2, column): text, (5, column): text})
    with pytest.raises(DataError) as err:
        read_nonres_text(path)
    assert one_line(err) == (
        f"{path}: column '{column}' has 2 bad value(s), first at data row 2 ({shown}); {expected}"
    )


def test_a_string_in_a_column_the_analysis_ignores_is_not_an_error(tmp_path):
    path = write_nonres(tmp_path / "qcd.txt", bad={(2, "phi_met"): "n/a"})
    assert read_nonres_text(path).data.shape == (6, 7)


def write_scores(path: Path, labels: np.ndarray, score: np.ndarray | None = None) -> Path:
    """A score file as ad_discriminate writes it, labels written raw (as a broken file would)."""
    score = np.linspace(0, 1, len(labels)) if score is None else score
    write_table(path, EventTable(score[:, None], ["score"]), seed=1, config_hash="x")
    with h5py.File(path, "a") as f:
        f.create_dataset("labels", data=labels)
    return path


@pytest.mark.parametrize("label", [2, -1])
def test_an_intermediate_with_a_label_other_than_0_or_1_is_refused(tmp_path, label):
    labels = np.array([0, 1, 0, label, 1, label, 0], dtype=np.int8)
    path = write_scores(tmp_path / "scores.h5", labels)
    with pytest.raises(DataError) as err:
        read_table(path, require_labels=True)
    assert one_line(err) == (
        f"{path}: dataset 'labels' has 2 bad value(s), first at row 3 ({label}); {BINARY}"
    )


def test_a_non_finite_intermediate_value_names_the_row(tmp_path):
    path = tmp_path / "template.h5"
    data = np.ones((6, 2))
    data[[4, 5], 1] = [np.nan, np.inf]
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=data).attrs["columns"] = ["m_jj", "mj1"]
        f.create_dataset("weights", data=[1.0, 1.0, -np.inf, 1.0, 1.0, 1.0])
    with pytest.raises(DataError) as err:
        read_table(path)
    assert (
        one_line(err) == f"{path}: column 'mj1' has 2 bad value(s), first at row 4 (nan); {FINITE}"
    )
    with pytest.raises(DataError) as err:
        read_table(path, columns=["m_jj"])
    assert one_line(err) == (
        f"{path}: dataset 'weights' has 1 bad value(s), first at row 2 (-inf); {FINITE}"
    )


def step_log(tmp_path: Path) -> Path:
    return tmp_path / "step.log"


def assert_one_line_and_nothing_left(log: Path, outputs: list[Path], *parts: str) -> str:
    text = log.read_text()
    assert text.count("\n") == 1 and "Traceback" not in text, text
    for part in parts:
        assert part in text
    assert not [p for p in outputs if p.exists()]
    return text


def test_the_evaluate_step_refuses_a_score_file_with_label_2_and_writes_nothing(tmp_path):
    """Before, scikit-learn failed deep inside the ROC with no file named."""
    good = write_scores(tmp_path / "seed1.h5", np.array([0, 1] * 20))
    bad = write_scores(tmp_path / "seed2.h5", np.array([0, 1] * 19 + [2, 0]))
    data = tmp_path / "data.h5"
    write_table(data, EventTable(np.ones((3, 1)), ["x"]), seed=1, config_hash="x",
                extra_attrs={"n_bkg_sr": 100})  # fmt: skip
    out = tmp_path / "out/evaluation.json"
    argv = ["--method", "ideal", "--injection", "0.05", "--seeds", "1", "2",
            "--scores", str(good), str(bad), "--data", str(data), str(data), "--out", str(out),
            "--log", str(step_log(tmp_path)),
            "--params", json.dumps({"max_rel_unc": 0.4, "rejections": [1e3]})]  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        run_step(evaluate.parser(), evaluate.main, argv)
    assert exit_.value.code == 1
    assert_one_line_and_nothing_left(
        step_log(tmp_path), [out], f"{bad}: dataset 'labels' has 1 bad value(s), first at row 38"
    )


def test_the_read_step_refuses_a_nan_tau21_and_writes_no_pool(tmp_path):
    frame = rnd_frame(40)
    frame.loc[7, "tau2j2"] = np.nan
    path = tmp_path / "rnd.h5"
    frame.to_hdf(path, key="df")
    parser, main = read_step("background", None)
    pools = [tmp_path / f"pools/{p}.h5" for p in ("data", "ideal", "reference", "test_background")]
    cfg = {"files": {"background": str(path), "mc": str(path)}, "sr": {}, "n_data": 10,
           "n_ideal": 5, "n_test_background": 5}  # fmt: skip
    params = json.dumps({"dataset": cfg, "seed": 1})
    argv = ["--dataset", "lhco", "--file", str(path), "--out", *map(str, pools),
            "--log", str(step_log(tmp_path)), "--params", params]  # fmt: skip
    with pytest.raises(SystemExit):
        run_step(parser(), main, argv)
    assert_one_line_and_nothing_left(
        step_log(tmp_path), pools, f"{path}: column 'tau2j2' has 1 bad value(s), first at row 7"
    )


# --------------------------------------------------------------------------- the workflow


@pytest.mark.workflow
@pytest.mark.slow
def test_the_workflow_stops_at_an_rnd_file_with_a_nan_tau21(tmp_path):
    """The read job fails with the one line in its log, and no pool is left for a later job."""
    rnd = tmp_path / "rnd.h5"
    write_rnd(rnd, 3000, 300)
    frame = read_lhco_table(rnd)
    frame.loc[1234, "tau2j1"] = np.nan
    frame.to_hdf(rnd, key="df")
    settings = {"enabled": True, "source": "files", "files": {"background": str(rnd),
                "mc": str(rnd)}}  # fmt: skip
    files = overlay(tmp_path, "files.yaml", {"ad": {"datasets": {"lhco": settings}}})
    results = tmp_path / "results"
    target = results / "ad/lhco/static/files/data.h5"
    proc = snakemake("--cores", "1", str(target), *tiny_args(results, files), check=False)
    assert proc.returncode != 0
    log = results / "logs/ad/lhco/read_background.log"
    assert_one_line_and_nothing_left(
        log,
        list((results / "ad/lhco/static/files").glob("*.h5")),
        f"{rnd}: column 'tau2j1' has 1 bad value(s), first at row 1234 (nan); {NON_NEGATIVE}",
    )


@pytest.mark.workflow
@pytest.mark.slow
def test_the_workflow_stops_at_a_nonres_text_file_with_a_string(tmp_path):
    background = write_nonres(tmp_path / "qcd.txt", n=50, bad={(17, "met"): "abc"})
    mc = write_nonres(tmp_path / "mc.txt", n=50)
    files = {"background": str(background), "mc": str(mc), "signals": {"zp3000": str(mc)}}
    extra = overlay(
        tmp_path,
        "files.yaml",
        {"ad": {"datasets": {"nonres": {"source": "files", "files": files}}}},
    )
    results = tmp_path / "results"
    target = results / "ad/nonres/static/files/data.h5"
    proc = snakemake("--cores", "1", str(target), *tiny_args(results, extra), check=False)
    assert proc.returncode != 0, proc.stderr[-2000:]
    assert_one_line_and_nothing_left(
        results / "logs/ad/nonres/read_background.log",
        list((results / "ad/nonres/static/files").glob("*.h5")),
        f"{background}: column 'met' has 1 bad value(s), first at data row 17 ('abc'); "
        f"{NON_NEGATIVE}",
    )
