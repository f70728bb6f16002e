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


# --------------------------------------------------------------------------------------------
# Batched estimators for rollouts of shape (T, N): T steps of N parallel environments.
#
# ``next_values[t]`` is V(s_{t+1}) for the *true* successor of step t: on a truncated step that
# is the value of the episode's real final observation, not of the next episode's first one.
# A terminated step never bootstraps (the value of a terminal state is zero); a truncated step
# always does (the episode was cut by a time limit, the state still had a future). Chapter 8.
# --------------------------------------------------------------------------------------------


def _check_batch(rewards, values, next_values, terminated, truncated):
    rewards = np.asarray(rewards)
    arrays = {"values": values, "next_values": next_values, "terminated": terminated, "truncated": truncated}
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    if rewards.ndim not in (1, 2):
        raise ValueError(f"rewards must have shape (T,) or (T, N), got {rewards.shape}")
    for name, a in arrays.items():
        if a.shape != rewards.shape:
            raise ValueError(f"{name} must have the shape of rewards {rewards.shape}, got {a.shape}")
    dtype = np.result_type(rewards.dtype, arrays["values"].dtype, np.float32)
    return (rewards.astype(dtype, copy=False), arrays["values"].astype(dtype, copy=False),
            arrays["next_values"].astype(dtype, copy=False), arrays["terminated"].astype(bool),
            arrays["truncated"].astype(bool))


def td_errors(rewards, values, next_values, terminated, gamma: float) -> np.ndarray:
    """``delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t)`` (Chapter 8, eq. 8.4)."""
    gamma = _check_gamma(gamma)
    return rewards + gamma * (1.0 - np.asarray(terminated, dtype=rewards.dtype)) * next_values - values


def gae(rewards, values, next_values, terminated, truncated, gamma: float, lam: float) -> np.ndarray:
    """Generalised advantage estimates ``A_t = sum_l (gamma lam)^l delta_{t+l}`` within an episode.

    Backward recursion (Chapter 8, eq. 8.9): ``A_t = delta_t + gamma lam (1 - done_t) A_{t+1}``,
    where ``done_t = terminated_t or truncated_t`` stops the sum at every episode end, and the last
    row of the array bootstraps through ``next_values`` alone. ``lam = 0`` gives the TD error,
    ``lam = 1`` the Monte Carlo return minus ``V(s_t)``. Value targets are ``A_t + V(s_t)``.
    """
    rewards, values, next_values, terminated, truncated = _check_batch(
        rewards, values, next_values, terminated, truncated)
    lam = float(lam)
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    delta = td_errors(rewards, values, next_values, terminated, gamma)
    carry = gamma * lam * (1.0 - (terminated | truncated).astype(rewards.dtype))
    advantages = np.zeros_like(delta)
    running = np.zeros_like(delta[0])
    for t in range(len(delta) - 1, -1, -1):
        running = delta[t] + carry[t] * running
        advantages[t] = running
    return advantages


def n_step_returns(rewards, values, next_values, terminated, truncated, gamma: float, n: int) -> np.ndarray:
    """``G^(n)_t = r_t + ... + gamma^(k-1) r_{t+k-1} + gamma^k V(s_{t+k})`` with ``k <= n`` (Chapter 8).

    The sum stops early at an episode end (``k`` is then the number of steps to it, and the
    bootstrap is dropped if the end was a termination) and at the end of the array.
    ``n = 1`` is the TD target; ``n >= T`` gives the bootstrapped Monte Carlo return.
    """
    rewards, values, next_values, terminated, truncated = _check_batch(
        rewards, values, next_values, terminated, truncated)
    gamma = _check_gamma(gamma)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    T = len(rewards)
    G = np.empty_like(rewards)
    for t in range(T):
        ret = np.zeros_like(rewards[0])
        discount = np.ones_like(rewards[0])
        open_ = np.ones(rewards[0].shape, dtype=bool)  # episode of step t not yet ended
        for k in range(min(n, T - t)):
            s = t + k
            ret = ret + open_ * discount * rewards[s]
            discount = discount * gamma
            last = (k == min(n, T - t) - 1)
            ends = open_ & (terminated[s] | truncated[s] | last)
            ret = ret + ends * discount * (1.0 - terminated[s]) * next_values[s]
            open_ = open_ & ~ends
        G[t] = ret
    return G


def bootstrapped_returns(rewards, next_values, terminated, truncated, gamma: float) -> np.ndarray:
    """Reward-to-go within each episode, bootstrapped from V at truncations and at the array's end.

    ``G_t = r_t + gamma (1 - terminated_t) [V(s_{t+1}) if truncated_t or t = T-1 else G_{t+1}]``:
    the Monte Carlo targets of REINFORCE with a critic (Chapter 7) made correct under time limits.
    """
    rewards, _, next_values, terminated, truncated = _check_batch(
        rewards, next_values, next_values, terminated, truncated)
    gamma = _check_gamma(gamma)
    G = np.empty_like(rewards)
    following = next_values[-1]  # what step T-1 looks up: V(s_T)
    for t in range(len(rewards) - 1, -1, -1):
        following = np.where(truncated[t] | (t == len(rewards) - 1), next_values[t], following)
        G[t] = rewards[t] + gamma * (1.0 - terminated[t]) * following
        following = G[t]
    return G
