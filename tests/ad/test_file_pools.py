"""source: files: real-format files cut into disjoint pools, and the workflow run on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepflows.ad import synthetic_lhco
from hepflows.ad.file_pools import (
    background_pools,
    injected_signal,
    mc_pool,
    read_events,
    shuffled,
    signal_pools,
)
from hepflows.ad.readers import lhco_frame, read_lhco
from hepflows.ad.regions import sr_mask
from hepflows.ad.samples import injected_data
from hepflows.core.events import EventTable
from hepflows.core.io import DataError

from helpers import write_rnd

SR = {"m_jj": [3.3, 3.7]}
SIZES = {"n_data": 4000, "n_ideal": 2000, "n_mc": 3000, "n_test_background": 300,
         "n_signal": 200, "n_test_signal": 150, "sr": SR}  # fmt: skip


def rows(a: np.ndarray) -> set[tuple[float, ...]]:
    return set(map(tuple, a))


def test_synthetic_events_written_in_the_rnd_layout_read_back(tmp_path):
    path = tmp_path / "rnd.h5"
    events = write_rnd(path, 3000, 500)
    table = read_lhco(path)
    np.testing.assert_allclose(table.data, events, rtol=1e-12, atol=1e-12)
    assert table.labels.sum() == 500
    # Every synthetic dijet is kinematically possible: both jets fit in m_jj.
    assert (2 * events[:, 1] + events[:, 2] < events[:, 0]).all()


@pytest.fixture(scope="module")
def rnd(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """The file and its events as the reader gives them (bit for bit what the pools hold)."""
    path = tmp_path_factory.mktemp("rnd") / "events_anomalydetection.h5"
    write_rnd(path, 20000, 3000)
    return path, read_lhco(path).data


def test_background_pools_are_disjoint_sized_and_the_test_set_is_in_the_sr(rnd):
    path, events = rnd
    table = shuffled(read_events("lhco", path, "background", {}), 7, "lhco", "background")
    assert len(table) == 20000
    pools = background_pools(table, SIZES, path)
    assert [len(pools[p]) for p in ("data", "ideal", "reference", "test_background")] == [
        4000, 2000, 2000, 300
    ]  # fmt: skip
    assert sr_mask(pools["test_background"], SR).all()
    seen: set = set()
    for pool in pools.values():
        r = rows(pool.data)
        assert not r & seen
        seen |= r
    assert seen <= rows(events[:20000])  # background only: no label-1 event leaks in


def test_signal_pools_leave_the_rest_for_injection(rnd):
    path, events = rnd
    table = shuffled(read_events("lhco", path, "signal", {}), 7, "lhco", "signal_wp3500")
    pools = signal_pools(table, SIZES, path)
    assert len(pools["signal_test"]) == 150 and len(pools["signal_supervised"]) == 200
    assert sr_mask(pools["signal_test"], SR).all() and sr_mask(pools["signal_supervised"], SR).all()
    assert rows(pools["signal_inject"].data) <= rows(events[20000:])
    used = rows(pools["signal_test"].data) | rows(pools["signal_supervised"].data)
    assert not used & rows(pools["signal_inject"].data)
    # Everything after the last SR event taken, in both regions.
    assert len(pools["signal_inject"]) > 3000 - 2 * 350
    assert not sr_mask(pools["signal_inject"], SR).all()


def test_a_file_too_small_names_the_file_the_pool_and_both_numbers(rnd):
    path, _ = rnd
    table = read_events("lhco", path, "background", {})
    with pytest.raises(DataError, match=r"rnd.*events_anomalydetection.h5: pool 'reference' needs "
                                        r"9000 events but only 7000 are left"):  # fmt: skip
        background_pools(table, {**SIZES, "n_data": 4000, "n_ideal": 9000}, path)
    with pytest.raises(DataError, match=r"pool 'mc' needs 30000 events but only 20000.*n_mc"):
        mc_pool(table, {**SIZES, "n_mc": 30000}, path)
    with pytest.raises(DataError, match=r"pool 'test_background' needs 9999 SR events"):
        background_pools(table, {**SIZES, "n_test_background": 9999}, path)


def test_a_file_without_the_asked_label_is_an_error(tmp_path):
    path = tmp_path / "herwig.h5"
    write_rnd(path, 500, 0)
    with pytest.raises(DataError, match=r"herwig.h5: no events with label 1 \(signal\)"):
        read_events("lhco", path, "signal", {})


def test_injected_signal_is_nested_and_follows_the_seed(rnd):
    path, _ = rnd
    table = shuffled(read_events("lhco", path, "signal", {}), 7, "lhco", "signal_wp3500")
    pool = signal_pools(table, SIZES, path)["signal_inject"]

    def draw(n: int, seed: int) -> np.ndarray:
        return injected_signal(pool, n, np.random.default_rng(seed), SR, str(path))

    small, large = draw(20, 1), draw(60, 1)
    np.testing.assert_array_equal(small, large[: len(small)])
    assert sr_mask(EventTable(large, list(synthetic_lhco.COLUMNS)), SR).sum() == 60
    assert not rows(draw(20, 2)) == rows(small)
    with pytest.raises(DataError, match="injection pool has .* SR signal events, the injection"):
        draw(10**6, 1)


def test_every_data_seed_shares_the_file_background(rnd):
    path, _ = rnd
    bkg = shuffled(read_events("lhco", path, "background", {}), 7, "lhco", "background")
    sig = shuffled(read_events("lhco", path, "signal", {}), 7, "lhco", "signal_wp3500")
    pools = background_pools(bkg, SIZES, path) | signal_pools(sig, SIZES, path)
    cfg = {**SIZES, "source": "files"}
    one, info = injected_data("lhco", "wp3500", 1, 0.02, cfg, 7, pools)
    two, _ = injected_data("lhco", "wp3500", 2, 0.02, cfg, 7, pools)
    np.testing.assert_array_equal(one.data[:4000], pools["data"].data)
    np.testing.assert_array_equal(two.data[:4000], pools["data"].data)
    assert info["n_sig_sr"] == round(0.02 * sr_mask(pools["data"], SR).sum())
    assert one.labels.sum() == len(one) - 4000 and not np.array_equal(one.data, two.data)


def test_nonres_text_files_are_labelled_by_their_role(tmp_path):
    header = "jet1_pt jet1_eta HT MET mjj t21_1 t21_2 t32_1 t32_2"
    values = np.column_stack(
        [np.full(5, 500.0), np.zeros(5), np.linspace(900, 1300, 5), np.full(5, 80.0),
         np.full(5, 1500.0), np.full((5, 4), 0.5)]
    )  # fmt: skip
    path = tmp_path / "signal_zp3000.txt"
    np.savetxt(path, values, header=header, comments="")
    columns = {"ht": "HT", "met": "MET", "m_jj": "mjj", "tau21_j1": "t21_1",
               "tau21_j2": "t21_2", "tau32_j1": "t32_1", "tau32_j2": "t32_2"}  # fmt: skip
    table = read_events("nonres", path, "signal", {"columns": columns})
    assert table.columns[:3] == ["ht", "met", "m_jj"] and (table.labels == 1).all()
    np.testing.assert_array_equal(table.data[:, 0], values[:, 2])


def test_a_dataset_without_a_reader_is_refused(tmp_path):
    with pytest.raises(ValueError, match="toy.*no file reader"):
        read_events("toy", tmp_path / "x.h5", "background", {})


def test_rnd_layout_frame_matches_the_reader_columns():
    frame = lhco_frame(synthetic_lhco.signal(10, np.random.default_rng(0)), np.ones(10),
                       np.random.default_rng(1))  # fmt: skip
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns)[:7] == ["pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1"]
    assert (frame["tau2j1"] <= frame["tau1j1"]).all() and (frame["tau3j2"] <= frame["tau2j2"]).all()


def test_a_file_without_labels_is_all_of_one_kind_but_cannot_give_signal(tmp_path):
    rng = np.random.default_rng(3)
    events = synthetic_lhco.background(400, rng, "mc_reg")
    path = tmp_path / "herwig_no_label.h5"
    lhco_frame(events, np.zeros(400), rng).drop(columns=["label"]).to_hdf(path, key="df")
    mc = read_events("lhco", path, "mc", {})
    assert len(mc) == 400 and (mc.labels == 0).all()
    with pytest.raises(DataError, match=r"herwig_no_label.h5: no 'label' column.*files.signals"):
        read_events("lhco", path, "signal", {}, labelled=True)
