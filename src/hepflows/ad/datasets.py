"""The ``ad`` datasets: their columns, units and axis labels, default signal regions, and which
generator makes their background and signal events.

``toy`` (the original 2-D Gaussian toy), ``nonres`` (the non-resonant H_T, E_T^miss analysis)
and ``lhco`` (the resonant LHC Olympics R&D setting). The physics lives in :mod:`.synthetic`
and :mod:`.synthetic_lhco`; ``python -m hepflows.ad.datasets`` prints the figures quoted there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from hepflows.ad import synthetic, synthetic_lhco
from hepflows.ad.synthetic import TAU_COLUMNS
from hepflows.core.regions import Box, in_box

VARIANTS = ("data", "mc_reg", "mc_mod")


@dataclass(frozen=True)
class DatasetSpec:
    """Column metadata shared by generators, plots and configs, so names live in one place."""

    name: str
    context: tuple[str, ...]
    features: tuple[str, ...]
    units: dict[str, str] = field(hash=False)  # "" for dimensionless
    labels: dict[str, str] = field(hash=False)  # LaTeX, for axis labels
    signals: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.context + self.features


SPECS: dict[str, DatasetSpec] = {
    "toy": DatasetSpec(
        name="toy",
        context=("m1", "m2"),
        features=("x",),
        units={"m1": "", "m2": "", "x": ""},
        labels={"m1": "$m_1$", "m2": "$m_2$", "x": "$x$"},
        signals=("sig",),
    ),
    "nonres": DatasetSpec(
        name="nonres",
        context=("ht", "met"),
        features=("m_jj", *TAU_COLUMNS),
        units={"ht": "GeV", "met": "GeV", "m_jj": "GeV"} | dict.fromkeys(TAU_COLUMNS, ""),
        labels={
            "ht": "$H_T$",
            "met": "$E_T^{miss}$",
            "m_jj": "$m_{jj}$",
            "tau21_j1": "$\\tau_{21}^{j1}$",
            "tau21_j2": "$\\tau_{21}^{j2}$",
            "tau32_j1": "$\\tau_{32}^{j1}$",
            "tau32_j2": "$\\tau_{32}^{j2}$",
        },
        signals=("zp2000", "zp3000", "zp4000"),
    ),
    "lhco": DatasetSpec(
        name="lhco",
        context=synthetic_lhco.COLUMNS[:1],
        features=synthetic_lhco.COLUMNS[1:],
        units=dict.fromkeys(("m_jj", "m_jmin", "dm_j"), "TeV")
        | dict.fromkeys(("tau21_jmin", "tau21_jmax"), ""),
        labels={
            "m_jj": "$m_{jj}$",
            "m_jmin": "$m_{j}^{\\min}$",
            "dm_j": "$\\Delta m_{j}$",
            "tau21_jmin": "$\\tau_{21}^{j,\\min}$",
            "tau21_jmax": "$\\tau_{21}^{j,\\max}$",
        },
        signals=("wp3500",),
    ),
}

# Config defaults; the run-time SR comes from the workflow config. lo < v <= hi, None = open.
DEFAULT_SR: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "toy": {"m1": (1.0, None), "m2": (1.0, None)},
    "nonres": {"ht": (800.0, None), "met": (75.0, None)},
    "lhco": {"m_jj": (3.3, 3.7)},
}


def get_spec(dataset: str) -> DatasetSpec:
    """Spec lookup with an error that lists what exists."""
    try:
        return SPECS[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; available: {sorted(SPECS)}") from None


def axis_label(dataset: str, column: str) -> str:
    """A column as an axis title: its physics symbol and its unit."""
    spec = get_spec(dataset)
    unit = spec.units.get(column, "")
    return spec.labels.get(column, column) + (f" [{unit}]" if unit else "")


def default_sr_mask(
    dataset: str,
    values: np.ndarray,
    columns: Sequence[str] | None = None,
    box: Box | None = None,
) -> np.ndarray:
    """SR mask with the dataset's default columns and box filled in.

    ``values`` may be a pandas DataFrame, in which case its own column names are used.
    """
    spec = get_spec(dataset)
    if columns is None:
        columns = list(values.columns) if hasattr(values, "columns") else spec.columns
    return in_box(np.asarray(values), columns, DEFAULT_SR[dataset] if box is None else box)


def _check_n(n: int) -> int:
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


def _check_shift(dataset: str, mj_shift: float) -> None:
    if mj_shift and dataset != "lhco":
        raise ValueError(f"mj_shift (jet masses += mj_shift * m_jj) applies to lhco, not {dataset}")


def generate_background(
    dataset: str, n: int, rng: np.random.Generator, *, variant: str = "data", mj_shift: float = 0.0
) -> np.ndarray:
    """Background events, shape (n, n_columns) in ``SPECS[dataset].columns`` order.

    "data" is the true background (draw the ideal and test samples with other generators);
    "mc_reg" and "mc_mod" are simulations with moderate and strong mis-modelling.
    ``mj_shift`` is the lhco stress test (both jet masses += mj_shift * m_jj).
    """
    get_spec(dataset)
    n = _check_n(n)
    _check_shift(dataset, mj_shift)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; available: {list(VARIANTS)}")
    if dataset == "toy":
        return synthetic.toy_background(n, rng, variant)
    if dataset == "lhco":
        return synthetic_lhco.shift_jet_masses(synthetic_lhco.background(n, rng, variant), mj_shift)
    events = synthetic.qcd_background(n, rng)
    return events if variant == "data" else synthetic.distort(events, variant)


def generate_signal(
    dataset: str, signal: str, n: int, rng: np.random.Generator, *, mj_shift: float = 0.0
) -> np.ndarray:
    """Signal events, shape (n, n_columns) in ``SPECS[dataset].columns`` order."""
    spec = get_spec(dataset)
    n = _check_n(n)
    _check_shift(dataset, mj_shift)
    if signal not in spec.signals:
        raise ValueError(
            f"unknown signal {signal!r} for dataset {dataset!r}; available: {list(spec.signals)}"
        )
    if dataset == "toy":
        return synthetic.toy_signal(n, rng)
    if dataset == "lhco":
        return synthetic_lhco.shift_jet_masses(synthetic_lhco.signal(n, rng), mj_shift)
    return synthetic.zprime_signal(synthetic.SIGNAL_MASSES[signal], n, rng)


# --------------------------------------------------------------------------- summary


def histogram_mode(values: np.ndarray, lo: float, hi: float, bins: int) -> float:
    """Centre of the fullest bin: a crude but robust mode for the shape checks."""
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    i = int(np.argmax(counts))
    return float(0.5 * (edges[i] + edges[i + 1]))


MODE_BINNING = {  # (lo, hi, bins) per nonres column
    "ht": (0.0, 3000.0, 120),
    "met": (0.0, 300.0, 60),
    "m_jj": (0.0, 3000.0, 120),
} | dict.fromkeys(TAU_COLUMNS, (0.0, 1.0, 50))


def summary(n: int = 2_000_000, seed: int = 0) -> dict[str, float]:
    """Numbers quoted in the module docstring, so they can be re-measured after a retune."""
    rng = np.random.default_rng(seed)
    out: dict[str, float] = {}
    toy = generate_background("toy", n, rng)
    out["toy/bkg_sr_frac"] = float(default_sr_mask("toy", toy).mean())
    signal = generate_signal("toy", "sig", n, rng)
    out["toy/sig_sr_frac"] = float(default_sr_mask("toy", signal).mean())
    for variant in ("mc_reg", "mc_mod"):
        mc = generate_background("toy", n, rng, variant=variant)
        out[f"toy/{variant}_sr_frac"] = float(default_sr_mask("toy", mc).mean())

    cols = SPECS["nonres"].columns
    bkg = generate_background("nonres", n, rng)
    sr = default_sr_mask("nonres", bkg)
    out["nonres/bkg_sr_frac"] = float(sr.mean())
    for j, col in enumerate(cols):
        out[f"nonres/mode_{col}"] = histogram_mode(bkg[:, j], *MODE_BINNING[col])
    out["nonres/corr_ht_mjj"] = float(np.corrcoef(bkg[:, 0], bkg[:, 2])[0, 1])
    out["nonres/corr_ht_met"] = float(np.corrcoef(bkg[:, 0], bkg[:, 1])[0, 1])
    out["nonres/corr_tau21_j1_j2"] = float(np.corrcoef(bkg[:, 3], bkg[:, 4])[0, 1])
    out["nonres/tau21_j1_sr_minus_cr"] = float(bkg[sr, 3].mean() - bkg[~sr, 3].mean())
    out["nonres/mjj_mean_sr"] = float(bkg[sr, 2].mean())
    out["nonres/mjj_mean_cr"] = float(bkg[~sr, 2].mean())
    for variant in ("mc_reg", "mc_mod"):
        mc = generate_background("nonres", n, rng, variant=variant)
        out[f"nonres/{variant}_sr_frac"] = float(default_sr_mask("nonres", mc).mean())
        out[f"nonres/{variant}_met_mean_over_data"] = float(mc[:, 1].mean() / bkg[:, 1].mean())
    for sig in SPECS["nonres"].signals:
        events = generate_signal("nonres", sig, n // 10, rng)
        out[f"nonres/{sig}_sr_frac"] = float(default_sr_mask("nonres", events).mean())
    return out


if __name__ == "__main__":
    for key, value in summary().items():
        print(f"{key:40s} {value:10.4f}")
