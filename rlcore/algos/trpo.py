"""Trust region policy optimisation, TRPO (Chapter 13; A-36 ... A-39).

Every rollout gives one policy step, chosen in policy space:

1. the surrogate gradient ``g = grad mean[ratio A]`` at the old policy (the policy gradient, Chapter 12, §12.2);
2. the natural direction ``x ~ F^{-1} g`` by conjugate gradient, with Fisher-vector products by double
   backpropagation of the mean KL (never the matrix ``F`` itself);
3. the step ``sqrt(2 delta / x^T F x) x``, which fills the quadratic model of the trust region (Chapter 11);
4. a backtracking line search that accepts the first ``shrink^j`` times that step whose exact mean KL is at most
   ``delta`` and whose surrogate improves;

then a few epochs of regression for the critic, a separate network with its own Adam optimiser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from ..base.quadratic import conjugate_gradient
from ..distributions.geometry import backtracking_line_search, fisher_vector_products, flat_grad
from ..envs.vector import make_vec_env, space_dims
from ..estimators.advantages import normalize_advantages
from ..training.agent import Agent
from ..training.config import OnPolicyConfig, configure
from ..training.onpolicy import make_actor_critic, train_onpolicy
from ..training.optim import make_optimizer


@dataclass
class TRPOConfig(OnPolicyConfig):
    """TRPO's settings (Chapter 13, §13.4). Defaults: the RL Zoo's CartPole-v1 settings for sb3-contrib's TRPO, except
    the damping and the critic's minibatch, which keep sb3-contrib's defaults (0.1 and 128 instead of the Zoo's 1e-3
    and 512): with the Zoo's values, greedy returns after 50k steps were 500, 486, 369, 500, 500 on seeds 0-4; with
    these, 500 on all five (bench/trpo.py's cartpole-zoo protocol runs the Zoo's values)."""

    num_envs: int = 2
    """N: environments stepped together."""
    num_steps: int = 512
    """T: steps per environment in each rollout."""
    total_steps: int = 100_000
    """Environment steps to train for."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.98
    """lambda of GAE."""
    target_kl: float = 0.01
    """delta: the trust region's radius in mean KL(pi_old || pi_new)."""
    cg_iters: int = 15
    """Conjugate-gradient iterations for the natural direction."""
    cg_damping: float = 0.1
    """xi: damping added to the Fisher matrix in conjugate gradient."""
    line_search_max_iter: int = 10
    """m: candidate steps ``shrink^j`` times the full step, j = 0 ... m - 1."""
    line_search_shrink: float = 0.8
    """c: the backtracking coefficient."""
    lr: float = 1e-3
    """The critic's learning rate."""
    critic_epochs: int = 20
    """Passes of critic regression over each rollout (the RL Zoo's n_critic_updates)."""
    critic_batch_size: int = 128
    """Minibatch size of the critic regression."""

    def __post_init__(self):
        super().__post_init__()
        self.require_real("target_kl", low=0.0, low_open=True)
        self.require_int("cg_iters")
        self.require_real("cg_damping", low=0.0)
        self.require_int("line_search_max_iter")
        self.require_real("line_search_shrink", low=0.0, high=1.0, low_open=True, high_open=True)
        self.require_int("critic_epochs")
        self.require_int("critic_batch_size")


class TRPO:
    """TRPO's learner: the actor-critic, the critic's optimiser and the generator (Chapter 13, §13.4)."""

    def __init__(self, config: TRPOConfig, obs_dim: int, action_dim: int, discrete: bool):
        if not isinstance(config, TRPOConfig):
            raise TypeError(f"config must be a TRPOConfig, got {type(config).__name__}")
        self.config = config
        self.net, self.generator = make_actor_critic(config, obs_dim, action_dim, discrete, single_backward=False)
        self.critic_optimizer = make_optimizer(self.net.critic.parameters(), "adam", config.lr, fast=config.fast)

    def update(self, batch: dict[str, torch.Tensor], progress_remaining: float) -> dict[str, float]:
        """One TRPO step on one rollout's ``batch``, then the critic's regression (Chapter 13, §13.4, Algorithm
        alg-trpo): the direction by conjugate gradient, the length of eq. (eq-trpo-step), the line search of
        eq. (eq-line-search)."""
        cfg, actor = self.config, self.net.actor
        obs, actions = batch["obs"], batch["actions"]
        advantages = normalize_advantages(batch["advantages"]) if cfg.normalize_advantages else batch["advantages"]
        params = list(actor.parameters())
        with torch.no_grad():
            old = tuple(x.detach() for x in actor(obs))  # the old policy, a constant below
        old_log_prob = actor.head.log_prob(*old, actions)

        def surrogate_and_kl() -> tuple[torch.Tensor, torch.Tensor]:  # one forward pass, eq. (eq-batch-surrogate)
            new = actor(obs)
            ratio = torch.exp(actor.head.log_prob(*new, actions) - old_log_prob)
            return (ratio * advantages).mean(), actor.head.kl(*old, *new).mean()  # KL(pi_old || pi_theta)

        surrogate_before, kl = surrogate_and_kl()
        fisher_times = fisher_vector_products(kl, params, cfg.cg_damping)  # keeps the graph of grad KL
        g = flat_grad(surrogate_before, params, retain_graph=True)  # the policy gradient estimate
        products = 0

        def fvp(v: torch.Tensor) -> torch.Tensor:  # (F + damping I) v by double backward
            nonlocal products
            products += 1
            return fisher_times(v)

        direction = conjugate_gradient(fvp, g, cfg.cg_iters, tol=1e-5)  # x ~ (F + damping I)^{-1} g
        curvature = direction @ fvp(direction)
        full_step = torch.sqrt(2 * cfg.target_kl / curvature.clamp_min(1e-12)) * direction  # eq. (eq-trpo-step)
        theta_old = parameters_to_vector(params).detach()
        before = float(surrogate_before.detach())

        candidate = {}

        def accept(theta: torch.Tensor) -> bool:  # both tests of eq. (eq-line-search)
            with torch.no_grad():
                vector_to_parameters(theta, params)
                surrogate, kl = surrogate_and_kl()
            candidate.update(improvement=float(surrogate) - before, kl=float(kl))
            return candidate["kl"] <= cfg.target_kl and candidate["improvement"] > 0

        theta_new, backtracks = backtracking_line_search(accept, theta_old, full_step, cfg.line_search_max_iter,
                                                         cfg.line_search_shrink)
        vector_to_parameters(theta_new, params)  # theta_old if no step was accepted
        if backtracks is None:  # the old policy: no change, no divergence
            candidate.update(improvement=0.0, kl=0.0)
        value_loss = self.fit_critic(obs, batch["returns"])
        return {"policy_improvement": candidate["improvement"], "kl": candidate["kl"], "value_loss": value_loss,
                "backtracks": float("nan") if backtracks is None else float(backtracks),
                "step_accepted": float(backtracks is not None), "fisher_vector_products": float(products)}

    def fit_critic(self, obs: torch.Tensor, returns: torch.Tensor) -> float:
        """``critic_epochs`` passes of minibatch Adam on ``(V(s) - R)^2``, eq. (eq-critic-loss); returns the mean
        loss (Chapter 13, §13.4)."""
        cfg, n = self.config, len(returns)
        losses = []
        for _ in range(cfg.critic_epochs):
            order = torch.randperm(n, generator=self.generator, device=returns.device)
            for start in range(0, n, cfg.critic_batch_size):
                idx = order[start:start + cfg.critic_batch_size]
                loss = (self.net.critic(obs[idx]) - returns[idx]).square().mean()  # descent on the value error
                self.critic_optimizer.zero_grad()
                loss.backward()
                self.critic_optimizer.step()
                losses.append(float(loss.detach()))
        return float(np.mean(losses))


def train_trpo(config: TRPOConfig | None = None, callback: Callable | None = None, **overrides) -> Agent:
    """Train a TRPO agent; ``overrides`` replace fields of ``config`` (default :class:`TRPOConfig`)
    (Chapter 13, §13.4)."""
    config = configure(TRPOConfig, config, overrides)
    envs = make_vec_env(config.env_id, config.num_envs, seed=config.seed)
    return train_onpolicy(TRPO(config, *space_dims(envs)), envs, config, callback)
