"""Collecting experience from vector environments (Chapter 7; truncation in Chapter 8).

A :class:`Rollout` holds ``T`` steps of ``N`` environments as numpy arrays indexed ``[t, env]``.
Observations and values have one row more than the rest: ``obs[T]`` is where the next rollout
starts and ``values[T]`` bootstraps it. With next-step autoreset (see :mod:`rlcore.envs`), the
row after an episode's last step holds that episode's *true final observation*, so
``values[t + 1]`` is always ``V`` of the true successor of step ``t``, truncated or not. That
row is the environment's reset step, which is no transition at all: ``valid`` is False there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..base import validate
from ..envs.vector import check_vec_env


@dataclass
class Rollout:
    """``T`` steps of ``N`` environments (Chapter 8, §8.5)."""

    obs: np.ndarray  #: (T+1, N, obs_dim)
    actions: np.ndarray  #: (T, N) integers or (T, N, act_dim) floats, as sampled (before clipping to bounds)
    log_probs: np.ndarray  #: (T, N): log pi_old(a_t | s_t) at collection
    values: np.ndarray  #: (T+1, N): V(obs) at collection
    rewards: np.ndarray  #: (T, N)
    terminated: np.ndarray  #: (T, N) bool: the episode reached a terminal state at this step
    truncated: np.ndarray  #: (T, N) bool: a time limit cut the episode at this step
    valid: np.ndarray  #: (T, N) bool: False on the reset steps of next-step autoreset

    @property
    def next_values(self) -> np.ndarray:
        """V of the true successor of each step (see the module docstring) (Chapter 8, §8.5)."""
        return self.values[1:]

    @property
    def final_obs(self) -> np.ndarray:
        """The true final observation of every episode truncated here, shape (k, obs_dim) (Chapter 8, §8.5)."""
        return self.obs[1:][self.truncated]

    @property
    def num_transitions(self) -> int:
        """Valid transitions in this rollout (Chapter 8, §8.5)."""
        return int(self.valid.sum())

    def transitions(self, device: torch.device | str = "cpu", **per_step: np.ndarray) -> dict[str, torch.Tensor]:
        """The valid transitions as flat tensors on ``device`` (Chapter 8, §8.5).

        Fields: obs, actions, log_probs, values, plus ``per_step``.

        ``per_step`` arrays (advantages, returns, ...) have shape (T, N) like the rewards.
        """
        mask = self.valid
        for name, v in per_step.items():
            if np.shape(v) != mask.shape:
                raise ValueError(f"{name} must have the rollout's shape (T, N) = {mask.shape}, got {np.shape(v)}")
        fields = {"obs": self.obs[:-1], "actions": self.actions, "log_probs": self.log_probs,
                  "values": self.values[:-1], **per_step}
        return {k: torch.as_tensor(v[mask], device=device) for k, v in fields.items()}


class RolloutCollector:
    """Steps ``envs`` with ``policy`` and keeps each environment's episode going between rollouts (Chapter 8, §8.5).

    ``policy`` is one of :mod:`rlcore.nets.inference`'s: ``policy.sync()`` runs before every
    rollout, and ``policy.act(obs) -> (action, log_prob, value)`` takes and returns numpy arrays
    for all ``N`` environments. Finished episodes' undiscounted returns and lengths go to ``episode_returns``
    and ``episode_lengths``; ``steps`` counts valid transitions.
    """

    def __init__(self, envs, policy, num_steps: int):
        check_vec_env(envs)
        for method in ("sync", "act", "value"):
            if not callable(getattr(policy, method, None)):
                raise TypeError(f"policy must have a {method}() method (see rlcore.nets.inference), "
                                f"got {type(policy).__name__}")
        self.envs, self.policy, self.num_steps = envs, policy, validate.integer(num_steps, "num_steps", low=1)
        space = envs.single_action_space
        self.bounds = (space.low, space.high) if hasattr(space, "low") else None
        self.obs, _ = envs.reset()
        self.reset_next = np.zeros(envs.num_envs, dtype=bool)  # this env's next step is a reset step
        self.running_return = np.zeros(envs.num_envs)
        self.running_length = np.zeros(envs.num_envs, dtype=np.int64)
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.steps = 0

    def collect(self) -> Rollout:
        """Step every environment ``num_steps`` times with the policy's current parameters (Chapter 8, §8.5)."""
        self.policy.sync()
        T, N = self.num_steps, self.envs.num_envs
        obs = np.empty((T + 1,) + self.obs.shape, dtype=np.float32)
        values = np.empty((T + 1, N), dtype=np.float32)
        log_probs = np.empty((T, N), dtype=np.float32)
        rewards = np.empty((T, N), dtype=np.float32)
        terminated, truncated, valid = (np.empty((T, N), dtype=bool) for _ in range(3))
        actions = None
        for t in range(T):
            obs[t] = self.obs
            action, log_probs[t], values[t] = self.policy.act(self.obs)
            if actions is None:
                actions = np.empty((T,) + action.shape, dtype=action.dtype)
            actions[t] = action
            env_action = action if self.bounds is None else np.clip(action, *self.bounds)
            self.obs, rewards[t], terminated[t], truncated[t], _ = self.envs.step(env_action)
            valid[t] = ~self.reset_next
            self.reset_next = terminated[t] | truncated[t]
        self._track_episodes(rewards, valid, terminated | truncated)
        obs[T] = self.obs
        values[T] = self.policy.value(self.obs)
        self.steps += int(valid.sum())
        return Rollout(obs, actions, log_probs, values, rewards, terminated, truncated, valid)

    def _track_episodes(self, rewards, valid, ends):
        """Record the episodes that ended in this rollout, in order of ending; carry the others' sums over."""
        steps = np.concatenate([self.running_length[None], valid]).cumsum(0)[1:]
        sums = np.concatenate([self.running_return[None], rewards * valid]).cumsum(0)[1:]  # float64, in step order
        start_sum, start_steps = np.zeros(len(valid[0])), np.zeros(len(valid[0]), dtype=np.int64)
        for t, i in zip(*np.nonzero(ends)):
            self.episode_returns.append(float(sums[t, i] - start_sum[i]))
            self.episode_lengths.append(int(steps[t, i] - start_steps[i]))
            start_sum[i], start_steps[i] = sums[t, i], steps[t, i]
        self.running_return, self.running_length = sums[-1] - start_sum, steps[-1] - start_steps
