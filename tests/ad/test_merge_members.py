"""hepflows.ad.steps.merge_members: one ensemble's score from the parts that trained its members."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from hepflows.ad.steps import merge_members
from hepflows.core.cli import run_step
from hepflows.core.event_files import read_table, write_table
from hepflows.core.events import EventTable

PARAMS = json.dumps({"discrim": {"ensemble": 3}})


def write_part(path, columns, scores, labels):
    write_table(path, EventTable(scores, columns, labels=labels), seed=1, config_hash="x")
    return str(path)


def merge(tmp_path, parts):
    out = tmp_path / "scores.h5"
    argv = ["--parts", *parts, "--tag", "zp3000/s0/ideal", "--data-seed", "1"]
    run_step(
        merge_members.parser(), merge_members.main, [*argv, "--params", PARAMS, "--out", str(out)]
    )
    return out


def test_the_mean_over_every_member_of_every_part(tmp_path):
    rng = np.random.default_rng(1)
    scores, labels = rng.uniform(size=(50, 3)), rng.integers(0, 2, 50)
    parts = [
        write_part(tmp_path / "a.h5", ["member_000", "member_001"], scores[:, :2], labels),
        write_part(tmp_path / "b.h5", ["member_002"], scores[:, 2:], labels),
    ]
    merged = read_table(merge(tmp_path, parts), require_labels=True)
    assert merged.columns == ["score"]
    np.testing.assert_allclose(merged.col("score"), scores.mean(axis=1), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(merged.labels, labels)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ([["member_000"], ["member_002"]], r"expected the 3 members .* missing \['member_001'\]"),
        (
            [["member_000", "member_001", "member_002"], ["member_003"]],
            r"not in the ensemble \['member_003'\]",
        ),
        ([["member_000", "member_001"], ["member_001", "member_002"]], "member_001 is also in"),
    ],
)
def test_a_missing_or_repeated_member_is_named_and_nothing_written(
    tmp_path, capsys, columns, expected
):
    labels = np.zeros(10, dtype=int)
    parts = [
        write_part(tmp_path / f"p{i}.h5", cols, np.full((10, len(cols)), 0.5), labels)
        for i, cols in enumerate(columns)
    ]
    with pytest.raises(SystemExit):
        merge(tmp_path, parts)
    assert not (tmp_path / "scores.h5").exists()
    assert re.search(expected, capsys.readouterr().err)
