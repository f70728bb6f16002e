"""Training settings: the validation every config shares and the on-policy fields (Chapter 7, §7.5).

Each algorithm's config (:mod:`rlcore.algos`) is a dataclass that adds its own fields to
:class:`OnPolicyConfig`; every field has a docstring, and a wrong value raises at construction
with a message naming ``<Config>.<field>``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np


class Config:
    """Mixin: ``require`` raises ``ValueError("<Config>.<name> must be <expected>, got <value>")`` (Chapter 7, §7.5)."""

    def require(self, ok: bool, name: str, expected: str) -> None:
        """Raise unless ``ok``, naming the field, what it holds and what was expected (Chapter 7, §7.5)."""
        if not ok:
            raise ValueError(f"{type(self).__name__}.{name} must be {expected}, got {getattr(self, name)!r}")

    def require_int(self, name: str, low: int = 1) -> None:
        """Raise unless the field is an integer ``>= low`` (booleans rejected) (Chapter 7, §7.5)."""
        v = getattr(self, name)
        self.require(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low, name,
                     f"an integer >= {low}")

    def require_real(self, name: str, low: float = -math.inf, high: float = math.inf, low_open: bool = False,
                     high_open: bool = False, optional: bool = False) -> None:
        """Raise unless the field is a finite real in the interval (or ``None`` if ``optional``) (Chapter 7, §7.5)."""
        v = getattr(self, name)
        if optional and v is None:
            return
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)
        ok = ok and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open or high == math.inf else ']'}"
        self.require(ok, name, ("None or " if optional else "") + f"a finite number in {interval}")


def configure(cls, config, overrides: dict):
    """``config`` (default ``cls()``) with ``overrides`` applied; a clear error for a wrong config (Chapter 7, §7.5)."""
    if config is None:
        return cls(**overrides)
    if not isinstance(config, cls):
        raise TypeError(f"config must be a {cls.__name__}, got {type(config).__name__}")
    unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {sorted(unknown)}")
    return dataclasses.replace(config, **overrides)


@dataclass
class OnPolicyConfig(Config):
    """Settings shared by the on-policy algorithms; each algorithm's config adds its own (Chapter 7, §7.5)."""

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
    fast: bool | None = None
    """None: the fast paths (numpy rollouts, fused kernel, fused Adam) where valid; False: the plain path."""
    eval_every: int | None = None
    """Every this many steps, record the mean greedy return over ``eval_episodes`` episodes; None: never."""
    eval_episodes: int = 10
    """Episodes per greedy evaluation (run in parallel, seeded, so evaluations are comparable)."""
    progress: bool = True
    """Show a tqdm progress bar."""
    max_loss: float = 1e8
    """Stop with TrainingDiverged when a loss's magnitude exceeds this."""

    def __post_init__(self):
        need = self.require
        for name in ("num_envs", "num_steps", "total_steps", "eval_episodes"):
            self.require_int(name)
        self.require_int("seed", low=0)
        need(isinstance(self.env_id, str), "env_id", "a Gymnasium id such as 'CartPole-v1'")
        self.require_real("gamma", 0.0, 1.0)
        self.require_real("gae_lambda", 0.0, 1.0)
        self.require_real("lr", 0.0, low_open=True)
        self.require_real("vf_coef", 0.0)
        self.require_real("ent_coef", 0.0)
        self.require_real("max_grad_norm", 0.0, low_open=True, optional=True)
        self.require_real("reward_scale", 0.0, low_open=True)
        self.require_real("max_loss", 0.0, low_open=True)
        self.require_real("log_std_init")
        need(self.fast in (None, True, False), "fast", "None, True or False")
        need(self.eval_every is None or (isinstance(self.eval_every, int) and self.eval_every >= 1),
             "eval_every", "None or a positive integer")
        need(isinstance(self.hidden, (tuple, list)) and len(self.hidden) > 0
             and all(isinstance(h, (int, np.integer)) and h >= 1 for h in self.hidden), "hidden",
             "a non-empty tuple of positive layer widths")
        self.hidden = tuple(int(h) for h in self.hidden)
