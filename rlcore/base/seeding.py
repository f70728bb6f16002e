"""One call that makes a run reproducible."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int, threads: int | None = 1):
    """Seed Python's ``random``, NumPy's global state and torch; return fresh generators (Chapter 1, §1.4).

    Returns ``(rng, generator)``: a ``numpy.random.Generator`` and a ``torch.Generator``, both
    seeded with ``seed``. Prefer passing these explicitly over relying on global state.

    ``threads`` sets torch's CPU threads (``None`` leaves them): the book's numbers are computed on one thread, because
    a reduction split over several threads adds in another order, and a training run that starts from a different
    rounding ends somewhere else. One thread is also the faster choice for the book's small networks.
    """
    import torch

    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if threads is not None:
        if not isinstance(threads, (int, np.integer)) or threads < 1:
            raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
        torch.set_num_threads(int(threads))
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed)), torch.Generator().manual_seed(int(seed))
