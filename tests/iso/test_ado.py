"""Average decision ordering and the bookkeeping of the guided EFP search."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from hepflows.core.io import DataError
from hepflows.iso.ado import (
    Pairs,
    SearchStep,
    StopRule,
    ado,
    choose_feature,
    decision_ordering,
    disordered_pairs,
    rank_by_ado,
    sample_pairs,
)


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(5)
    labels = (rng.random(3000) < 0.4).astype(np.int64)
    score = rng.normal(size=3000) + labels
    pairs = sample_pairs(labels, 5000, np.random.default_rng(6))
    return labels, score, pairs


def test_sample_pairs_are_distinct_label_1_label_0_pairs(events):
    labels, _, pairs = events
    assert len(pairs.pos) == len(pairs.neg) == 5000
    assert (labels[pairs.pos] == 1).all() and (labels[pairs.neg] == 0).all()
    assert len(np.unique(pairs.pos * len(labels) + pairs.neg)) == 5000
    again = sample_pairs(labels, 5000, np.random.default_rng(6))
    np.testing.assert_array_equal(again.pos, pairs.pos)
    np.testing.assert_array_equal(again.neg, pairs.neg)


def test_sample_pairs_can_take_every_pair_and_no_more():
    labels = np.array([1, 0, 0, 1, 0, 1, 1])
    among = np.array([True, True, True, True, False, False, False])
    pairs = sample_pairs(labels, 4, np.random.default_rng(0), among=among)
    got = sorted(zip(pairs.pos.tolist(), pairs.neg.tolist(), strict=True))
    assert got == [(0, 1), (0, 2), (3, 1), (3, 2)]
    with pytest.raises(DataError, match="5 distinct pairs"):
        sample_pairs(labels, 5, np.random.default_rng(0), among=among)


def test_ado_of_a_score_with_itself_its_negative_and_transforms(events):
    labels, f, pairs = events
    assert ado(f, f, pairs) == 1.0
    assert ado(f, -f, pairs) == 0.0
    assert ado(f, np.exp(3 * f) + 2, pairs) == 1.0  # strictly monotone: same ordering
    assert ado(f, -np.arctan(f), pairs) == 0.0
    g = np.random.default_rng(9).normal(size=len(f))  # independent of f
    assert abs(ado(f, g, pairs) - 0.5) < 0.03  # 0.5 +- 0.007 for 5000 pairs
    assert ado(f, f + 0.8 * g, pairs) > 0.75  # correlated: in between
    assert ado(f, f + 0.8 * g, pairs) < 0.95


def test_ties_count_one_half(events):
    _, f, pairs = events
    assert ado(f, np.zeros_like(f), pairs) == 0.5  # a constant score has no ordering
    g = np.round(f)  # many ties
    assert ado(f, -g, pairs) == pytest.approx(1 - ado(f, g, pairs))
    # by hand: pairs (pos, neg) = (0, 1), (2, 3), (4, 5), (6, 7)
    pairs = Pairs(np.array([0, 2, 4, 6]), np.array([1, 3, 5, 7]))
    f = np.array([2.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    g = np.array([5.0, 0.0, 0.0, 5.0, 3.0, 0.0, 2.0, 2.0])
    # same order, opposite, f ties, both tie
    np.testing.assert_array_equal(decision_ordering(f, g, pairs), [1.0, 0.0, 0.5, 0.5])
    assert ado(f, g, pairs) == 0.5


def test_disordered_pairs_by_hand():
    pairs = Pairs(np.array([0, 2, 4, 6, 8]), np.array([1, 3, 5, 7, 9]))
    ref = np.array([0.9, 0.1, 0.3, 0.6, 0.7, 0.2, 0.5, 0.4, 0.8, 0.8])
    model = np.array([3.0, 1.0, 5.0, 4.0, 1.0, 2.0, 2.0, 2.0, 1.0, 0.0])
    # pair 0 agrees; 1: ref says neg, model pos (opposite); 2: ref pos, model neg (opposite);
    # 3: model ties (not counted); 4: ref ties (not counted)
    got = disordered_pairs(ref, model, pairs)
    np.testing.assert_array_equal(got.pos, [2, 4])
    np.testing.assert_array_equal(got.neg, [3, 5])
    assert len(disordered_pairs(ref, ref, pairs).pos) == 0
    assert len(disordered_pairs(ref, -ref, pairs).pos) == 4  # all but the tie of ref


def test_rank_by_ado_finds_the_feature_that_is_the_reference(events):
    labels, f, pairs = events
    rng = np.random.default_rng(2)
    noise = rng.normal(size=(len(f), 6))
    candidates = np.column_stack(
        [noise[:, 0], f + noise[:, 1], noise[:, 2], f, f + 0.3 * noise[:, 3], np.round(f)]
    )
    ranking = rank_by_ado(candidates, f, pairs)
    assert ranking.ado.shape == ranking.sign.shape == (6,)
    assert ranking.ado[3] == 1.0 and ranking.sign[3] == 1
    assert choose_feature(ranking) == 3
    assert choose_feature(ranking, exclude=[3]) == 4  # the next closest to f
    # the negative of the reference orders perfectly too, with sign -1
    neg = rank_by_ado(-candidates, f, pairs)
    np.testing.assert_array_equal(neg.ado, ranking.ado)
    assert neg.sign[3] == -1
    # each entry is the scalar ADO of that column, max(ADO, 1 - ADO); ties included (column 5)
    for j in range(candidates.shape[1]):
        a = ado(candidates[:, j], f, pairs)
        assert ranking.ado[j] == pytest.approx(max(a, 1 - a))
        assert ranking.sign[j] == (1 if a >= 0.5 else -1)


def test_rank_by_ado_blocks_and_h5py_give_the_same_answer(events, tmp_path):
    _, f, pairs = events
    candidates = np.random.default_rng(4).normal(size=(len(f), 23)) + 0.2 * f[:, None]
    whole = rank_by_ado(candidates, f, pairs)
    one_column_at_a_time = rank_by_ado(candidates, f, pairs, block_bytes=1)
    np.testing.assert_array_equal(whole.ado, one_column_at_a_time.ado)
    np.testing.assert_array_equal(whole.sign, one_column_at_a_time.sign)
    with h5py.File(tmp_path / "efps.h5", "w") as h5:
        h5["efps"] = candidates.astype(np.float32)
        from_file = rank_by_ado(h5["efps"], f, pairs, block_bytes=100_000)
    # float32 rounding may create a tie or two, nothing more
    np.testing.assert_allclose(from_file.ado, whole.ado, atol=2 / len(pairs.pos))


def test_bad_inputs_are_refused(events):
    _, f, pairs = events
    bad = f.copy()
    bad[pairs.pos[0]] = np.nan
    with pytest.raises(DataError, match="NaN"):
        ado(f, bad, pairs)
    candidates = np.column_stack([f, bad])
    with pytest.raises(DataError, match="feature 1"):
        rank_by_ado(candidates, f, pairs)
    with pytest.raises(DataError, match="events"):
        ado(f[:10], f[:10], pairs)
    with pytest.raises(DataError, match="at least one pair"):
        ado(f, f, Pairs(np.array([], dtype=int), np.array([], dtype=int)))
    with pytest.raises(ValueError, match="excluded"):
        choose_feature(rank_by_ado(f[:, None], f, pairs), exclude=[0])


def test_search_bookkeeping_and_stopping_rule():
    step = SearchStep(
        iteration=0, feature=np.int64(123), feature_ado=np.float64(0.71),
        feature_sign=np.int8(-1), n_disordered=4211,
        auc=0.871, model_ado=0.93, feature_name="k1_b1_g17",
    )  # fmt: skip
    record = json.loads(json.dumps(step.to_dict()))  # numpy numbers from the search serialize
    assert record["feature"] == 123 and record["feature_sign"] == -1
    rule = StopRule(target_auc=0.87, max_iterations=20)
    assert not rule.should_stop(auc=0.85, iterations=0)
    assert rule.should_stop(auc=0.87, iterations=1)  # target reached
    assert "target" in rule.reason(0.9, 0)  # the baseline may already reach it
    assert rule.should_stop(auc=0.85, iterations=20)
    assert not rule.should_stop(auc=0.85, iterations=19)
    assert "20 iterations" in rule.reason(0.85, 20)
    no_target = StopRule()
    assert no_target.max_iterations == 20
    assert not no_target.should_stop(auc=0.99, iterations=19)
    assert no_target.should_stop(auc=0.5, iterations=20)
    with pytest.raises(ValueError):
        StopRule(max_iterations=0)
    with pytest.raises(ValueError):
        StopRule(target_auc=1.5)
