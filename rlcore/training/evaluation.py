"""Measuring a policy: undiscounted returns of seeded episodes (Chapter 7, §7.5).

(``rlcore.tabular.exact.evaluate_policy`` is something else: the exact ``V^pi`` of a finite MDP.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..base import validate
from ..envs.vector import make_vec_env


def episode_returns(policy: Callable[[np.ndarray], np.ndarray], env_id: str, episodes: int = 10,
                    seed: int = 10_000, max_steps: int = 100_000) -> np.ndarray:
    """Run ``episodes`` episodes at once (one per vector-env copy); their undiscounted returns (Chapter 7, §7.5).

    ``policy`` maps a batch of observations to a batch of actions; continuous actions are clipped
    to the action space's bounds. The same ``seed`` gives the same start states, so measurements
    of different agents (or of one agent over training) are comparable.
    """
    if not callable(policy):
        raise TypeError(f"policy must be a function from observations to actions, got {type(policy).__name__}")
    episodes = validate.integer(episodes, "episodes", low=1)
    seed, max_steps = validate.integer(seed, "seed", low=0), validate.integer(max_steps, "max_steps", low=1)
    envs = make_vec_env(env_id, episodes, seed=seed)
    space = envs.single_action_space
    obs, _ = envs.reset(seed=seed)
    returns = np.zeros(episodes)
    running = np.ones(episodes, dtype=bool)
    try:
        for _ in range(max_steps):
            action = np.asarray(policy(obs))
            if hasattr(space, "low"):
                action = np.clip(action, space.low, space.high)
            obs, reward, terminated, truncated, _ = envs.step(action)
            returns += reward * running
            running &= ~(terminated | truncated)
            if not running.any():
                break
    finally:
        envs.close()
    return returns
