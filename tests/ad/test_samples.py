"""The injected data of the synthetic datasets: one background per data seed, and an injection
scan that is nested (README: the signal of a smaller injection is part of a larger one's)."""

from __future__ import annotations

import numpy as np
import pytest

from hepflows.ad.regions import sr_mask
from hepflows.ad.samples import injected_data

CFG = {
    "nonres": {"sr": {"ht": [800.0, None], "met": [75.0, None]}, "n_data": 30000},
    "lhco": {"sr": {"m_jj": [3.3, 3.7]}, "n_data": 30000},
}
SIGNAL = {"nonres": "zp3000", "lhco": "wp3500"}


@pytest.mark.parametrize("dataset", ["nonres", "lhco"])
def test_the_signal_of_a_smaller_injection_is_part_of_a_larger_ones(dataset):
    cfg, signal = CFG[dataset], SIGNAL[dataset]
    # 0.5: more signal than one chunk of the generator, and than any fixed-size pool would hold
    points = {s: injected_data(dataset, signal, 1, s, cfg, 7) for s in (0.0, 0.01, 0.5)}
    background = points[0.0][0].data
    signals = {}
    for s, (table, info) in points.items():
        np.testing.assert_array_equal(table.data[: len(background)], background)
        signals[s] = table.data[table.labels == 1]
        assert sr_mask(table.select(table.labels == 1), cfg["sr"]).sum() == info["n_sig_sr"]
    assert 0 < len(signals[0.01]) < len(signals[0.5])
    np.testing.assert_array_equal(signals[0.5][: len(signals[0.01])], signals[0.01])
    # another data seed: other signal events
    other, _ = injected_data(dataset, signal, 2, 0.01, cfg, 7)
    assert not np.array_equal(other.data[other.labels == 1][:5], signals[0.01][:5])
