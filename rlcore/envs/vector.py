"""Vector environments for the deep-RL chapters (Chapter 7 onwards; next-step autoreset in Chapter 8).

Every on-policy algorithm in the book steps ``N`` copies of an environment at once through
``gymnasium.make_vec``. CartPole uses Gymnasium's numpy-vectorised implementation (one array
operation steps all copies); other environments run as a synchronous vector of single ones.

Autoreset mode: **next-step** (Gymnasium 1.x's default, and the only mode the numpy CartPole
supports). When copy ``i`` ends at step ``t``, the observation returned at ``t`` is the episode's
true final observation; the *next* call to ``step`` ignores copy ``i``'s action, resets it and
returns its new first observation with reward 0. :mod:`rlcore.rollouts` marks that reset step as
not a transition, so no transition ever straddles two episodes.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from ..base import validate


def make_vec_env(env_id: str, num_envs: int, seed: int | None = None, **kwargs) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env_id``, numpy-vectorised where possible, reset with ``seed`` (Chapter 8, §8.5).
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a Gymnasium id such as 'CartPole-v1', got {env_id!r}")
    num_envs = validate.integer(num_envs, "num_envs", low=1)
    if seed is not None:
        seed = validate.integer(seed, "seed", low=0)
    try:
        spec = gym.spec(env_id)
    except gym.error.Error as err:
        raise ValueError(f"env_id={env_id!r} is not a registered Gymnasium environment ({err})") from None
    mode = "vector_entry_point" if spec.vector_entry_point is not None and not kwargs.get("render_mode") else "sync"
    if mode == "sync":
        envs = gym.make_vec(env_id, num_envs=int(num_envs), vectorization_mode="sync",
                            vector_kwargs={"autoreset_mode": AutoresetMode.NEXT_STEP}, **kwargs)
    else:
        envs = gym.make_vec(env_id, num_envs=int(num_envs), vectorization_mode=mode, **kwargs)
    check_vec_env(envs)
    envs.reset(seed=seed)
    return envs


def check_vec_env(envs) -> None:
    """Raise a clear error unless ``envs`` is a next-step-autoreset vector env of Box observations (Chapter 8, §8.5)."""
    if not isinstance(envs, gym.vector.VectorEnv):
        raise TypeError(f"envs must be a gymnasium.vector.VectorEnv (see make_vec_env), got {type(envs).__name__}")
    mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode != AutoresetMode.NEXT_STEP:
        raise ValueError(f"envs must use autoreset_mode=NEXT_STEP (Gymnasium's default), got {mode}")
    obs_space = envs.single_observation_space
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        raise ValueError(f"rlcore's networks need flat Box observations, got {obs_space}")
    if not isinstance(envs.single_action_space, (gym.spaces.Discrete, gym.spaces.Box)):
        raise ValueError(f"actions must be Discrete or Box, got {envs.single_action_space}")


def space_dims(envs) -> tuple[int, int, bool]:
    """``(obs_dim, action_dim, discrete)``; for discrete actions ``action_dim`` is their number (Chapter 8, §8.5)."""
    check_vec_env(envs)
    space = envs.single_action_space
    discrete = isinstance(space, gym.spaces.Discrete)
    action_dim = int(space.n) if discrete else int(np.prod(space.shape))
    return int(envs.single_observation_space.shape[0]), action_dim, discrete
