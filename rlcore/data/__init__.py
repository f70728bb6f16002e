"""Layer 5, data: on-policy rollouts from vector environments and a replay buffer."""

from .replay import ReplayBuffer
from .rollouts import Rollout, RolloutCollector

__all__ = ["ReplayBuffer", "Rollout", "RolloutCollector"]
