"""The training loop every on-policy algorithm shares (Chapters 7, 8, 13 and 14).

environment -> rollout -> advantages -> the learner's update -> metrics, repeated until
``total_steps`` transitions have been collected. An algorithm supplies a *learner*: an object
with ``net`` (an :class:`~rlcore.nets.mlp.ActorCritic`), ``generator`` (a ``torch.Generator``)
and one method, ``update(batch, progress_remaining) -> dict`` of diagnostics, that keeps its own
optimisers and adaptive coefficients. PPO's, A2C's and TRPO's updates all fit it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from ..base.device import pick_device
from ..data.rollouts import RolloutCollector
from ..envs.vector import check_vec_env
from ..estimators.advantages import gae
from ..estimators.stats import explained_variance
from ..nets.fused import use_fast_path
from ..nets.inference import rollout_policy
from ..nets.mlp import ActorCritic
from .agent import Agent
from .config import OnPolicyConfig
from .divergence import check_finite


def make_actor_critic(config: OnPolicyConfig, obs_dim: int, action_dim: int, discrete: bool,
                      single_backward: bool = True) -> tuple[ActorCritic, torch.Generator]:
    """A seeded :class:`ActorCritic` on the config's device and the learner's generator (Chapter 8, §8.5).

    ``single_backward``: the learner needs no double backward, so the fused kernel may be used
    where valid (``config.fast``); TRPO, which needs Fisher-vector products, passes ``False``.
    """
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    net = ActorCritic(obs_dim, action_dim, discrete, config.hidden, ortho_init=config.ortho_init,
                      log_std_init=config.log_std_init).to(device)
    use_fast_path(net, config.fast if single_backward else False)  # same numbers, fewer calls (rlcore.nets.fused)
    return net, torch.Generator(device=device).manual_seed(config.seed)


def _batch(rollout, config: OnPolicyConfig, device) -> tuple[dict[str, torch.Tensor], np.ndarray, np.ndarray]:
    """A rollout's batch for ``learner.update``, with GAE advantages; also the values and targets as arrays."""
    values = rollout.values[:-1]
    advantages = gae(rollout.rewards * config.reward_scale, values, rollout.next_values, rollout.terminated,
                     rollout.truncated, config.gamma, config.gae_lambda)
    returns = advantages + values  # value targets R_t = A_t + V(s_t)
    return rollout.transitions(device, advantages=advantages, returns=returns), values, returns


def collect_batch(learner, envs, config: OnPolicyConfig) -> dict[str, torch.Tensor]:
    """One rollout of ``learner``'s current policy in ``envs``, as the batch that ``learner.update`` receives:
    ``config.num_steps`` steps of each environment with GAE advantages and value targets (Chapter 8, §8.5)."""
    if not isinstance(config, OnPolicyConfig):
        raise TypeError(f"config must be an OnPolicyConfig, got {type(config).__name__}")
    check_vec_env(envs)
    net = learner.net
    collector = RolloutCollector(envs, rollout_policy(net, learner.generator, config.seed, config.fast),
                                 config.num_steps)
    return _batch(collector.collect(), config, next(net.parameters()).device)[0]


def train_onpolicy(learner, envs, config: OnPolicyConfig, callback: Callable | None = None) -> Agent:
    """Collect a rollout, compute GAE, call ``learner.update``, record, repeat (Chapter 8, §8.5).

    ``batch`` holds flat tensors on the learner's device: ``obs``, ``actions``, ``log_probs``
    (at collection), ``values`` (at collection), ``advantages`` (GAE) and ``returns``
    (``advantages + values``, the critic's targets). ``callback(record, agent)`` runs after
    every update; returning ``False`` stops training. ``envs`` is closed at the end.
    """
    if not isinstance(config, OnPolicyConfig):
        raise TypeError(f"config must be an OnPolicyConfig, got {type(config).__name__}")
    if not callable(getattr(learner, "update", None)):
        raise TypeError(f"learner must have an update(batch, progress_remaining) method, got {type(learner).__name__}")
    check_vec_env(envs)
    from tqdm.auto import tqdm

    net = learner.net
    device = next(net.parameters()).device
    collector = RolloutCollector(envs, rollout_policy(net, learner.generator, config.seed, config.fast),
                                 config.num_steps)
    agent = Agent(net, config)
    next_eval = config.eval_every
    train_seconds = 0.0
    bar = tqdm(total=config.total_steps, disable=not config.progress, unit="step")
    try:
        while collector.steps < config.total_steps:
            start = time.perf_counter()
            progress_remaining = 1.0 - collector.steps / config.total_steps
            episodes_before = len(collector.episode_returns)
            rollout = collector.collect()
            batch, values, returns = _batch(rollout, config, device)
            stats = learner.update(batch, progress_remaining)
            train_seconds += time.perf_counter() - start
            check_finite(net, stats, collector.steps, config.max_loss)
            new_returns = collector.episode_returns[episodes_before:]
            record = {"steps": collector.steps, "seconds": train_seconds,
                      "episode_return": float(np.mean(new_returns)) if new_returns else float("nan"),
                      "explained_variance": explained_variance(values[rollout.valid], returns[rollout.valid]),
                      **stats, "eval_return": float("nan")}
            if next_eval is not None and collector.steps >= next_eval:
                record["eval_return"] = float(np.mean(agent.episode_returns(config.eval_episodes)))
                next_eval += config.eval_every
            for key, value in record.items():
                agent.history.setdefault(key, []).append(value)
            bar.update(collector.steps - bar.n)
            if callback is not None and callback(record, agent) is False:
                break
    finally:
        bar.close()
        envs.close()
    return agent
