"""Proximal Policy Optimization (Chapter 14): clipped surrogate, adaptive KL penalty, KL early stop.

Each update takes ``epochs`` passes over one rollout in shuffled minibatches and minimises

    L = -L^CLIP + c1 L^VF - c2 H,   L^CLIP = mean min(rho A, clip(rho, 1-eps, 1+eps) A),

with ``rho = pi_theta(a|s) / pi_old(a|s)`` (eq. 14.5), plus ``beta KL(pi_old || pi_theta)`` when
the penalty is on (eq. 14.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .onpolicy import Agent, OnPolicyConfig, clip_grad_norm_, configure, train_onpolicy
from .optim import Adam


@dataclass
class PPOConfig(OnPolicyConfig):
    """PPO's settings. Defaults: RL-Zoo's tuned CartPole-v1 configuration."""

    gamma: float = 0.98
    """Discount factor."""
    gae_lambda: float = 0.8
    """lambda of GAE."""
    lr: float = 1e-3
    """Adam's learning rate (eps = 1e-5)."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over training."""
    epochs: int = 20
    """K: passes over each rollout."""
    batch_size: int = 256
    """M: transitions per minibatch (the last one of an epoch may be smaller)."""
    clip_range: float | None = 0.2
    """epsilon of the clipped surrogate; None: the plain (unclipped) surrogate, e.g. with a KL penalty."""
    anneal_clip: bool = True
    """Decay clip_range linearly to 0 over training (as RL-Zoo's CartPole setting)."""
    clip_range_vf: float | None = None
    """Clip V(s) to within this of its value at collection in the value loss; None: no value clipping."""
    kl_coef: float = 0.0
    """beta: initial weight of the KL(pi_old || pi) penalty; 0 turns the penalty off."""
    kl_target: float | None = None
    """d_targ of the adaptive penalty: after each update beta doubles if KL > 1.5 d_targ, halves if KL < d_targ/1.5."""
    target_kl: float | None = None
    """Early stopping: end the update's epochs at the first minibatch whose approx KL exceeds this."""

    def __post_init__(self):
        super().__post_init__()
        need = self.require
        self.require_positive_int("epochs")
        need(isinstance(self.batch_size, int) and self.batch_size >= 2, "batch_size", "an integer >= 2")
        need(self.clip_range is None or 0 < self.clip_range < 1, "clip_range", "None or in (0, 1)")
        need(self.clip_range_vf is None or self.clip_range_vf > 0, "clip_range_vf", "None or > 0")
        need(self.kl_coef >= 0, "kl_coef", ">= 0")
        need(self.kl_target is None or self.kl_target > 0, "kl_target", "None or > 0")
        need(self.target_kl is None or self.target_kl > 0, "target_kl", "None or > 0")
        if self.kl_target is not None and self.kl_coef == 0:
            raise ValueError("PPOConfig.kl_target adapts the KL penalty, so kl_coef (its initial beta) must be > 0")


def clipped_surrogate_loss(ratio: torch.Tensor, advantages: torch.Tensor, clip_range: float | None) -> torch.Tensor:
    """``-mean min(rho A, clip(rho, 1-eps, 1+eps) A)`` (eq. 14.5); the plain surrogate if ``clip_range`` is None.

    Per sample the gradient in ``rho`` is zero only where the clip binds on the *improving* side
    (rho > 1+eps with A > 0, rho < 1-eps with A < 0); on the worsening side the unclipped term
    is the minimum and the full gradient flows (Chapter 14, fixing errata E0.21/E2.28/E3.14).
    """
    if clip_range is None:
        return -(ratio * advantages).mean()
    clipped = ratio.clamp(1.0 - clip_range, 1.0 + clip_range)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def value_loss(values: torch.Tensor, returns: torch.Tensor, old_values: torch.Tensor,
               clip_range_vf: float | None) -> torch.Tensor:
    """``mean (V - R)^2``, or with clipping ``mean max((V - R)^2, (V_old + clip(V - V_old, +-eps) - R)^2)``."""
    if clip_range_vf is None:
        return (values - returns).square().mean()
    clipped = old_values + (values - old_values).clamp(-clip_range_vf, clip_range_vf)
    return torch.max((values - returns).square(), (clipped - returns).square()).mean()


def minibatches(n: int, batch_size: int, generator: torch.Generator):
    """Shuffled index tensors covering ``range(n)``; a single ``None`` (= everything) when one batch holds all."""
    if batch_size >= n:
        return [None]
    return torch.randperm(n, generator=generator, device=generator.device).split(batch_size)


def ppo_update(net, optimizer, batch: dict[str, torch.Tensor], cfg: PPOConfig, progress_remaining: float,
               state: dict) -> dict[str, float]:
    """One PPO update on one rollout's ``batch`` (Chapter 14, Algorithm 14.1)."""
    clip_range = None if cfg.clip_range is None else cfg.clip_range * (progress_remaining if cfg.anneal_clip else 1)
    beta = state.setdefault("kl_coef", cfg.kl_coef)
    params = list(net.parameters())
    n = len(batch["advantages"])
    if cfg.normalize_advantages and cfg.batch_size >= n:  # one minibatch: normalise once, not every epoch
        batch = {**batch, "advantages": normalize(batch["advantages"])}
    epochs_done = 0
    for _ in range(cfg.epochs):
        for idx in minibatches(n, cfg.batch_size, state["generator"]):
            mb = batch if idx is None else {key: value[idx] for key, value in batch.items()}
            log_prob, entropy, value = net.evaluate(mb["obs"], mb["actions"], entropy=cfg.ent_coef > 0)
            log_ratio = log_prob - mb["log_probs"]
            ratio = log_ratio.exp()  # rho = pi_theta(a|s) / pi_old(a|s)
            if cfg.target_kl is not None or beta > 0:
                approx_kl = (ratio - 1 - log_ratio).mean()  # unbiased, non-negative estimate of KL(pi_old || pi)
                if cfg.target_kl is not None and approx_kl.item() > cfg.target_kl:
                    break  # early stop: this minibatch's step is *not* taken (erratum E2.29)
            advantages = mb["advantages"]
            if cfg.normalize_advantages and idx is not None:
                advantages = normalize(advantages)
            loss = clipped_surrogate_loss(ratio, advantages, clip_range)
            if beta > 0:
                loss = loss + beta * approx_kl  # KL-penalised surrogate, eq. 14.3
            loss = loss + cfg.vf_coef * value_loss(value, mb["returns"], mb["values"], cfg.clip_range_vf)
            if cfg.ent_coef > 0:
                loss = loss - cfg.ent_coef * entropy.mean()  # entropy bonus
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
        else:
            epochs_done += 1
            continue
        break  # the inner loop stopped early
    stats = ppo_diagnostics(net, batch, clip_range, cfg)
    if cfg.kl_target is not None:  # adaptive penalty: KL measured after the update, on the same batch
        if stats["approx_kl"] > 1.5 * cfg.kl_target:
            state["kl_coef"] = beta * 2
        elif stats["approx_kl"] < cfg.kl_target / 1.5:
            state["kl_coef"] = beta / 2
    return {**stats, "kl_coef": beta, "epochs": epochs_done, "clip_range": clip_range or float("nan")}


def normalize(advantages: torch.Tensor) -> torch.Tensor:
    """Advantages standardised to mean 0 and standard deviation 1 (left alone if there is only one)."""
    if len(advantages) < 2:
        return advantages
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


@torch.no_grad()
def ppo_diagnostics(net, batch: dict[str, torch.Tensor], clip_range: float | None, cfg: PPOConfig) -> dict[str, float]:
    """Losses, approx KL, clip fraction and entropy of the updated policy on the whole batch."""
    log_prob, entropy, value = net.evaluate(batch["obs"], batch["actions"])
    log_ratio = log_prob - batch["log_probs"]
    ratio = log_ratio.exp()
    advantages = normalize(batch["advantages"]) if cfg.normalize_advantages else batch["advantages"]
    eps = clip_range if clip_range is not None else float("inf")
    values = torch.stack([clipped_surrogate_loss(ratio, advantages, clip_range),
                          value_loss(value, batch["returns"], batch["values"], cfg.clip_range_vf),
                          entropy.mean(), (ratio - 1 - log_ratio).mean(),
                          ((ratio - 1).abs() > eps).float().mean()]).tolist()
    return dict(zip(("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"), values))


def adam(params, cfg: PPOConfig) -> Adam:
    """Adam with eps = 1e-5, as in the PPO paper's code and Stable-Baselines3."""
    return Adam(params, lr=cfg.lr, eps=1e-5)


def train_ppo(config: PPOConfig | None = None, callback: Callable | None = None, **overrides) -> Agent:
    """Train a PPO agent; ``overrides`` replace fields of ``config`` (default :class:`PPOConfig`).

    >>> agent = train_ppo(total_steps=50_000, seed=1, progress=False)   # doctest: +SKIP
    >>> agent.evaluate(episodes=20).mean()                               # doctest: +SKIP
    """
    config = configure(PPOConfig, config, overrides)
    return train_onpolicy(config, ppo_update, adam, callback)

