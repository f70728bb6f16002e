"""A faster implementation of :meth:`ActorCritic.features` on the CPU: both towers in one kernel (Chapter 7).

For the book's tiny networks a PPO update is made of PyTorch's per-call overhead, not of
arithmetic. This kernel evaluates the actor's and the critic's hidden layers together, one
batched matrix product per layer, with numpy's ``tanh`` (several times faster than torch's at
these sizes) and a hand-written backward pass: fewer calls than autograd records for two
``nn.Sequential`` stacks. It reads the *same* ``nn.Linear`` parameters as the plain modules (no
copy to keep in sync) and returns their gradients separately, so optimisers, saving and
``parameters_to_vector`` see no difference. It supports one backward pass only (no double
backward, no ``torch.func``), so :func:`use_fast_path` switches it on only where that is enough.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable


def _tanh_(z: torch.Tensor) -> torch.Tensor:
    """``tanh`` in place; numpy's on the CPU."""
    if z.device.type == "cpu" and z.is_contiguous():
        np.tanh(z.numpy(), out=z.numpy())
        return z
    return z.tanh_()


def _mul_tanh_derivative_(g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``g *= 1 - h^2`` in place, where ``h = tanh(z)`` (so ``1 - h^2 = tanh'(z)``)."""
    if g.device.type == "cpu" and g.is_contiguous() and h.is_contiguous():
        h_sq = np.square(h.numpy())
        np.subtract(1.0, h_sq, out=h_sq)
        g.numpy().__imul__(h_sq)
        return g
    return g.mul_(1.0 - h * h)


class TwinTanhMLP(torch.autograd.Function):
    """Hidden layers of two tanh MLPs of equal widths at once (Chapter 7).

    Forward, with ``W_k`` stacked as ``(2, out, in)``: ``h_0 = s``, ``h_k = tanh(h_{k-1} W_k^T + b_k)``.
    Backward, with ``g_k = dL/dh_k``: ``dz_k = g_k (1 - h_k^2)``, ``dW_k = dz_k^T h_{k-1}``,
    ``db_k = sum_batch dz_k``, ``g_{k-1} = dz_k W_k``.
    """

    @staticmethod
    def forward(ctx, obs, *params):
        """Both towers' hidden layers, weights stacked per layer (Chapter 7)."""
        n = len(params) // 4  # actor weights, critic weights, actor biases, critic biases
        weights = [torch.stack((params[k], params[n + k])) for k in range(n)]
        biases = [torch.stack((params[2 * n + k], params[3 * n + k])).unsqueeze(1) for k in range(n)]
        hs = [obs.unsqueeze(0).expand(2, *obs.shape)]
        for w, b in zip(weights, biases):
            hs.append(_tanh_(torch.baddbmm(b, hs[-1], w.transpose(1, 2))))
        ctx.save_for_backward(*hs, *weights)
        return hs[-1][0], hs[-1][1]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_actor, grad_critic):
        """The hand-written backward pass of the class docstring (Chapter 7)."""
        saved = ctx.saved_tensors
        n = (len(saved) - 1) // 2
        hs, weights = saved[: n + 1], saved[n + 1:]
        g = torch.stack((_zero_if_none(grad_actor, hs[-1][0]), _zero_if_none(grad_critic, hs[-1][1])))
        grad_w, grad_b = [None] * n, [None] * n
        for k in range(n - 1, -1, -1):
            dz = _mul_tanh_derivative_(g, hs[k + 1])
            grad_w[k] = torch.bmm(dz.transpose(1, 2), hs[k])  # (2, out, in), as nn.Linear stores weights
            grad_b[k] = dz.sum(1)
            if k > 0:
                g = torch.bmm(dz, weights[k])
        return (None, *(w[0] for w in grad_w), *(w[1] for w in grad_w),
                *(b[0] for b in grad_b), *(b[1] for b in grad_b))


def _zero_if_none(grad, like):
    return torch.zeros_like(like) if grad is None else grad


def fused_tanh_features(obs: torch.Tensor, actor_layers: Sequence[nn.Linear], critic_layers: Sequence[nn.Linear]):
    """``(actor_body(obs), critic_body(obs))`` through :class:`TwinTanhMLP` (Chapter 7)."""
    params = ([layer.weight for layer in actor_layers] + [layer.weight for layer in critic_layers]
              + [layer.bias for layer in actor_layers] + [layer.bias for layer in critic_layers])
    return TwinTanhMLP.apply(obs, *params)


def fast_path_problem(net) -> str | None:
    """Why the fused kernel cannot run ``net``, or ``None`` if it can (Chapter 7)."""
    params = list(net.parameters())
    if params[0].device.type != "cpu":
        return f"the network is on {params[0].device}, the fused kernel runs on the CPU"
    if net.activation != "tanh":
        return f"the fused kernel implements tanh networks, got activation={net.activation!r}"
    if any(p.dtype not in (torch.float32, torch.float64) or p.dtype != params[0].dtype for p in params):
        return "the fused kernel needs float32 or float64 parameters of one dtype"
    def shapes(body):
        return [tuple(m.weight.shape) for m in body if isinstance(m, nn.Linear)]

    if shapes(net.actor.body) != shapes(net.critic.body):
        return "the fused kernel needs actor and critic bodies of equal widths"
    return None


def use_fast_path(net, enabled: bool | None = None) -> bool:
    """Switch ``net`` (an :class:`~rlcore.nets.mlp.ActorCritic`) to the fused kernel where valid (Chapter 7).

    ``enabled=None`` decides automatically; ``True`` raises ``ValueError`` if the kernel cannot run
    this network; ``False`` keeps the plain path. Only algorithms that need a single backward pass
    through actor and critic together (PPO, A2C) call this: the kernel has no double backward.
    Returns whether the fused kernel is now on.
    """
    if enabled not in (None, True, False):
        raise ValueError(f"enabled must be None (automatic), True or False, got {enabled!r}")
    problem = fast_path_problem(net)
    if enabled and problem:
        raise ValueError(f"fast=True was asked for, but {problem}")
    net.fused = problem is None and enabled is not False
    return net.fused
