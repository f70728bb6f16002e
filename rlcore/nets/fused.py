"""A faster implementation of :meth:`ActorCritic.evaluate_actions` on the CPU (Chapter 7, §7.5).

For the book's tiny networks a PPO or A2C update is made of PyTorch's per-call and autograd
overhead, not of arithmetic: every small operation costs a dispatch forward and a node backward.
This kernel computes ``(log pi(a|s), H(pi(.|s)), V(s))`` for a minibatch as *one* autograd node:
the forward pass in numpy (both towers, the head's log-probability and entropy), the backward
pass written out by hand, with the formulas below. It reads the *same* parameters as the plain
modules (no copy to keep in sync) and returns their gradients, so optimisers, saving and
``parameters_to_vector`` see no difference; ``tests/test_nets.py`` checks that values and
gradients equal the plain path's. It supports one backward pass only (no double backward, no
``torch.func``), so :func:`use_fast_path` switches it on only for algorithms that need no more
(PPO and A2C) and only for tanh networks on the CPU.

Backward, for ``h_k = tanh(h_{k-1} W_k^T + b_k)`` and ``g_k = dL/dh_k``:
``dz_k = g_k (1 - h_k^2)``, ``dW_k = dz_k^T h_{k-1}``, ``db_k = sum_batch dz_k``, ``g_{k-1} = dz_k W_k``.
Heads: for a softmax, ``d log pi(a) / d logits = onehot(a) - pi`` and ``dH / d logits = -pi (log pi + H)``;
for a Gaussian with ``z = (a - mean) / std``, ``d log pi / d mean = z / std``,
``d log pi / d log_std = z^2 - 1`` and ``dH / d log_std = 1``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from ..distributions.gaussian import LOG_2PI


def linear_layers(body: nn.Sequential) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of an MLP body, in order (Chapter 7, §7.5)."""
    return [m for m in body if isinstance(m, nn.Linear)]


def _forward_tower(x: np.ndarray, params: list[np.ndarray]) -> list[np.ndarray]:
    """``[h_0 = x, h_1, ..., h_L, out]`` of a tanh MLP given ``[W_1, b_1, ..., W_out, b_out]``."""
    hs = [x]
    n = len(params) // 2
    for k in range(n):
        z = hs[-1] @ params[2 * k].T
        z += params[2 * k + 1]
        hs.append(np.tanh(z, out=z) if k < n - 1 else z)
    return hs


def _backward_tower(hs: list[np.ndarray], params: list[np.ndarray], g_out: np.ndarray) -> list[np.ndarray]:
    """Gradients ``[dW_1, db_1, ..., dW_out, db_out]`` given ``dL/d out``."""
    n = len(params) // 2
    grads: list[np.ndarray] = [None] * (2 * n)  # type: ignore[list-item]
    ones = np.ones(len(g_out), dtype=g_out.dtype)
    dz = g_out
    for k in range(n - 1, -1, -1):
        grads[2 * k] = dz.T @ hs[k]
        grads[2 * k + 1] = ones @ dz  # sum over the batch, as one BLAS call
        if k > 0:
            g = dz @ params[2 * k]
            tanh_grad = hs[k] * hs[k]
            np.subtract(1.0, tanh_grad, out=tanh_grad)  # tanh'(z) = 1 - tanh(z)^2
            g *= tanh_grad
            dz = g
    return grads


def _evaluate(obs: torch.Tensor, actions: torch.Tensor, discrete: bool, arrays: list[np.ndarray], n_actor: int):
    """The plain modules' forward pass in numpy: ``(log_prob, entropy, value, state)``, ``state`` for
    :func:`_gradients`; ``arrays`` are the parameters in :func:`kernel_parameters`' order."""
    actor, critic = arrays[:n_actor], arrays[n_actor:]
    log_std = None
    if not discrete:
        actor, log_std = actor[:-1], actor[-1]
    x = obs.detach().numpy()
    hs_actor, hs_critic = _forward_tower(x, actor), _forward_tower(x, critic)
    out = hs_actor[-1]
    if discrete:
        a = actions.numpy().astype(np.int64, copy=False)
        z = out - out.max(1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
        p = np.exp(log_p)
        log_prob = log_p[np.arange(len(a)), a]
        entropy = -(p * log_p).sum(1)
        saved = (a, p, log_p, entropy)
    else:
        std_inv = np.exp(-log_std)
        zz = (actions.detach().numpy() - out) * std_inv
        log_prob = -(0.5 * zz * zz + log_std + 0.5 * LOG_2PI).sum(1)
        entropy = np.full(len(x), (log_std + 0.5 * (1.0 + LOG_2PI)).sum(), dtype=out.dtype)
        saved = (zz, std_inv)
    value = np.ascontiguousarray(hs_critic[-1][:, 0])
    return log_prob, entropy, value, (discrete, hs_actor, hs_critic, actor, critic, saved)


def _gradients(state, g_lp: np.ndarray | None, g_h: np.ndarray | None, g_v: np.ndarray | None) -> list[torch.Tensor]:
    """The hand-written backward pass of the module docstring: the parameters' gradients, given the loss's
    gradients in ``log_prob``, ``entropy`` and ``value`` (``None``: zero)."""
    discrete, hs_actor, hs_critic, actor, critic, saved = state
    B = len(hs_actor[0])
    dtype = hs_actor[-1].dtype
    g_lp = np.zeros(B, dtype) if g_lp is None else g_lp
    g_v = np.zeros(B, dtype) if g_v is None else g_v
    if discrete:
        a, p, log_p, entropy = saved
        d_out = -p * g_lp[:, None]
        d_out[np.arange(B), a] += g_lp  # d log pi(a) / d logits = onehot(a) - pi
        if g_h is not None:
            d_out -= g_h[:, None] * p * (log_p + entropy[:, None])  # dH / d logits = -pi (log pi + H)
        grad_actor = _backward_tower(hs_actor, actor, d_out)
    else:
        zz, std_inv = saved
        d_out = (g_lp[:, None] * zz) * std_inv  # d log pi / d mean = z / std
        grad_log_std = (g_lp[:, None] * (zz * zz - 1.0)).sum(0)  # d log pi / d log_std = z^2 - 1
        if g_h is not None:
            grad_log_std += g_h.sum()  # dH / d log_std = 1
        grad_actor = _backward_tower(hs_actor, actor, d_out) + [grad_log_std]
    grad_critic = _backward_tower(hs_critic, critic, g_v[:, None])
    return [torch.from_numpy(np.ascontiguousarray(g)) for g in grad_actor + grad_critic]


class FusedActorCritic(torch.autograd.Function):
    """``(log_prob, entropy, value)`` of an :class:`ActorCritic` as one autograd node (Chapter 7, §7.5)."""

    @staticmethod
    def forward(ctx, obs, actions, discrete, n_actor, *params):
        """The plain modules' forward pass, in numpy (Chapter 7, §7.5)."""
        arrays = [p.detach().numpy() for p in params]
        log_prob, entropy, value, ctx.state = _evaluate(obs, actions, discrete, arrays, n_actor)
        return torch.from_numpy(log_prob), torch.from_numpy(entropy), torch.from_numpy(value)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_log_prob, g_entropy, g_value):
        """The hand-written backward pass of the module docstring (Chapter 7, §7.5)."""
        grads = _gradients(ctx.state, *(None if g is None else g.numpy() for g in (g_log_prob, g_entropy, g_value)))
        return (None, None, None, None, *grads)


class FusedLoss(torch.autograd.Function):
    """A scalar loss of ``(log_prob, entropy, value)`` and the network under it, as one autograd node
    (Chapter 7, §7.5).

    ``head(log_prob, entropy, value)`` (numpy arrays) returns ``(loss, aux, (g_log_prob, g_entropy,
    g_value))``: the loss, an array of diagnostics (no gradient), and the loss's gradients
    in the three inputs (``None``: zero). This removes the loss's own small autograd graph, the
    largest per-minibatch cost left after :class:`FusedActorCritic`.
    """

    @staticmethod
    def forward(ctx, obs, actions, discrete, n_actor, arrays, head, *params):
        """Network and loss forward, in numpy; ``arrays`` are numpy views of ``params`` (Chapter 7, §7.5)."""
        log_prob, entropy, value, ctx.state = _evaluate(obs, actions, discrete, arrays, n_actor)
        loss, aux, ctx.head_grads = head(log_prob, entropy, value)
        aux = torch.from_numpy(np.asarray(aux, dtype=log_prob.dtype))
        ctx.mark_non_differentiable(aux)
        return torch.tensor(loss, dtype=aux.dtype), aux

    @staticmethod
    @once_differentiable
    def backward(ctx, g_loss, g_aux):
        """The chain rule through ``head``'s gradients, then the networks' backward pass (Chapter 7, §7.5)."""
        scale = float(g_loss)
        grads = _gradients(ctx.state, *(None if g is None else g * scale for g in ctx.head_grads))
        return (None, None, None, None, None, None, *grads)


def kernel_parameters(net) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Actor and critic parameters in the kernel's order, ``W_1, b_1, ..., b_out[, log_std]`` (Chapter 7, §7.5)."""
    actor = [t for m in linear_layers(net.actor.body) + [net.actor.out] for t in (m.weight, m.bias)]
    if not net.discrete:
        actor.append(net.actor.log_std)
    critic = [t for m in linear_layers(net.critic.body) + [net.critic.out] for t in (m.weight, m.bias)]
    return actor, critic


_registrations = 0  # how many modules and parameters were assigned anywhere since import (torch's global hooks)


def _count_registration(*_) -> None:
    global _registrations
    _registrations += 1


torch.nn.modules.module.register_module_module_registration_hook(_count_registration)
torch.nn.modules.module.register_module_parameter_registration_hook(_count_registration)


def _kernel_inputs(net) -> tuple[list[torch.Tensor], int, list[np.ndarray]]:
    """``(parameters, n_actor, numpy views of them)``, remembered on ``net`` between calls.

    Finding the parameters and making the views costs more than a quarter of a small minibatch's
    arithmetic, so they are rebuilt only when they may have changed: when any module or parameter
    was assigned since (``net.actor.out = nn.Linear(...)``), or a parameter's storage moved
    (``p.data = ...``, ``vector_to_parameters``, ``net.double()``)."""
    cache = net.__dict__.get("_fused_inputs")
    if cache is not None and cache[0] == _registrations and cache[1] == [p.data_ptr() for p in cache[2]]:
        return cache[2], cache[3], cache[4]
    actor, critic = kernel_parameters(net)
    params = actor + critic
    arrays = [p.detach().numpy() for p in params]
    net.__dict__["_fused_inputs"] = (_registrations, [p.data_ptr() for p in params], params, len(actor), arrays)
    return params, len(actor), arrays


def fused_evaluate_actions(net, obs: torch.Tensor, actions: torch.Tensor):
    """``(log_prob, entropy, value)`` through :class:`FusedActorCritic` (Chapter 7, §7.5)."""
    params, n_actor, _ = _kernel_inputs(net)
    return FusedActorCritic.apply(obs.contiguous(), actions.contiguous(), net.discrete, n_actor, *params)


def fused_loss(net, obs: torch.Tensor, actions: torch.Tensor, head) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, aux)`` through :class:`FusedLoss`: ``head``'s loss of ``net``'s ``(log_prob, entropy, value)`` on
    ``(obs, actions)``, differentiable in ``net``'s parameters, and its diagnostics (Chapter 7, §7.5)."""
    params, n_actor, arrays = _kernel_inputs(net)
    return FusedLoss.apply(obs.contiguous(), actions.contiguous(), net.discrete, n_actor, arrays, head, *params)


def fast_path_problem(net) -> str | None:
    """Why the fused kernel cannot run ``net``, or ``None`` if it can (Chapter 7, §7.5)."""
    params = list(net.parameters())
    if params[0].device.type != "cpu":
        return f"the network is on {params[0].device}, the fused kernel runs on the CPU"
    if net.activation != "tanh":
        return f"the fused kernel implements tanh networks, got activation={net.activation!r}"
    if any(p.dtype not in (torch.float32, torch.float64) or p.dtype != params[0].dtype for p in params):
        return "the fused kernel needs float32 or float64 parameters of one dtype"
    return None


def use_fast_path(net, enabled: bool | None = None) -> bool:
    """Switch ``net`` (an :class:`~rlcore.nets.mlp.ActorCritic`) to the fused kernel where valid (Chapter 7, §7.5).

    ``enabled=None`` decides automatically; ``True`` raises ``ValueError`` if the kernel cannot run
    this network; ``False`` keeps the plain path. Only algorithms that need a single backward pass
    (PPO, A2C) call this: the kernel has no double backward. Returns whether it is now on.
    """
    if enabled not in (None, True, False):
        raise ValueError(f"enabled must be None (automatic), True or False, got {enabled!r}")
    problem = fast_path_problem(net)
    if enabled and problem:
        raise ValueError(f"fast=True was asked for, but {problem}")
    net.fused = problem is None and enabled is not False
    return net.fused
