"""Synchronous advantage actor-critic, A2C (Chapter 8, §8.5; A-28).

Every rollout of ``N`` environments times ``T`` steps gives one gradient step on

    L = -mean A_t log pi_theta(a_t|s_t) + c1 mean (V_phi(s_t) - R_t)^2 - c2 mean H(pi_theta(.|s_t)),

with ``A_t`` from GAE (``gae_lambda = 1``: n-step returns minus ``V``) and ``R_t = A_t + V(s_t)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..envs.vector import make_vec_env, space_dims
from ..estimators.advantages import normalize_advantages
from ..training.agent import Agent
from ..training.config import OnPolicyConfig, configure
from ..training.onpolicy import make_actor_critic, train_onpolicy
from ..training.optim import clip_grad_norm_, make_optimizer


@dataclass
class A2CConfig(OnPolicyConfig):
    """A2C's settings (Chapter 8, §8.5).

    Defaults: a CartPole-v1 configuration that holds greedy returns of 500 from about 10^5 steps.
    """

    num_steps: int = 8
    """T: steps per environment in each rollout (the n of the n-step returns)."""
    total_steps: int = 150_000
    """Environment steps to train for."""
    gamma: float = 0.98
    """Discount factor."""
    gae_lambda: float = 0.9
    """lambda of GAE; 1 gives the classic n-step A2C advantages (noisier on CartPole)."""
    lr: float = 1e-3
    """Learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over training."""
    normalize_advantages: bool = True
    """Standardise each rollout's advantages (without it, CartPole runs often collapse after solving it)."""
    optimizer: str = "adam"
    """"adam" (eps 1e-5) or "rmsprop" (alpha 0.99, eps 1e-5, as the A3C paper and Stable-Baselines3)."""

    def __post_init__(self):
        super().__post_init__()
        self.require(self.optimizer in ("adam", "rmsprop"), "optimizer", "'adam' or 'rmsprop'")


class A2C:
    """A2C's learner: the actor-critic, its optimiser and the generator (Chapter 8, §8.5)."""

    def __init__(self, config: A2CConfig, obs_dim: int, action_dim: int, discrete: bool):
        if not isinstance(config, A2CConfig):
            raise TypeError(f"config must be an A2CConfig, got {type(config).__name__}")
        self.config = config
        self.net, self.generator = make_actor_critic(config, obs_dim, action_dim, discrete)
        self.optimizer = make_optimizer(self.net.parameters(), config.optimizer, config.lr, fast=config.fast)

    def update(self, batch: dict[str, torch.Tensor], progress_remaining: float) -> dict[str, float]:
        """One A2C step on one rollout's ``batch`` (Chapter 8, §8.5)."""
        cfg = self.config
        lr = cfg.lr * (progress_remaining if cfg.anneal_lr else 1.0)
        self.optimizer.param_groups[0]["lr"] = lr
        log_prob, entropy, value = self.net.evaluate_actions(batch["obs"], batch["actions"])
        advantages = normalize_advantages(batch["advantages"]) if cfg.normalize_advantages else batch["advantages"]
        policy_loss = -(advantages * log_prob).mean()  # score-function estimator of -grad J
        value_loss = (value - batch["returns"]).square().mean()  # critic regression onto R_t
        entropy = entropy.mean()
        loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy
        self.optimizer.zero_grad()
        loss.backward()
        grad_norm = clip_grad_norm_(list(self.net.parameters()), cfg.max_grad_norm)
        self.optimizer.step()
        losses = torch.stack([policy_loss, value_loss, entropy]).tolist()
        return {"policy_loss": losses[0], "value_loss": losses[1], "entropy": losses[2], "grad_norm": grad_norm,
                "lr": lr}


def train_a2c(config: A2CConfig | None = None, callback: Callable | None = None, **overrides) -> Agent:
    """Train an A2C agent; ``overrides`` replace fields of ``config`` (default :class:`A2CConfig`) (Chapter 8, §8.5)."""
    config = configure(A2CConfig, config, overrides)
    envs = make_vec_env(config.env_id, config.num_envs, seed=config.seed)
    return train_onpolicy(A2C(config, *space_dims(envs)), envs, config, callback)
