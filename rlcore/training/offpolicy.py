"""The training loop every off-policy algorithm shares (Chapter 4; Chapters 15-17).

act -> step the environments -> store transitions in the replay buffer -> every ``train_freq``
vector steps after ``learning_starts``, ``gradient_steps`` updates on sampled minibatches, with a
target-network update every ``target_update_interval`` of them. An algorithm supplies a
*learner* with ``explore(obs) -> actions`` (numpy, with its exploration noise),
``update(batch, progress_remaining) -> dict`` and ``update_target()``.

Next-step autoreset (see :mod:`rlcore.envs.vector`): the step after an episode's end is the
environment's reset step, not a transition, so it is never stored; the stored ``next_obs`` of a
truncated step is the episode's true final observation, so truncation still bootstraps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..base.device import pick_device
from ..data.replay import ReplayBuffer
from ..envs.vector import check_vec_env
from .config import Config
from .divergence import check_losses


@dataclass
class OffPolicyConfig(Config):
    """Settings shared by the off-policy algorithms; each algorithm's config adds its own (Chapter 4)."""

    env_id: str = "CartPole-v1"
    """Gymnasium id of the environment."""
    num_envs: int = 1
    """N: environments stepped in parallel (each vector step stores up to N transitions)."""
    total_steps: int = 50_000
    """Environment steps (stored transitions) to train for."""
    gamma: float = 0.99
    """Discount factor."""
    lr: float = 1e-3
    """Learning rate."""
    buffer_size: int = 100_000
    """Capacity of the replay buffer (the oldest transitions are overwritten)."""
    learning_starts: int = 1_000
    """Act uniformly at random and do not update until this many transitions are stored."""
    batch_size: int = 64
    """Transitions per sampled minibatch."""
    train_freq: int = 1
    """Update every this many vector steps."""
    gradient_steps: int = 1
    """Updates each time training happens."""
    target_update_interval: int = 1
    """Call the learner's update_target() every this many updates."""
    seed: int = 0
    """Seeds the networks, the environments, the buffer's sampling and the random actions."""
    device: str | None = None
    """"cpu", "cuda", ...; None picks the CPU for small networks."""
    progress: bool = True
    """Show a tqdm progress bar."""
    max_loss: float = 1e8
    """Stop with TrainingDiverged when a loss's magnitude exceeds this."""

    def __post_init__(self):
        for name in ("num_envs", "total_steps", "buffer_size", "batch_size", "train_freq", "gradient_steps",
                     "target_update_interval"):
            self.require_int(name)
        self.require_int("learning_starts", low=0)
        self.require_int("seed", low=0)
        self.require(isinstance(self.env_id, str), "env_id", "a Gymnasium id such as 'CartPole-v1'")
        self.require_real("gamma", 0.0, 1.0)
        self.require_real("lr", 0.0, low_open=True)
        self.require_real("max_loss", 0.0, low_open=True)


@torch.no_grad()
def polyak_update_(target: torch.nn.Module, source: torch.nn.Module, tau: float) -> None:
    """``theta_target <- (1 - tau) theta_target + tau theta`` for every parameter; ``tau = 1`` copies (Chapter 15)."""
    if not 0.0 < tau <= 1.0:
        raise ValueError(f"tau must be in (0, 1], got {tau!r}")
    target_params, source_params = list(target.parameters()), list(source.parameters())
    if [p.shape for p in target_params] != [p.shape for p in source_params]:
        raise ValueError("target and source must be networks of the same shapes")
    torch._foreach_lerp_(target_params, source_params, tau)


def train_offpolicy(learner, envs, config: OffPolicyConfig, callback: Callable | None = None) -> dict[str, list]:
    """Act, store, and update from replay; return the history, one row per training round (Chapter 4).

    ``callback(record, learner)`` runs after every training round; returning ``False`` stops.
    ``envs`` is closed at the end.
    """
    if not isinstance(config, OffPolicyConfig):
        raise TypeError(f"config must be an OffPolicyConfig, got {type(config).__name__}")
    for method in ("explore", "update", "update_target"):
        if not callable(getattr(learner, method, None)):
            raise TypeError(f"learner must have an {method}() method, got {type(learner).__name__}")
    check_vec_env(envs)
    from tqdm.auto import tqdm

    device = pick_device(config.device)
    space = envs.single_action_space
    buffer = ReplayBuffer(config.buffer_size, envs.single_observation_space.shape, space.shape,
                          action_dtype=np.int64 if not hasattr(space, "low") else np.float32, seed=config.seed)
    envs.action_space.seed(config.seed)
    obs, _ = envs.reset(seed=config.seed)
    reset_next = np.zeros(envs.num_envs, dtype=bool)  # this env's next step is a reset step, not a transition
    running_return = np.zeros(envs.num_envs)
    episode_returns: list[float] = []
    history: dict[str, list] = {}
    steps = vector_steps = updates = 0
    start = time.perf_counter()
    bar = tqdm(total=config.total_steps, disable=not config.progress, unit="step")
    try:
        while steps < config.total_steps:
            explore = steps >= config.learning_starts
            actions = learner.explore(obs) if explore else envs.action_space.sample()
            next_obs, rewards, terminated, truncated, _ = envs.step(actions)
            valid = ~reset_next
            buffer.add(obs[valid], np.asarray(actions)[valid], rewards[valid], next_obs[valid], terminated[valid])
            steps += int(valid.sum())
            vector_steps += 1
            running_return += rewards * valid
            reset_next = terminated | truncated
            for i in np.flatnonzero(reset_next):
                episode_returns.append(float(running_return[i]))
                running_return[i] = 0.0
            obs = next_obs
            if steps < config.learning_starts or vector_steps % config.train_freq:
                continue
            progress_remaining = 1.0 - steps / config.total_steps
            for _ in range(config.gradient_steps):
                stats = learner.update(buffer.sample(config.batch_size, device), progress_remaining)
                updates += 1
                if updates % config.target_update_interval == 0:
                    learner.update_target()
            check_losses(stats, steps, config.max_loss)
            record = {"steps": steps, "updates": updates, "seconds": time.perf_counter() - start,
                      "episode_return": episode_returns[-1] if episode_returns else float("nan"), **stats}
            for key, value in record.items():
                history.setdefault(key, []).append(value)
            bar.update(steps - bar.n)
            if callback is not None and callback(record, learner) is False:
                break
    finally:
        bar.close()
        envs.close()
    history["episode_returns"] = episode_returns
    return history
