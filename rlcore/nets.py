"""Policy and value networks (Chapter 7) with categorical and diagonal-Gaussian heads.

The actor and the critic are two separate MLPs of the same shape (no shared features, as in
Stable-Baselines3's and CleanRL's defaults). Their hidden layers are evaluated *together*, one
batched matrix product per layer for both towers: the same arithmetic as two ``nn.Sequential``
stacks with half the PyTorch calls, which is what a tiny network's speed is made of on a CPU.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

LOG_2PI = math.log(2 * math.pi)


class Categorical:
    """``pi(a|s) = softmax(logits)_a`` for ``n`` discrete actions (Chapter 5)."""

    @staticmethod
    def sample(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        # Inverse-CDF sampling: one uniform number per row, the first action whose CDF exceeds it.
        cdf = torch.softmax(logits, -1).cumsum_(-1)
        u = torch.rand(cdf.shape[:-1] + (1,), generator=generator, device=logits.device)
        return torch.searchsorted(cdf, u * cdf[..., -1:]).squeeze(-1).clamp_(max=logits.shape[-1] - 1)

    @staticmethod
    def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits, -1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    @staticmethod
    def entropy(logits: torch.Tensor) -> torch.Tensor:
        log_p = torch.log_softmax(logits, -1)
        return -(log_p.exp() * log_p).sum(-1)  # H = -sum_a pi(a) log pi(a)

    @staticmethod
    def mode(logits: torch.Tensor) -> torch.Tensor:
        return logits.argmax(-1)


class DiagGaussian:
    """``pi(a|s) = N(mean(s), diag(exp(log_std))^2)`` with a state-independent ``log_std`` (Chapter 5)."""

    @staticmethod
    def sample(mean, log_std, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
        return mean + log_std.exp() * noise

    @staticmethod
    def log_prob(mean, log_std, actions) -> torch.Tensor:
        z = (actions - mean) * torch.exp(-log_std)
        return -(0.5 * z.square() + log_std + 0.5 * LOG_2PI).sum(-1)

    @staticmethod
    def entropy(mean, log_std) -> torch.Tensor:
        return (log_std + 0.5 * (1.0 + LOG_2PI)).sum(-1).expand(mean.shape[:-1])

    @staticmethod
    def mode(mean, log_std) -> torch.Tensor:
        return mean


def _tanh_(z: torch.Tensor) -> torch.Tensor:
    """``tanh`` in place. On the CPU numpy's tanh is several times faster than torch's for these sizes."""
    if z.device.type == "cpu" and z.dtype in (torch.float32, torch.float64):
        np.tanh(z.numpy(), out=z.numpy())
        return z
    return z.tanh_()


class TwinTanhMLP(torch.autograd.Function):
    """Hidden layers of two tanh MLPs at once, with backpropagation written out by hand.

    Forward: ``h_0 = s``, ``h_k = tanh(h_{k-1} W_k + b_k)`` for both towers (weights ``(2, in, out)``).
    Backward, with ``g_k = dL/dh_k``: ``dz_k = g_k (1 - h_k^2)``, ``dW_k = h_{k-1}^T dz_k``,
    ``db_k = sum_batch dz_k``, ``g_{k-1} = dz_k W_k^T``: a handful of calls per layer, fewer than
    autograd records; ``tests/test_nets.py`` checks it against autograd with ``gradcheck``.
    """

    @staticmethod
    def forward(ctx, obs, *params):
        n = len(params) // 2
        weights, biases = params[:n], params[n:]
        hs = [obs.unsqueeze(0).expand(2, *obs.shape)]
        for w, b in zip(weights, biases):
            hs.append(_tanh_(torch.baddbmm(b, hs[-1], w)))
        ctx.save_for_backward(*hs, *weights)
        return hs[-1][0], hs[-1][1]

    @staticmethod
    def backward(ctx, grad_actor, grad_critic):
        saved = ctx.saved_tensors
        n = (len(saved) - 1) // 2
        hs, weights = saved[: n + 1], saved[n + 1:]
        g = torch.stack((_zero_if_none(grad_actor, hs[-1][0]), _zero_if_none(grad_critic, hs[-1][1])))
        grad_w, grad_b = [None] * n, [None] * n
        for k in range(n - 1, -1, -1):
            dz = _mul_tanh_derivative_(g, hs[k + 1])
            grad_w[k] = torch.bmm(hs[k].transpose(1, 2), dz)
            grad_b[k] = dz.sum(1, keepdim=True)
            if k > 0:
                g = torch.bmm(dz, weights[k].transpose(1, 2))
        return (None, *grad_w, *grad_b)


def _zero_if_none(grad, like):
    return torch.zeros_like(like) if grad is None else grad


def _mul_tanh_derivative_(g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``g *= 1 - h^2`` in place, where ``h = tanh(z)`` (so ``1 - h^2 = tanh'(z)``)."""
    if g.device.type == "cpu" and g.is_contiguous() and h.is_contiguous():
        g_np, h_sq = g.numpy(), np.square(h.numpy())
        np.subtract(1.0, h_sq, out=h_sq)
        g_np *= h_sq
        return g
    return g.mul_(1.0 - h * h)


class ActorCritic(nn.Module):
    """Policy ``pi_theta(a|s)`` and value ``V_phi(s)``: two MLPs with ``hidden`` layers each.

    ``discrete``: a categorical head over ``action_dim`` actions; otherwise a diagonal Gaussian
    over ``action_dim`` dimensions with a learned, state-independent ``log_std``.
    ``ortho_init``: orthogonal weights with gain sqrt(2) in hidden layers, 0.01 for the policy
    output and 1 for the value output, zero biases (the PPO paper's initialisation).
    """

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool, hidden: tuple[int, ...] = (64, 64),
                 activation: str = "tanh", ortho_init: bool = True, log_std_init: float = 0.0):
        super().__init__()
        for name, v in (("obs_dim", obs_dim), ("action_dim", action_dim)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        hidden = tuple(hidden)
        if not hidden or any(not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive layer widths, got {hidden!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.obs_dim, self.action_dim, self.discrete = int(obs_dim), int(action_dim), bool(discrete)
        self.hidden, self.activation = hidden, activation
        self.act_fn = ACTIVATIONS[activation]
        sizes = (self.obs_dim,) + hidden
        # Hidden layer k of both towers: weight (2, in, out) and bias (2, 1, out); tower 0 = actor, 1 = critic.
        self.weights = nn.ParameterList([nn.Parameter(torch.empty(2, i, o)) for i, o in zip(sizes[:-1], sizes[1:])])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(2, 1, o)) for o in hidden])
        self.policy_out = nn.Linear(hidden[-1], self.action_dim)
        self.value_out = nn.Linear(hidden[-1], 1)
        self.log_std = None if self.discrete else nn.Parameter(torch.full((self.action_dim,), float(log_std_init)))
        self.head = Categorical if self.discrete else DiagGaussian
        self.reset_parameters(ortho_init)

    @torch.no_grad()
    def reset_parameters(self, ortho_init: bool = True) -> None:
        for w in self.weights:
            for tower in w:
                if ortho_init:
                    nn.init.orthogonal_(tower.T, gain=math.sqrt(2))  # .T: torch's (out, in) convention
                else:
                    bound = 1 / math.sqrt(tower.shape[0])  # nn.Linear's default range
                    tower.uniform_(-bound, bound)
        if ortho_init:
            for b in self.biases:
                b.zero_()
            for layer, gain in ((self.policy_out, 0.01), (self.value_out, 1.0)):
                nn.init.orthogonal_(layer.weight, gain=gain)
                layer.bias.zero_()

    def features(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Last hidden layer of the actor and of the critic, each of shape (B, hidden[-1])."""
        if self.activation == "tanh":
            return TwinTanhMLP.apply(obs, *self.weights, *self.biases)
        h = obs.unsqueeze(0).expand(2, *obs.shape)
        for w, b in zip(self.weights, self.biases):
            h = self.act_fn(torch.baddbmm(b, h, w))
        return h[0], h[1]

    def forward(self, obs: torch.Tensor):
        """``(dist_params, value)``: logits (or ``(mean, log_std)``) and ``V(s)`` for a batch of observations."""
        h_actor, h_critic = self.features(obs)
        out = self.policy_out(h_actor)
        value = self.value_out(h_critic).squeeze(-1)
        return ((out,) if self.discrete else (out, self.log_std)), value

    @torch.no_grad()
    def act(self, obs: torch.Tensor, generator: torch.Generator | None = None):
        """Sample ``a ~ pi(.|s)``; return ``(action, log_prob, value)`` (no gradient)."""
        params, value = self(obs)
        action = self.head.sample(*params, generator=generator)
        return action, self.head.log_prob(*params, action), value

    def evaluate(self, obs: torch.Tensor, actions: torch.Tensor, entropy: bool = True):
        """``(log pi(a|s), entropy of pi(.|s) or None, V(s))`` for stored pairs, with gradients."""
        params, value = self(obs)
        return self.head.log_prob(*params, actions), self.head.entropy(*params) if entropy else None, value

    @torch.no_grad()
    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value_out(self.features(obs)[1]).squeeze(-1)

    @torch.no_grad()
    def greedy(self, obs: torch.Tensor) -> torch.Tensor:
        """The most likely action (argmax, or the Gaussian's mean): for evaluation."""
        params, _ = self(obs)
        return self.head.mode(*params)

    def hyperparameters(self) -> dict:
        return {"obs_dim": self.obs_dim, "action_dim": self.action_dim, "discrete": self.discrete,
                "hidden": list(self.hidden), "activation": self.activation}


ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


class NumpyPolicy:
    """The same actor-critic evaluated with numpy on the CPU, for stepping environments.

    Rollouts call the network once per step on a handful of observations, where PyTorch's
    per-call overhead is several times the arithmetic. The arrays here are *views* of the
    network's parameters (no copy), so they follow every optimiser step. ``tests/test_nets.py``
    checks that actions, log-probabilities and values agree with :class:`ActorCritic`.
    """

    def __init__(self, net: ActorCritic, seed: int | None = None):
        if next(net.parameters()).device.type != "cpu":
            raise ValueError("NumpyPolicy needs a network on the CPU; use ActorCritic.act on other devices")
        if net.activation != "tanh":
            raise ValueError(f"NumpyPolicy implements tanh networks only, got activation={net.activation!r}")
        self.net = net
        self.rng = np.random.default_rng(seed)
        self.weights = [w.detach().numpy() for w in net.weights]
        self.biases = [b.detach().numpy() for b in net.biases]
        self.w_pi, self.b_pi = net.policy_out.weight.detach().numpy(), net.policy_out.bias.detach().numpy()
        self.w_v, self.b_v = net.value_out.weight.detach().numpy(), net.value_out.bias.detach().numpy()
        self.log_std = None if net.discrete else net.log_std.detach().numpy()

    def forward(self, obs: np.ndarray):
        h_pi = h_v = np.asarray(obs, dtype=np.float32)
        for w, b in zip(self.weights, self.biases):
            h_pi, h_v = np.tanh(h_pi @ w[0] + b[0]), np.tanh(h_v @ w[1] + b[1])
        return h_pi @ self.w_pi.T + self.b_pi, (h_v @ self.w_v.T)[:, 0] + self.b_v[0]

    def act(self, obs: np.ndarray):
        """Sample ``a ~ pi(.|s)``; return numpy ``(action, log_prob, value)``."""
        out, value = self.forward(obs)
        if self.net.discrete:
            z = out - out.max(-1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
            cdf = np.exp(log_p).cumsum(-1)
            u = self.rng.random((len(obs), 1), dtype=np.float32) * cdf[:, -1:]
            action = np.minimum((cdf < u).sum(-1), out.shape[-1] - 1)  # inverse CDF, as Categorical.sample
            return action, log_p[np.arange(len(obs)), action], value
        std = np.exp(self.log_std)
        noise = self.rng.standard_normal(out.shape, dtype=np.float32)
        action = out + std * noise
        log_prob = -(0.5 * noise**2 + self.log_std + 0.5 * LOG_2PI).sum(-1)
        return action, log_prob.astype(np.float32), value

    def value(self, obs: np.ndarray) -> np.ndarray:
        return self.forward(obs)[1]

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        out, _ = self.forward(obs)
        return out.argmax(-1) if self.net.discrete else out
