"""Policy and value networks as plain ``nn.Module``s (Chapter 7, §7.5; Q networks Chapter 4; actors Chapters 15-17).

The actor and the critic are separate modules (no shared features, as in Stable-Baselines3's and
CleanRL's defaults), so each can have its own optimiser, ``parameters_to_vector(net.actor)``
works, and double backward (Fisher-vector products) and ``torch.func`` work on both. The fused
kernel of :mod:`rlcore.nets.fused` is another implementation of :meth:`ActorCritic.evaluate_actions`,
switched on by :func:`rlcore.nets.fused.use_fast_path` where it is valid; it computes the same
numbers (``tests/test_nets.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..base import validate
from ..distributions import Categorical, DiagGaussian, TanhGaussian
from .fused import fused_evaluate_actions, linear_layers

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def _sizes(obs_dim, hidden, name: str = "hidden") -> tuple[int, ...]:
    validate.integer(obs_dim, "obs_dim", low=1)
    hidden = tuple(hidden) if isinstance(hidden, Sequence) else hidden
    if not isinstance(hidden, tuple) or not hidden:
        raise ValueError(f"{name} must be a non-empty tuple of layer widths such as (64, 64), got {hidden!r}")
    return (int(obs_dim),) + tuple(validate.integer(h, f"{name}[{i}]", low=1) for i, h in enumerate(hidden))


def mlp(sizes: Sequence[int], activation: str = "tanh") -> nn.Sequential:
    """``Linear, activation, Linear, activation, ...`` through ``sizes`` (Chapter 7, §7.5)."""
    validate.one_of(activation, "activation", ACTIVATIONS)
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


@torch.no_grad()
def orthogonal_init_(body: nn.Sequential, out: nn.Linear, out_gain: float) -> None:
    """Orthogonal weights, gain sqrt 2 in hidden layers and ``out_gain`` at the output; zero biases (Chapter 14, §14.7).
    """
    for layer in linear_layers(body):
        nn.init.orthogonal_(layer.weight, gain=math.sqrt(2))
        layer.bias.zero_()
    nn.init.orthogonal_(out.weight, gain=out_gain)
    out.bias.zero_()


class PolicyNet(nn.Module):
    """The actor ``pi_theta(a|s)``: an MLP body and a categorical or diagonal-Gaussian head (Chapter 7, §7.5).

    For a Gaussian the log standard deviation is a state-independent parameter, as in PPO's paper.
    """

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool, hidden: Sequence[int] = (64, 64),
                 activation: str = "tanh", ortho_init: bool = True, log_std_init: float = 0.0):
        super().__init__()
        sizes = _sizes(obs_dim, hidden)
        self.action_dim, self.discrete = validate.integer(action_dim, "action_dim", low=1), bool(discrete)
        self.body = mlp(sizes, activation)
        self.out = nn.Linear(sizes[-1], self.action_dim)
        log_std_init = validate.real(log_std_init, "log_std_init")
        self.log_std = None if self.discrete else nn.Parameter(torch.full((self.action_dim,), log_std_init))
        self.head = Categorical if self.discrete else DiagGaussian
        if ortho_init:
            orthogonal_init_(self.body, self.out, out_gain=0.01)  # near-uniform initial policy

    def dist_params(self, features: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The head's parameters from the body's output: ``(logits,)`` or ``(mean, log_std)`` (Chapter 7, §7.5)."""
        out = self.out(features)
        return (out,) if self.discrete else (out, self.log_std)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.dist_params(self.body(obs))

    def log_prob(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """``log pi_theta(a|s)`` with gradients (Chapter 7, §7.5)."""
        return self.head.log_prob(*self(obs), actions)


class ValueNet(nn.Module):
    """The critic ``V_phi(s)``: an MLP body and a linear output (Chapter 7, §7.5)."""

    def __init__(self, obs_dim: int, hidden: Sequence[int] = (64, 64), activation: str = "tanh",
                 ortho_init: bool = True):
        super().__init__()
        sizes = _sizes(obs_dim, hidden)
        self.body = mlp(sizes, activation)
        self.out = nn.Linear(sizes[-1], 1)
        if ortho_init:
            orthogonal_init_(self.body, self.out, out_gain=1.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(obs)).squeeze(-1)


class ActorCritic(nn.Module):
    """A policy ``pi_theta(a|s)`` (``.actor``) and a value ``V_phi(s)`` (``.critic``), separate MLPs (Chapter 7, §7.5).

    ``discrete``: a categorical head over ``action_dim`` actions; otherwise a diagonal Gaussian
    over ``action_dim`` dimensions with a learned, state-independent ``log_std``.
    ``ortho_init``: orthogonal weights with gain sqrt(2) in hidden layers, 0.01 for the policy
    output and 1 for the value output, zero biases (the PPO paper's initialisation).
    """

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool, hidden: Sequence[int] = (64, 64),
                 activation: str = "tanh", ortho_init: bool = True, log_std_init: float = 0.0):
        super().__init__()
        self.actor = PolicyNet(obs_dim, action_dim, discrete, hidden, activation, ortho_init, log_std_init)
        self.critic = ValueNet(obs_dim, hidden, activation, ortho_init)
        self.obs_dim, self.action_dim, self.discrete = int(obs_dim), self.actor.action_dim, self.actor.discrete
        self.hidden, self.activation = tuple(int(h) for h in hidden), activation
        self.head = self.actor.head
        self.fused = False  #: True when :func:`rlcore.nets.fused.use_fast_path` switched the fused kernel on

    def forward(self, obs: torch.Tensor):
        """``(dist_params, value)``: logits (or ``(mean, log_std)``) and ``V(s)`` for a batch (Chapter 7, §7.5)."""
        obs = self._obs(obs)
        return self.actor(obs), self.critic(obs)

    def _obs(self, obs: torch.Tensor) -> torch.Tensor:
        if not isinstance(obs, torch.Tensor) or obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            got = tuple(obs.shape) if hasattr(obs, "shape") else type(obs).__name__
            raise ValueError(f"obs must be a tensor of shape (batch, {self.obs_dim}), got {got}")
        return obs

    @torch.no_grad()
    def act(self, obs: torch.Tensor, generator: torch.Generator | None = None):
        """Sample ``a ~ pi(.|s)``; return ``(action, log_prob, value)`` without gradients (Chapter 7, §7.5)."""
        params, value = self(obs)
        action = self.head.sample(*params, generator=generator)
        return action, self.head.log_prob(*params, action), value

    def evaluate_actions(self, obs: torch.Tensor, actions: torch.Tensor, entropy: bool = True):
        """``(log pi(a|s), entropy of pi(.|s) or None, V(s))`` for stored pairs, with gradients (Chapter 7, §7.5)."""
        if self.fused:  # the same numbers as below, as one autograd node (rlcore.nets.fused)
            log_prob, entropies, value = fused_evaluate_actions(self, self._obs(obs), actions)
            return log_prob, entropies if entropy else None, value
        params, value = self(obs)
        return self.head.log_prob(*params, actions), self.head.entropy(*params) if entropy else None, value

    @torch.no_grad()
    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """``V(s)`` without gradients (Chapter 7, §7.5)."""
        return self.critic(self._obs(obs))

    @torch.no_grad()
    def greedy(self, obs: torch.Tensor) -> torch.Tensor:
        """The most likely action (argmax, or the Gaussian's mean), for evaluation (Chapter 7, §7.5)."""
        return self.head.mode(*self.actor(self._obs(obs)))

    def hyperparameters(self) -> dict:
        """What :class:`ActorCritic` needs to be rebuilt (saved with an agent) (Chapter 7, §7.5)."""
        return {"obs_dim": self.obs_dim, "action_dim": self.action_dim, "discrete": self.discrete,
                "hidden": list(self.hidden), "activation": self.activation}


class QNet(nn.Module):
    """``Q_w(s, .)``: one output per discrete action (Chapter 4)."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: Sequence[int] = (64, 64), activation: str = "relu"):
        super().__init__()
        sizes = _sizes(obs_dim, hidden)
        self.body = mlp(sizes, activation)
        self.out = nn.Linear(sizes[-1], validate.integer(n_actions, "n_actions", low=1))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(obs))


class ContinuousQNet(nn.Module):
    """``Q_w(s, a)`` for continuous actions: the MLP reads ``[s, a]`` (Chapters 15-17)."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: Sequence[int] = (256, 256), activation: str = "relu"):
        super().__init__()
        action_dim = validate.integer(action_dim, "action_dim", low=1)
        sizes = _sizes(validate.integer(obs_dim, "obs_dim", low=1) + action_dim, hidden)
        self.body = mlp(sizes, activation)
        self.out = nn.Linear(sizes[-1], 1)

    def forward(self, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(torch.cat([obs, actions], -1))).squeeze(-1)


class DeterministicActor(nn.Module):
    """``mu_theta(s) = low + (high - low) (tanh(.) + 1) / 2``: actions inside the box ``[low, high]`` (Chapter 15)."""

    def __init__(self, obs_dim: int, low, high, hidden: Sequence[int] = (256, 256), activation: str = "relu"):
        super().__init__()
        low = torch.as_tensor(low, dtype=torch.float32).reshape(-1)
        high = torch.as_tensor(high, dtype=torch.float32).reshape(-1)
        if low.shape != high.shape or not torch.all(torch.isfinite(low) & torch.isfinite(high) & (low < high)):
            raise ValueError(f"low and high must be finite bounds of one shape with low < high, got {low} and {high}")
        sizes = _sizes(obs_dim, hidden)
        self.body = mlp(sizes, activation)
        self.out = nn.Linear(sizes[-1], len(low))
        self.register_buffer("low", low)
        self.register_buffer("high", high)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.low + (self.high - self.low) * (torch.tanh(self.out(self.body(obs))) + 1) / 2


class SquashedGaussianActor(nn.Module):
    """SAC's actor: a state-dependent Gaussian squashed by ``tanh`` into ``(-1, 1)`` (Chapter 17)."""

    LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  #: the clamp of the SAC reference implementation

    def __init__(self, obs_dim: int, action_dim: int, hidden: Sequence[int] = (256, 256), activation: str = "relu"):
        super().__init__()
        sizes = _sizes(obs_dim, hidden)
        self.body = mlp(sizes, activation)
        self.out = nn.Linear(sizes[-1], 2 * validate.integer(action_dim, "action_dim", low=1))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean, log_std)`` of the pre-squash Gaussian (Chapter 17)."""
        mean, log_std = self.out(self.body(obs)).chunk(2, -1)
        return mean, log_std.clamp(self.LOG_STD_MIN, self.LOG_STD_MAX)

    def sample(self, obs: torch.Tensor, generator: torch.Generator | None = None):
        """A reparametrised action ``tanh(mean + std * noise)`` and its log-probability (Chapter 17)."""
        mean, log_std = self(obs)
        u = mean + log_std.exp() * torch.randn(mean.shape, generator=generator, device=mean.device)
        return torch.tanh(u), TanhGaussian.log_prob_pre_tanh(mean, log_std, u)
