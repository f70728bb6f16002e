"""Minimising quadratics ``f(x) = 1/2 x^T A x - b^T x`` in numpy: steepest descent with exact line searches and
conjugate gradient with its full history (Appendix C; Chapter 13).

``steepest_descent`` and ``conjugate_gradient_history`` are the teaching versions, which keep every iterate, residual
and direction so that their properties can be checked; ``conjugate_gradient`` needs only products ``A v`` and is
the one TRPO runs.
"""

from __future__ import annotations

import numpy as np

from . import validate


def _system(A, b) -> tuple[np.ndarray, np.ndarray]:
    b = validate.array(b, "b", ndim=1)
    return validate.symmetric_matrix(A, "A", b.size), b


def steepest_descent(A, b, iters: int) -> dict:
    """``x_{k+1} = x_k + alpha_k r_k`` with ``r_k = b - A x_k`` and the exact step ``alpha_k = r^T r / r^T A r``, from
    ``x_0 = 0`` (Chapter 13, §13.1; Appendix C). Returns the iterates and residuals, each of shape ``(k + 1, n)``."""
    A, b = _system(A, b)
    iters = validate.integer(iters, "iters", low=0)
    x = np.zeros_like(b)
    xs, rs = [x.copy()], [b.copy()]
    for _ in range(iters):
        r = b - A @ x
        rAr = r @ A @ r
        if rAr <= 0:
            break
        x = x + (r @ r) / rAr * r
        xs.append(x.copy())
        rs.append(b - A @ x)
    return {"x": np.array(xs), "r": np.array(rs)}


def conjugate_gradient_history(A, b, iters: int | None = None, tol: float = 0.0) -> dict:
    """Conjugate gradient from ``x_0 = 0``, keeping its iterates, residuals, directions and both forms of ``beta``
    (Chapter 13, §13.1; Appendix C): ``alpha_k = r_k^T r_k / p_k^T A p_k``,
    ``beta_{k+1} = r_{k+1}^T r_{k+1} / r_k^T r_k = -r_{k+1}^T A p_k / p_k^T A p_k``. Stops after ``iters`` steps
    (default ``n``) or when ``|r| <= tol |b|``."""
    A, b = _system(A, b)
    iters = b.size if iters is None else validate.integer(iters, "iters", low=0)
    tol = validate.real(tol, "tol", low=0.0)
    x, r = np.zeros_like(b), b.copy()
    p = r.copy()
    out = {"x": [x.copy()], "r": [r.copy()], "p": [], "beta": [], "beta_conjugacy": []}
    for _ in range(iters):
        if np.linalg.norm(r) <= tol * np.linalg.norm(b) or r @ r == 0:
            break
        Ap = A @ p
        alpha = (r @ r) / (p @ Ap)
        x = x + alpha * p
        r_new = r - alpha * Ap
        out["p"].append(p.copy())
        out["beta"].append((r_new @ r_new) / (r @ r))
        out["beta_conjugacy"].append(-(r_new @ Ap) / (p @ Ap))
        p = r_new + out["beta"][-1] * p
        r = r_new
        out["x"].append(x.copy())
        out["r"].append(r.copy())
    return {k: np.array(v) for k, v in out.items()}


def conjugate_gradient(Avp, b, iters: int, tol: float = 0.0):
    """Solve ``A x = b`` for symmetric positive-definite ``A`` given only ``Avp(v) = A v`` (Chapter 13, §13.1;
    Appendix C, eq. (eq-cg)).

    From ``x_0 = 0``; at most ``iters`` iterations, one product ``A p`` each; stops as soon as ``|r|_2 <= tol``, or
    where ``p^T A p <= 0`` (``A`` not positive definite along ``p``), returning the iterate reached.
    ``b`` may be a numpy array or a torch tensor (TRPO's policy gradient): the iterates have the type of ``b``, so the
    same code serves the exercises and TRPO.
    """
    if not callable(Avp):
        raise TypeError(f"Avp must be a function v -> A v, got {type(Avp).__name__}")
    tensor = type(b).__module__.split(".")[0] == "torch"
    if tensor:  # checked without importing torch: this layer is numpy-only
        if b.ndim != 1 or not bool(b.isfinite().all()):
            raise ValueError(f"b must be a 1-D tensor of finite numbers, got shape {tuple(b.shape)}")
    else:
        b = validate.array(b, "b", ndim=1)
    iters = validate.integer(iters, "iters", low=0)
    tol = validate.real(tol, "tol", low=0.0)
    x, r = b * 0.0, b * 1.0  # x_0 = 0, so r_0 = b - A x_0 = b (copies, of the type of b)
    p, rr = r * 1.0, r @ r
    for _ in range(iters):
        if rr <= tol**2 or rr == 0.0:
            break
        Ap = Avp(p) if tensor else np.asarray(Avp(p), dtype=np.float64)
        curvature = p @ Ap
        if curvature <= 0:  # A is not positive definite along p: no minimum there, keep the current x
            break
        alpha = rr / curvature  # exact minimisation along p
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p  # beta = r^T r / r_prev^T r_prev keeps the directions A-conjugate
        rr = rr_new
    return x
