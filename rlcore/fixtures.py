"""Random problems shared by the derivation checks, the exercise checkers and the tests (numpy only).

One place for them, so that a check, a checker and a test of the same identity draw the same
kind of instance: random MDPs and policies (syllabus §3's BOUND fixture) and random rollout
batches with episode ends (Chapter 8's estimators); a softmax policy with its exact surrogate and KL
(Chapter 13's line search).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .base import validate
from .tabular import exact
from .tabular.builders import random_mdp
from .tabular.information import mean_kl
from .tabular.mdp import FiniteMDP, as_policy, random_policy
from .tabular.natural import surrogate
from .tabular.policy_gradient import policy_fisher, softmax_policy, softmax_policy_gradient


def mdp_and_policy(mdp: FiniteMDP | None = None, pi=None, seed: int = 0,
                   shape: tuple[int, int] = (5, 3), gamma: float = 0.9):
    """``(mdp, pi, rng)``: the given ones, or a random ``shape`` MDP and a Dirichlet policy (Chapter 1, §1.3)."""
    rng = np.random.default_rng(validate.integer(seed, "seed", low=0))
    mdp = random_mdp(*shape, gamma=gamma, seed=seed) if mdp is None else mdp
    pi = random_policy(mdp, rng) if pi is None else as_policy(pi, mdp.n_states, mdp.n_actions)
    return mdp, pi, rng


def random_instances(count: int, seed: int, states: tuple[int, int] = (2, 6), actions: tuple[int, int] = (2, 4),
                     gammas: tuple[float, float] = (0.5, 0.99)
                     ) -> Iterator[tuple[FiniteMDP, np.ndarray, np.random.Generator]]:
    """``count`` random ``(mdp, pi, rng)`` (Chapter 1, §1.3).

    S and A uniform in the closed ranges, gamma uniform, Dirichlet(0.5) transitions.

    The fixture of every bound checked "on many random MDPs" (syllabus §3, BOUND).
    """
    count = validate.integer(count, "count", low=0)
    rng = np.random.default_rng(validate.integer(seed, "seed", low=0))
    for i in range(count):
        S, A = int(rng.integers(states[0], states[1] + 1)), int(rng.integers(actions[0], actions[1] + 1))
        mdp = random_mdp(S, A, gamma=float(rng.uniform(*gammas)), seed=seed * 100_003 + i)
        yield mdp, random_policy(mdp, rng), rng


def random_rollout_batch(rng: np.random.Generator, T: int = 12, N: int = 3, p_end: float = 0.25):
    """``(rewards, values, next_values, terminated, truncated)``, shape ``(T, N)``, random ends (Chapter 8, §8.5).

    After an episode end the successor of step ``t`` is the episode's final observation, whose
    value is drawn afresh rather than copied from ``values[t + 1]`` (the next episode's start).
    """
    validate.generator(rng)
    rewards = rng.normal(size=(T, N))
    values = rng.normal(size=(T, N))
    next_values = np.vstack([values[1:], rng.normal(size=(1, N))])
    ended = rng.random((T, N)) < p_end
    terminated = ended & (rng.random((T, N)) < 0.5)
    truncated = ended & ~terminated
    next_values = np.where(ended, rng.normal(size=(T, N)), next_values)
    return rewards, values, next_values, terminated, truncated


def line_search_setting(seed: int = 58):
    """A random tabular MDP, softmax logits, and the natural direction with its exact surrogate and mean KL as
    functions of the logits (Chapter 13, §13.3)."""
    mdp = random_mdp(4, 3, gamma=0.9, seed=seed)
    theta = np.random.default_rng(seed).normal(size=(4, 3))
    old = softmax_policy(theta)
    d = exact.occupancy(mdp, old)

    def kl(t):
        return mean_kl(d, old, softmax_policy(np.asarray(t).reshape(theta.shape)))

    def gain(t):
        return surrogate(mdp, theta, np.asarray(t).reshape(theta.shape))

    g = softmax_policy_gradient(mdp, theta).ravel()
    return theta, g, policy_fisher(mdp, theta), kl, gain
