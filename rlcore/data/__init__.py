"""Layer 5, data: on-policy rollouts from vector environments, a replay buffer, demonstration and preference
datasets."""

from .datasets import Demonstrations, Preferences
from .replay import ReplayBuffer
from .rollouts import Rollout, RolloutCollector

__all__ = ["Demonstrations", "Preferences", "ReplayBuffer", "Rollout", "RolloutCollector"]
