"""Synchronous advantage actor-critic, A2C (Chapter 8).

Every rollout of ``N`` environments times ``T`` steps gives one gradient step on

    L = -mean A_t log pi_theta(a_t|s_t) + c1 mean (V_phi(s_t) - R_t)^2 - c2 mean H(pi_theta(.|s_t)),

with ``A_t`` from GAE (``gae_lambda = 1``: n-step returns minus ``V``) and ``R_t = A_t + V(s_t)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .onpolicy import Agent, OnPolicyConfig, clip_grad_norm_, configure, train_onpolicy
from .optim import Adam
from .ppo import normalize


@dataclass
class A2CConfig(OnPolicyConfig):
    """A2C's settings. Defaults: a CartPole-v1 configuration that holds greedy returns of 500 from about 10^5 steps."""

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


def a2c_update(net, optimizer, batch: dict[str, torch.Tensor], cfg: A2CConfig, progress_remaining: float,
               state: dict) -> dict[str, float]:
    """One A2C step on one rollout's ``batch`` (Chapter 8, Algorithm 8.2)."""
    log_prob, entropy, value = net.evaluate(batch["obs"], batch["actions"])
    advantages = normalize(batch["advantages"]) if cfg.normalize_advantages else batch["advantages"]
    policy_loss = -(advantages * log_prob).mean()  # score-function estimator of -grad J, eq. 8.2
    value_loss = (value - batch["returns"]).square().mean()  # critic regression onto R_t, minimised
    entropy = entropy.mean()
    loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = clip_grad_norm_(list(net.parameters()), cfg.max_grad_norm)
    optimizer.step()
    losses = torch.stack([policy_loss, value_loss, entropy]).tolist()
    return {"policy_loss": losses[0], "value_loss": losses[1], "entropy": losses[2], "grad_norm": grad_norm}


def make_optimizer(params, cfg: A2CConfig):
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, alpha=0.99, eps=1e-5)
    return Adam(params, lr=cfg.lr, eps=1e-5)


def train_a2c(config: A2CConfig | None = None, callback: Callable | None = None, **overrides) -> Agent:
    """Train an A2C agent; ``overrides`` replace fields of ``config`` (default :class:`A2CConfig`)."""
    config = configure(A2CConfig, config, overrides)
    return train_onpolicy(config, a2c_update, make_optimizer, callback)
