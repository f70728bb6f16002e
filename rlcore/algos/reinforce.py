"""REINFORCE: the score-function policy gradient from whole episodes (Chapter 7, §7.5; A-19 ... A-21).

The loss's gradient is the single-batch policy-gradient estimate (tested against exact enumeration);
:func:`train_reinforce` collects whole episodes, acting through a numpy copy of the policy, and takes one
policy step per batch with a learned value baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..base import validate
from ..estimators.returns import rewards_to_go
from ..nets.mlp import ActorCritic
from ..training.agent import Agent
from ..training.config import Config, configure


def discounted_rewards_to_go(rewards: torch.Tensor, dones: torch.Tensor, gamma: float) -> torch.Tensor:
    """The rewards-to-go of Chapter 1, §1.2, eq. (eq-rewards-to-go), for tensors (Chapter 7, §7.1)."""
    G = rewards_to_go(rewards.detach().cpu().numpy(), dones.detach().cpu().numpy().astype(bool), gamma)
    return torch.as_tensor(G, dtype=rewards.dtype, device=rewards.device)


def reinforce_loss(log_prob: torch.Tensor, rewards: torch.Tensor, dones: torch.Tensor, gamma: float,
                   baseline: torch.Tensor | None = None, gamma_t: bool = True, normalize: bool = False,
                   episodes: int | None = None) -> torch.Tensor:
    """The surrogate loss whose gradient is minus the REINFORCE estimate, eq. (eq-reinforce-loss) (Chapter 7, §7.1).

    ``log_prob[t] = log pi_theta(a_t|s_t)`` (differentiable), ``rewards`` and ``dones`` over concatenated,
    complete episodes (``dones[-1]`` must be true). The estimate is
    ``(1/E) sum_t c_t (G_t - b_t) grad log pi(a_t|s_t)``, eq. (eq-pg-trajectory), with ``c_t = gamma^k`` for
    the step's index ``k`` within its episode (``gamma_t=True``, unbiased for the discounted objective) or 1,
    the per-step ``baseline`` ``b_t`` (default 0, detached), and ``E`` the number of episodes. ``normalize``
    standardises the weights ``G_t - b_t`` over the batch before the discount is applied.
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
    if normalize and T > 1:
        G = (G - G.mean()) / (G.std() + 1e-8)
    if gamma_t:  # gamma^k, k the step's index within its episode
        G = G * _step_discounts(dones, gamma).to(G.dtype)
    episodes = int(dones.bool().sum()) if episodes is None else validate.integer(episodes, "episodes", low=1)
    return -(G.detach() * log_prob).sum() / episodes


@dataclass
class REINFORCEConfig(Config):
    """REINFORCE's settings (Chapter 7, §7.5). Defaults: CartPole-v1, which they solve in about 10^5 steps."""

    env_id: str = "CartPole-v1"
    """Gymnasium id (flat Box observations, Discrete actions)."""
    total_steps: int = 200_000
    """Environment steps to train for."""
    batch_steps: int = 2_000
    """Each update uses whole episodes, at least this many steps in all."""
    gamma: float = 0.99
    """Discount factor of the returns-to-go."""
    gamma_t: bool = False
    """Weight step t by gamma^t (unbiased for the discounted objective; the common practice omits it)."""
    baseline: str = "value"
    """"value" (a learned V(s), fitted to the returns-to-go) or "none"."""
    normalize_advantages: bool = True
    """Standardise the weights G_t - b_t of each batch."""
    lr: float = 3e-3
    """Adam learning rate of the policy."""
    value_lr: float = 1e-2
    """Adam learning rate of the value baseline."""
    value_epochs: int = 5
    """Full-batch regression steps of the baseline per update."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy and the value network (tanh)."""
    target_return: float | None = None
    """Stop early once a batch's mean episode return reaches this (None: train for ``total_steps``)."""
    progress: bool = True
    """Show a tqdm progress bar over environment steps."""

    def __post_init__(self):
        self.require(isinstance(self.env_id, str) and bool(self.env_id), "env_id", "a Gymnasium id")
        for name in ("total_steps", "batch_steps", "value_epochs"):
            self.require_int(name)
        self.require_real("gamma", 0.0, 1.0)
        self.require_real("lr", 0.0, low_open=True)
        self.require_real("value_lr", 0.0, low_open=True)
        self.require(self.baseline in ("value", "none"), "baseline", "'value' or 'none'")
        self.require_real("target_return", optional=True)


def collect_episodes(env, policy, min_steps: int, seed: int, first_episode: int) -> tuple[dict, list[float], int]:
    """Whole episodes until at least ``min_steps`` steps: the batch, the episodes' returns, the count (Chapter 7, §7.5).

    ``policy.act(obs[None])`` samples an action (a numpy copy of the network, re-read before the batch).
    Each episode is seeded ``seed * 1_000_003 + index``, so runs are reproducible.
    """
    obs_list, actions, rewards, dones, returns = [], [], [], [], []
    episode = first_episode
    while len(obs_list) < min_steps:
        obs, _ = env.reset(seed=seed * 1_000_003 + episode)
        episode += 1
        total, done = 0.0, False
        while not done:
            action = int(policy.act(np.asarray(obs, dtype=np.float32)[None])[0][0])
            next_obs, reward, terminated, truncated, _ = env.step(action)
            done = bool(terminated or truncated)
            obs_list.append(obs)
            actions.append(action)
            rewards.append(float(reward))
            dones.append(done)
            total += float(reward)
            obs = next_obs
        returns.append(total)
    batch = {"obs": torch.as_tensor(np.asarray(obs_list, dtype=np.float32)), "actions": torch.as_tensor(actions),
             "rewards": torch.as_tensor(rewards, dtype=torch.float32), "dones": torch.as_tensor(dones)}
    return batch, returns, episode - first_episode


class REINFORCE:
    """REINFORCE's learner: policy and value networks, their optimisers, one :meth:`update` (Chapter 7, §7.5)."""

    def __init__(self, config: REINFORCEConfig, obs_dim: int, action_dim: int):
        if not isinstance(config, REINFORCEConfig):
            raise TypeError(f"config must be a REINFORCEConfig, got {type(config).__name__}")
        self.config = config
        self.net = ActorCritic(obs_dim, action_dim, discrete=True, hidden=config.hidden)
        self.policy_optimizer = torch.optim.Adam(self.net.actor.parameters(), lr=config.lr)
        self.value_optimizer = torch.optim.Adam(self.net.critic.parameters(), lr=config.value_lr)

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        """One policy step on a batch of whole episodes, then refit the baseline (Chapter 7, §7.5)."""
        cfg = self.config
        returns_to_go = discounted_rewards_to_go(batch["rewards"], batch["dones"], cfg.gamma)
        with torch.no_grad():
            baseline = self.net.critic(batch["obs"]) if cfg.baseline == "value" else torch.zeros_like(returns_to_go)
        log_prob = self.net.actor.log_prob(batch["obs"], batch["actions"])
        loss = reinforce_loss(log_prob, batch["rewards"], batch["dones"], cfg.gamma, baseline=baseline,
                              gamma_t=cfg.gamma_t, normalize=cfg.normalize_advantages)
        self.policy_optimizer.zero_grad()
        loss.backward()
        self.policy_optimizer.step()
        value_loss = torch.zeros(())
        if cfg.baseline == "value":
            for _ in range(cfg.value_epochs):
                value_loss = (self.net.critic(batch["obs"]) - returns_to_go).square().mean()
                self.value_optimizer.zero_grad()
                value_loss.backward()
                self.value_optimizer.step()
        return {"policy_loss": float(loss.detach()), "value_loss": float(value_loss.detach())}


def _step_discounts(dones: torch.Tensor, gamma: float) -> torch.Tensor:
    """``gamma^k`` for each step, ``k`` its index within its episode (episodes end where ``dones``)."""
    T = len(dones)
    starts = torch.cat([torch.ones(1, dtype=torch.bool, device=dones.device), dones[:-1].bool()])
    steps = torch.arange(T, device=dones.device)
    episode_start = torch.cummax(torch.where(starts, steps, 0), dim=0).values
    return gamma ** (steps - episode_start).to(torch.float64)


def train_reinforce(config: REINFORCEConfig | None = None, seed: int = 0, callback=None, **overrides) -> Agent:
    """Train REINFORCE and return the :class:`Agent` (Chapter 7, §7.5); ``overrides`` set config fields."""
    import gymnasium as gym

    from ..nets.inference import NumpyPolicy

    config = configure(REINFORCEConfig, config, overrides)
    seed = validate.integer(seed, "seed", low=0)
    torch.manual_seed(seed)
    env = gym.make(config.env_id)
    if not hasattr(env.action_space, "n"):
        raise ValueError(f"REINFORCE here needs discrete actions; {config.env_id} has {env.action_space}")
    learner = REINFORCE(config, int(np.prod(env.observation_space.shape)), int(env.action_space.n))
    policy = NumpyPolicy(learner.net, seed=seed)
    agent = Agent(learner.net, config)
    from tqdm.auto import tqdm

    bar = tqdm(total=config.total_steps, disable=not config.progress, unit="step")
    steps = episodes = 0
    while steps < config.total_steps:
        policy.sync()
        batch, returns, count = collect_episodes(env, policy, config.batch_steps, seed, episodes)
        episodes += count
        steps += len(batch["rewards"])
        bar.update(len(batch["rewards"]))
        row = {"steps": steps, "episode_return": float(np.mean(returns)), **learner.update(batch)}
        for key, value in row.items():
            agent.history.setdefault(key, []).append(value)
        if callback is not None:
            callback(row)
        if config.target_return is not None and row["episode_return"] >= config.target_return:
            break
    bar.close()
    env.close()
    return agent
