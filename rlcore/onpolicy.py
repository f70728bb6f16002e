"""The training loop every on-policy algorithm shares (Chapters 7, 8 and 14).

environment -> rollout -> advantages -> the algorithm's update -> metrics, repeated until
``total_steps`` transitions have been collected. An algorithm supplies only its update function
(:func:`rlcore.ppo.ppo_update`, :func:`rlcore.a2c.a2c_update`) and its optimiser.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .device import pick_device
from .envs import make_vec_env, space_dims
from .nets import ActorCritic, NumpyPolicy
from .returns import gae
from .rollouts import RolloutCollector, TorchPolicy


class TrainingDiverged(RuntimeError):
    """A loss or a parameter became NaN/inf, or a loss exceeded ``max_loss``."""


@dataclass
class OnPolicyConfig:
    """Settings shared by the on-policy algorithms; each algorithm's config adds its own."""

    env_id: str = "CartPole-v1"
    """Gymnasium id of the environment (flat Box observations; Discrete or Box actions)."""
    num_envs: int = 8
    """N: environments stepped in parallel."""
    num_steps: int = 32
    """T: steps per environment in each rollout; one update per rollout of N*T steps."""
    total_steps: int = 100_000
    """Environment steps (valid transitions) to train for."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """lambda of GAE: 0 = one-step TD advantages, 1 = Monte Carlo advantages."""
    lr: float = 3e-4
    """Learning rate of the optimiser."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over ``total_steps``."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden-layer widths of the policy MLP and (separately) of the value MLP."""
    ortho_init: bool = True
    """Orthogonal initialisation (gains sqrt 2 / 0.01 / 1) instead of PyTorch's default."""
    log_std_init: float = 0.0
    """Initial log standard deviation of a Gaussian policy (ignored for discrete actions)."""
    vf_coef: float = 0.5
    """c1: weight of the value loss mean (V(s) - R)^2 in the total loss."""
    ent_coef: float = 0.0
    """c2: weight of the entropy bonus (subtracted from the loss)."""
    max_grad_norm: float | None = 0.5
    """Clip the global gradient norm to this value; None: no clipping."""
    normalize_advantages: bool = True
    """Standardise advantages to mean 0, std 1 in each minibatch."""
    reward_scale: float = 1.0
    """Multiply rewards by this before computing returns (reported returns stay unscaled)."""
    seed: int = 0
    """Seeds the network's initialisation, the environments, action sampling and minibatch order."""
    device: str | None = None
    """"cpu", "cuda", ...; None picks the CPU for these small networks (see rlcore.pick_device)."""
    eval_every: int | None = None
    """Every this many steps, record the mean greedy return over ``eval_episodes`` episodes; None: never."""
    eval_episodes: int = 10
    """Episodes per greedy evaluation (run in parallel, seeded, so evaluations are comparable)."""
    progress: bool = True
    """Show a tqdm progress bar."""
    max_loss: float = 1e8
    """Stop with TrainingDiverged when a loss's magnitude exceeds this."""

    def require(self, ok: bool, name: str, expected: str) -> None:
        """Raise ``ValueError("<Config>.<name> must be <expected>, got <value>")`` unless ``ok``."""
        if not ok:
            raise ValueError(f"{type(self).__name__}.{name} must be {expected}, got {getattr(self, name)!r}")

    def require_positive_int(self, name: str) -> None:
        v = getattr(self, name)
        self.require(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1, name,
                     "a positive integer")

    def __post_init__(self):
        need = self.require
        for name in ("num_envs", "num_steps", "total_steps", "eval_episodes"):
            self.require_positive_int(name)
        need(isinstance(self.env_id, str), "env_id", "a Gymnasium id such as 'CartPole-v1'")
        need(0.0 <= self.gamma <= 1.0, "gamma", "in [0, 1]")
        need(0.0 <= self.gae_lambda <= 1.0, "gae_lambda", "in [0, 1]")
        need(self.lr > 0 and math.isfinite(self.lr), "lr", "a positive number")
        need(self.vf_coef >= 0, "vf_coef", ">= 0")
        need(self.ent_coef >= 0, "ent_coef", ">= 0")
        need(self.max_grad_norm is None or self.max_grad_norm > 0, "max_grad_norm", "None or > 0")
        need(self.reward_scale > 0, "reward_scale", "> 0")
        need(isinstance(self.seed, (int, np.integer)) and self.seed >= 0, "seed", "a non-negative integer")
        need(self.eval_every is None or (isinstance(self.eval_every, int) and self.eval_every >= 1),
             "eval_every", "None or a positive integer")
        self.hidden = tuple(self.hidden)


class Agent:
    """A trained (or training) actor-critic with its config and the history of its training."""

    def __init__(self, net: ActorCritic, config: OnPolicyConfig, history: dict[str, list] | None = None):
        self.net, self.config = net, config
        self.history: dict[str, list] = history if history is not None else {}

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations: greedy by default, else sampled."""
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        if obs_t.ndim != 2 or obs_t.shape[1] != self.net.obs_dim:
            raise ValueError(f"obs must have shape (batch, {self.net.obs_dim}), got {tuple(obs_t.shape)}")
        action = self.net.greedy(obs_t) if deterministic else self.net.act(obs_t)[0]
        return action.cpu().numpy()

    def evaluate(self, episodes: int = 10, seed: int = 10_000, env_id: str | None = None) -> np.ndarray:
        """Undiscounted returns of ``episodes`` greedy episodes (see :func:`evaluate_policy`)."""
        return evaluate_policy(self.act, env_id or self.config.env_id, episodes, seed)

    def curve(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of one history column, dropping updates where it was not recorded."""
        steps, values = np.asarray(self.history["steps"]), np.asarray(self.history[key], dtype=float)
        keep = np.isfinite(values)
        return steps[keep], values[keep]

    def save(self, path) -> None:
        torch.save({"algorithm": type(self.config).__name__, "config": dataclasses.asdict(self.config),
                    "net": self.net.hyperparameters(), "state_dict": self.net.state_dict(),
                    "history": self.history}, path)

    @classmethod
    def load(cls, path, device: str | None = None) -> Agent:
        from . import a2c, ppo

        data = torch.load(path, map_location="cpu", weights_only=True)
        configs = {"PPOConfig": ppo.PPOConfig, "A2CConfig": a2c.A2CConfig}
        if data.get("algorithm") not in configs:
            raise ValueError(f"{path} is not an rlcore agent file (algorithm={data.get('algorithm')!r})")
        config = configs[data["algorithm"]](**data["config"])
        kw = data["net"]
        net = ActorCritic(kw["obs_dim"], kw["action_dim"], kw["discrete"], tuple(kw["hidden"]), kw["activation"])
        net.load_state_dict(data["state_dict"])
        return cls(net.to(pick_device(device)), config, data["history"])


def evaluate_policy(policy: Callable[[np.ndarray], np.ndarray], env_id: str, episodes: int = 10,
                    seed: int = 10_000, max_steps: int = 100_000) -> np.ndarray:
    """Run ``episodes`` episodes at once (one per vector-env copy) and return their undiscounted returns.

    ``policy`` maps a batch of observations to a batch of actions; continuous actions are clipped
    to the action space's bounds. The same ``seed`` gives the same start states, so evaluations of
    different agents (or of one agent over training) are comparable.
    """
    envs = make_vec_env(env_id, episodes, seed=seed)
    space = envs.single_action_space
    obs, _ = envs.reset(seed=seed)
    returns = np.zeros(episodes)
    running = np.ones(episodes, dtype=bool)
    for _ in range(max_steps):
        action = policy(obs)
        if hasattr(space, "low"):
            action = np.clip(action, space.low, space.high)
        obs, reward, terminated, truncated, _ = envs.step(action)
        returns += reward * running
        running &= ~(terminated | truncated)
        if not running.any():
            break
    envs.close()
    return returns


def configure(cls, config, overrides: dict):
    """``config`` (default ``cls()``) with ``overrides`` applied; a clear error for the wrong config type."""
    if config is None:
        return cls(**overrides)
    if not isinstance(config, cls):
        raise TypeError(f"config must be a {cls.__name__}, got {type(config).__name__}")
    return dataclasses.replace(config, **overrides)


def clip_grad_norm_(params: list[torch.Tensor], max_norm: float | None) -> float:
    """Scale gradients so their global L2 norm is at most ``max_norm``; return the norm before clipping."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))).item()
    if max_norm is not None and norm > max_norm:
        torch._foreach_mul_(grads, max_norm / (norm + 1e-6))
    return norm


def explained_variance(values: np.ndarray, returns: np.ndarray) -> float:
    """``1 - Var[R - V] / Var[R]``: 1 for a perfect critic, 0 for a constant one, negative for worse."""
    var = np.var(returns)
    return float("nan") if var == 0 else float(1.0 - np.var(returns - values) / var)


def train_onpolicy(config: OnPolicyConfig, update: Callable, make_optimizer: Callable,
                   callback: Callable | None = None) -> Agent:
    """The shared loop: collect a rollout, compute GAE, call ``update``, record, repeat.

    ``update(net, optimizer, batch, config, progress_remaining, state) -> dict`` performs one
    algorithm update on ``batch`` (flat tensors: obs, actions, log_probs, values, advantages,
    returns) and returns its diagnostics; ``state`` is a dict it may keep between updates.
    ``callback(record, agent)`` runs after every update; returning False stops training.
    """
    from tqdm.auto import tqdm

    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    envs = make_vec_env(config.env_id, config.num_envs, seed=config.seed)
    obs_dim, action_dim, discrete = space_dims(envs)
    net = ActorCritic(obs_dim, action_dim, discrete, config.hidden, ortho_init=config.ortho_init,
                      log_std_init=config.log_std_init).to(device)
    optimizer = make_optimizer(net.parameters(), config)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    if device.type == "cpu":
        policy = NumpyPolicy(net, seed=config.seed)
    else:
        policy = TorchPolicy(net, generator)
    collector = RolloutCollector(envs, policy, config.num_steps)
    agent = Agent(net, config)
    state: dict = {"generator": generator}
    next_eval = config.eval_every
    train_seconds = 0.0
    bar = tqdm(total=config.total_steps, disable=not config.progress, unit="step")
    try:
        while collector.steps < config.total_steps:
            start = time.perf_counter()
            progress_remaining = 1.0 - collector.steps / config.total_steps
            episodes_before = len(collector.episode_returns)
            rollout = collector.collect()
            rewards = rollout.rewards * config.reward_scale
            advantages = gae(rewards, rollout.values[:-1], rollout.next_values, rollout.terminated,
                             rollout.truncated, config.gamma, config.gae_lambda)
            returns = advantages + rollout.values[:-1]  # value targets R_t = A_t + V(s_t)
            batch = rollout.transitions(device, advantages=advantages, returns=returns)
            if config.anneal_lr:
                for group in optimizer.param_groups:
                    group["lr"] = config.lr * progress_remaining
            stats = update(net, optimizer, batch, config, progress_remaining, state)
            train_seconds += time.perf_counter() - start
            _check_finite(net, stats, collector.steps, config.max_loss)
            new_returns = collector.episode_returns[episodes_before:]
            record = {"steps": collector.steps, "seconds": train_seconds,
                      "episode_return": float(np.mean(new_returns)) if new_returns else float("nan"),
                      "explained_variance": explained_variance(rollout.values[:-1][rollout.valid],
                                                               returns[rollout.valid]),
                      "lr": optimizer.param_groups[0]["lr"], **stats, "eval_return": float("nan")}
            if next_eval is not None and collector.steps >= next_eval:
                record["eval_return"] = float(np.mean(agent.evaluate(config.eval_episodes)))
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


def _check_finite(net: ActorCritic, stats: dict, steps: int, max_loss: float) -> None:
    for key, value in stats.items():
        if "loss" in key and not (math.isfinite(value) and abs(value) <= max_loss):
            raise TrainingDiverged(f"{key} = {value} after {steps} steps: training diverged "
                                   "(try a smaller lr, or check the environment's reward scale)")
    for name, p in net.named_parameters():
        if not torch.isfinite(p).all():
            raise TrainingDiverged(f"parameter {name} became NaN/inf after {steps} steps "
                                   "(try a smaller lr or max_grad_norm)")
