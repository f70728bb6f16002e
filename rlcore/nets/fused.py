"""A faster implementation of :meth:`ActorCritic.evaluate_actions` on the CPU (Chapter 7, §7.5).

For the book's tiny networks a PPO or A2C update is made of PyTorch's per-call and autograd
overhead, not of arithmetic: every small operation costs a dispatch forward and a node backward.
This kernel computes ``(log pi(a|s), H(pi(.|s)), V(s))`` for a minibatch as *one* autograd node
(:class:`FusedActorCritic`): the forward pass in numpy (both towers, the head's log-probability
and entropy), the backward pass written out by hand, with the formulas below. :class:`FusedLoss`
goes one step further and takes a loss of those three outputs into the same node (PPO's loss,
:class:`rlcore.algos.ppo.LossHead`). Both read the *same* parameters as the plain modules (no
copy to keep in sync) and return their gradients, so optimisers, saving and
``parameters_to_vector`` see no difference; ``tests/test_nets.py`` and ``tests/test_ppo.py``
check that values and gradients equal the plain path's. The gradients come back laid out back
to back in one buffer, in ``net.parameters()`` order, and :func:`use_fast_path` moves the
parameters into one buffer the same way, so that clipping and Adam can update the whole network
in one call (:func:`rlcore.training.optim.flat_view`). The kernel supports one backward pass only
(no double backward, no ``torch.func``), so :func:`use_fast_path` switches it on only for
algorithms that need no more (PPO and A2C) and only for tanh networks on the CPU.

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
    """``[h_0 = x, h_1, ..., h_L, out^T]`` of a tanh MLP given ``[W_1, b_1, ..., W_out, b_out]``.

    The output is kept transposed, ``(outputs, batch)``: the head's reductions over a few actions
    then run along rows of the batch's length, which numpy vectorises, and ``V`` is one contiguous row."""
    hs = [x]
    n = len(params) // 2
    for k in range(n - 1):
        z = hs[-1] @ params[2 * k].T
        z += params[2 * k + 1]
        hs.append(np.tanh(z, out=z))
    out_t = params[-2] @ hs[-1].T
    out_t += params[-1][:, None]
    hs.append(out_t)
    return hs


def _backward_tower(hs: list[np.ndarray], params: list[np.ndarray], g_out_t: np.ndarray, grads: list[np.ndarray],
                    ones: np.ndarray) -> None:
    """Write ``[dW_1, db_1, ..., dW_out, db_out]`` into ``grads`` given ``(dL/d out)^T``; ``ones`` has the batch's
    length (a bias's gradient is a sum over the batch, done as one BLAS call)."""
    n = len(params) // 2
    np.matmul(g_out_t, hs[n - 1], out=grads[-2])
    np.matmul(g_out_t, ones, out=grads[-1])
    if n == 1:
        return
    g = g_out_t.T @ params[-2]
    for k in range(n - 2, -1, -1):  # hidden layer k + 1: h_{k+1} = tanh(h_k W^T + b)
        tanh_grad = hs[k + 1] * hs[k + 1]  # a new array: backward may run again (retain_graph)
        np.subtract(1.0, tanh_grad, out=tanh_grad)  # tanh'(z) = 1 - tanh(z)^2
        g *= tanh_grad  # dz
        np.matmul(g.T, hs[k], out=grads[2 * k])
        np.matmul(ones, g, out=grads[2 * k + 1])
        if k > 0:
            g = g @ params[2 * k]


def _evaluate(obs: torch.Tensor, actions: torch.Tensor, discrete: bool, arrays: list[np.ndarray], n_actor: int):
    """The plain modules' forward pass in numpy: ``(log_prob, entropy, value, state)``, ``state`` for
    :func:`_gradients`; ``arrays`` are the parameters in :func:`kernel_parameters`' order."""
    actor, critic = arrays[:n_actor], arrays[n_actor:]
    log_std = None
    if not discrete:
        actor, log_std = actor[:-1], actor[-1]
    x = obs.detach().numpy()
    hs_actor, hs_critic = _forward_tower(x, actor), _forward_tower(x, critic)
    out_t = hs_actor[-1]  # (actions or action dimensions, batch)
    if discrete:
        a = actions.numpy().astype(np.int64, copy=False)
        z = out_t - out_t.max(0)
        log_p = z - np.log(np.exp(z).sum(0))
        p = np.exp(log_p)
        log_prob = log_p[a, np.arange(len(a))]
        entropy = -(p * log_p).sum(0)
        saved = (a, p, log_p, entropy)
    else:
        std_inv = np.exp(-log_std)
        zz = (actions.detach().numpy() - out_t.T) * std_inv
        log_prob = -(0.5 * zz * zz + log_std + 0.5 * LOG_2PI).sum(1)
        entropy = np.full(len(x), (log_std + 0.5 * (1.0 + LOG_2PI)).sum(), dtype=out_t.dtype)
        saved = (zz, std_inv)
    value = hs_critic[-1][0]
    return log_prob, entropy, value, (discrete, hs_actor, hs_critic, actor, critic, saved)


def _gradients(state, g_lp: np.ndarray | None, g_h: np.ndarray | None, g_v: np.ndarray | None,
               layout) -> list[torch.Tensor]:
    """The hand-written backward pass of the module docstring: the parameters' gradients, given the loss's
    gradients in ``log_prob``, ``entropy`` and ``value`` (``None``: zero).

    The gradients are views of *one* new buffer, laid out as ``layout`` says (the network's
    ``parameters()`` order), so that gradient clipping and Adam can treat them as one vector
    (:func:`rlcore.training.optim.flat_view`)."""
    discrete, hs_actor, hs_critic, actor, critic, saved = state
    total, slots = layout
    B = len(hs_actor[0])
    dtype = hs_actor[-1].dtype
    flat = torch.empty(total, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    buffer = flat.numpy()
    grads = [buffer[offset:offset + size].reshape(shape) for offset, size, shape, _ in slots]
    ones = np.ones(B, dtype)
    g_lp = np.zeros(B, dtype) if g_lp is None else g_lp
    g_v = np.zeros(B, dtype) if g_v is None else g_v
    if discrete:
        a, p, log_p, entropy = saved
        d_out = p * -g_lp
        d_out[a, np.arange(B)] += g_lp  # d log pi(a) / d logits = onehot(a) - pi
        if g_h is not None:
            d_out -= g_h * p * (log_p + entropy)  # dH / d logits = -pi (log pi + H)
        _backward_tower(hs_actor, actor, d_out, grads[:len(actor)], ones)
    else:
        zz, std_inv = saved
        d_out = (g_lp[:, None] * zz) * std_inv  # d log pi / d mean = z / std
        grad_log_std = grads[len(actor)]
        np.sum(g_lp[:, None] * (zz * zz - 1.0), axis=0, out=grad_log_std)  # d log pi / d log_std = z^2 - 1
        if g_h is not None:
            grad_log_std += g_h.sum()  # dH / d log_std = 1
        _backward_tower(hs_actor, actor, d_out.T, grads[:len(actor)], ones)
    _backward_tower(hs_critic, critic, g_v[None, :], grads[len(grads) - len(critic):], ones)
    return [flat.as_strided(shape, stride, offset) for offset, _, shape, stride in slots]


def _check_unmodified(ctx) -> None:
    """Refuse to differentiate with parameters changed in place since the forward pass, as autograd would: the
    backward pass reads the parameters' current values."""
    if [p._version for p in ctx.params] != ctx.versions:
        raise RuntimeError("a parameter of the network was modified in place (for example by optimizer.step()) "
                           "between the forward pass and backward(); compute the loss again after the step")


class FusedActorCritic(torch.autograd.Function):
    """``(log_prob, entropy, value)`` of an :class:`ActorCritic` as one autograd node (Chapter 7, §7.5)."""

    @staticmethod
    def forward(ctx, obs, actions, discrete, n_actor, arrays, layout, *params):
        """The plain modules' forward pass, in numpy; ``arrays`` are numpy views of ``params``, ``layout``
        (:func:`gradient_layout`) places their gradients (Chapter 7, §7.5)."""
        log_prob, entropy, value, ctx.state = _evaluate(obs, actions, discrete, arrays, n_actor)
        ctx.layout, ctx.params, ctx.versions = layout, params, [p._version for p in params]
        return torch.from_numpy(log_prob), torch.from_numpy(entropy), torch.from_numpy(value)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_log_prob, g_entropy, g_value):
        """The hand-written backward pass of the module docstring (Chapter 7, §7.5)."""
        _check_unmodified(ctx)
        grads = _gradients(ctx.state, *(None if g is None else g.numpy() for g in (g_log_prob, g_entropy, g_value)),
                           ctx.layout)
        return (None, None, None, None, None, None, *grads)


class FusedLoss(torch.autograd.Function):
    """A scalar loss of ``(log_prob, entropy, value)`` and the network under it, as one autograd node
    (Chapter 7, §7.5).

    ``head(log_prob, entropy, value)`` (numpy arrays) returns ``(loss, aux, (g_log_prob, g_entropy,
    g_value))``: the loss, an array of diagnostics (no gradient), and the loss's gradients
    in the three inputs (``None``: zero). This removes the loss's own small autograd graph, the
    largest per-minibatch cost left after :class:`FusedActorCritic`.
    """

    @staticmethod
    def forward(ctx, obs, actions, discrete, n_actor, arrays, layout, head, *params):
        """Network and loss forward, in numpy; ``arrays`` are numpy views of ``params``, ``layout``
        (:func:`gradient_layout`) places their gradients (Chapter 7, §7.5)."""
        log_prob, entropy, value, ctx.state = _evaluate(obs, actions, discrete, arrays, n_actor)
        ctx.layout, ctx.params, ctx.versions = layout, params, [p._version for p in params]
        loss, aux, ctx.head_grads = head(log_prob, entropy, value)
        aux = torch.from_numpy(np.asarray(aux, dtype=log_prob.dtype))
        ctx.mark_non_differentiable(aux)
        return torch.from_numpy(np.asarray(loss, dtype=log_prob.dtype)), aux

    @staticmethod
    @once_differentiable
    def backward(ctx, g_loss, g_aux):
        """The chain rule through ``head``'s gradients, then the networks' backward pass (Chapter 7, §7.5)."""
        _check_unmodified(ctx)
        scale = float(g_loss)  # 1 for loss.backward()
        head_grads = ctx.head_grads if scale == 1.0 else [None if g is None else g * scale for g in ctx.head_grads]
        grads = _gradients(ctx.state, *head_grads, ctx.layout)
        return (None, None, None, None, None, None, None, *grads)


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


def gradient_layout(params: list[torch.Tensor], order: list[torch.Tensor] | None = None):
    """Where the kernel writes each parameter's gradient: ``(total, [(offset, size, shape, stride), ...])`` for
    ``params``, packed one after another in ``order`` (default: ``params``' own order) (Chapter 7, §7.5)."""
    order = params if order is None else order
    offsets, total = {}, 0
    for p in order:
        offsets[id(p)] = total
        total += p.numel()
    slots = []
    for p in params:
        shape = tuple(p.shape)
        stride = tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))  # contiguous
        slots.append((offsets[id(p)], p.numel(), shape, stride))
    return total, slots


def _kernel_inputs(net):
    """``(parameters, n_actor, numpy views of them, gradient layout)``, remembered on ``net`` between calls.

    Finding the parameters and making the views costs more than a quarter of a small minibatch's
    arithmetic, so they are rebuilt only when they may have changed: when any module or parameter
    was assigned since (``net.actor.out = nn.Linear(...)``), or a parameter's storage moved
    (``p.data = ...``, ``vector_to_parameters``, ``net.double()``). The gradients are laid out in
    ``net.parameters()`` order, the order of the optimiser's parameter list."""
    cache = net.__dict__.get("_fused_inputs")
    if cache is not None and cache[0] == _registrations and cache[1] == [p.data_ptr() for p in cache[2]]:
        return cache[2:]
    actor, critic = kernel_parameters(net)
    params = actor + critic
    arrays = [p.detach().numpy() for p in params]
    layout = gradient_layout(params, list(net.parameters()))
    net.__dict__["_fused_inputs"] = (_registrations, [p.data_ptr() for p in params], params, len(actor), arrays,
                                     layout)
    return params, len(actor), arrays, layout


def fused_evaluate_actions(net, obs: torch.Tensor, actions: torch.Tensor):
    """``(log_prob, entropy, value)`` through :class:`FusedActorCritic` (Chapter 7, §7.5)."""
    params, n_actor, arrays, layout = _kernel_inputs(net)
    return FusedActorCritic.apply(obs.contiguous(), actions.contiguous(), net.discrete, n_actor, arrays, layout,
                                  *params)


def fused_loss(net, obs: torch.Tensor, actions: torch.Tensor, head) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, aux)`` through :class:`FusedLoss`: ``head``'s loss of ``net``'s ``(log_prob, entropy, value)`` on
    ``(obs, actions)``, differentiable in ``net``'s parameters, and its diagnostics (Chapter 7, §7.5)."""
    params, n_actor, arrays, layout = _kernel_inputs(net)
    return FusedLoss.apply(obs.contiguous(), actions.contiguous(), net.discrete, n_actor, arrays, layout, head,
                           *params)


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
    if net.fused:
        flatten_parameters(net)
    return net.fused


@torch.no_grad()
def flatten_parameters(net: nn.Module) -> None:
    """Move ``net``'s parameters into one buffer, back to back in ``net.parameters()`` order (Chapter 7, §7.5).

    Each parameter stays the same ``nn.Parameter`` with the same values, now a view of the buffer.
    With the kernel's gradients laid out the same way, gradient clipping and Adam update the whole
    network in one call (:func:`rlcore.training.optim.flat_view`). ``net.to(...)`` or
    ``p.data = ...`` undo it harmlessly: the per-tensor code then runs instead.
    """
    params = list(net.parameters())
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    offset = 0
    for p in params:
        p.data = flat[offset:offset + p.numel()].view_as(p)
        offset += p.numel()
