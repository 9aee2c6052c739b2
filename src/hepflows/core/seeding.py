"""Derive independent random streams from one configured seed.

Every sample of the workflow (data seed 3, the MC sample, the test set, a hold-out split) gets
its own stream derived from the master seed and a tuple of names, so that adding a dataset or a
seed never shifts the numbers of another one, and no global RNG state is involved.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key_to_int(key: object) -> int:
    if isinstance(key, (int, np.integer)) and int(key) >= 0:
        return int(key)
    digest = hashlib.sha256(str(key).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def derive_seed(master: int, *keys: object) -> int:
    """A 31-bit seed (what every library accepts: torch, scikit-learn, numpy), stable across
    Python sessions."""
    seq = np.random.SeedSequence([_key_to_int(master), *(_key_to_int(k) for k in keys)])
    return int(seq.generate_state(1, dtype=np.uint32)[0]) >> 1


def derive_rng(master: int, *keys: object) -> np.random.Generator:
    """A numpy Generator for the stream named by ``keys``."""
    return np.random.default_rng(
        np.random.SeedSequence([_key_to_int(master), *map(_key_to_int, keys)])
    )
