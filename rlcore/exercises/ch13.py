"""Checkers for the exercises of Chapter 13 (TRPO): conjugate gradient from matrix-vector products.

Answers are compared with rlcore's matrix-free conjugate gradient to a relative 1e-8 (both run the same
recursion in float64; a different but valid floating-point order differs by < 1e-12 on these well-conditioned
systems, and the conceptual errors the tests know, such as the conjugacy form of beta with the wrong sign or
steepest-descent directions, miss by more than 1e-3). Each answer must also use at most ``iters`` products
``A v``: forming the matrix from ``n`` products defeats the purpose of the method, since TRPO's ``A`` is a Fisher
matrix that is never formed.
"""

from __future__ import annotations

import numpy as np

from ..base.quadratic import conjugate_gradient as _conjugate_gradient
from .framework import Case, CheckResult, array_problem, run_exercise

RTOL = 1e-8


class _CountingProduct:
    """``v -> A v`` that counts its calls and refuses anything but a vector of the right length."""

    def __init__(self, A: np.ndarray):
        self.A, self.calls = A, 0

    def __call__(self, v):
        self.calls += 1
        v = np.asarray(v, dtype=float)
        if v.shape != (self.A.shape[0],):
            raise ValueError(f"Avp takes a vector of shape ({self.A.shape[0]},), got {v.shape}")
        return self.A @ v

    def __repr__(self) -> str:
        return f"<function v -> A v, A of shape {self.A.shape}>"


def _spd(rng: np.random.Generator, eigenvalues) -> np.ndarray:
    n = len(eigenvalues)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(eigenvalues) @ Q.T


def conjugate_gradient(Avp, b, iters, tol):
    """Exercise 13.1's signature for :func:`rlcore.base.quadratic.conjugate_gradient` (Chapter 13)."""
    return _conjugate_gradient(Avp, b, iters, tol)


def _reference(Avp, b, iters, tol):
    """The reference on the case's matrix, without touching the reader's call counter."""
    A = Avp.A
    return _conjugate_gradient(lambda v: A @ v, b, iters, tol)


def check_conjugate_gradient(fn, seed: int = 131) -> CheckResult:
    """Exercise 13.1 (Chapter 13): ``conjugate_gradient(Avp, b, iters, tol)`` solves ``A x = b`` from ``x_0 = 0`` with
    at most ``iters`` products ``Avp(v) = A v``, stopping once ``|r|_2 <= tol``."""
    rng = np.random.default_rng(seed)

    def case(label, A, b, iters, tol, hint=""):
        return Case(label, dict(Avp=_CountingProduct(np.asarray(A, float)), b=np.asarray(b, float), iters=iters,
                                tol=tol), hint)

    cases = [
        case("the identity", np.eye(3), [1.0, 2.0, 3.0], 5, 0.0,
             "with A = I the first step already lands on x = b; the residual is then 0, so stop."),
        case("a diagonal matrix, three steps", np.diag([1.0, 4.0, 9.0]), [1.0, 1.0, 1.0], 3, 0.0,
             "three distinct eigenvalues: three iterations of x += alpha p, r -= alpha A p, p = r + beta p are exact."),
        case("one iteration only", np.diag([1.0, 4.0, 9.0]), [1.0, 1.0, 1.0], 1, 0.0,
             "after one iteration x = alpha b with alpha = b^T b / b^T A b: the first direction is the residual b."),
        case("already good enough", 2 * np.eye(2), [1e-3, 0.0], 10, 0.01,
             "|b| = 1e-3 <= tol: x_0 = 0 is accepted without a single product."),
        case("three distinct eigenvalues in 12 dimensions", _spd(rng, np.repeat([1.0, 3.0, 10.0], 4)),
             rng.normal(size=12), 3, 0.0, "CG is exact after as many steps as A has distinct eigenvalues."),
    ]
    for i in range(3):
        n = int(rng.integers(4, 10))
        cases.append(case(f"random SPD matrix #{i + 1}, n = {n}", _spd(rng, np.geomspace(1.0, 10.0 ** (i + 1), n)),
                          rng.normal(size=n), n, 1e-12))

    def compare(got, case_):
        problem = array_problem(got, case_.expected, RTOL * max(1.0, float(np.max(np.abs(case_.expected)))), "x")
        if problem is None and case_.kwargs["Avp"].calls > case_.kwargs["iters"]:
            problem = (f"your function called Avp {case_.kwargs['Avp'].calls} times for iters = "
                       f"{case_.kwargs['iters']}: one product A p per iteration, and none to form A")
        return problem

    return run_exercise("Exercise 13.1 (conjugate_gradient)", fn, cases, _reference, compare,
                        "rlcore.base.quadratic.conjugate_gradient", fallback_fn=conjugate_gradient)


def _tiny_policy(seed: int, sizes: tuple[int, ...]):
    """A tanh MLP with logits as output, float64, seeded (Chapter 13)."""
    import torch

    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1]).double()


def fisher_vector_product(policy, obs, v, damping):
    """Exercise 13.2's reference: ``(F + damping I) v`` for a categorical policy whose ``policy(obs)`` are logits, with
    ``F`` the Hessian of the mean ``KL(pi_old || pi_theta)`` at ``theta = theta_old`` (Chapter 13), by
    :func:`rlcore.distributions.geometry.fisher_vector_product`."""
    import torch

    from ..distributions import Categorical
    from ..distributions.geometry import fisher_vector_product as _fvp

    params = list(policy.parameters())
    old = policy(obs).detach()
    return _fvp(lambda: Categorical.kl(old, policy(obs)).mean(), params, torch.as_tensor(v), damping).detach()


def _explicit_fisher_times(policy, obs, v, damping) -> np.ndarray:
    """``(mean_s J_s^T (diag(p) - p p^T) J_s + damping I) v`` with the Jacobian of the logits: no double backward."""
    import torch
    from torch.func import functional_call

    names = [name for name, _ in policy.named_parameters()]
    shapes = [p.shape for p in policy.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in policy.parameters()])

    def logits(f):
        pieces, start = {}, 0
        for name, shape in zip(names, shapes):
            size = int(np.prod(shape))
            pieces[name] = f[start:start + size].reshape(shape)
            start += size
        return functional_call(policy, pieces, (obs,))

    J = torch.autograd.functional.jacobian(logits, flat).numpy()  # (batch, actions, params)
    p = torch.softmax(logits(flat), -1).detach().numpy()
    v = np.asarray(v.detach() if hasattr(v, "detach") else v, float)
    out = np.zeros_like(v)
    for i in range(J.shape[0]):
        M = np.diag(p[i]) - np.outer(p[i], p[i])
        out += J[i].T @ (M @ (J[i] @ v))
    return out / J.shape[0] + damping * v


def check_fisher_vector_product(fn, seed: int = 132) -> CheckResult:
    """Exercise 13.2 (Chapter 13): ``fisher_vector_product(policy, obs, v, damping)`` returns ``(F + damping I) v`` as
    a flat tensor in the order of ``policy.parameters()``; ``F`` is the Hessian of the batch-mean
    ``KL(pi_old(.|s) || pi_theta(.|s))`` at the current parameters, ``policy(obs)`` the logits. Judged against
    rlcore's double backward and against ``J^T M J`` computed without it."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    cases = []
    for i, (sizes, batch, damping) in enumerate((((2, 3), 1, 0.0), ((3, 4, 2), 5, 0.0), ((2, 5, 3), 7, 0.1),
                                                  ((4, 8, 8, 2), 16, 0.01))):
        policy = _tiny_policy(seed + i, sizes)
        n = sum(p.numel() for p in policy.parameters())
        obs = torch.randn(batch, sizes[0], generator=generator, dtype=torch.float64)
        v = torch.randn(n, generator=generator, dtype=torch.float64)
        hint = {0: "one state, a linear policy: F = J^T (diag(p) - p p^T) J with J the derivative of the logits.",
                1: "average the KL over the batch (mean, not sum), and detach the old logits: the KL must be 0 "
                   "with zero gradient at the current parameters.",
                2: "damping: return F v + damping * v."}.get(i, "")
        cases.append(Case(f"a {'-'.join(map(str, sizes))} network, {batch} states, damping {damping}",
                          dict(policy=policy, obs=obs, v=v, damping=damping), hint))

    def compare(got, case):
        import torch

        if isinstance(got, torch.Tensor):
            got = got.detach().numpy()
        problem = array_problem(got, case.expected.numpy(), 1e-10 * max(1.0, float(case.expected.abs().max())),
                                "F v")
        if problem is None:  # property: the Gauss-Newton form, without double backward
            explicit = _explicit_fisher_times(**case.kwargs)
            if np.max(np.abs(np.asarray(got, float) - explicit)) > 1e-9 * max(1.0, np.max(np.abs(explicit))):
                problem = "F v disagrees with J^T M J v computed from the Jacobian of the logits"
        return problem

    return run_exercise("Exercise 13.2 (fisher_vector_product)", fn, cases, fisher_vector_product, compare,
                        "rlcore.distributions.geometry.fisher_vector_product")
