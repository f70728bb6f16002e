"""Discounted returns and rewards-to-go of recorded episodes (Chapter 1, §1.2).

One convention throughout the book (notation appendix): the reward ``r_t`` belongs to the
pair ``(s_t, a_t)``, and ``G_t = sum_{k >= t} gamma^{k-t} r_k`` is discounted *from t*.
"""

from __future__ import annotations

import numpy as np

from ..base import validate


def discounted_return(rewards, gamma: float) -> float:
    """``G_0 = sum_t gamma^t r_t`` for one episode's rewards (Chapter 1, §1.2)."""
    rewards = validate.array(rewards, "rewards", ndim=1)
    gamma = validate.discount(gamma)
    return float(np.sum(gamma ** np.arange(len(rewards)) * rewards))


def rewards_to_go(rewards, dones, gamma: float) -> np.ndarray:
    """``G_t = r_t + gamma (1 - done_t) G_{t+1}``, eq. (eq-rewards-to-go), over concatenated episodes (Chapter 1, §1.2).

    ``dones[t]`` is true when the episode ends after step ``t``; the return restarts there
    and nothing is bootstrapped past the end of the array.
    """
    rewards = validate.array(rewards, "rewards", ndim=1)
    dones = validate.array(dones, "dones", shape=rewards.shape, dtype=bool)
    gamma = validate.discount(gamma)
    G = np.zeros_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * (0.0 if dones[t] else running)
        G[t] = running
    return G
