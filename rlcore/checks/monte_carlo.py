"""Derivation check DC-92: Monte Carlo error and the biased and unbiased sample variances (Chapters 1 and 5)."""

from __future__ import annotations

import numpy as np

from ..estimators.stats import mean_se, sample_variance, z_scores
from .registry import MC_Z, Check, register


@register("DC-92", chapters=(1, 5))
def dc92_monte_carlo(n_replications: int = 1_000_000, n: int = 5, seed: int = 92):
    """DC-92 (Chapter 1, §1.7): ``E[S^2_biased] = (n-1)/n sigma^2``, ``E[S^2_unbiased] = sigma^2``, error 1/sqrt(N)."""
    rng = np.random.default_rng(seed)
    sigma = 2.0
    x = rng.normal(1.0, sigma, size=(n_replications, n))
    biased, unbiased = sample_variance(x, unbiased=False), sample_variance(x, unbiased=True)
    m_b, se_b = mean_se(biased)
    m_u, se_u = mean_se(unbiased)
    N, reps = 100, 20_000
    means = rng.normal(1.0, sigma, size=(reps, N)).mean(axis=1)
    spread = means.std(ddof=1)
    se_spread = spread / np.sqrt(2 * (reps - 1))  # SE of a normal sample's std
    return [
        Check("DC-92", "E[S²_biased] = (n−1)/n·σ²", f"mean of {n_replications:.0e} replications (n={n})",
              "(n−1)/n·σ²", float(z_scores(m_b, (n - 1) / n * sigma**2, se_b)), MC_Z, "SE"),
        Check("DC-92", "E[S²_unbiased] = σ²", f"mean of {n_replications:.0e} replications", "σ²",
              float(z_scores(m_u, sigma**2, se_u)), MC_Z, "SE"),
        Check("DC-92", "std of an N-sample mean = σ/√N", f"{reps} means of N={N}", "σ/√N",
              float(z_scores(spread, sigma / np.sqrt(N), se_spread)), MC_Z, "SE"),
    ]
