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
