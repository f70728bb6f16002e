"""Proximal Policy Optimization (Chapter 14; A-41): clipped surrogate, adaptive KL penalty, KL early stop.

Each update takes ``epochs`` passes over one rollout in shuffled minibatches and minimises

    L = -L^CLIP + c1 L^VF - c2 H,   L^CLIP = mean min(rho A, clip(rho, 1-eps, 1+eps) A),

with ``rho = pi_theta(a|s) / pi_old(a|s)``, plus ``beta KL(pi_old || pi_theta)`` when the
penalty is on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..envs.vector import make_vec_env, space_dims
from ..estimators.advantages import normalize_advantages
from ..nets.fused import fused_loss
from ..training.agent import Agent
from ..training.config import OnPolicyConfig, configure
from ..training.onpolicy import make_actor_critic, train_onpolicy
from ..training.optim import clip_grad_norm_, make_optimizer


@dataclass
class PPOConfig(OnPolicyConfig):
    """PPO's settings. Defaults: RL-Zoo's tuned CartPole-v1 configuration (Chapter 14, §14.4)."""

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
    """Early stopping: end the update at the first minibatch whose approx KL exceeds this (its step not taken)."""

    def __post_init__(self):
        super().__post_init__()
        self.require_int("epochs")
        self.require_int("batch_size", low=2)
        self.require_real("clip_range", 0.0, 1.0, low_open=True, high_open=True, optional=True)
        self.require_real("clip_range_vf", 0.0, low_open=True, optional=True)
        self.require_real("kl_coef", 0.0)
        self.require_real("kl_target", 0.0, low_open=True, optional=True)
        self.require_real("target_kl", 0.0, low_open=True, optional=True)
        if self.kl_target is not None and self.kl_coef == 0:
            raise ValueError("PPOConfig.kl_target adapts the KL penalty, so kl_coef (its initial beta) must be > 0")


def clipped_surrogate_loss(ratio: torch.Tensor, advantages: torch.Tensor, clip_range: float | None) -> torch.Tensor:
    """``-mean min(rho A, clip(rho, 1-eps, 1+eps) A)``; the plain surrogate if ``clip_range`` is None (Chapter 14,
    §14.1, eq. (eq-clip)).

    Per sample the gradient in ``rho`` is zero only where the clip binds on the *improving* side (rho > 1+eps with A >
    0, rho < 1-eps with A < 0); on the worsening side the unclipped term is the minimum and the full gradient flows
    (fixing errata E0.21/E2.28/E3.14)."""
    if clip_range is None:
        return -(ratio * advantages).mean()
    clipped = ratio.clamp(1.0 - clip_range, 1.0 + clip_range)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def value_loss(values: torch.Tensor, returns: torch.Tensor, old_values: torch.Tensor,
               clip_range_vf: float | None) -> torch.Tensor:
    """``mean (V - R)^2``, or with value clipping (Chapter 14, §14.4, eq. (eq-value-clip))

    ``mean max((V - R)^2, (V_old + clip(V - V_old, +-eps) - R)^2)``.
    """
    if clip_range_vf is None:
        return (values - returns).square().mean()
    clipped = old_values + (values - old_values).clamp(-clip_range_vf, clip_range_vf)
    return torch.max((values - returns).square(), (clipped - returns).square()).mean()


def adaptive_kl_coef(beta: float, kl: float, target: float) -> float:
    """The adaptive penalty's next ``beta`` (Chapter 14, §14.2, eq. (eq-adaptive-beta)): ``2 beta`` if the update's KL
    exceeded ``1.5 target``, ``beta / 2`` if it fell below ``target / 1.5``, else ``beta`` (Schulman et al. 2017, §4).
    """
    if kl > 1.5 * target:
        return 2.0 * beta
    if kl < target / 1.5:
        return beta / 2.0
    return beta


def minibatch_indices(n: int, batch_size: int, epochs: int, generator: torch.Generator):
    """``epochs`` shuffles of ``range(n)``, each cut into minibatches of ``batch_size`` indices (Chapter 14, §14.4).

    A minibatch that would hold the whole batch is the slice ``[:]``: the mean loss over all ``n``
    transitions does not depend on their order, so shuffling them would change nothing.
    """
    for _ in range(epochs):
        if batch_size >= n:
            yield slice(None)
        else:
            yield from torch.randperm(n, generator=generator, device=generator.device).split(batch_size)


class LossHead:
    """:meth:`PPO.loss` in numpy with its gradient in ``(log_prob, entropy, value)``, for the fused kernel
    (:func:`rlcore.nets.fused.fused_loss`) (Chapter 14, §14.4, eq. (eq-ppo-loss)).

    The gradients, per sample and divided by the minibatch size ``B``: ``d(-L^CLIP)/d rho = -A`` where
    ``rho A <= clip(rho) A`` (the unclipped term is the minimum), else 0; ``d rho / d log pi = rho``;
    ``d KL_hat / d log pi = rho - 1``; ``d L_V / d V = 2 (V - R)``, or with value clipping the larger
    branch's ``2 (V_clip - R) 1[|V - V_old| <= eps_vf]`` (both halves on a tie, as ``torch.max``);
    ``d(-H)/d H = -1``. ``tests/test_ppo.py`` checks loss and gradients against the plain path.
    """

    def __init__(self, minibatch, clip_range, vf_coef, ent_coef, kl_coef, normalize, clip_range_vf):
        self.old_log_prob, self.returns, self.old_values = (minibatch[key].numpy()
                                                            for key in ("log_probs", "returns", "values"))
        advantages = minibatch["advantages"].numpy()
        self.advantages = normalize_advantages(advantages) if normalize else advantages
        self.clip_range, self.clip_range_vf = clip_range, clip_range_vf
        self.vf_coef, self.ent_coef, self.kl_coef = vf_coef, ent_coef, kl_coef
        self.n = len(advantages)
        self.g_surrogate = self.advantages * (-1.0 / self.n)  # d(-mean rho A) / d rho, per sample

    def __call__(self, log_prob, entropy, value):
        B, A, eps, eps_vf = self.n, self.advantages, self.clip_range, self.clip_range_vf
        log_ratio = log_prob - self.old_log_prob
        ratio = np.exp(log_ratio)
        approx_kl = (ratio - 1 - log_ratio).sum() / B  # sums / B: np.mean's arithmetic with less overhead
        surrogate = ratio * A
        if eps is None:
            policy_loss, g_ratio = -surrogate.sum() / B, self.g_surrogate
        else:
            clipped = np.minimum(np.maximum(ratio, 1.0 - eps), 1.0 + eps) * A
            policy_loss = -np.minimum(surrogate, clipped).sum() / B
            g_ratio = np.where(surrogate <= clipped, self.g_surrogate, 0.0)
        error = value - self.returns
        if eps_vf is None:
            v_loss, g_v = np.vdot(error, error) / B, error * (2.0 * self.vf_coef / B)
        else:
            delta = value - self.old_values
            inside = np.abs(delta) <= eps_vf
            error_clipped = self.old_values + np.clip(delta, -eps_vf, eps_vf) - self.returns
            sq, sq_clipped = error * error, error_clipped * error_clipped
            v_loss = np.maximum(sq, sq_clipped).sum() / B
            g_clipped = error_clipped * inside
            g_v = np.where(sq > sq_clipped, 2.0 * error, np.where(sq < sq_clipped, 2.0 * g_clipped,
                                                                  error + g_clipped)) * (self.vf_coef / B)
        loss = policy_loss + self.vf_coef * v_loss
        g_log_prob = g_ratio * ratio
        g_entropy = None
        if self.ent_coef > 0:
            loss -= self.ent_coef * entropy.sum() / B
            g_entropy = np.full(B, -self.ent_coef / B, dtype=log_prob.dtype)
        if self.kl_coef > 0:
            loss += self.kl_coef * approx_kl
            g_log_prob += (ratio - 1) * (self.kl_coef / B)
        dtype = log_prob.dtype
        return loss, approx_kl, (g_log_prob.astype(dtype, copy=False), g_entropy, g_v.astype(dtype, copy=False))


class PPO:
    """PPO's learner: the actor-critic, its Adam, the KL coefficient beta and the generator (Chapter 14, §14.4)."""

    def __init__(self, config: PPOConfig, obs_dim: int, action_dim: int, discrete: bool):
        if not isinstance(config, PPOConfig):
            raise TypeError(f"config must be a PPOConfig, got {type(config).__name__}")
        self.config = config
        self.net, self.generator = make_actor_critic(config, obs_dim, action_dim, discrete)
        self.optimizer = make_optimizer(self.net.parameters(), "adam", config.lr, fast=config.fast)
        self.kl_coef = config.kl_coef  # beta, adapted after each update when kl_target is set

    def loss(self, minibatch: dict[str, torch.Tensor], clip_range: float | None) -> tuple[torch.Tensor, torch.Tensor]:
        """PPO's loss on one minibatch (Chapter 14, §14.4, eq. (eq-ppo-loss)) and the approximate KL.

        ``-L^CLIP + c1 L_V - c2 H``, plus ``beta KL`` when the penalty is on."""
        cfg = self.config
        if self.net.fused:  # the same numbers as below, as one autograd node (rlcore.nets.fused.fused_loss)
            head = LossHead(minibatch, clip_range, cfg.vf_coef, cfg.ent_coef, self.kl_coef,
                            cfg.normalize_advantages, cfg.clip_range_vf)
            return fused_loss(self.net, minibatch["obs"], minibatch["actions"], head)
        log_prob, entropy, value = self.net.evaluate_actions(minibatch["obs"], minibatch["actions"],
                                                             entropy=cfg.ent_coef > 0)
        log_ratio = log_prob - minibatch["log_probs"]
        ratio = log_ratio.exp()  # rho = pi_theta(a|s) / pi_old(a|s)
        approx_kl = (ratio - 1 - log_ratio).mean()  # unbiased, non-negative estimate of KL(pi_old || pi)
        advantages = minibatch["advantages"]
        if cfg.normalize_advantages:
            advantages = normalize_advantages(advantages)
        loss = (clipped_surrogate_loss(ratio, advantages, clip_range)
                + cfg.vf_coef * value_loss(value, minibatch["returns"], minibatch["values"], cfg.clip_range_vf))
        if cfg.ent_coef > 0:
            loss = loss - cfg.ent_coef * entropy.mean()  # entropy bonus
        if self.kl_coef > 0:
            loss = loss + self.kl_coef * approx_kl  # KL-penalised surrogate
        return loss, approx_kl

    def update(self, batch: dict[str, torch.Tensor], progress_remaining: float) -> dict[str, float]:
        """One PPO update on one rollout's ``batch`` (Chapter 14, §14.4, Algorithm alg-ppo)."""
        cfg = self.config
        lr = cfg.lr * (progress_remaining if cfg.anneal_lr else 1.0)
        self.optimizer.param_groups[0]["lr"] = lr
        clip_range = cfg.clip_range and cfg.clip_range * (progress_remaining if cfg.anneal_clip else 1.0)
        n = len(batch["advantages"])
        steps_taken = 0
        for idx in minibatch_indices(n, cfg.batch_size, cfg.epochs, self.generator):
            loss, approx_kl = self.loss({key: value[idx] for key, value in batch.items()}, clip_range)
            if cfg.target_kl is not None and approx_kl.item() > cfg.target_kl:
                break  # early stop: this minibatch's step is *not* taken (erratum E2.29)
            self.optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(self.optimizer.params, cfg.max_grad_norm)
            self.optimizer.step()
            steps_taken += 1
        stats = self.diagnostics(batch, clip_range)
        beta = self.kl_coef
        if cfg.kl_target is not None:  # adaptive penalty: KL measured after the update, on the same batch
            self.kl_coef = adaptive_kl_coef(beta, stats["approx_kl"], cfg.kl_target)
        per_epoch = -(-n // cfg.batch_size)
        return {**stats, "kl_coef": beta, "epochs": steps_taken // per_epoch, "minibatch_steps": steps_taken,
                "lr": lr, "clip_range": clip_range or float("nan")}

    @torch.no_grad()
    def diagnostics(self, batch: dict[str, torch.Tensor], clip_range: float | None) -> dict[str, float]:
        """Losses, approx KL, clip fraction and entropy of the updated policy on the whole batch (Chapter 14, §14.4)."""
        cfg = self.config
        log_prob, entropy, value = self.net.evaluate_actions(batch["obs"], batch["actions"])
        log_ratio = log_prob - batch["log_probs"]
        ratio = log_ratio.exp()
        advantages = normalize_advantages(batch["advantages"]) if cfg.normalize_advantages else batch["advantages"]
        eps = clip_range if clip_range is not None else float("inf")
        values = torch.stack([clipped_surrogate_loss(ratio, advantages, clip_range),
                              value_loss(value, batch["returns"], batch["values"], cfg.clip_range_vf),
                              entropy.mean(), (ratio - 1 - log_ratio).mean(),
                              ((ratio - 1).abs() > eps).float().mean()]).tolist()
        return dict(zip(("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"), values))


def train_ppo(config: PPOConfig | None = None, callback: Callable | None = None, **overrides) -> Agent:
    """Train a PPO agent; ``overrides`` replace fields of ``config`` (default :class:`PPOConfig`) (Chapter 14, §14.4).

    >>> agent = train_ppo(total_steps=50_000, seed=1, progress=False)   # doctest: +SKIP
    >>> agent.episode_returns(episodes=20).mean()                        # doctest: +SKIP
    """
    config = configure(PPOConfig, config, overrides)
    envs = make_vec_env(config.env_id, config.num_envs, seed=config.seed)
    return train_onpolicy(PPO(config, *space_dims(envs)), envs, config, callback)
