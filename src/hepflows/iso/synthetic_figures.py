"""The figures quoted in :mod:`hepflows.iso.synthetic`'s docstring, remeasured:
``python -m hepflows.iso.synthetic_figures`` (needs scikit-learn; ~1 min)."""

from __future__ import annotations

import numpy as np

from hepflows.core.events import EventTable
from hepflows.iso.columns import CONE_SUM_PT, ISO_COLUMNS, TRUTH_COLUMN
from hepflows.iso.synthetic import M_Z, dimuon_events


def figures(n: int = 200_000, seed: int = 0) -> None:
    """Print the figures quoted in the module docstring (needs scikit-learn)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    t = dimuon_events(n, np.random.default_rng(seed))
    prompt = t.col(TRUTH_COLUMN) == 1
    ss = t.col("mu1_charge") == t.col("mu2_charge")
    count = t.mask.sum(axis=1)
    print(f"SS share {ss.mean():.4%}, prompt share {prompt.mean():.4f}")
    m = t.col("mass")
    print(f"prompt median |m - {M_Z}| {np.median(np.abs(m[prompt] - M_Z)):.3f} GeV")
    for name, sel in (("prompt", prompt), ("non-prompt", ~prompt)):
        pt, cs = t.col("mu1_pt")[sel], t.col(CONE_SUM_PT)[sel]
        iso = t.col(ISO_COLUMNS[-1])[sel]
        hist, edges = np.histogram(pt, bins=np.arange(25, 80, 2.0))
        print(
            f"{name}: pT mode {edges[np.argmax(hist)] + 1:.0f} GeV, median {np.median(pt):.1f}; "
            f"cone sum pT median {np.median(cs):.1f} GeV, mode {_mode(cs, 2.0):.0f}, "
            f"p99 {np.quantile(cs, 0.99):.0f}; iso(0.45) mode {_mode(iso, 0.02):.2f}, "
            f"share > 0.6 {np.mean(iso > 0.6):.3f}; iso(0.025) == 0 "
            f"{np.mean(t.col(ISO_COLUMNS[0])[sel] == 0):.3f}; particles mean "
            f"{count[sel].mean():.1f}"
        )
    print(f"particles mean {count.mean():.2f}, max {count.max()}")
    cs = t.col(CONE_SUM_PT)
    hard = cs[~prompt & (cs > 15.0)]
    print(
        f"non-prompt, cone sum pT > 15 GeV: {hard.size / (~prompt).sum():.2f} of them, mode "
        f"{_mode(hard, 5.0):.0f} GeV (5 GeV bins)"
    )
    # AUCs on a balanced sample: with 4.4% non-prompt the HGB fits are too noisy to rank.
    t = dimuon_events(n, np.random.default_rng(seed + 1), prompt_fraction=0.5)
    y = t.col(TRUTH_COLUMN).astype(int)
    cones = {
        "1 cone": [ISO_COLUMNS[-1], CONE_SUM_PT],
        "9 cones": [*ISO_COLUMNS[-9:], CONE_SUM_PT],
        "18 cones": [*ISO_COLUMNS, CONE_SUM_PT],
    }
    sets = {name: t.cols(c) for name, c in cones.items()}
    sets["9 cones + set features"] = np.column_stack([sets["9 cones"], _set_features(t)])
    sets["9 evenly spaced cones"] = t.cols([*ISO_COLUMNS[1::2], CONE_SUM_PT])
    half = n // 2
    for name, x in sets.items():
        clf = HistGradientBoostingClassifier(max_iter=300, random_state=0)
        clf.fit(x[:half], y[:half])
        auc = roc_auc_score(y[half:], clf.predict_proba(x[half:])[:, 1])
        print(f"truth AUC (balanced), {name}: {auc:.4f}")


def _mode(x: np.ndarray, step: float) -> float:
    hist, edges = np.histogram(x, bins=np.arange(0.0, np.quantile(x, 0.99) + step, step))
    return float(edges[np.argmax(hist)] + step / 2)


def _set_features(t: EventTable) -> np.ndarray:
    """Particle-level summaries the cone sums do not hold: count, photon share and leading
    pT_rel in the core (dR < 0.1), and the leading particle's pT_rel and id."""
    p, mask = t.particles, t.mask
    dr = np.hypot(p[..., 1], p[..., 2])
    core = mask & (dr < 0.1)
    pt = np.where(core, p[..., 0], 0.0)
    photon = np.where(core & (p[..., 3] == 22), p[..., 0], 0.0).sum(1)
    n_core = core.sum(1)
    return np.column_stack(
        [n_core, photon / np.maximum(pt.sum(1), 1e-9), pt.max(1), p[:, 0, 0], p[:, 0, 3]]
    )


if __name__ == "__main__":
    figures()
