"""Every trajectory of a small MDP, with its probability: exact means and covariances of policy-gradient
estimators (Chapter 7, §7.2).

With ``S`` states, ``A`` actions and horizon ``H`` there are ``|support(rho0)| (A S)^H`` trajectories at
most, so this is for tiny MDPs only; there it replaces sampling by exact expectations, and the variance
of an estimator becomes a number, not an estimate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..base import validate
from .mdp import FiniteMDP, as_policy


@dataclass
class Trajectories:
    """All trajectories of horizon ``H``: ``prob[k]``, ``states[k, t]``, ``actions[k, t]``, ``rewards[k, t]``.

    (Chapter 7, §7.2.)
    """

    prob: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray


def enumerate_trajectories(mdp: FiniteMDP, pi, horizon: int, limit: int = 200_000) -> Trajectories:
    """Every trajectory ``(s_0, a_0, ..., s_{H-1}, a_{H-1})`` with positive probability under ``pi`` (Chapter 7, §7.2).

    Rewards are the expected rewards ``r(s_t, a_t)``; the episode is cut after ``H`` steps.
    """
    if not isinstance(mdp, FiniteMDP):
        raise TypeError(f"mdp must be a FiniteMDP, got {type(mdp).__name__}")
    pi = as_policy(pi, mdp.n_states, mdp.n_actions)
    horizon = validate.integer(horizon, "horizon", low=1)
    S, A = mdp.n_states, mdp.n_actions
    count = int(np.count_nonzero(mdp.rho0)) * (S * A) ** horizon
    if count > validate.integer(limit, "limit", low=1):
        raise ValueError(f"{count} trajectories exceed limit={limit}; use a smaller MDP or horizon")
    probs, states, actions = [], [], []
    for s0 in np.flatnonzero(mdp.rho0):
        for steps in itertools.product(range(A), range(S), repeat=horizon):
            acts = steps[0::2]
            nexts = steps[1::2]
            path = (s0, *nexts[:-1])
            p = mdp.rho0[s0]
            for t in range(horizon):
                p *= pi[path[t], acts[t]]
                if t < horizon - 1:
                    p *= mdp.P[path[t], acts[t], path[t + 1]]
            if p > 0 and nexts[-1] == 0:  # the state after the last step is irrelevant: count each path once
                probs.append(p)
                states.append(path)
                actions.append(acts)
    states, actions = np.array(states, dtype=np.int64), np.array(actions, dtype=np.int64)
    return Trajectories(np.array(probs), states, actions, mdp.r[states, actions])


def moments(trajectories: Trajectories, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and covariance of a per-trajectory quantity ``values[k]`` (flattened) (Chapter 7, §7.2)."""
    x = np.asarray(values, dtype=np.float64).reshape(len(trajectories.prob), -1)
    mean = trajectories.prob @ x
    centred = x - mean
    return mean, (trajectories.prob[:, None] * centred).T @ centred


def policy_gradient_terms(theta, trajectories: Trajectories, weights) -> np.ndarray:
    """``sum_t psi_t grad log pi(a_t|s_t)`` for every trajectory, shape ``(K, S, A)`` (Chapter 7, §7.2).

    ``weights[k, t] = psi_t`` of trajectory ``k`` (a return, an advantage, with or without ``gamma^t``:
    eq. (eq-pg-general)); tabular softmax logits ``theta``, whose score is ``e_a - pi(.|s)`` in row ``s``.
    """
    from .policy_gradient import softmax_policy

    theta = validate.array(theta, "theta", ndim=2)
    K, H = trajectories.states.shape
    weights = validate.array(weights, "weights", shape=(K, H))
    pi = softmax_policy(theta)
    out = np.zeros((K,) + theta.shape)
    eye = np.eye(theta.shape[1])
    for t in range(H):
        s, a = trajectories.states[:, t], trajectories.actions[:, t]
        np.add.at(out, (np.arange(K), s), weights[:, t, None] * (eye[a] - pi[s]))
    return out


def rewards_to_go(trajectories: Trajectories, gamma: float) -> np.ndarray:
    """``G_t = sum_{k >= t} gamma^(k-t) r_k`` of every enumerated trajectory, shape ``(K, H)`` (Chapter 7, §7.1)."""
    gamma = validate.real(gamma, "gamma", low=0.0, high=1.0)
    rewards = trajectories.rewards
    G = np.zeros_like(rewards)
    running = np.zeros(len(rewards))
    for t in reversed(range(rewards.shape[1])):
        running = rewards[:, t] + gamma * running
        G[:, t] = running
    return G


def gae_advantages(trajectories: Trajectories, values, gamma: float, lam: float) -> np.ndarray:
    """GAE(``lam``) advantages ``sum_l (gamma lam)^l delta_{t+l}`` of every enumerated trajectory, ``(K, H)``
    (Chapter 8, §8.4).

    ``values`` is the critic: ``(S,)`` (the same at every step) or ``(H, S)`` (time-dependent, ``values[t, s]``);
    ``delta_t = r_t + gamma V(s_{t+1}) - V(s_t)``, and the episode terminates after step ``H - 1``, so the
    last TD error bootstraps from 0. ``lam = 0`` gives the TD errors, ``lam = 1`` ``G_t - V(s_t)``.
    """
    gamma = validate.real(gamma, "gamma", low=0.0, high=1.0)
    lam = validate.real(lam, "lam", low=0.0, high=1.0)
    K, H = trajectories.states.shape
    V = validate.array(values, "values", ndim=(1, 2))
    V = np.broadcast_to(V, (H, V.shape[-1])) if V.ndim == 1 else V
    if V.shape[0] != H:
        raise ValueError(f"values must have shape (S,) or ({H}, S), got {np.shape(values)}")
    steps = np.arange(H)
    current = V[steps, trajectories.states]
    following = np.zeros((K, H))
    following[:, :-1] = V[steps[1:], trajectories.states[:, 1:]]  # V(s_{t+1}); 0 after the last step
    delta = trajectories.rewards + gamma * following - current
    advantages = np.zeros_like(delta)
    running = np.zeros(K)
    for t in reversed(range(H)):
        running = delta[:, t] + gamma * lam * running
        advantages[:, t] = running
    return advantages


def reinforce_terms(theta, trajectories: Trajectories, gamma: float, estimator: str = "reward_to_go",
                    gamma_t: bool = True, baseline=None) -> np.ndarray:
    """The single-trajectory policy-gradient estimate of every trajectory, shape ``(K, S, A)`` (Chapter 7, §7.2).

    ``estimator="full"``: ``R(tau) sum_t grad log pi(a_t|s_t)``; ``"reward_to_go"``:
    ``sum_t c_t (G_t - b_t(s_t)) grad log pi(a_t|s_t)`` with ``c_t = gamma^t`` (or 1 when ``gamma_t`` is
    False) and a baseline ``b`` of shape ``(S,)`` or, time-dependent, ``(H, S)`` (default 0). Tabular softmax
    logits ``theta``.
    """
    theta = validate.array(theta, "theta", ndim=2)
    if estimator not in ("full", "reward_to_go"):
        raise ValueError(f"estimator must be 'full' or 'reward_to_go', got {estimator!r}")
    K, H = trajectories.states.shape
    G = rewards_to_go(trajectories, gamma)
    if estimator == "full":
        return policy_gradient_terms(theta, trajectories, np.repeat(G[:, :1], H, axis=1))
    S = theta.shape[0]
    b = np.zeros((H, S)) if baseline is None else validate.array(baseline, "baseline", ndim=(1, 2))
    if b.shape not in ((S,), (H, S)):
        raise ValueError(f"baseline must have shape ({S},) or ({H}, {S}), got {b.shape}")
    b = np.broadcast_to(b, (H, S))
    discounts = gamma ** np.arange(H) if gamma_t else np.ones(H)
    weights = discounts * (G - b[np.arange(H), trajectories.states])
    return policy_gradient_terms(theta, trajectories, weights)
