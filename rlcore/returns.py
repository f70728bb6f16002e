"""Discounted returns and rewards-to-go (Chapter 1).

One convention throughout the book (notation appendix): the reward ``r_t`` belongs to the
pair ``(s_t, a_t)``, and ``G_t = sum_{k >= t} gamma^{k-t} r_k`` is discounted *from t*.
"""

from __future__ import annotations

import numpy as np


def _check_gamma(gamma: float) -> float:
    gamma = float(gamma)
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    return gamma


def discounted_return(rewards, gamma: float) -> float:
    """``G_0 = sum_t gamma^t r_t`` for one episode's rewards (Chapter 1, eq. 1.2)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    if rewards.ndim != 1:
        raise ValueError(f"rewards must be 1-D (one episode), got shape {rewards.shape}")
    gamma = _check_gamma(gamma)
    return float(np.sum(gamma ** np.arange(len(rewards)) * rewards))


def rewards_to_go(rewards, dones, gamma: float) -> np.ndarray:
    """``G_t = r_t + gamma (1 - done_t) G_{t+1}`` over a stream of concatenated episodes.

    ``dones[t]`` is true when the episode ends after step ``t``; the return restarts there
    and nothing is bootstrapped past the end of the array (Chapter 1, eq. 1.3).
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.asarray(dones)
    if rewards.ndim != 1 or dones.shape != rewards.shape:
        raise ValueError(f"rewards and dones must be 1-D of equal length, got {rewards.shape} and {dones.shape}")
    gamma = _check_gamma(gamma)
    G = np.zeros_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * (0.0 if dones[t] else running)
        G[t] = running
    return G
