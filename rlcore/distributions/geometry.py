"""The geometry of policy space: flat gradients, Fisher-vector products, line search.

Chapter 10 defines the Fisher information as the Hessian of the KL at ``theta' = theta``; Chapter 13
uses the products ``F v`` (never ``F`` itself) inside conjugate gradient
(:func:`rlcore.base.quadratic.conjugate_gradient`), then a backtracking line search on the surrogate
under the KL constraint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..base import validate


def flat_grad(output: torch.Tensor, params: Sequence[torch.Tensor], create_graph: bool = False) -> torch.Tensor:
    """``d output / d params`` as one flat vector; parameters the output does not use get zeros (Chapter 13, §13.2)."""
    params = list(params)
    grads = torch.autograd.grad(output, params, create_graph=create_graph, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])


def fisher_vector_product(kl: Callable[[], torch.Tensor], params: Sequence[torch.Tensor], v: torch.Tensor,
                          damping: float = 0.0) -> torch.Tensor:
    """``(F + damping I) v`` with ``F = d^2 KL(pi_old || pi_theta) / d theta^2`` at ``theta = theta_old``
    (Chapter 13, §13.2, eq. (eq-fvp)).

    Two backward passes (Pearlmutter's trick): ``g = dKL/dtheta`` with its graph, then
    ``d (g . v) / dtheta``. ``kl()`` must return the mean KL between the *detached* old policy
    and the current one, so its gradient is zero and its Hessian is the Fisher matrix.
    """
    params = list(params)
    n = sum(p.numel() for p in params)
    if not isinstance(v, torch.Tensor) or v.shape != (n,):
        raise ValueError(f"v must be a flat tensor of shape ({n},) (one entry per parameter), "
                         f"got {getattr(v, 'shape', type(v).__name__)}")
    damping = validate.real(damping, "damping", low=0.0)
    grad = flat_grad(kl(), params, create_graph=True)
    return flat_grad(grad @ v.detach(), params) + damping * v


def backtracking_line_search(accept: Callable[[torch.Tensor], bool], x: torch.Tensor, full_step: torch.Tensor,
                             max_backtracks: int = 10, shrink: float = 0.5) -> tuple[torch.Tensor, int | None]:
    """The first ``x + shrink^k full_step`` (``k = 0, 1, ...``) that ``accept`` approves (Chapter 13, §13.3,
    eq. (eq-line-search)).

    Returns ``(x_new, k)``, or ``(x, None)`` when no step within ``max_backtracks`` is accepted
    (TRPO then keeps the old parameters).
    """
    max_backtracks = validate.integer(max_backtracks, "max_backtracks", low=0)
    shrink = validate.real(shrink, "shrink", low=0.0, high=1.0, low_open=True, high_open=True)
    for k in range(max_backtracks + 1):
        candidate = x + shrink**k * full_step
        if accept(candidate):
            return candidate, k
    return x, None
