"""Optimisers and gradient clipping (Chapter 7, §7.5; used by every deep-RL chapter).

:class:`Adam` is Kingma & Ba's update, written as the few lines of math it is and executed in one
fused PyTorch kernel where one exists. ``torch.optim.Adam`` computes the same thing (``tests/
test_optim.py`` checks them step by step, also when a parameter skips steps); for the book's tiny
networks its per-call bookkeeping costs more than the arithmetic.
"""

from __future__ import annotations

import math

import torch

from ..base import validate


def flat_view(tensors: list[torch.Tensor]) -> torch.Tensor | None:
    """One 1-D tensor over ``tensors`` if they lie back to back, in order, in one storage (contiguous, one dtype),
    else ``None`` (Chapter 7, §7.5).

    The fused kernel (:mod:`rlcore.nets.fused`) lays a network's parameters and their gradients out
    this way, so that clipping and Adam take one call for the whole network instead of one per tensor.
    """
    if not tensors:
        return None
    first = tensors[0]
    dtype, itemsize = first.dtype, first.element_size()
    start = end = first.data_ptr()
    for t in tensors:
        if t.data_ptr() != end or t.dtype != dtype or not t.is_contiguous():
            return None
        end += t.numel() * itemsize
    storage = first.untyped_storage()
    base = storage.data_ptr()
    if end > base + storage.nbytes():  # adjacent memory, but not one allocation
        return None
    return torch.empty(0, dtype=dtype, device=first.device).set_(storage, (start - base) // itemsize,
                                                                  ((end - start) // itemsize,))


class Adam:
    """Adam (Chapter 7, §7.5): ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``theta <- theta - lr m_hat / (sqrt(v_hat) + eps)``.

    ``m_hat = m / (1 - b1^t)`` and ``v_hat = v / (1 - b2^t)`` undo the zero initialisation, with
    ``t`` counted *per parameter*: a parameter whose gradient is ``None`` (unused by the loss) is
    left alone and its count does not advance, as in ``torch.optim.Adam``.
    ``param_groups[0]["lr"]`` may be changed between steps (learning-rate annealing).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 fused: bool | None = None):
        self.params = list(params)
        if not self.params or not all(isinstance(p, torch.Tensor) for p in self.params):
            raise ValueError("params must be a non-empty iterable of tensors (for example net.parameters())")
        lr = validate.real(lr, "lr", low=0.0, low_open=True)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(validate.real(b, f"betas[{i}]", low=0.0, high=1.0, high_open=True)
                           for i, b in enumerate(betas))
        self.eps = validate.real(eps, "eps", low=0.0)
        self.param_groups = [{"lr": lr}]
        device, dtype = self.params[0].device, self.params[0].dtype
        if all(p.device == device and p.dtype == dtype and p.is_contiguous() for p in self.params):
            # m and v as one vector each, viewed per parameter
            total = sum(p.numel() for p in self.params)
            self._m_flat, self._v_flat = (torch.zeros(total, dtype=dtype, device=device) for _ in range(2))
            self.m, self.v = ([t.view_as(p) for t, p in zip(flat.split([p.numel() for p in self.params]), self.params)]
                              for flat in (self._m_flat, self._v_flat))
        else:
            self._m_flat = self._v_flat = None
            self.m = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
            self.v = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self._params_flat = ([], None)  # (data pointers, flat_view of the parameters), kept between steps
        self.step_counts = [0] * len(self.params)  #: t of each parameter
        self._step_tensor = torch.zeros((), dtype=torch.float32, device=device)
        can_fuse = hasattr(torch, "_fused_adam_") and device.type in ("cpu", "cuda") and all(
            p.dtype in (torch.float32, torch.float64) and p.device == device for p in self.params)
        if fused and not can_fuse:
            raise ValueError("fused=True was asked for, but the fused kernel needs float parameters on one CPU or "
                             "CUDA device")
        self.fused = can_fuse if fused is None else bool(fused)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (set them to ``None``) (Chapter 7, §7.5)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One Adam step on every parameter that has a gradient (Chapter 7, §7.5)."""
        if self._step_flat():
            return
        active = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not active:
            return
        params = [self.params[i] for i in active]
        grads, m, v = [p.grad for p in params], [self.m[i] for i in active], [self.v[i] for i in active]
        for i in active:
            self.step_counts[i] += 1
        lr, (b1, b2) = self.param_groups[0]["lr"], self.betas
        t = [self.step_counts[i] for i in active]
        if self.fused:  # one kernel call per distinct step count (almost always one)
            for count in sorted(set(t)):
                group = [k for k, c in enumerate(t) if c == count]
                self._step_tensor.fill_(count)
                torch._fused_adam_([params[k] for k in group], [grads[k] for k in group], [m[k] for k in group],
                                   [v[k] for k in group], [], [self._step_tensor] * len(group), lr=lr, beta1=b1,
                                   beta2=b2, weight_decay=0.0, eps=self.eps, amsgrad=False, maximize=False)
            return
        torch._foreach_lerp_(m, grads, 1 - b1)  # m <- b1 m + (1 - b1) g
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, 1 - b2)  # v <- b2 v + (1 - b2) g^2
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, [math.sqrt(1 - b2**k) for k in t])  # sqrt(v_hat)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, m, denom, [-lr / (1 - b1**k) for k in t])  # theta -= lr m_hat / denom

    def _step_flat(self) -> bool:
        """The same step as one fused call on the whole parameter vector, where parameters, gradients and the
        moments each lie in one buffer and every parameter has a gradient and the same step count; returns
        whether it was taken."""
        params, counts = self.params, self.step_counts
        if not self.fused or self._m_flat is None or min(counts) != max(counts):
            return False
        grads = [p.grad for p in params]
        if any(g is None for g in grads):
            return False
        pointers = [p.data_ptr() for p in params]
        if pointers != self._params_flat[0]:  # the parameters moved (or first step): look again
            self._params_flat = (pointers, flat_view(params))
        flat_params, flat_grads = self._params_flat[1], flat_view(grads)
        if flat_params is None or flat_grads is None:
            return False
        count = counts[0] + 1
        self.step_counts = [count] * len(params)
        self._step_tensor.fill_(count)
        b1, b2 = self.betas
        torch._fused_adam_([flat_params], [flat_grads], [self._m_flat], [self._v_flat], [], [self._step_tensor],
                           lr=self.param_groups[0]["lr"], beta1=b1, beta2=b2, weight_decay=0.0, eps=self.eps,
                           amsgrad=False, maximize=False)
        torch.autograd.graph.increment_version(params)  # as an in-place update of each parameter would
        return True


def make_optimizer(params, name: str = "adam", lr: float = 3e-4, eps: float = 1e-5, fast: bool | None = None):
    """``"adam"`` (:class:`Adam`) or ``"rmsprop"`` (alpha 0.99, as A3C and Stable-Baselines3) (Chapter 7, §7.5).

    ``eps = 1e-5`` is the PPO paper's and Stable-Baselines3's choice for both. ``fast`` is Adam's
    ``fused`` (None: the fused kernel where it exists; False: the plain foreach arithmetic).
    """
    validate.one_of(name, "optimizer", ("adam", "rmsprop"))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=validate.real(lr, "lr", low=0.0, low_open=True), alpha=0.99, eps=eps)
    return Adam(params, lr=lr, eps=eps, fused=fast)


def clip_grad_norm_(params, max_norm: float | None) -> float:
    """Scale gradients to a global L2 norm of at most ``max_norm``; return the norm before (Chapter 7, §7.5).

    ``max_norm=None`` only measures. The same rule as ``torch.nn.utils.clip_grad_norm_``.
    """
    if max_norm is not None:
        validate.real(max_norm, "max_norm", low=0.0, low_open=True)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    flat = flat_view(grads)  # one vector where the fused kernel laid the gradients out back to back
    if flat is not None:
        norm = torch.linalg.vector_norm(flat).item()
    else:
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))).item()
    if max_norm is not None and norm > max_norm:
        if flat is not None:
            flat.mul_(max_norm / (norm + 1e-6))
            torch.autograd.graph.increment_version(grads)
        else:
            torch._foreach_mul_(grads, max_norm / (norm + 1e-6))
    return norm
