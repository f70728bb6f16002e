"""A trained (or training) agent: its network, its config and its history, with save and load (Chapter 7, §7.5)."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import torch

from ..base.device import pick_device
from ..nets.mlp import ActorCritic
from .evaluation import episode_returns


class Agent:
    """An :class:`ActorCritic` with the config that trained it and one history row per update (Chapter 7, §7.5)."""

    def __init__(self, net: ActorCritic, config, history: dict[str, list] | None = None):
        if not isinstance(net, ActorCritic):
            raise TypeError(f"net must be an rlcore ActorCritic, got {type(net).__name__}")
        self.net, self.config = net, config
        self.history: dict[str, list] = history if history is not None else {}

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations: greedy by default, else sampled (Chapter 7, §7.5)."""
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)
        if obs_t.ndim != 2 or obs_t.shape[1] != self.net.obs_dim:
            raise ValueError(f"obs must have shape (batch, {self.net.obs_dim}), got {tuple(obs_t.shape)}")
        action = self.net.greedy(obs_t) if deterministic else self.net.act(obs_t)[0]
        return action.cpu().numpy()

    def episode_returns(self, episodes: int = 10, seed: int = 10_000, env_id: str | None = None) -> np.ndarray:
        """Undiscounted returns of ``episodes`` greedy episodes (Chapter 7, §7.5; see ``training.evaluation``)."""
        return episode_returns(self.act, env_id or self.config.env_id, episodes, seed)

    def curve(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of one history column, dropping updates where it was not recorded (Chapter 7, §7.5)."""
        if key not in self.history:
            raise KeyError(f"no history column {key!r}; columns: {sorted(self.history)}")
        steps, values = np.asarray(self.history["steps"]), np.asarray(self.history[key], dtype=float)
        keep = np.isfinite(values)
        return steps[keep], values[keep]

    def save(self, path) -> None:
        """Write the network, the config (with its class) and the history to ``path`` (Chapter 7, §7.5)."""
        cls = type(self.config)
        torch.save({"config_class": f"{cls.__module__}:{cls.__qualname__}",
                    "config": dataclasses.asdict(self.config), "net": self.net.hyperparameters(),
                    "state_dict": self.net.state_dict(), "history": self.history}, path)

    @classmethod
    def load(cls, path, device: str | None = None) -> Agent:
        """Read an agent written by :meth:`save` (Chapter 7, §7.5).

        The config's class is found by its name, so this module imports no algorithm.
        """
        data = torch.load(path, map_location="cpu", weights_only=True)
        name = data.get("config_class", "") if isinstance(data, dict) else ""
        module, _, qualname = name.partition(":")
        if not module.startswith("rlcore.") or not qualname:
            raise ValueError(f"{path} is not an rlcore agent file (config_class={name!r})")
        config = getattr(importlib.import_module(module), qualname)(**data["config"])
        kw = data["net"]
        net = ActorCritic(kw["obs_dim"], kw["action_dim"], kw["discrete"], tuple(kw["hidden"]), kw["activation"])
        net.load_state_dict(data["state_dict"])
        return cls(net.to(pick_device(device)), config, data["history"])
