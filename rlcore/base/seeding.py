"""One call that makes a run reproducible."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int):
    """Seed Python's ``random``, NumPy's global state and torch; return fresh generators (Chapter 1, §1.4).

    Returns ``(rng, generator)``: a ``numpy.random.Generator`` and a ``torch.Generator``, both
    seeded with ``seed``. Prefer passing these explicitly over relying on global state.
    """
    import torch

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed)), torch.Generator().manual_seed(int(seed))
