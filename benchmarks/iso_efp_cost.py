"""Benchmark: per-event cost of the iso EFPs through hepflows.iso.efps.compute_efps against
energyflow's EFPSet.batch_compute called directly on prebuilt per-event lists (the original's
make_efps.py), on one thread.

Events look like the cones of the paper: Poisson(16) particles (at most 128 slots, some events
empty), pT / pT_mu exponential (mean 0.02), (d_eta, d_phi) uniform in the disc dR <= 0.45.
compute_efps also gathers the masked particles out of the padded array; the target is a ratio
of at most 1.1. Both build their EFPSet before the clock starts; the fastest of --repeat runs
counts. Writes a JSON file (default benchmarks/results/iso_efp_cost.json).
Usage: .venv/bin/python benchmarks/iso_efp_cost.py [--events 2000] [--events-d7 40] [--out F]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from hepflows.core.runtime import configure_threads

ROOT = Path(__file__).resolve().parents[1]
N_SLOTS = 128
CONE = 0.45


def cone_events(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Padded (n, 128, 4) particles (pt_rel, d_eta, d_phi, pid) and their mask."""
    rng = np.random.default_rng(seed)
    counts = np.minimum(rng.poisson(16, n), N_SLOTS)
    mask = np.arange(N_SLOTS)[None, :] < counts[:, None]
    r = CONE * np.sqrt(rng.random((n, N_SLOTS)))
    angle = rng.uniform(-np.pi, np.pi, (n, N_SLOTS))
    particles = np.stack(
        [
            rng.exponential(0.02, (n, N_SLOTS)),
            r * np.cos(angle),
            r * np.sin(angle),
            rng.choice([22.0, 130.0, 211.0, -211.0], (n, N_SLOTS)),
        ],
        axis=-1,
    )
    particles[~mask] = 0.0
    return particles, mask


def measure(n: int, dmax: int, kappa: float, beta: float, repeat: int) -> dict[str, Any]:
    import energyflow

    from hepflows.iso.efps import compute_efps, efp_set

    particles, mask = cone_events(n)
    direct_set = energyflow.EFPSet(
        ("d<=", dmax), ("n<=", dmax), ("p<=", 1),
        measure="hadr", beta=beta, kappa=kappa, normed=True,
    )  # fmt: skip
    efp_set(kappa, beta, dmax)  # built (and cached) before the clock starts
    has = mask.any(axis=1)
    lists = [particles[i, mask[i], :3] for i in np.flatnonzero(has)]
    ours_s, direct_s = [], []
    for _ in range(repeat):  # interleaved, so that a slow spell of the machine hits both
        start = time.perf_counter()
        ours = compute_efps(particles, mask, kappa, beta, dmax)
        ours_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        direct = direct_set.batch_compute(lists, n_jobs=1)
        direct_s.append(time.perf_counter() - start)
    if not np.allclose(ours[has], direct, rtol=1e-12, atol=0):
        raise AssertionError(f"compute_efps and energyflow disagree at dmax {dmax}")
    ours_ms, direct_ms = 1e3 * min(ours_s) / n, 1e3 * min(direct_s) / n
    return {
        "dmax": dmax,
        "kappa": kappa,
        "beta": beta,
        "events": n,
        "empty_events": int((~has).sum()),
        "mean_particles": round(float(mask.sum(axis=1).mean()), 2),
        "graphs": int(ours.shape[1]),
        "repeat": repeat,
        "compute_efps_ms_per_event": round(ours_ms, 4),
        "energyflow_ms_per_event": round(direct_ms, 4),
        "ratio": round(ours_ms / direct_ms, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000, help="events at dmax 5")
    parser.add_argument("--events-d7", type=int, default=40, help="events at dmax 7 (0: skip)")
    parser.add_argument("--kappa", type=float, default=1.0)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/iso_efp_cost.json"))
    args = parser.parse_args()
    configure_threads(1)
    rows = [measure(args.events, 5, args.kappa, args.beta, args.repeat)]
    if args.events_d7 > 0:
        rows.append(measure(args.events_d7, 7, args.kappa, args.beta, args.repeat))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": 1, "rows": rows}, indent=2) + "\n")
    head = f"{'dmax':>4} {'graphs':>6} {'events':>6}"
    print(f"{head} {'ours ms/ev':>10} {'ef ms/ev':>9} {'ratio':>6}")
    for r in rows:
        print(
            f"{r['dmax']:>4} {r['graphs']:>6} {r['events']:>6} "
            f"{r['compute_efps_ms_per_event']:>10.3f} {r['energyflow_ms_per_event']:>9.3f} "
            f"{r['ratio']:>6.3f}"
        )


if __name__ == "__main__":
    main()
