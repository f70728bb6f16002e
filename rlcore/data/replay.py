"""A replay buffer for off-policy learning (Chapter 4; Chapters 15-17).

A ring buffer of transitions ``(s, a, r, s', terminated)``. ``s'`` is the *true* successor, so a
transition cut by a time limit still bootstraps from ``V(s')`` or ``Q(s', .)``; only
``terminated`` stops the bootstrap (Chapter 8's rule, the same for every algorithm).
"""

from __future__ import annotations

import numpy as np
import torch

from ..base import validate


class ReplayBuffer:
    """The last ``capacity`` transitions; :meth:`sample` draws a uniform minibatch of them (Chapter 4)."""

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], action_shape: tuple[int, ...] = (),
                 action_dtype=np.int64, seed: int | None = None):
        self.capacity = validate.integer(capacity, "capacity", low=1)
        self.obs = np.zeros((self.capacity, *obs_shape), dtype=np.float32)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros((self.capacity, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=bool)
        self.position, self.size = 0, 0
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    def add(self, obs, actions, rewards, next_obs, terminated) -> None:
        """Store a batch of ``B`` transitions (one per vector-env copy), overwriting the oldest (Chapter 4)."""
        obs = validate.array(obs, "obs", ndim=self.obs.ndim, dtype=np.float32)
        B = len(obs)
        if obs.shape[1:] != self.obs.shape[1:]:
            raise ValueError(f"obs must have shape (B, {', '.join(map(str, self.obs.shape[1:]))}), got {obs.shape}")
        next_obs = validate.array(next_obs, "next_obs", shape=obs.shape, dtype=np.float32)
        actions = validate.array(actions, "actions", shape=(B, *self.actions.shape[1:]), dtype=self.actions.dtype)
        rewards = validate.array(rewards, "rewards", shape=(B,), dtype=np.float32)
        terminated = validate.array(terminated, "terminated", shape=(B,), dtype=bool)
        idx = (self.position + np.arange(B)) % self.capacity
        self.obs[idx], self.next_obs[idx], self.actions[idx] = obs, next_obs, actions
        self.rewards[idx], self.terminated[idx] = rewards, terminated
        self.position = int((self.position + B) % self.capacity)
        self.size = min(self.size + B, self.capacity)

    def sample(self, batch_size: int, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        """``batch_size`` stored transitions drawn uniformly with replacement, as tensors (Chapter 4)."""
        batch_size = validate.integer(batch_size, "batch_size", low=1)
        if self.size == 0:
            raise ValueError("the replay buffer is empty: add transitions before sampling")
        idx = self.rng.integers(0, self.size, size=batch_size)
        fields = {"obs": self.obs, "actions": self.actions, "rewards": self.rewards, "next_obs": self.next_obs,
                  "terminated": self.terminated}
        return {k: torch.as_tensor(v[idx], device=device) for k, v in fields.items()}
