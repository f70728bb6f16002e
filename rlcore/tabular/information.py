"""Distances and information between distributions, in numpy (Chapter 10; Appendix B).

Categorical distributions are probability vectors along the last axis; every function works row by row
on arrays of them (one row per state, for a tabular policy). Conventions: ``0 log 0 = 0``, and
``KL(p || q) = inf`` when ``q`` puts no mass where ``p`` does. Logarithms are natural (nats) unless a
``base`` is given. Gaussians are given by their mean and covariance matrix.
"""

from __future__ import annotations

import numpy as np

from ..base import validate


def _distributions(p, name: str) -> np.ndarray:
    p = validate.array(p, name, ndim=tuple(range(1, 8)))
    return validate.probability_rows(p, name)


def _pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    p, q = _distributions(p, "p"), _distributions(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have one shape (distributions along the last axis), got {p.shape} and "
                         f"{q.shape}")
    return p, q


def kl_divergence(p, q) -> np.ndarray | float:
    """``KL(p || q) = sum_x p(x) log(p(x) / q(x))`` along the last axis (Chapter 10, §10.2, eq. (eq-kl)).

    Terms with ``p(x) = 0`` contribute 0; a term with ``p(x) > 0 = q(x)`` makes the divergence ``inf``.
    """
    p, q = _pair(p, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    out = terms.sum(axis=-1)
    return float(out) if out.ndim == 0 else out


def mean_kl(d, pi, pi_new) -> float:
    """``sum_s d(s) KL(pi(.|s) || pi_new(.|s))``: the KL between two tabular policies averaged over states
    (Chapter 10, §10.2, eq. (eq-mean-kl)); ``d`` is usually the old policy's occupancy ``d^pi``."""
    pi, pi_new = _pair(pi, pi_new)
    if pi.ndim != 2:
        raise ValueError(f"pi and pi_new must be (S, A) tables, got shape {pi.shape}")
    d = validate.probability_rows(validate.array(d, "d", shape=(pi.shape[0],)), "d")
    return float(d @ kl_divergence(pi, pi_new))


def total_variation(p, q) -> np.ndarray | float:
    """``TV(p, q) = 1/2 sum_x |p(x) - q(x)|`` along the last axis (Chapter 10, §10.4, eq. (eq-tv))."""
    p, q = _pair(p, q)
    out = 0.5 * np.abs(p - q).sum(axis=-1)
    return float(out) if out.ndim == 0 else out


def entropy(p, base: float | None = None) -> np.ndarray | float:
    """``H(p) = -sum_x p(x) log p(x)`` along the last axis, in nats, or in units of ``log base``
    (``base=2``: bits) (Chapter 10, §10.6, eq. (eq-entropy))."""
    p = _distributions(p, "p")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)
    if base is not None:
        out = out / np.log(validate.real(base, "base", low=1.0, low_open=True))
    return float(out) if out.ndim == 0 else out


def mutual_information(joint) -> float:
    """``I(X; Y) = KL(P_XY || P_X P_Y)`` for a joint table ``joint[x, y]``
    (Appendix B, §B.4, eq. (eq-mutual-information))."""
    joint = validate.array(joint, "joint", ndim=2)
    joint = validate.probability_rows(joint.reshape(1, -1), "joint").reshape(joint.shape)
    product = np.outer(joint.sum(axis=1), joint.sum(axis=0))
    return float(kl_divergence(joint.ravel(), product.ravel()))


def conditional_entropy(joint) -> float:
    """``H(X | Y) = -sum_{x, y} P(x, y) log P(x | y)`` for a joint table ``joint[x, y]`` (Appendix B, §B.4)."""
    joint = validate.array(joint, "joint", ndim=2)
    joint = validate.probability_rows(joint.reshape(1, -1), "joint").reshape(joint.shape)
    p_y = joint.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * (np.log(joint) - np.log(p_y)[None, :]), 0.0)
    return float(-terms.sum())


def maximal_coupling(p, q) -> np.ndarray:
    """A joint distribution ``C[x, y]`` with marginals ``p`` (rows) and ``q`` (columns) and
    ``Pr(X != Y) = TV(p, q)``, the smallest possible (Chapter 10, §10.4, {prf:ref}`thm-maximal-coupling`).

    The diagonal holds ``min(p, q)``; the remaining mass ``TV`` is spread as the product of the normalised
    excesses ``(p - q)^+ / TV`` and ``(q - p)^+ / TV``, whose supports are disjoint, so it is off the diagonal.
    """
    p, q = _pair(p, q)
    if p.ndim != 1:
        raise ValueError(f"p and q must be single distributions (1-D), got shape {p.shape}")
    overlap = np.minimum(p, q)
    tv = 1.0 - overlap.sum()
    coupling = np.diag(overlap)
    if tv > 0:
        coupling += np.outer(p - overlap, q - overlap) / tv
    return coupling


def _covariance(cov, name: str, n: int | None = None) -> np.ndarray:
    cov = validate.symmetric_matrix(cov, name, n)
    smallest = np.linalg.eigvalsh(cov).min()
    if smallest <= 0:
        raise ValueError(f"{name} must be positive definite, got smallest eigenvalue {smallest:.3g}")
    return cov


def _gaussian(mean, cov, which: str) -> tuple[np.ndarray, np.ndarray]:
    mean = validate.array(mean, f"mean_{which}", ndim=1)
    return mean, _covariance(cov, f"cov_{which}", mean.size)


def gaussian_kl(mean_p, cov_p, mean_q, cov_q) -> float:
    """``KL(N(mean_p, cov_p) || N(mean_q, cov_q))`` in closed form (Chapter 10, §10.3, eq. (eq-gaussian-kl)):
    ``1/2 [(m_q - m_p)^T S_q^{-1} (m_q - m_p) + tr(S_q^{-1} S_p) - log(det S_p / det S_q) - n]``."""
    mean_p, cov_p = _gaussian(mean_p, cov_p, "p")
    mean_q, cov_q = _gaussian(mean_q, cov_q, "q")
    if mean_p.size != mean_q.size:
        raise ValueError(f"the two Gaussians must have one dimension, got {mean_p.size} and {mean_q.size}")
    diff = mean_q - mean_p
    solve = np.linalg.solve(cov_q, np.column_stack([diff, cov_p]))
    logdet_p, logdet_q = np.linalg.slogdet(cov_p)[1], np.linalg.slogdet(cov_q)[1]
    return float(0.5 * (diff @ solve[:, 0] + np.trace(solve[:, 1:]) - (logdet_p - logdet_q) - mean_p.size))


def gaussian_entropy(cov) -> float:
    """``h(N(m, S)) = n/2 log(2 pi e) + 1/2 log det S`` in nats: negative when ``det S`` is small enough
    (Chapter 10, §10.6, eq. (eq-gaussian-entropy))."""
    cov = _covariance(cov, "cov")
    n = cov.shape[0]
    return float(0.5 * n * np.log(2 * np.pi * np.e) + 0.5 * np.linalg.slogdet(cov)[1])
