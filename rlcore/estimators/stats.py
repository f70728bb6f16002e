"""Monte Carlo estimation basics: sample means, standard errors, sample variances (Chapter 1, §1.4)."""

from __future__ import annotations

import numpy as np

from ..base import validate


def mean_se(samples, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and its standard error ``s / sqrt(N)``, ``s`` the unbiased sample std (Chapter 1, §1.4; A-61)."""
    x = validate.array(samples, "samples", ndim=tuple(range(1, 33)))
    axis = validate.integer(axis, "axis", low=-x.ndim, high=x.ndim - 1)
    n = x.shape[axis]
    if n < 2:
        raise ValueError(f"need at least 2 samples along axis {axis} for a standard error, got {n}")
    return x.mean(axis=axis), x.std(axis=axis, ddof=1) / np.sqrt(n)


def sample_variance(samples, unbiased: bool = True, axis: int = -1) -> np.ndarray:
    """``1/(n-1) sum (x - xbar)^2`` if ``unbiased`` else ``1/n sum (x - xbar)^2`` (Chapter 1, §1.4)."""
    x = validate.array(samples, "samples", ndim=tuple(range(1, 33)))
    if x.shape[axis] < (2 if unbiased else 1):
        raise ValueError(f"samples needs at least {2 if unbiased else 1} values along axis {axis}, got {x.shape[axis]}")
    return x.var(axis=axis, ddof=1 if unbiased else 0)


def z_scores(estimate, exact, se) -> np.ndarray:
    """``|estimate - exact| / se``: how many standard errors apart a Monte Carlo answer is (Chapter 1, §1.4)."""
    estimate, exact = validate.array(estimate, "estimate"), validate.array(exact, "exact")
    se = validate.array(se, "se")
    if np.any(se < 0):
        raise ValueError(f"se must be >= 0, got min {se.min():.3g}")
    return np.abs(estimate - exact) / np.maximum(se, 1e-300)


def explained_variance(values, returns) -> float:
    """``1 - Var[R - V] / Var[R]``: 1 for a perfect critic, 0 for a constant one, negative for worse (Chapter 8, §8.5).

    NaN when the returns do not vary (the ratio is undefined).
    """
    returns = validate.array(returns, "returns", ndim=1)
    values = validate.array(values, "values", shape=returns.shape)
    var = np.var(returns)
    return float("nan") if var == 0 else float(1.0 - np.var(returns - values) / var)
