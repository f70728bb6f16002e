"""REINFORCE: the score-function policy gradient from whole episodes (Chapter 7; A-19 ... A-21).

This module holds the loss; its gradient is the single-batch policy-gradient estimate. The training
loop and the CartPole experiment come with Chapter 7.
"""

from __future__ import annotations

import torch

from ..base import validate


def discounted_rewards_to_go(rewards: torch.Tensor, dones: torch.Tensor, gamma: float) -> torch.Tensor:
    """``G_t = r_t + gamma (1 - done_t) G_{t+1}`` over concatenated episodes, eq. (eq-rewards-to-go) (Chapter 7)."""
    G = torch.zeros_like(rewards)
    running = torch.zeros((), dtype=rewards.dtype, device=rewards.device)
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running * (1.0 - dones[t].to(rewards.dtype))
        G[t] = running
    return G


def reinforce_loss(log_prob: torch.Tensor, rewards: torch.Tensor, dones: torch.Tensor, gamma: float,
                   baseline: torch.Tensor | None = None, gamma_t: bool = True, episodes: int | None = None
                   ) -> torch.Tensor:
    """The surrogate loss whose gradient is minus the REINFORCE estimate of ``grad J`` (Chapter 7).

    ``log_prob[t] = log pi_theta(a_t|s_t)`` (differentiable), ``rewards`` and ``dones`` over concatenated,
    complete episodes (``dones[-1]`` must be true). The estimate is
    ``(1/E) sum_t c_t (G_t - b_t) grad log pi(a_t|s_t)``, eq. (eq-pg-trajectory), with ``c_t = gamma^k`` for
    the step's index ``k`` within its episode (``gamma_t=True``, unbiased for the discounted objective) or 1,
    the per-step ``baseline`` ``b_t`` (default 0, detached), and ``E`` the number of episodes.
    """
    if not isinstance(log_prob, torch.Tensor):
        raise TypeError(f"log_prob must be a torch tensor (differentiable), got {type(log_prob).__name__}")
    if log_prob.ndim != 1:
        raise ValueError(f"log_prob must be 1-D (one entry per step), got shape {tuple(log_prob.shape)}")
    T = log_prob.shape[0]
    for name, x in (("rewards", rewards), ("dones", dones)):
        if tuple(x.shape) != (T,):
            raise ValueError(f"{name} must have shape ({T},) like log_prob, got {tuple(x.shape)}")
    if T == 0 or not bool(dones[-1]):
        raise ValueError("the batch must end with a complete episode: dones[-1] must be true")
    gamma = validate.real(gamma, "gamma", low=0.0, high=1.0)
    rewards = rewards.to(log_prob.dtype)
    G = discounted_rewards_to_go(rewards, dones, gamma)
    if baseline is not None:
        if tuple(baseline.shape) != (T,):
            raise ValueError(f"baseline must have shape ({T},), got {tuple(baseline.shape)}")
        G = G - baseline.detach().to(G.dtype)
    if gamma_t:  # gamma^k, k the step's index within its episode
        starts = torch.cat([torch.ones(1, dtype=torch.bool, device=dones.device), dones[:-1].bool()])
        episode_start = torch.cummax(torch.where(starts, torch.arange(T, device=dones.device), 0), dim=0).values
        G = G * gamma ** (torch.arange(T, device=dones.device) - episode_start).to(G.dtype)
    episodes = int(dones.bool().sum()) if episodes is None else validate.integer(episodes, "episodes", low=1)
    return -(G.detach() * log_prob).sum() / episodes
