"""The ad datasets: shape and physics checks of the synthetic events, the registry, the SR box."""

from __future__ import annotations

import numpy as np
import pytest

from hepflows.ad.datasets import (
    DEFAULT_SR,
    MODE_BINNING,
    SPECS,
    default_sr_mask,
    generate_background,
    generate_signal,
    histogram_mode,
)
from hepflows.core.regions import in_box

N_BKG = 1_000_000
N_SIG = 50_000
NONRES = SPECS["nonres"].columns


def _col(events: np.ndarray, name: str) -> np.ndarray:
    return events[:, NONRES.index(name)]


@pytest.fixture(scope="module")
def nonres_bkg() -> np.ndarray:
    return generate_background("nonres", N_BKG, np.random.default_rng(123))


@pytest.fixture(scope="module")
def nonres_sr(nonres_bkg: np.ndarray) -> np.ndarray:
    return default_sr_mask("nonres", nonres_bkg)


# ----------------------------------------------------------------- specs and shapes


def test_spec_columns() -> None:
    assert SPECS["toy"].columns == ("m1", "m2", "x")
    assert NONRES == ("ht", "met", "m_jj", "tau21_j1", "tau21_j2", "tau32_j1", "tau32_j2")
    for spec in SPECS.values():
        assert set(spec.units) == set(spec.columns) == set(spec.labels)
        assert set(DEFAULT_SR[spec.name]) <= set(spec.context)
    assert SPECS["nonres"].units["ht"] == "GeV" and SPECS["nonres"].units["tau21_j1"] == ""
    assert SPECS["nonres"].signals == ("zp2000", "zp3000", "zp4000")
    assert SPECS["toy"].signals == ("sig",)
    assert SPECS["lhco"].context == ("m_jj",) and SPECS["lhco"].units["dm_j"] == "TeV"
    assert SPECS["lhco"].features == ("m_jmin", "dm_j", "tau21_jmin", "tau21_jmax")
    assert DEFAULT_SR["lhco"] == {"m_jj": (3.3, 3.7)}  # an interval: sidebands on both sides


@pytest.mark.parametrize("dataset", ["toy", "nonres", "lhco"])
@pytest.mark.parametrize("variant", ["data", "mc_reg", "mc_mod"])
def test_background_shape_and_determinism(dataset: str, variant: str) -> None:
    a = generate_background(dataset, 1000, np.random.default_rng(7), variant=variant)
    b = generate_background(dataset, 1000, np.random.default_rng(7), variant=variant)
    c = generate_background(dataset, 1000, np.random.default_rng(8), variant=variant)
    assert a.shape == (1000, len(SPECS[dataset].columns))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.isfinite(a).all()
    assert generate_background(dataset, 0, np.random.default_rng(0), variant=variant).shape == (
        0,
        len(SPECS[dataset].columns),
    )


@pytest.mark.parametrize(
    ("dataset", "signal"),
    [("toy", "sig"), ("lhco", "wp3500")] + [("nonres", s) for s in SPECS["nonres"].signals],
)
def test_signal_shape_and_determinism(dataset: str, signal: str) -> None:
    a = generate_signal(dataset, signal, 500, np.random.default_rng(3))
    b = generate_signal(dataset, signal, 500, np.random.default_rng(3))
    assert a.shape == (500, len(SPECS[dataset].columns))
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(a).all()


@pytest.mark.parametrize("variant", ["data", "mc_reg", "mc_mod"])
def test_nonres_physical_ranges(variant: str) -> None:
    bkg = generate_background("nonres", 200_000, np.random.default_rng(1), variant=variant)
    sig = generate_signal("nonres", "zp2000", 20_000, np.random.default_rng(2))
    for events in (bkg, sig):
        assert (events[:, :3] > 0).all()
        taus = events[:, 3:]
        assert ((taus > 0) & (taus < 1)).all()
        assert (taus.astype(np.float32) < 1).all()


def test_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="zp2000"):
        generate_signal("nonres", "zp5000", 10, rng)
    with pytest.raises(ValueError, match="nonres"):
        generate_background("lhc", 10, rng)
    with pytest.raises(ValueError, match="mj_shift .* applies to lhco, not nonres"):
        generate_background("nonres", 10, rng, mj_shift=0.1)
    with pytest.raises(ValueError, match="mc_reg"):
        generate_background("toy", 10, rng, variant="herwig")
    with pytest.raises(ValueError, match="non-negative"):
        generate_background("toy", -1, rng)


def test_lhco_sidebands_surround_the_sr_and_the_shift_reaches_every_sample() -> None:
    bkg = generate_background("lhco", 100_000, np.random.default_rng(4))
    sr = default_sr_mask("lhco", bkg)
    assert 0.12 < sr.mean() < 0.14
    assert (bkg[~sr, 0] <= 3.3).mean() > 0.5 and (bkg[~sr, 0] > 3.7).mean() > 0.1
    shifted = generate_background("lhco", 100_000, np.random.default_rng(4), mj_shift=0.1)
    np.testing.assert_allclose(shifted[:, 1], bkg[:, 1] + 0.1 * bkg[:, 0])
    sig = generate_signal("lhco", "wp3500", 1000, np.random.default_rng(5), mj_shift=0.1)
    assert np.median(sig[:, 1]) > 0.4  # 0.11 TeV + 0.1 * 3.5 TeV


# ----------------------------------------------------------------- toy


def test_toy_matches_reference() -> None:
    rng = np.random.default_rng(5)
    bkg = generate_background("toy", 400_000, rng)
    np.testing.assert_allclose(bkg[:, :2].mean(0), -1.0, atol=0.02)
    np.testing.assert_allclose(bkg[:, :2].std(0), 2.0, atol=0.02)
    resid = bkg[:, 2] - 0.5 * np.sqrt(0.5) * (bkg[:, 0] + bkg[:, 1])
    assert abs(resid.std() - 1.0) < 0.01
    mc = generate_background("toy", 400_000, rng, variant="mc_reg")
    assert abs(mc[:, 0].std() - 2.8) < 0.02
    mod = generate_background("toy", 400_000, rng, variant="mc_mod")
    assert mod[:, 0].std() > mc[:, 0].std()
    sig = generate_signal("toy", "sig", 100_000, rng)
    np.testing.assert_allclose(sig[:, :2].mean(0), 2.8, atol=0.01)
    # our shift makes the signal separable in x inside the SR
    sb, ss = bkg[default_sr_mask("toy", bkg), 2], sig[default_sr_mask("toy", sig), 2]
    assert ss.mean() - sb.mean() > 2 * sb.std()
    assert 0.015 < default_sr_mask("toy", bkg).mean() < 0.035
    assert default_sr_mask("toy", sig).mean() > 0.99


# ----------------------------------------------------------------- nonres physics


@pytest.mark.parametrize(
    ("column", "lo", "hi"),
    [
        ("ht", 400, 550),
        ("met", 10, 35),
        ("m_jj", 350, 650),
        ("tau21_j1", 0.65, 0.8),
        ("tau21_j2", 0.65, 0.8),
        ("tau32_j1", 0.78, 0.9),
        ("tau32_j2", 0.78, 0.9),
    ],
)
def test_background_modes(nonres_bkg: np.ndarray, column: str, lo: float, hi: float) -> None:
    mode = histogram_mode(_col(nonres_bkg, column), *MODE_BINNING[column])
    assert lo <= mode <= hi, (column, mode)


def test_background_shape_details(nonres_bkg: np.ndarray) -> None:
    ht, met = _col(nonres_bkg, "ht"), _col(nonres_bkg, "met")
    assert (ht < 300).mean() < 0.02
    assert ht.max() > 2000  # long tail
    assert (met < 75).mean() > 0.8


def test_background_sr_fraction(nonres_sr: np.ndarray) -> None:
    assert 0.01 < nonres_sr.mean() < 0.06


def test_context_feature_correlations(nonres_bkg: np.ndarray) -> None:
    ht = _col(nonres_bkg, "ht")
    assert np.corrcoef(ht, _col(nonres_bkg, "m_jj"))[0, 1] > 0.4
    assert 0.05 < np.corrcoef(ht, _col(nonres_bkg, "met"))[0, 1] < 0.6
    t1, t2 = _col(nonres_bkg, "tau21_j1"), _col(nonres_bkg, "tau21_j2")
    assert 0.05 < np.corrcoef(t1, t2)[0, 1] < 0.5
    low, high = np.abs(ht - 300) < 25, np.abs(ht - 1500) < 100
    assert 0.02 < t1[low].mean() - t1[high].mean() < 0.07


def test_extrapolation_is_nontrivial(nonres_bkg: np.ndarray, nonres_sr: np.ndarray) -> None:
    for name in ("tau21_j1", "tau21_j2"):
        col = _col(nonres_bkg, name)
        assert abs(col[nonres_sr].mean() - col[~nonres_sr].mean()) > 0.01
    mjj = _col(nonres_bkg, "m_jj")
    assert np.median(mjj[nonres_sr]) > 1.5 * np.median(mjj[~nonres_sr])


@pytest.mark.parametrize("signal", SPECS["nonres"].signals)
def test_signal_mostly_in_sr(signal: str) -> None:
    sig = generate_signal("nonres", signal, N_SIG, np.random.default_rng(11))
    mass = float(signal[2:])
    assert default_sr_mask("nonres", sig).mean() > 0.6
    mjj = _col(sig, "m_jj")
    assert 0.75 * mass < np.median(mjj) < mass
    # broad and lower than QCD (mode ~0.72), but overlapping it: see SIG_TAU21_BETA
    assert 0.45 < _col(sig, "tau21_j1").mean() < 0.65
    assert (_col(sig, "met") > 600).mean() > 0.03


def test_mc_variants_differ(nonres_bkg: np.ndarray) -> None:
    reg = generate_background("nonres", 200_000, np.random.default_rng(4), variant="mc_reg")
    mod = generate_background("nonres", 200_000, np.random.default_rng(4), variant="mc_mod")
    data = generate_background("nonres", 200_000, np.random.default_rng(4))
    # same draws underneath: ht untouched, met and m_jj inflated, taus lowered
    np.testing.assert_array_equal(mod[:, 0], data[:, 0])
    np.testing.assert_array_equal(reg[:, 0], data[:, 0])
    np.testing.assert_allclose(mod[:, 1], data[:, 1] * (1 + data[:, 1] / 500))
    np.testing.assert_allclose(mod[:, 2], data[:, 2] * (1 + data[:, 2] / 6000))
    np.testing.assert_allclose(mod[:, 3:], data[:, 3:] ** 1.1)
    for i in (1, 2):
        assert data[:, i].mean() < reg[:, i].mean() < mod[:, i].mean()
    assert mod[:, 3].mean() < reg[:, 3].mean() < data[:, 3].mean()


# ----------------------------------------------------------------- boxes


def test_in_box_semantics() -> None:
    values = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 7.0], [0.5, 9.0]])
    cols = ["a", "b"]
    np.testing.assert_array_equal(in_box(values, cols, {"a": (1.0, 3.0)}), [0, 1, 1, 0])
    np.testing.assert_array_equal(in_box(values, cols, {"a": [None, 2.0]}), [1, 1, 0, 1])
    np.testing.assert_array_equal(
        in_box(values, cols, {"a": (1.0, None), "b": (5.0, None)}), [0, 0, 1, 0]
    )
    np.testing.assert_array_equal(in_box(values, cols, {}), [1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"'c'.*\['a', 'b'\]"):
        in_box(values, cols, {"c": (0.0, 1.0)})
    with pytest.raises(ValueError, match="columns"):
        in_box(values, ["a"], {"a": (0.0, 1.0)})


def test_sr_mask_defaults_and_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    events = generate_background("nonres", 5000, np.random.default_rng(9))
    expected = (events[:, 0] > 800) & (events[:, 1] > 75)
    np.testing.assert_array_equal(default_sr_mask("nonres", events), expected)
    frame = pd.DataFrame(events[:, ::-1], columns=NONRES[::-1])
    np.testing.assert_array_equal(default_sr_mask("nonres", frame), expected)
    wider = default_sr_mask("nonres", events, box={"ht": (600.0, None), "met": (75.0, None)})
    assert wider.sum() >= expected.sum()


def test_print_summary_table(nonres_bkg: np.ndarray, nonres_sr: np.ndarray) -> None:
    """Prints the headline numbers (run with -s); asserts only that they exist."""
    rows = {"bkg SR fraction": nonres_sr.mean()}
    for name in NONRES:
        rows[f"mode {name}"] = histogram_mode(_col(nonres_bkg, name), *MODE_BINNING[name])
    rows["corr(ht, m_jj)"] = np.corrcoef(nonres_bkg[:, 0], nonres_bkg[:, 2])[0, 1]
    t = _col(nonres_bkg, "tau21_j1")
    rows["tau21_j1 SR - CR"] = t[nonres_sr].mean() - t[~nonres_sr].mean()
    for s in SPECS["nonres"].signals:
        sig = generate_signal("nonres", s, N_SIG, np.random.default_rng(11))
        rows[f"{s} SR efficiency"] = default_sr_mask("nonres", sig).mean()
    print()
    for key, value in rows.items():
        print(f"  {key:24s} {value:10.4f}")
    assert all(np.isfinite(v) for v in rows.values())
