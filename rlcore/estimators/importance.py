"""Importance sampling: weights in log space, the ordinary and self-normalised estimators, the effective
sample size, and products of per-step ratios (Chapter 5, §5.3-§5.5)."""

from __future__ import annotations

import numpy as np

from ..base import validate


def _log_weights(logp_target, logp_proposal, ndim=1) -> np.ndarray:
    target = validate.array(logp_target, "logp_target", ndim=ndim, finite=False)
    proposal = validate.array(logp_proposal, "logp_proposal", shape=target.shape)
    if np.any(np.isposinf(target)) or np.any(np.isnan(target)):
        raise ValueError("logp_target must be finite or -inf (probability 0)")
    if not np.all(np.isfinite(proposal)):
        raise ValueError("logp_proposal must be finite: every sample was drawn from the proposal, so its "
                         "probability under the proposal is positive")
    return target - proposal


def importance_weights(logp_target, logp_proposal) -> np.ndarray:
    """``w_i = p(x_i) / q(x_i)`` as ``exp(log p - log q)`` (Chapter 5, §5.3; eq. (eq-is-estimator))."""
    return np.exp(_log_weights(logp_target, logp_proposal))


def importance_estimate(f_values, logp_target, logp_proposal) -> float:
    """The ordinary importance-sampling estimate ``(1/N) sum_i w_i f(x_i)`` of ``E_p[f]`` (Chapter 5, §5.3).

    Unbiased when ``q > 0`` wherever ``p f != 0`` (eq. (eq-is-estimator)).
    """
    log_w = _log_weights(logp_target, logp_proposal)
    f = validate.array(f_values, "f_values", shape=log_w.shape)
    return float(np.mean(np.exp(log_w) * f))


def self_normalized_estimate(f_values, logp_target, logp_proposal) -> float:
    """``sum_i w_i f(x_i) / sum_i w_i``, self-normalised: biased but consistent (Chapter 5, §5.4).

    ``p`` and ``q`` are needed only up to constant factors, which cancel.
    """
    log_w = _log_weights(logp_target, logp_proposal)
    f = validate.array(f_values, "f_values", shape=log_w.shape)
    if np.all(np.isneginf(log_w)):
        raise ValueError("every weight is 0: no sample lies where the target has probability")
    w = np.exp(log_w - np.max(log_w))  # the constant cancels
    return float(np.sum(w * f) / np.sum(w))


def effective_sample_size(logp_target, logp_proposal) -> float:
    """Kish's effective sample size ``(sum_i w_i)^2 / sum_i w_i^2``, in ``[1, N]`` (Chapter 5, §5.4; eq. (eq-ess))."""
    log_w = _log_weights(logp_target, logp_proposal)
    if np.all(np.isneginf(log_w)):
        return 0.0
    w = np.exp(log_w - np.max(log_w))  # scale-free: the constant cancels
    return float(np.sum(w) ** 2 / np.sum(w**2))


def ratio_products(logp_target, logp_behaviour) -> np.ndarray:
    """``prod_{t' <= t} pi(a_t'|s_t') / beta(a_t'|s_t')`` for every step ``t`` (Chapter 5, §5.5).

    Inputs are the per-step log-probabilities of the actions taken, shape ``(T,)`` for one episode or
    ``(episodes, T)`` for several; the products are formed in log space along the last axis.
    """
    return np.exp(np.cumsum(_log_weights(logp_target, logp_behaviour, ndim=(1, 2)), axis=-1))


def gaussian_second_moment(mu_p: float, s_p: float, mu_q: float, s_q: float) -> float:
    """``E_q[(p/q)^2]`` for ``p = N(mu_p, s_p^2)``, ``q = N(mu_q, s_q^2)``; ``inf`` when it diverges (Chapter 5, §5.3).

    With ``a = 2/s_p^2 - 1/s_q^2``: finite iff ``a > 0``, and then it is
    ``s_q / (s_p^2 sqrt(a)) exp(b^2/(2a) - c)`` with ``b = 2 mu_p/s_p^2 - mu_q/s_q^2``,
    ``c = mu_p^2/s_p^2 - mu_q^2/(2 s_q^2)`` (eq. (eq-is-second-moment)).
    """
    a = 2 / s_p**2 - 1 / s_q**2
    if a <= 0:
        return float("inf")
    b = 2 * mu_p / s_p**2 - mu_q / s_q**2
    c = mu_p**2 / s_p**2 - mu_q**2 / (2 * s_q**2)
    return float(s_q / (s_p**2 * np.sqrt(a)) * np.exp(b**2 / (2 * a) - c))
