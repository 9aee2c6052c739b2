"""The event table every ``iso`` step reads and writes, whatever the source (synthetic or the
public CMS files): one row per dimuon event, the particles around the classified muon beside it.

The classified muon is muon 1 (the first column of the public CSV files). Its cone particles
carry (pT / pT_mu, d_eta, d_phi, particle id), zero-padded to ``N_SLOTS`` with a mask.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CONE_RADIUS",
    "CONE_SUM_PT",
    "EVENT_COLUMNS",
    "ISO_COLUMNS",
    "ISO_RADII",
    "MASS_WINDOW",
    "N_SLOTS",
    "PARTICLE_COLUMNS",
    "PROMPT_WINDOW",
    "TABLE_COLUMNS",
    "TRUTH_COLUMN",
]

N_SLOTS = 128  # particle slots per event in the public LMDB files
CONE_RADIUS = 0.45
ISO_RADII = np.linspace(0.025, CONE_RADIUS, 18)  # relative isolations, by increasing radius
MASS_WINDOW = (70.0, 110.0)  # GeV, the selection
PROMPT_WINDOW = (84.0, 96.0)  # GeV: opposite-sign events inside are CWoLa label 1

EVENT_COLUMNS = (
    "mass",
    "mu1_pt",
    "mu1_eta",
    "mu1_phi",
    "mu1_charge",
    "mu2_pt",
    "mu2_eta",
    "mu2_phi",
    "mu2_charge",
)
# Relative isolation sum(pT) / pT_mu within dR <= R of muon 1, R = ISO_RADII (in thousandths).
ISO_COLUMNS = tuple(f"iso_r{round(r * 1000):03d}" for r in ISO_RADII)
CONE_SUM_PT = "cone_sum_pt"  # GeV, every particle of the cone (dR <= CONE_RADIUS)
TABLE_COLUMNS = EVENT_COLUMNS + ISO_COLUMNS + (CONE_SUM_PT,)
# Synthetic events only: 1 for a prompt muon (the Z peak), 0 for non-prompt (the continuum).
TRUTH_COLUMN = "truth_prompt"

PARTICLE_COLUMNS = ("pt_rel", "d_eta", "d_phi", "pid")
