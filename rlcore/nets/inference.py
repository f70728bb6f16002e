"""Acting in vector environments: the network as a numpy function of numpy observations (Chapter 7, §7.5).

Rollouts call the policy once per step on a handful of observations. Two implementations of one
interface, ``sync()``, ``act(obs) -> (action, log_prob, value)``, ``value(obs)``, ``greedy(obs)``:

* :class:`TorchPolicy` calls the network itself (any device);
* :class:`NumpyPolicy` evaluates the same network with numpy on the CPU, where PyTorch's per-call
  overhead is several times the arithmetic. It copies the parameters at every :meth:`~NumpyPolicy.sync`,
  which the collector calls before every rollout, so a parameter changed or replaced (for example by
  ``vector_to_parameters`` in a TRPO line search) is never missed.

:func:`rollout_policy` picks the numpy one where it is valid; ``tests/test_nets.py`` checks that
both agree on actions, log-probabilities and values.
"""

from __future__ import annotations

import numpy as np
import torch

from ..distributions.gaussian import LOG_2PI
from .mlp import ActorCritic, linear_layers


class TorchPolicy:
    """:class:`ActorCritic` on any device, behind the collector's numpy interface (Chapter 7, §7.5)."""

    def __init__(self, net: ActorCritic, generator: torch.Generator | None = None):
        self.net, self.generator = net, generator
        self.device = next(net.parameters()).device

    def sync(self) -> None:
        """Nothing to do: the network is called directly (Chapter 7, §7.5)."""

    def _tensor(self, obs):
        return torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)

    def act(self, obs: np.ndarray):
        """Sample ``a ~ pi(.|s)``; return numpy ``(action, log_prob, value)`` (Chapter 7, §7.5)."""
        action, log_prob, value = self.net.act(self._tensor(obs), self.generator)
        return action.cpu().numpy(), log_prob.cpu().numpy(), value.cpu().numpy()

    def value(self, obs: np.ndarray) -> np.ndarray:
        """``V(s)`` as numpy (Chapter 7, §7.5)."""
        return self.net.value(self._tensor(obs)).cpu().numpy()

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """The most likely action as numpy (Chapter 7, §7.5)."""
        return self.net.greedy(self._tensor(obs)).cpu().numpy()


class NumpyPolicy:
    """The same :class:`ActorCritic` evaluated with numpy on the CPU (tanh networks) (Chapter 7, §7.5)."""

    def __init__(self, net: ActorCritic, seed: int | None = None):
        if next(net.parameters()).device.type != "cpu":
            raise ValueError("NumpyPolicy needs a network on the CPU; use TorchPolicy on other devices")
        if net.activation != "tanh":
            raise ValueError(f"NumpyPolicy implements tanh networks only, got activation={net.activation!r}")
        self.net = net
        self.rng = np.random.default_rng(seed)
        self.sync()

    def sync(self) -> None:
        """Read the network's current parameters (Chapter 7, §7.5).

        Actor and critic are evaluated as *one* MLP: first layers stacked, deeper layers block-diagonal,
        outputs ``[logits or mean, V]``. On a handful of observations the extra zeros cost nothing and
        half the numpy calls are saved."""
        net = self.net

        def arrays(layers):
            return [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in layers]

        actor = arrays(linear_layers(net.actor.body) + [net.actor.out])
        critic = arrays(linear_layers(net.critic.body) + [net.critic.out])
        self.joint = []
        for k, ((wa, ba), (wc, bc)) in enumerate(zip(actor, critic)):
            if k == 0:
                w = np.concatenate([wa, wc]).T  # both read the observation
            else:
                w = np.zeros((wa.shape[1] + wc.shape[1], wa.shape[0] + wc.shape[0]), dtype=wa.dtype)
                w[:wa.shape[1], :wa.shape[0]], w[wa.shape[1]:, wa.shape[0]:] = wa.T, wc.T
            self.joint.append((np.ascontiguousarray(w), np.concatenate([ba, bc])))
        self.log_std = None if net.discrete else net.actor.log_std.detach().numpy().copy()

    @staticmethod
    def _mlp(layers, h):
        for w, b in layers[:-1]:
            h = h @ w
            h += b
            np.tanh(h, out=h)
        w, b = layers[-1]
        h = h @ w
        h += b
        return h

    def forward(self, obs: np.ndarray):
        out = self._mlp(self.joint, np.asarray(obs, dtype=np.float32))
        return out[:, :-1], out[:, -1]

    def act(self, obs: np.ndarray):
        """Sample ``a ~ pi(.|s)``; return numpy ``(action, log_prob, value)`` (Chapter 7, §7.5)."""
        out, value = self.forward(obs)
        if self.net.discrete:
            z = out - out.max(-1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
            cdf = np.exp(log_p).cumsum(-1)
            u = self.rng.random((len(out), 1), dtype=np.float32) * cdf[:, -1:]
            action = np.minimum((cdf < u).sum(-1), out.shape[-1] - 1)  # inverse CDF, as Categorical.sample
            return action, log_p[np.arange(len(out)), action], value
        noise = self.rng.standard_normal(out.shape, dtype=np.float32)
        action = out + np.exp(self.log_std) * noise
        log_prob = -(0.5 * noise**2 + self.log_std + 0.5 * LOG_2PI).sum(-1)
        return action, log_prob.astype(np.float32), value

    def value(self, obs: np.ndarray) -> np.ndarray:
        """``V(s)`` (Chapter 7, §7.5)."""
        return self.forward(obs)[1]

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """The most likely action (Chapter 7, §7.5)."""
        out = self.forward(obs)[0]
        return out.argmax(-1) if self.net.discrete else out


def rollout_policy(net: ActorCritic, generator: torch.Generator | None = None, seed: int | None = None,
                   fast: bool | None = None):
    """:class:`NumpyPolicy` where valid (CPU, tanh) unless ``fast=False``, else :class:`TorchPolicy`.

    (Chapter 7, §7.5.)
    """
    valid = next(net.parameters()).device.type == "cpu" and net.activation == "tanh"
    if fast and not valid:
        raise ValueError("fast=True was asked for, but the numpy policy needs a tanh network on the CPU")
    return NumpyPolicy(net, seed) if valid and fast is not False else TorchPolicy(net, generator)
