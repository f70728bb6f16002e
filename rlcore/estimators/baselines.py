"""Baselines for the score-function gradient: the variance-minimising one and leave-one-out (Chapter 7, §7.3).

A baseline ``b`` subtracted from the return keeps the estimator unbiased as long as it does not depend on the
action it multiplies, eq. (eq-baseline-unbiased); these two choose it to reduce variance without breaking that.
"""

from __future__ import annotations

import numpy as np

from ..base import validate


def optimal_baseline(scores, returns, weights=None) -> np.ndarray:
    """``b_k = E[(d_k log pi)^2 G] / E[(d_k log pi)^2]`` per parameter component ``k``, eq. (eq-optimal-baseline).

    (Chapter 7, §7.3.) ``scores`` has shape ``(N, d)`` (one score vector per outcome), ``returns`` shape
    ``(N,)``; ``weights`` (default uniform) are the outcomes' probabilities, normalised here. With exact
    probabilities, whose expected score is zero, ``b_k`` minimises the variance of component ``k`` of the
    estimate ``score (G - b)``; a component whose score is zero on every outcome gets ``b_k = 0``.
    """
    returns = validate.array(returns, "returns", ndim=1)
    scores = validate.array(scores, "scores", shape=(len(returns), None))
    if weights is None:
        weights = np.ones(len(returns))
    weights = validate.array(weights, "weights", shape=(len(returns),))
    if np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    weights = weights / weights.sum()
    second_moment = weights @ scores**2  # E[(d_k log pi)^2]
    with np.errstate(invalid="ignore", divide="ignore"):
        b = (weights * returns) @ scores**2 / second_moment
    return np.where(second_moment > 0, b, 0.0)


def leave_one_out_baseline(returns) -> np.ndarray:
    """``b_i = (sum_j G_j - G_i) / (N - 1)``: the mean of the *other* returns, eq. (eq-leave-one-out).

    (Chapter 7, §7.3.) Independent of sample ``i``, so ``E[score_i (G_i - b_i)] = grad J`` exactly, where the
    batch mean (own return included) would shrink it by ``1 - 1/N``. Needs ``N >= 2`` returns.
    """
    returns = validate.array(returns, "returns", ndim=1)
    if len(returns) < 2:
        raise ValueError(f"returns needs at least 2 entries (the others' mean), got {len(returns)}")
    return (returns.sum() - returns) / (len(returns) - 1)
