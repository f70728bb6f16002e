"""Optimisation tools (Chapters 7, 13 and 14).

:class:`Adam` is Kingma & Ba's update, written as the few lines of math it is, executed in one
fused PyTorch kernel where one exists. ``torch.optim.Adam`` computes the same thing; for the
book's tiny networks its per-call bookkeeping costs more than the arithmetic, and a PPO update
makes hundreds of these calls (``tests/test_optim.py`` checks both agree step by step).
"""

from __future__ import annotations

import math

import torch


class Adam:
    """``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``, ``theta <- theta - lr m_hat / (sqrt(v_hat) + eps)``.

    ``m_hat = m / (1 - b1^t)`` and ``v_hat = v / (1 - b2^t)`` undo the zero initialisation.
    ``param_groups[0]["lr"]`` may be changed between steps (learning-rate annealing).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params]
        if not self.params:
            raise ValueError("params is empty: Adam needs at least one tensor to optimise")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.betas, self.eps = betas, float(eps)
        self.param_groups = [{"lr": float(lr)}]
        self.m = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.v = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.t = 0
        device = self.params[0].device
        self.step_tensor = torch.zeros((), dtype=torch.float32, device=device)
        self.fused = hasattr(torch, "_fused_adam_") and device.type in ("cpu", "cuda") and all(
            p.dtype in (torch.float32, torch.float64) and p.device == device for p in self.params)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        params, grads, m, v = self.params, [p.grad for p in self.params], self.m, self.v
        if any(g is None for g in grads):  # parameters the loss did not use are left alone, as in torch.optim
            keep = [i for i, g in enumerate(grads) if g is not None]
            params, grads, m, v = ([xs[i] for i in keep] for xs in (params, grads, m, v))
        if not params:
            return
        lr, (b1, b2) = self.param_groups[0]["lr"], self.betas
        self.t += 1
        if self.fused:
            self.step_tensor.fill_(self.t)
            torch._fused_adam_(params, grads, m, v, [], [self.step_tensor] * len(params),
                               lr=lr, beta1=b1, beta2=b2, weight_decay=0.0, eps=self.eps,
                               amsgrad=False, maximize=False)
            return
        torch._foreach_lerp_(m, grads, 1 - b1)  # m <- b1 m + (1 - b1) g
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, 1 - b2)  # v <- b2 v + (1 - b2) g^2
        bias1, bias2 = 1 - b1**self.t, 1 - b2**self.t
        denom = torch._foreach_div(torch._foreach_sqrt(v), math.sqrt(bias2))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, m, denom, -lr / bias1)
