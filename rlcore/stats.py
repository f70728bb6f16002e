"""Monte Carlo estimation basics: sample means, standard errors, sample variances (Chapter 1)."""

from __future__ import annotations

import numpy as np


def mean_se(samples, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and its standard error ``s / sqrt(N)``, ``s`` the unbiased sample std (A-61)."""
    x = np.asarray(samples, dtype=np.float64)
    n = x.shape[axis]
    if n < 2:
        raise ValueError(f"need at least 2 samples along axis {axis} for a standard error, got {n}")
    return x.mean(axis=axis), x.std(axis=axis, ddof=1) / np.sqrt(n)


def sample_variance(samples, unbiased: bool = True, axis: int = -1) -> np.ndarray:
    """``1/(n-1) sum (x - xbar)^2`` if ``unbiased`` else ``1/n sum (x - xbar)^2`` (Chapter 1)."""
    x = np.asarray(samples, dtype=np.float64)
    return x.var(axis=axis, ddof=1 if unbiased else 0)


def z_scores(estimate, exact, se) -> np.ndarray:
    """``|estimate - exact| / se``: how many standard errors apart a Monte Carlo answer is."""
    se = np.maximum(np.asarray(se, dtype=np.float64), 1e-300)
    return np.abs(np.asarray(estimate) - np.asarray(exact)) / se
