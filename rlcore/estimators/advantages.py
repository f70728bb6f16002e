"""TD errors, n-step returns and GAE over rollouts of ``N`` parallel environments (Chapter 8).

Arrays have shape ``(T, N)``: ``T`` steps of ``N`` environments (or ``(T,)`` for one).
``next_values[t]`` is ``V(s_{t+1})`` for the *true* successor of step ``t``: on a truncated step
that is the value of the episode's real final observation, not of the next episode's first one.
A terminated step never bootstraps (the value of a terminal state is zero); a truncated step
always does (the episode was cut by a time limit, the state still had a future).
"""

from __future__ import annotations

import numpy as np

from ..base import validate


def _check_batch(rewards, values, next_values, terminated, truncated):
    """Validate a batch: finite numbers of one shape ``(T,)`` or ``(T, N)``, boolean episode ends."""
    rewards = validate.array(rewards, "rewards", ndim=(1, 2), dtype=np.result_type(np.asarray(rewards), np.float32))
    if len(rewards) == 0:
        raise ValueError("rewards must hold at least one step, got shape (0, ...)")
    dtype = rewards.dtype
    values = validate.array(values, "values", shape=rewards.shape, dtype=dtype)
    next_values = validate.array(next_values, "next_values", shape=rewards.shape, dtype=dtype)
    terminated = _flags(terminated, "terminated", rewards.shape)
    truncated = _flags(truncated, "truncated", rewards.shape)
    return rewards, values, next_values, terminated, truncated


def _flags(x, name: str, shape) -> np.ndarray:
    """0/1 or boolean episode-end flags, as booleans (2 or 0.5 are rejected, not cast)."""
    arr = validate.array(x, name, shape=shape, dtype=np.asarray(x).dtype)
    if arr.dtype != bool and not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold booleans or 0/1, got values {np.unique(arr)[:5]}")
    return arr.astype(bool)


def td_errors(rewards, values, next_values, terminated, gamma: float) -> np.ndarray:
    """``delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t)``, eq. (eq-td-error) (Chapter 8, §8.1)."""
    rewards, values, next_values, terminated, _ = _check_batch(rewards, values, next_values, terminated,
                                                               np.zeros(np.shape(rewards), bool))
    gamma = validate.discount(gamma)
    return _td_errors(rewards, values, next_values, terminated, gamma)


def _td_errors(rewards, values, next_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated.astype(rewards.dtype)) * next_values - values


def gae(rewards, values, next_values, terminated, truncated, gamma: float, lam: float) -> np.ndarray:
    """Generalised advantage estimates ``A_t = sum_l (gamma lam)^l delta_{t+l}`` within an episode (Chapter 8, §8.3).

    Backward recursion: ``A_t = delta_t + gamma lam (1 - done_t) A_{t+1}``, where
    ``done_t = terminated_t or truncated_t`` stops the sum at every episode end, and the last
    row of the array bootstraps through ``next_values`` alone. ``lam = 0`` gives the TD error,
    ``lam = 1`` the Monte Carlo return minus ``V(s_t)``. Value targets are ``A_t + V(s_t)``.
    """
    rewards, values, next_values, terminated, truncated = _check_batch(
        rewards, values, next_values, terminated, truncated)
    gamma, lam = validate.discount(gamma), validate.real(lam, "lam", low=0.0, high=1.0)
    delta = _td_errors(rewards, values, next_values, terminated, gamma)
    carry = gamma * lam * (1.0 - (terminated | truncated).astype(rewards.dtype))
    advantages = np.zeros_like(delta)
    running = np.zeros_like(delta[0])
    for t in range(len(delta) - 1, -1, -1):
        running = delta[t] + carry[t] * running
        advantages[t] = running
    return advantages


def lambda_averaged_advantages(rewards, values, next_values, terminated, truncated, gamma: float,
                               lam: float) -> np.ndarray:
    """GAE by its definition: the ``lam``-weighted average of the k-step advantages, eq. (eq-gae-average)
    (Chapter 8, §8.3).

    ``A_t = (1 - lam) sum_{k < n} lam^(k-1) A^(k)_t + lam^(n-1) A^(n)_t``, where ``n`` is the number of steps
    from ``t`` to the end of its episode (or of the array) and ``A^(k)_t = r_t + ... + gamma^(k-1) r_{t+k-1}
    + gamma^k V(s_{t+k}) - V(s_t)``, the bootstrap taken from ``values`` inside the episode and from
    ``next_values`` (zero after a termination) at its end. ``O(T^2)`` and loop-based: the slow route that
    :func:`gae` is checked against. 1-D arrays only.
    """
    rewards, values, next_values, terminated, truncated = _check_batch(
        rewards, values, next_values, terminated, truncated)
    if rewards.ndim != 1:
        raise ValueError(f"lambda_averaged_advantages takes one environment, shape (T,); got {rewards.shape}")
    gamma, lam = validate.discount(gamma), validate.real(lam, "lam", low=0.0, high=1.0)
    T = len(rewards)
    out = np.zeros(T)
    for t in range(T):
        end = t
        while end < T - 1 and not (terminated[end] or truncated[end]):
            end += 1
        n = end - t + 1
        total = 0.0
        for k in range(1, n + 1):
            ret = sum(gamma**i * rewards[t + i] for i in range(k))
            bootstrap = values[t + k] if k < n else (0.0 if terminated[end] else next_values[end])
            advantage = ret + gamma**k * bootstrap - values[t]
            total += ((1 - lam) * lam ** (k - 1) if k < n else lam ** (n - 1)) * advantage
        out[t] = total
    return out


def n_step_returns(rewards, values, next_values, terminated, truncated, gamma: float, n: int) -> np.ndarray:
    """``G^(n)_t = r_t + ... + gamma^(k-1) r_{t+k-1} + gamma^k V(s_{t+k})`` with ``k <= n`` (Chapter 8, §8.2).

    The sum stops early at an episode end (``k`` is then the number of steps to it, and the
    bootstrap is dropped if the end was a termination) and at the end of the array.
    ``n = 1`` is the TD target; ``n >= T`` gives the bootstrapped Monte Carlo return.
    """
    rewards, values, next_values, terminated, truncated = _check_batch(
        rewards, values, next_values, terminated, truncated)
    gamma, n = validate.discount(gamma), validate.integer(n, "n", low=1)
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
    """Reward-to-go within each episode, bootstrapped from V at truncations and at the array's end (Chapter 8, §8.2).

    ``G_t = r_t + gamma (1 - terminated_t) [V(s_{t+1}) if truncated_t or t = T-1 else G_{t+1}]``:
    the Monte Carlo targets of REINFORCE with a critic, made correct under time limits.
    """
    rewards, _, next_values, terminated, truncated = _check_batch(
        rewards, next_values, next_values, terminated, truncated)
    gamma = validate.discount(gamma)
    G = np.empty_like(rewards)
    following = next_values[-1]  # what step T-1 looks up: V(s_T)
    for t in range(len(rewards) - 1, -1, -1):
        following = np.where(truncated[t] | (t == len(rewards) - 1), next_values[t], following)
        G[t] = rewards[t] + gamma * (1.0 - terminated[t]) * following
        following = G[t]
    return G


def normalize_advantages(advantages, eps: float = 1e-8):
    """``(A - mean A) / (std A + eps)``, std with Bessel's correction (Chapter 7, §7.5; Chapter 14, §14.4).

    Works on numpy arrays and torch tensors alike (duck-typed, so this module needs no torch).
    One advantage alone is returned unchanged: its standard deviation is undefined.
    """
    if len(advantages) < 2:
        return advantages
    if isinstance(advantages, np.ndarray):  # np.std's arithmetic in fewer calls (PPO normalises every minibatch)
        centred = advantages - advantages.sum() / advantages.size
        return centred / (np.sqrt(np.vdot(centred, centred) / (advantages.size - 1)) + eps)
    return (advantages - advantages.mean()) / (advantages.std() + eps)  # torch: unbiased by default
