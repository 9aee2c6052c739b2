"""Synthetic stand-in for the LHC Olympics 2020 R&D set: the resonant anomaly-detection setting.

The real set (Pythia QCD dijets, a Herwig sample as "MC", signal W'(3.5 TeV) -> X(500 GeV)
Y(100 GeV), each -> qq) cannot ship with the workflow. This generator reproduces what the
methods are sensitive to, with shapes fitted to the published figures of the R&D set (all
masses in TeV):

* m_jj: a turn-on times a falling spectrum, (1 + tanh((m - a)/b))/2 m^-k e^(-q m), fitted to
  the quoted fractions per m_jj bin; 12.8% of the background lies in the 3.3-3.7 TeV SR.
* jet masses: two independent log-normals whose median grows like m_jj^0.5 (corr(m_jj, m_j1)
  about +0.09 over the full range), giving m_jmin and dm_j = m_jmax - m_jmin.
* tau21 per jet: logit-normal, falling with the jet's mass relative to the median, faster for
  the heavier jet (SR correlations m_jmin-tau21 -0.27, dm_j-tau21 heavier -0.44).
* "Herwig-like" MC (mc_reg): jet masses 4% higher and tau21 shifted by +0.15 in logit; a
  gradient-boosted classifier on the 4 SR features separates it from the "Pythia-like" data with
  AUC 0.590, as for the real samples (mc_mod, twice the shifts: 0.68).
* signal: m_jj Gaussian at 3.5 TeV (75% in the SR), jet masses and tau21 from split normals
  matched to the quoted SR medians and 16/84% quantiles.
* ``mj_shift``: the CATHODE stress test, both jet masses += mj_shift * m_jj (0.1 in the paper),
  which makes the features strongly m_jj-dependent.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

COLUMNS = ("m_jj", "m_jmin", "dm_j", "tau21_jmin", "tau21_jmax")
_EPS = 1e-6

# m_jj density parameters (a, b, k, q), fitted on a 1-9 TeV grid to the bin fractions
# 14% in 2-2.5, 43% in 2.5-3, 14% in 3-3.3, 12-14% in 3.3-3.7, 5% in 3.7-4, 7% in 4-5 and 1.5%
# above 5 TeV. The fit gives 15.6, 39.1, 17.0, 12.8, 5.2, 6.4 and 1.6%, peak at 2.76 TeV.
MJJ_SHAPE = (2.6177, 0.3163, 1.3715, 1.3601)
MJJ_RANGE = (1.5, 9.0)
MJJ_REF = 3.5
# Jet masses: median at MJJ_REF, log-normal width, growth with m_jj.
MJ_MEDIAN, MJ_LOG_SIGMA, MJ_MJJ_POWER = 0.1696, 0.774, 0.5
# Each jet lighter than m_jj / 2, so the two fit in the dijet mass (m_j1 + m_j2 < m_jj); the
# log-normal tail beyond it (0.13% of jets at 3.5 TeV) is folded back below.
MJ_MAX_FRACTION = 0.5
# tau21: logit mean, logit width, slope against log(m_j / median) for the lighter / heavier jet.
TAU_LOGIT_MEAN, TAU_LOGIT_STD = 0.236, 0.757
TAU_MASS_SLOPE = (0.367, 0.836)
# Herwig-like MC: (jet-mass scale, tau21 logit shift) per variant; mc_mod is a stronger
# mis-modelling of the same kind.
MC_DISTORTIONS = {"mc_reg": (1.04, 0.15), "mc_mod": (1.08, 0.30)}

SIGNAL_MASS, SIGNAL_MJJ_WIDTH = 3.5, 0.174
# Split normals (median, lower and upper width): m_jmin and dm_j in TeV, tau21 in logit space.
SIGNAL_MJMIN = (0.111, 0.013, 0.036)
SIGNAL_DMJ = (0.383, 0.083, 0.043)
SIGNAL_TAU21_LOGIT = {"jmin": (-0.490, 0.720, 0.690), "jmax": (-1.456, 0.741, 0.966)}


@lru_cache(maxsize=1)
def _mjj_cdf() -> tuple[np.ndarray, np.ndarray]:
    a, b, k, q = MJJ_SHAPE
    grid = np.linspace(*MJJ_RANGE, 30_001)
    density = 0.5 * (1.0 + np.tanh((grid - a) / b)) * grid ** (-k) * np.exp(-q * grid)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))])
    return grid, cdf / cdf[-1]


def sample_mjj(n: int, rng: np.random.Generator) -> np.ndarray:
    """Background m_jj by inverting the tabulated CDF."""
    grid, cdf = _mjj_cdf()
    return np.interp(rng.random(n), cdf, grid)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _split_normal(
    rng: np.random.Generator, median: float, lower: float, upper: float, n: int
) -> np.ndarray:
    z = rng.standard_normal(n)
    return median + np.where(z < 0.0, lower, upper) * z


def _fold_below(masses: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Log-normal tails above the kinematic limit, reflected below it in log space (m -> cap^2/m).

    Unlike a clip this leaves no spike at the limit and draws no random numbers, so every other
    event is unchanged."""
    return np.where(masses > cap, cap**2 / masses, masses)


def _jets(
    m_jj: np.ndarray, rng: np.random.Generator, mass_scale: float, tau_shift: float
) -> np.ndarray:
    n = m_jj.shape[0]
    median = MJ_MEDIAN * (m_jj / MJJ_REF) ** MJ_MJJ_POWER
    masses = median[:, None] * np.exp(MJ_LOG_SIGMA * rng.standard_normal((n, 2)))
    masses = np.sort(masses, axis=1)  # lighter, heavier
    noise = rng.standard_normal((n, 2))
    slope = np.asarray(TAU_MASS_SLOPE)
    logit = (
        TAU_LOGIT_MEAN
        + tau_shift
        - slope * np.log(masses / median[:, None])
        + TAU_LOGIT_STD * noise
    )
    tau = np.clip(_sigmoid(logit), _EPS, 1.0 - _EPS)
    masses = _fold_below(masses * mass_scale, MJ_MAX_FRACTION * m_jj[:, None])
    swap = masses[:, 0] > masses[:, 1]  # a folded heavier jet may end up the lighter one
    masses[swap] = masses[swap, ::-1]
    tau[swap] = tau[swap, ::-1]
    return np.column_stack([masses[:, 0], masses[:, 1] - masses[:, 0], tau])


def background(n: int, rng: np.random.Generator, variant: str = "data") -> np.ndarray:
    """QCD dijets, shape (n, 5) in COLUMNS order; "data" is Pythia-like, mc_* Herwig-like."""
    if variant == "data":
        scale, shift = 1.0, 0.0
    elif variant in MC_DISTORTIONS:
        scale, shift = MC_DISTORTIONS[variant]
    else:
        raise ValueError(f"unknown variant {variant!r}; available: {['data', *MC_DISTORTIONS]}")
    m_jj = sample_mjj(n, rng)
    return np.column_stack([m_jj, _jets(m_jj, rng, scale, shift)])


def signal(n: int, rng: np.random.Generator) -> np.ndarray:
    """W' -> X(500 GeV) Y(100 GeV) dijets, shape (n, 5) in COLUMNS order."""
    m_jj = rng.normal(SIGNAL_MASS, SIGNAL_MJJ_WIDTH, n)
    m_jmin = np.maximum(_split_normal(rng, *SIGNAL_MJMIN, n), 0.01)
    dm_j = np.maximum(_split_normal(rng, *SIGNAL_DMJ, n), 0.0)
    taus = [
        np.clip(_sigmoid(_split_normal(rng, *SIGNAL_TAU21_LOGIT[jet], n)), _EPS, 1.0 - _EPS)
        for jet in ("jmin", "jmax")
    ]
    return np.column_stack([m_jj, m_jmin, dm_j, *taus])


def shift_jet_masses(events: np.ndarray, fraction: float) -> np.ndarray:
    """The CATHODE stress test: both jet masses += fraction * m_jj (dm_j is unchanged)."""
    if fraction == 0.0:
        return events
    out = events.copy()
    out[:, 1] += fraction * out[:, 0]
    return out
