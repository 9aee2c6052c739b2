"""source: files end to end: the workflow on files in the LHC Olympics R&D layout that the test
writes, and files too small for the sizes asked for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepflows.ad import synthetic_lhco
from hepflows.ad.readers import lhco_frame, read_lhco
from hepflows.core.event_files import read_table

from helpers import files_overlay, snakemake, tiny_args, write_rnd

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def test_lhco_runs_on_files_in_the_rnd_layout(tmp_path):
    """The R&D file (background + signal, by label) and a Herwig-like MC file drive the scan."""

    rnd, herwig = tmp_path / "events_anomalydetection.h5", tmp_path / "herwig.h5"
    write_rnd(rnd, 70000, 4000)
    rng = np.random.default_rng(5)
    mc = synthetic_lhco.background(20000, rng, "mc_reg")
    lhco_frame(mc, np.zeros(len(mc)), rng).to_hdf(herwig, key="df")
    results = tmp_path / "results"
    files = files_overlay(tmp_path, {"background": str(rnd), "mc": str(herwig)})
    base = results / "ad/lhco/wp3500"
    snakemake("--cores", "2", str(base / "summary/max_sic.csv"), *tiny_args(results, files))

    table = pd.read_csv(base / "summary/max_sic.csv")
    assert set(table["method"]) == {"ideal", "supervised"}
    supervised = table.loc[table["method"] == "supervised", "max_sic_median"].iloc[0]
    assert supervised > 3  # the file's signal is found: the labels and features made it through
    read = (results / "logs/ad/lhco/read_background.log").read_text()
    assert "70000 background events -> data 30000, ideal 10000, reference 10000" in read
    # Both data seeds hold the same file background; their injected signal differs.
    file_events = read_lhco(rnd)
    one = read_table(base / "seed1/s0.05/data.h5")
    two = read_table(base / "seed2/s0.05/data.h5")
    bkg_one, bkg_two = one.select(one.labels == 0).data, two.select(two.labels == 0).data
    np.testing.assert_array_equal(bkg_one, bkg_two)
    assert set(map(tuple, bkg_one)) <= set(map(tuple, file_events.data[file_events.labels == 0]))
    sig_one, sig_two = one.select(one.labels == 1).data, two.select(two.labels == 1).data
    assert set(map(tuple, sig_one)) <= set(map(tuple, file_events.data[file_events.labels == 1]))
    assert not np.array_equal(sig_one, sig_two)
    test = read_table(base / "test.h5")
    assert (test.labels == 0).sum() == 1000 and (test.labels == 1).sum() == 400
    test_rows = set(map(tuple, test.data))
    assert not test_rows & set(map(tuple, one.data))  # the test set never overlaps the data


def test_files_too_small_fail_the_read_job_with_the_numbers(tmp_path):
    rnd = tmp_path / "small.h5"
    write_rnd(rnd, 5000, 1000)
    results = tmp_path / "results"
    files = files_overlay(tmp_path, {"background": str(rnd), "mc": str(rnd)})
    target = results / "ad/lhco/static/files/data.h5"
    proc = snakemake("--cores", "1", str(target), *tiny_args(results, files), check=False)
    log = (results / "logs/ad/lhco/read_background.log").read_text()
    assert proc.returncode != 0
    assert f"{rnd}: pool 'data' needs 30000 events but only 5000 are left" in log
    assert not list((results / "ad/lhco/static/files").glob("*.h5"))
