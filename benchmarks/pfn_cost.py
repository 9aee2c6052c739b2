"""Benchmark: seconds per training epoch of the Particle Flow Network, Phi on every padded slot
(the masked sum it replaced, kept here only as the reference) against Phi on the real
particles alone (hepflows.core.particle_flow.ParticleFlowNetwork.forward).

Events are the synthetic iso dimuons (hepflows.iso.synthetic.dimuon_events, seed 0) turned
into PFN inputs by hepflows.iso.models.particle_inputs: the slots are cut at the table's
largest count, ~5 slots per real particle on average. Both train through PFNClassifier.fit
(batch 256, 20% held out for validation, one thread) at two sizes:
  small  phi (64, 64, 64, 128), f (64, 64, 64, 64)
  paper  phi (256, 256, 256, 512), f (256, 256, 256, 256), on --paper-events events
An epoch's seconds are those the training loop logs (its training batches and the validation
pass); the fastest epoch counts, and ms/batch is it over the training batches.
Writes benchmarks/results/pfn_cost.json and prints a table.
Usage: .venv/bin/python benchmarks/pfn_cost.py [--events 48000] [--epochs 2]
       [--paper-events 48000] [--paper-epochs 1] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch

from hepflows.core.particle_flow import ParticleFlowNetwork, ParticleInputs, PFNClassifier
from hepflows.core.runtime import configure_threads

ROOT = Path(__file__).resolve().parents[1]
BATCH = 256
SIZES = {
    "small": ((64, 64, 64, 128), (64, 64, 64, 64)),
    "paper": ((256, 256, 256, 512), (256, 256, 256, 256)),
}


def padded_forward(self: ParticleFlowNetwork, values: torch.Tensor, mask: torch.Tensor):
    """The forward this benchmark compares against: Phi on every slot, then a masked sum."""
    real = mask.unsqueeze(-1)
    latent = self.phi(torch.where(real, values, 0.0))
    return self.f(torch.where(real, latent, 0.0).sum(dim=1))


def iso_inputs(n: int) -> tuple[ParticleInputs, np.ndarray]:
    from hepflows.iso.models import particle_inputs
    from hepflows.iso.synthetic import dimuon_events

    table = dimuon_events(n, np.random.default_rng(0))
    return particle_inputs(table), table.col("truth_prompt").astype(np.float64)


def measure(
    x: ParticleInputs, y: np.ndarray, size: str, impl: str, epochs: int, device: str
) -> dict[str, Any]:
    phi, f = SIZES[size]
    train = {"epochs": epochs, "batch_size": BATCH, "patience": None, "device": device, "seed": 1}
    clf = PFNClassifier(phi_sizes=phi, f_sizes=f, train=train)
    patch = mock.patch.object(ParticleFlowNetwork, "forward", padded_forward)
    start = time.perf_counter()
    if impl == "padded":
        with patch:
            clf.fit(x, y)
    else:
        clf.fit(x, y)
    total = time.perf_counter() - start
    history = clf.result.history
    epoch_s = min(h["seconds"] for h in history)
    n_train = round(len(x) * (1 - clf.train.val_fraction))
    return {
        "size": size,
        "phi": list(phi),
        "f": list(f),
        "forward": impl,
        "device": device,
        "events": len(x),
        "slots": x.mask.shape[1],
        "real_per_event": round(float(x.mask.sum(axis=1).mean()), 2),
        "train_batches": -(-n_train // BATCH),
        "epochs": len(history),
        "epoch_s": round(epoch_s, 2),
        "ms_per_batch": round(1000 * epoch_s / -(-n_train // BATCH), 1),
        "fit_s": round(total, 2),
        "val_loss": [h["val_loss"] for h in history],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=48_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--paper-events", type=int, default=48_000)
    parser.add_argument("--paper-epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on the CPU")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    configure_threads(args.threads)
    x, y = iso_inputs(max(args.events, args.paper_events))
    runs = [("small", args.events, args.epochs), ("paper", args.paper_events, args.paper_epochs)]
    rows = []
    for size, n, epochs in runs:
        for impl in ("padded", "real"):
            rows.append(measure(x[:n], y[:n], size, impl, epochs, args.device))
            r = rows[-1]
            print(
                f"{size:6} {impl:7} {r['epoch_s']:8.2f} s/epoch  {r['ms_per_batch']:7.1f} ms/batch"
                f"  ({r['train_batches']} batches, {r['slots']} slots, "
                f"{r['real_per_event']} real/event)"
            )
    result = {"threads": args.threads, "torch": torch.__version__, "rows": rows}
    out = ROOT / "benchmarks/results/pfn_cost.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
