"""Layer 6, training: optimisers and gradient clipping, configs, the on-policy and off-policy loops,
the agent with save and load, measuring returns, and divergence detection."""

from .agent import Agent
from .config import OnPolicyConfig, configure
from .divergence import TrainingDiverged
from .evaluation import episode_returns
from .offpolicy import OffPolicyConfig, polyak_update_, train_offpolicy
from .onpolicy import collect_batch, make_actor_critic, train_onpolicy
from .optim import Adam, clip_grad_norm_, make_optimizer

__all__ = ["Adam", "Agent", "OffPolicyConfig", "OnPolicyConfig", "TrainingDiverged", "clip_grad_norm_",
           "collect_batch", "configure", "episode_returns", "make_actor_critic", "make_optimizer", "polyak_update_",
           "train_offpolicy", "train_onpolicy"]
