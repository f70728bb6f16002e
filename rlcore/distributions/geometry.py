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


def flat_grad(output: torch.Tensor, params: Sequence[torch.Tensor], create_graph: bool = False,
              retain_graph: bool | None = None) -> torch.Tensor:
    """``d output / d params`` as one flat vector; parameters the output does not use get zeros (Chapter 13, §13.2).
    ``retain_graph`` keeps the graph for another gradient through the same forward pass (default: ``create_graph``)."""
    params = list(params)
    grads = torch.autograd.grad(output, params, create_graph=create_graph, retain_graph=retain_graph,
                                allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)])


def fisher_vector_products(kl: torch.Tensor | Callable[[], torch.Tensor], params: Sequence[torch.Tensor],
                           damping: float = 0.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """The function ``v -> (F + damping I) v``, with ``F = d^2 KL(pi_old || pi_theta) / d theta^2`` at
    ``theta = theta_old`` (Chapter 13, §13.2, eq. (eq-fvp)).

    Pearlmutter's trick: ``g = dKL/dtheta`` once, with its graph kept, then one backward pass
    ``d (g . v) / dtheta`` per product (conjugate gradient asks for up to 16 on one batch). ``kl`` is the
    mean KL between the *detached* old policy and the current one (or a function returning it), so that
    its gradient is zero and its Hessian the Fisher matrix.
    """
    params = list(params)
    n = sum(p.numel() for p in params)
    damping = validate.real(damping, "damping", low=0.0)
    grad = flat_grad(kl() if callable(kl) else kl, params, create_graph=True)

    def product(v: torch.Tensor) -> torch.Tensor:
        if not isinstance(v, torch.Tensor) or v.shape != (n,):
            raise ValueError(f"v must be a flat tensor of shape ({n},) (one entry per parameter), "
                             f"got {getattr(v, 'shape', type(v).__name__)}")
        hv = torch.autograd.grad(grad @ v.detach(), params, retain_graph=True, allow_unused=True)
        return torch.cat([(torch.zeros_like(p) if h is None else h).reshape(-1) for h, p in zip(hv, params)]) \
            + damping * v

    return product


def fisher_vector_product(kl: torch.Tensor | Callable[[], torch.Tensor], params: Sequence[torch.Tensor],
                          v: torch.Tensor, damping: float = 0.0) -> torch.Tensor:
    """``(F + damping I) v`` for one vector ``v``: :func:`fisher_vector_products` applied once (Chapter 13, §13.2,
    eq. (eq-fvp))."""
    return fisher_vector_products(kl, params, damping)(v)


def backtracking_line_search(accept: Callable[[torch.Tensor], bool], x: torch.Tensor, full_step: torch.Tensor,
                             max_iter: int = 10, shrink: float = 0.8) -> tuple[torch.Tensor, int | None]:
    """The first candidate ``x + shrink^j full_step``, ``j = 0, 1, ..., max_iter - 1``, that ``accept`` approves
    (Chapter 13, §13.3, eq. (eq-line-search)).

    Returns ``(x_new, j)``, or ``(x, None)`` when no candidate is accepted (TRPO then keeps the old parameters).
    """
    max_iter = validate.integer(max_iter, "max_iter", low=0)
    shrink = validate.real(shrink, "shrink", low=0.0, high=1.0, low_open=True, high_open=True)
    for j in range(max_iter):
        candidate = x + shrink**j * full_step
        if accept(candidate):
            return candidate, j
    return x, None
