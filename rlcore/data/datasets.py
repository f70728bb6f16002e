"""Datasets for learning from people: demonstrations (Chapter 18) and preferences between segments (Chapter 19)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..base import validate


@dataclass
class Demonstrations:
    """Expert ``(observation, action)`` pairs for behavioural cloning and DAgger (Chapter 18)."""

    obs: np.ndarray  #: (M, obs_dim) float32
    actions: np.ndarray  #: (M,) integers or (M, action_dim) floats

    def __post_init__(self):
        self.obs = validate.array(self.obs, "obs", ndim=2, dtype=np.float32)
        raw = np.asarray(self.actions)
        if raw.ndim == 1:
            self.actions = validate.integer_array(raw, "actions", low=0, shape=(len(self.obs),))
        else:
            self.actions = validate.array(raw, "actions", shape=(len(self.obs), None), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.obs)

    def extend(self, obs, actions) -> Demonstrations:
        """A new dataset with the pairs added (DAgger's aggregation step) (Chapter 18)."""
        more = Demonstrations(obs, actions)
        if more.obs.shape[1:] != self.obs.shape[1:] or more.actions.shape[1:] != self.actions.shape[1:]:
            raise ValueError(f"obs and actions must match the dataset's shapes {self.obs.shape[1:]} and "
                             f"{self.actions.shape[1:]}, got {more.obs.shape[1:]} and {more.actions.shape[1:]}")
        return Demonstrations(np.concatenate([self.obs, more.obs]), np.concatenate([self.actions, more.actions]))

    def minibatches(self, batch_size: int, rng: np.random.Generator, device: torch.device | str = "cpu"):
        """One shuffled pass over the pairs, as tensors (Chapter 18)."""
        batch_size = validate.integer(batch_size, "batch_size", low=1)
        order = validate.generator(rng).permutation(len(self))
        for start in range(0, len(self), batch_size):
            idx = order[start:start + batch_size]
            yield torch.as_tensor(self.obs[idx], device=device), torch.as_tensor(self.actions[idx], device=device)


@dataclass
class Preferences:
    """Pairs of trajectory segments and which one a person preferred (Chapter 19).

    ``label[i] = 1`` means segment ``first[i]`` was preferred, ``0`` the second, ``0.5`` a tie
    (the Bradley-Terry targets of Christiano et al., 2017).
    """

    first: np.ndarray  #: (K, L, feature_dim): the first segment of each pair, L steps of features
    second: np.ndarray  #: (K, L, feature_dim)
    label: np.ndarray  #: (K,) in {0, 0.5, 1}

    def __post_init__(self):
        self.first = validate.array(self.first, "first", ndim=3, dtype=np.float32)
        self.second = validate.array(self.second, "second", shape=self.first.shape, dtype=np.float32)
        self.label = validate.array(self.label, "label", shape=(len(self.first),))
        if not np.all(np.isin(self.label, (0.0, 0.5, 1.0))):
            raise ValueError(f"label must hold 0, 0.5 or 1, got values {np.unique(self.label)[:5]}")

    def __len__(self) -> int:
        return len(self.label)

    def minibatches(self, batch_size: int, rng: np.random.Generator, device: torch.device | str = "cpu"):
        """One shuffled pass: ``(first, second, label)`` tensors (Chapter 19)."""
        batch_size = validate.integer(batch_size, "batch_size", low=1)
        order = validate.generator(rng).permutation(len(self))
        for start in range(0, len(self), batch_size):
            idx = order[start:start + batch_size]
            yield tuple(torch.as_tensor(a[idx], device=device) for a in (self.first, self.second, self.label))
