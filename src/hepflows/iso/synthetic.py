"""Synthetic dimuon events for the ``iso`` analysis: the stand-in for the public CMS dimuon files.

The mass spectrum, the same-sign share, the muon acceptance and the cone contract follow
``shared/reference/iso.md``; everything inside the cone is our model, built so that the
information is layered as the paper's AUCs say it is:

* the cone's total (1 cone + sum pT) separates most non-prompt muons (a b/c-jet core of tens of
  GeV) from prompt ones (pileup and underlying event only);
* the radial profile adds the core's width: non-prompt energy sits at dR < 0.1, pileup is flat
  in area, so at a given total the profile still tells them apart (9 cones > 1 cone);
* the particles add what sums cannot see: a prompt muon sometimes radiates a collinear FSR
  photon (one hard photon at small dR, which looks like a soft core in every cone sum), while a
  soft non-prompt core is several particles of mixed species sharing its pT, sometimes in two
  prongs (particles > 9 cones);
* some non-prompt muons carry no core at all, so no classifier reaches AUC 1.

The mass is drawn independently of everything else given the truth, so CWoLa's assumption
(features independent of the mass within each class) holds exactly. Same-sign events are all
non-prompt but with other (eta, pT) spectra than opposite-sign non-prompt ones; since the cone
content depends on eta (pileup) and pT (pT_rel = pT / pT_mu), the SS -> OS reweighting matters.

Measured with ``python -m hepflows.iso.synthetic_figures`` (200k events, seed 0 / 1):
* SS share 0.44% (reference 0.43%; binomial error 0.015%); prompt median |m - 90.8| = 1.77 GeV
  (the truncated Voigt's 1.76).
* prompt muon pT mode 43-45 GeV, median 40.6; non-prompt median 33.9 GeV.
* 16.4 particles per cone on average (prompt 16.1, non-prompt 22.4), at most 119 of 128 slots.
* prompt: cone sum pT median 5.0 GeV (99% below 24), iso(0.45) mode 0.07, 1.2% above 0.6,
  iso(0.025) = 0 for 93%. non-prompt: cone sum pT median 18.5 GeV, 99% quantile 118 GeV, 47%
  with iso(0.45) > 0.6; the 53% with a cone sum above 15 GeV peak near 38 GeV, the others look
  isolated (30% have no core, 20% a soft one).
* truth AUC of a scikit-learn HistGradientBoostingClassifier (defaults, max_iter 300) on a
  balanced sample (``prompt_fraction=0.5``, 100k train / 100k test): 1 cone (R = 0.45) + sum pT
  0.881; the 9 largest cones (R = 0.25..0.45, the models' ``iso[-9:]``) + sum pT 0.891; 9
  evenly spaced cones 0.925; 18 cones 0.931; the 9 largest + five particle-level summaries
  (count, photon share and leading pT_rel at dR < 0.1, the leading particle's pT_rel and id)
  0.942. The paper's gaps (sPlot AUC): 0.835 -> 0.848 -> 0.871 (one EFP) -> 0.874 (PFN). Each
  AUC has a test-set error of about 0.002. Without the halo below (HALO_MEAN = 0, activity
  Gamma(4)) the 9 largest cones gave 0.873 against 0.872 for one: nothing beyond R = 0.25 but
  pileup, for both classes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hepflows.core.events import EventTable
from hepflows.iso.columns import (
    CONE_RADIUS,
    EVENT_COLUMNS,
    ISO_COLUMNS,
    MASS_WINDOW,
    N_SLOTS,
    PARTICLE_COLUMNS,
    TABLE_COLUMNS,
    TRUTH_COLUMN,
)
from hepflows.iso.isolation import cone_sum_pt, relative_isolation

__all__ = [
    "CHUNK_EVENTS",
    "dimuon_events",
    "dimuon_kinematics",
]

# --------------------------------------------------------------------------- mass and charge
# Reference (fit of the full sample): s Voigt(m - 90.8; 0.86, 1.71) + (1 - s) exp(-m / 15).
M_Z, VOIGT_SIGMA, VOIGT_GAMMA = 90.8, 0.86, 1.71  # GeV; gamma is the Lorentzian HWHM
PROMPT_FRACTION = 0.956
NONPROMPT_TAU = 15.0  # GeV
SS_SHARE = 0.0043  # reference: 0.43% of the selected events are same-sign
# Prompt muons are always opposite-sign, so the SS events are a fraction of the non-prompt ones.
NONPROMPT_SS_FRACTION = SS_SHARE / (1.0 - PROMPT_FRACTION)  # = 0.098

# --------------------------------------------------------------------------- muon kinematics
MU_PT_MIN, MU_ETA_MAX = 25.0, 2.1  # reference: the selection of both muons
# Prompt: a Jacobian peak at the edge m_Z / 2 (fixed, not m / 2, so that pT is independent of m)
# smeared by the Z's transverse momentum, Gamma(2, 4 GeV), projected on the muon direction. Our
# choice, tuned so that the pT mode lands near the reference's 43 GeV.
PROMPT_PT_EDGE = M_Z / 2
Z_PT_SHAPE, Z_PT_SCALE = 2.0, 4.0
PROMPT_ETA_STD = 1.1  # our choice: truncated normal
# Non-prompt: softer, 25 GeV + exponential whose scale grows with |eta| (our choice: a weak eta
# dependence so that (eta, pT) reweighting has something to do). Same-sign non-prompt muons are
# more central and softer than opposite-sign ones (another production mix, our choice).
NP_PT_SCALE, NP_PT_ETA_SLOPE = 11.0, 0.25  # GeV, per unit |eta|
NP_ETA_STD = {"os": 1.3, "ss": 0.8}
NP_SS_PT_FACTOR = 0.75

# --------------------------------------------------------------------------- pileup and UE
# Every cone: Poisson(PU_MEAN * a * (1 + PU_ETA_SLOPE |eta|)) particles, with an event activity
# a ~ Gamma(PU_ACTIVITY_SHAPE) of mean 1, uniform in area, pT exponential. Our choice, tuned to
# the reference: ~16 particles per cone and a prompt R = 0.45 isolation peaking near 0.08-0.1.
PU_MEAN, PU_ETA_SLOPE, PU_ACTIVITY_SHAPE = 14.5, 0.12, 2.5
PU_PT_MEAN = 0.3  # GeV
# PDG-like ids and their shares (our choice: charged hadrons dominate, a few electrons).
PIDS = np.array([211, -211, 22, 130, 11, -11], dtype=np.float64)
PU_PID_P = np.array([0.31, 0.31, 0.26, 0.10, 0.01, 0.01])

# --------------------------------------------------------------------------- FSR (prompt only)
# Our choice: a collinear photon beside a quarter of the prompt muons, pT / pT_mu log-uniform,
# offset Gaussian per axis with the spread of a soft core's particles, so that cone sums mistake
# it for a soft core; the particles do not (one photon, not several particles of mixed species).
# The share and the spread set the gaps 1 -> 9 cones -> particles (tuned, see the docstring).
FSR_FRACTION = 0.25
FSR_Z_RANGE = (0.03, 0.5)
FSR_SPREAD = 0.055

# --------------------------------------------------------------------------- non-prompt core
# Our choice: a b/c-jet remnant around the muon. Three kinds, shares NP_CORE_P: hard (log-normal
# core pT, median 40 GeV: with pileup its cone sum peaks near the reference's 35 GeV, tail to
# 150), soft (median 3 GeV: the non-prompt muons that look isolated in the sums) and none.
NP_CORE_P = {"hard": 0.50, "soft": 0.20, "none": 0.30}
HARD_CORE_PT = (40.0, 0.5)  # GeV median, log sigma
SOFT_CORE_PT = (3.0, 0.6)
# Multiplicity 1 + Poisson(CORE_MULT_SLOPE * log(1 + pT / CORE_MULT_PT0)), at most CORE_MAX.
CORE_MULT_SLOPE, CORE_MULT_PT0, CORE_MAX = 2.0, 3.0, 48
CORE_ALPHA = 0.8  # Dirichlet concentration of the pT shares: < 1 means a few hard particles
# Width (per axis) log-normal; the core's axis is off the muon by CORE_OFFSET widths (per axis).
# At a median 0.045 most core energy is at dR < 0.1 (reference) and cones finer than 0.05 add
# little (the paper's cone scan plateaus at 9 cones).
CORE_WIDTH = (0.045, 0.35)  # median, log sigma
CORE_OFFSET = 0.7
CORE_TWO_PRONG_P, CORE_PRONG_SEP = 0.35, 3.0  # separation in widths
CORE_PID_P = np.array([0.27, 0.27, 0.32, 0.10, 0.02, 0.02])

# --------------------------------------------------------------------------- non-prompt halo
# Our choice: Poisson(HALO_MEAN) soft fragments (pT exponential, mean HALO_PT_MEAN) around every
# non-prompt muon, dR exponential with scale HALO_R: wide enough to reach the outer cones, where
# their density falls with dR while pileup's grows with the area. They are what makes the 9
# largest cones (R = 0.25..0.45, the paper's iso[-9:]) beat one: without them both classes hold
# only pileup beyond R = 0.25, and 9 cones measured no better than 1 (truth AUC 0.873 / 0.872).
HALO_MEAN, HALO_R, HALO_PT_MEAN = 3.5, 0.3, 0.4  # particles, dR scale, GeV

CHUNK_EVENTS = 25_000  # events per chunk of particle generation (bounds the memory)
_EDGE = CONE_RADIUS * (1.0 - 1e-6)  # kept particles stay inside the cone after a float32 cast


# --------------------------------------------------------------------------- helpers


def _rejection(
    rng: np.random.Generator,
    n: int,
    draw: Callable[[int], np.ndarray],
    ok: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``n`` draws that pass ``ok``, redrawing the failures in bulk (rounds, not per event)."""
    out = draw(n)
    bad = np.flatnonzero(~ok(out))
    while bad.size:
        new = draw(bad.size)
        out[bad] = new
        bad = bad[~ok(new)]
    return out


def _in_window(m: np.ndarray) -> np.ndarray:
    return (m > MASS_WINDOW[0]) & (m < MASS_WINDOW[1])


def _voigt_mass(rng: np.random.Generator, n: int) -> np.ndarray:
    """Voigt = normal + Cauchy (the convolution), rejected into the mass window."""

    def draw(k: int) -> np.ndarray:
        return M_Z + VOIGT_SIGMA * rng.standard_normal(k) + VOIGT_GAMMA * rng.standard_cauchy(k)

    return _rejection(rng, n, draw, _in_window)


def _exponential_mass(rng: np.random.Generator, n: int) -> np.ndarray:
    """exp(-m / tau) truncated to the window, by the inverse CDF."""
    lo, hi = MASS_WINDOW
    span = -np.expm1(-(hi - lo) / NONPROMPT_TAU)
    return _rejection(
        rng, n, lambda k: lo - NONPROMPT_TAU * np.log1p(-rng.random(k) * span), _in_window
    )


def _eta(rng: np.random.Generator, n: int, std: float) -> np.ndarray:
    return _rejection(
        rng, n, lambda k: std * rng.standard_normal(k), lambda x: np.abs(x) < MU_ETA_MAX
    )


def _prompt_pt(rng: np.random.Generator, n: int) -> np.ndarray:
    def draw(k: int) -> np.ndarray:
        cos_star = rng.uniform(-1.0, 1.0, k)
        kick = rng.gamma(Z_PT_SHAPE, Z_PT_SCALE, k) * np.cos(rng.uniform(0.0, 2 * np.pi, k))
        return PROMPT_PT_EDGE * np.sqrt(1.0 - cos_star**2) + 0.5 * kick

    return _rejection(rng, n, draw, lambda pt: pt > MU_PT_MIN)


def _nonprompt_pt(rng: np.random.Generator, eta: np.ndarray, factor: float) -> np.ndarray:
    scale = factor * NP_PT_SCALE * (1.0 + NP_PT_ETA_SLOPE * np.abs(eta))
    return MU_PT_MIN + rng.exponential(scale) + 1e-6  # strictly above the threshold


def _muon(
    rng: np.random.Generator, prompt: np.ndarray, ss: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pT, eta, phi) of one muon per event, by class: prompt, non-prompt OS, non-prompt SS."""
    n = prompt.size
    pt, eta = np.empty(n), np.empty(n)
    groups = [
        (prompt, PROMPT_ETA_STD, None),
        (~prompt & ~ss, NP_ETA_STD["os"], 1.0),
        (~prompt & ss, NP_ETA_STD["ss"], NP_SS_PT_FACTOR),
    ]
    for sel, eta_std, pt_factor in groups:
        idx = np.flatnonzero(sel)
        eta[idx] = _eta(rng, idx.size, eta_std)
        pt[idx] = (
            _prompt_pt(rng, idx.size)
            if pt_factor is None
            else _nonprompt_pt(rng, eta[idx], pt_factor)
        )
    return pt, eta, rng.uniform(-np.pi, np.pi, n)


def dimuon_kinematics(
    n: int, rng: np.random.Generator, *, prompt_fraction: float = PROMPT_FRACTION
) -> dict[str, np.ndarray]:
    """The event columns (``EVENT_COLUMNS``) and the truth, without the cone: cheap, for the
    mass, charge and acceptance figures. Muon 2 follows the same law as muon 1 of its class.

    ``prompt_fraction`` other than the reference's 0.956 is for studies of the cone model with
    more non-prompt muons; a fixed share ``NONPROMPT_SS_FRACTION`` of non-prompt pairs is SS.
    """
    if not 0.0 <= prompt_fraction <= 1.0:
        raise ValueError(f"prompt_fraction must be in [0, 1], got {prompt_fraction}")
    prompt = rng.random(n) < prompt_fraction
    ss = ~prompt & (rng.random(n) < NONPROMPT_SS_FRACTION)
    mass = np.empty(n)
    mass[prompt] = _voigt_mass(rng, int(prompt.sum()))
    mass[~prompt] = _exponential_mass(rng, int((~prompt).sum()))
    q1 = rng.choice(np.array([-1.0, 1.0]), n)
    q2 = np.where(ss, q1, -q1)
    mu1 = _muon(rng, prompt, ss)
    mu2 = _muon(rng, prompt, ss)
    values = (mass, *mu1, q1, *mu2, q2)
    out = dict(zip(EVENT_COLUMNS, values, strict=True))
    out[TRUTH_COLUMN] = prompt.astype(np.float64)
    return out


# --------------------------------------------------------------------------- cone particles


def _pids(rng: np.random.Generator, p: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return PIDS[rng.choice(PIDS.size, size=shape, p=p)]


def _pileup(
    rng: np.random.Generator, eta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pT GeV, d_eta, d_phi, pid, real) of the pileup and underlying event: flat in area."""
    k = eta.size
    activity = rng.gamma(PU_ACTIVITY_SHAPE, 1.0 / PU_ACTIVITY_SHAPE, k)
    count = rng.poisson(PU_MEAN * activity * (1.0 + PU_ETA_SLOPE * np.abs(eta)))
    width = max(int(count.max(initial=0)), 1)
    real = np.arange(width) < count[:, None]
    r = CONE_RADIUS * np.sqrt(rng.random((k, width)))
    angle = rng.uniform(0.0, 2 * np.pi, (k, width))
    pt = rng.exponential(PU_PT_MEAN, (k, width))
    return pt, r * np.cos(angle), r * np.sin(angle), _pids(rng, PU_PID_P, (k, width)), real


def _fsr(
    rng: np.random.Generator, pt_mu: np.ndarray, prompt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One collinear photon beside a fraction of the prompt muons."""
    k = pt_mu.size
    real = prompt & (rng.random(k) < FSR_FRACTION)
    lo, hi = np.log(FSR_Z_RANGE[0]), np.log(FSR_Z_RANGE[1])
    pt = pt_mu * np.exp(rng.uniform(lo, hi, k))
    offset = FSR_SPREAD * rng.standard_normal((k, 2))
    col = np.s_[:, None]
    return (
        pt[col],
        offset[:, :1],
        offset[:, 1:],
        np.full((k, 1), 22.0),
        real[col],
    )


def _core(
    rng: np.random.Generator, prompt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The jet remnant around a non-prompt muon: a few particles sharing the core pT
    (Dirichlet), Gaussian in angle around an axis near the muon, sometimes in two prongs."""
    k = prompt.size
    kinds = rng.choice(3, size=k, p=list(NP_CORE_P.values()))
    has = ~prompt & (kinds < 2)
    median = np.where(kinds == 0, HARD_CORE_PT[0], SOFT_CORE_PT[0])
    sigma = np.where(kinds == 0, HARD_CORE_PT[1], SOFT_CORE_PT[1])
    core_pt = median * np.exp(sigma * rng.standard_normal(k))
    count = 1 + rng.poisson(CORE_MULT_SLOPE * np.log1p(core_pt / CORE_MULT_PT0))
    count = np.where(has, np.minimum(count, CORE_MAX), 0)
    width = max(int(count.max(initial=0)), 1)
    real = np.arange(width) < count[:, None]
    shares = np.where(real, rng.gamma(CORE_ALPHA, 1.0, (k, width)), 0.0)
    total = shares.sum(axis=1, keepdims=True)
    pt = core_pt[:, None] * shares / np.where(total > 0, total, 1.0)
    w = CORE_WIDTH[0] * np.exp(CORE_WIDTH[1] * rng.standard_normal(k))
    axis = CORE_OFFSET * w[:, None] * rng.standard_normal((k, 2))
    two = rng.random(k) < CORE_TWO_PRONG_P
    prong = np.where(rng.random((k, width)) < 0.5, 0.5, -0.5) * two[:, None]
    direction = rng.uniform(0.0, 2 * np.pi, k)
    sep = CORE_PRONG_SEP * w
    d_eta = axis[:, :1] + prong * (sep * np.cos(direction))[:, None]
    d_phi = axis[:, 1:] + prong * (sep * np.sin(direction))[:, None]
    d_eta = d_eta + w[:, None] * rng.standard_normal((k, width))
    d_phi = d_phi + w[:, None] * rng.standard_normal((k, width))
    return pt, d_eta, d_phi, _pids(rng, CORE_PID_P, (k, width)), real


def _halo(
    rng: np.random.Generator, prompt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The wide-angle fragments of the jet around a non-prompt muon: soft particles whose
    density falls with dR (exponential, scale HALO_R), unlike pileup, which is flat in area."""
    k = prompt.size
    count = np.where(prompt, 0, rng.poisson(HALO_MEAN, k))
    width = max(int(count.max(initial=0)), 1)
    real = np.arange(width) < count[:, None]
    r = rng.exponential(HALO_R, (k, width))
    angle = rng.uniform(0.0, 2 * np.pi, (k, width))
    pt = rng.exponential(HALO_PT_MEAN, (k, width))
    return pt, r * np.cos(angle), r * np.sin(angle), _pids(rng, CORE_PID_P, (k, width)), real


def _cone(
    rng: np.random.Generator, pt_mu: np.ndarray, eta_mu: np.ndarray, prompt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Particles (k, N_SLOTS, 4) float32 and mask: ordered by pT, padding zero, dR <= R."""
    parts = [_pileup(rng, eta_mu), _fsr(rng, pt_mu, prompt), _core(rng, prompt)]
    if HALO_MEAN > 0:
        parts.append(_halo(rng, prompt))
    pt, d_eta, d_phi, pid, real = (np.concatenate(x, axis=1) for x in zip(*parts, strict=True))
    real &= np.hypot(d_eta, d_phi) < _EDGE
    order = np.argsort(np.where(real, -pt, np.inf), axis=1, kind="stable")[:, :N_SLOTS]
    cols = [pt / pt_mu[:, None], d_eta, d_phi, pid]
    stacked = np.stack([np.take_along_axis(c, order, axis=1) for c in cols], axis=-1)
    mask = np.take_along_axis(real, order, axis=1)
    particles = np.zeros((pt_mu.size, N_SLOTS, len(PARTICLE_COLUMNS)), dtype=np.float32)
    particles[:, : stacked.shape[1]] = np.where(mask[..., None], stacked, 0.0)
    full = np.zeros((pt_mu.size, N_SLOTS), dtype=bool)
    full[:, : mask.shape[1]] = mask
    return particles, full


def dimuon_events(
    n: int,
    rng: np.random.Generator,
    *,
    prompt_fraction: float = PROMPT_FRACTION,
    chunk_events: int = CHUNK_EVENTS,
) -> EventTable:
    """``n`` selected dimuon events: ``TABLE_COLUMNS`` + ``TRUTH_COLUMN`` (1 = prompt), the cone
    particles of muon 1 (float32, ``PARTICLE_COLUMNS``) and their mask.

    The isolation columns and the cone sum pT are computed from the particles with
    :mod:`.isolation`, as they would be for real files. The particles are drawn in chunks of
    ``chunk_events`` (the same seed and chunk size give the same events). ``prompt_fraction``:
    see :func:`dimuon_kinematics`.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    cols = dimuon_kinematics(n, rng, prompt_fraction=prompt_fraction)
    prompt = cols[TRUTH_COLUMN] == 1.0
    pt_mu, eta_mu = cols["mu1_pt"], cols["mu1_eta"]
    particles = np.empty((n, N_SLOTS, len(PARTICLE_COLUMNS)), dtype=np.float32)
    mask = np.empty((n, N_SLOTS), dtype=bool)
    for start in range(0, n, chunk_events):
        sl = slice(start, start + chunk_events)
        particles[sl], mask[sl] = _cone(rng, pt_mu[sl], eta_mu[sl], prompt[sl])
    iso = relative_isolation(particles, mask)
    data = np.column_stack(
        [cols[c] for c in EVENT_COLUMNS]
        + [iso, cone_sum_pt(particles, mask, pt_mu), cols[TRUTH_COLUMN]]
    )
    assert len(EVENT_COLUMNS) + len(ISO_COLUMNS) + 1 == len(TABLE_COLUMNS)
    return EventTable(
        data=data,
        columns=[*TABLE_COLUMNS, TRUTH_COLUMN],
        particles=particles,
        mask=mask,
        particle_columns=list(PARTICLE_COLUMNS),
    )
