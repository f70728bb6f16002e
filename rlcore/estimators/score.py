"""Score functions and the score-function (log-derivative) gradient estimator (Chapter 5, §5.1-§5.2)."""

from __future__ import annotations

import numpy as np

from ..base import validate


def gaussian_score(x, mu: float, sigma: float) -> np.ndarray:
    """``grad_(mu, log sigma) log N(x; mu, sigma^2)`` for each sample, shape ``(N, 2)`` (Chapter 5, §5.1).

    ``((x - mu) / sigma^2, (x - mu)^2 / sigma^2 - 1)``, eq. (eq-gaussian-score).
    """
    x = validate.array(x, "x", ndim=1)
    sigma = validate.real(sigma, "sigma", low=0.0, low_open=True)
    z = (x - validate.real(mu, "mu")) / sigma
    return np.stack([z / sigma, z**2 - 1], axis=1)


def score_function_gradient(f_values, scores) -> tuple[np.ndarray, np.ndarray]:
    """The estimate ``(1/N) sum_i f(x_i) grad log p(x_i)`` of ``grad E_p[f]`` and its standard error (Chapter 5, §5.2).

    ``f_values`` has shape ``(N,)``, ``scores`` shape ``(N, d)``; eq. (eq-score-gradient).
    """
    f = validate.array(f_values, "f_values", ndim=1)
    scores = validate.array(scores, "scores", shape=(len(f), None))
    terms = f[:, None] * scores
    se = terms.std(axis=0, ddof=1) / np.sqrt(len(f)) if len(f) > 1 else np.full(scores.shape[1], np.inf)
    return terms.mean(axis=0), se


def gaussian_score_gradient(f_values, x, mu: float, sigma: float) -> np.ndarray:
    """The score-function estimate of ``grad_(mu, log sigma) E_{N(mu, sigma^2)}[f]`` from samples (Chapter 5, §5.2)."""
    return score_function_gradient(f_values, gaussian_score(x, mu, sigma))[0]
