"""Importance sampling: weights in log space, the ordinary and self-normalised estimators, the effective
sample size, products of per-step ratios (Chapter 5, §5.3-§5.5), and off-policy policy gradients (Chapter 9)."""

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


def per_decision_weights(logp_pi, logp_beta, dones) -> np.ndarray:
    """``W_t = prod_{k=t0..t} pi(a_k|s_k) / beta(a_k|s_k)``, the product from the start ``t0`` of step ``t``'s episode,
    over concatenated episodes, in log space (Chapter 9, §9.3; eq. (eq-per-decision-weights)).

    ``dones[t]`` is true where an episode ends after step ``t``; the product restarts after it.
    """
    log_w = _log_weights(logp_pi, logp_beta)
    dones = validate.array(dones, "dones", shape=log_w.shape, dtype=bool)
    out = np.empty_like(log_w)
    running = 0.0
    for t in range(len(log_w)):
        running = running + log_w[t]
        out[t] = running
        if dones[t]:
            running = 0.0
    return np.exp(out)


OFF_POLICY_MODES = ("trajectory", "per_decision", "dropped_after", "single_ratio")


def off_policy_gradient(scores, log_ratios, rewards, gamma: float, mode: str) -> np.ndarray:
    """Per-episode off-policy policy-gradient estimates from episodes of the behaviour policy, shape ``(N, d)``
    (Chapter 9, §9.2-§9.4).

    ``scores[i, t]`` is ``grad log pi_theta(a_t|s_t)`` (shape ``(N, H, d)``), ``log_ratios[i, t] = log pi_theta(a_t|s_t)
    - log beta(a_t|s_t)`` and ``rewards[i, t]`` (shape ``(N, H)``), for ``N`` episodes of ``H`` steps. With
    ``W_{0:t}`` the product of the ratios up to ``t`` and ``R_l = gamma^l r_l``:

    * ``"trajectory"``: ``W_{0:H-1} (sum_l R_l) sum_t scores_t``, eq. (eq-trajectory-is-pg) (unbiased);
    * ``"per_decision"``: ``sum_t scores_t sum_{l >= t} R_l W_{0:l}``, eq. (eq-per-decision-pg) (unbiased);
    * ``"dropped_after"``: ``sum_t scores_t W_{0:t} sum_{l >= t} R_l`` (the ratios after ``t`` dropped: biased);
    * ``"single_ratio"``: ``sum_t scores_t w_t sum_{l >= t} R_l``, one ratio per step, eq. (eq-single-ratio-pg)
      (biased).
    """
    log_ratios = validate.array(log_ratios, "log_ratios", ndim=2)
    N, H = log_ratios.shape
    scores = validate.array(scores, "scores", shape=(N, H, None))
    rewards = validate.array(rewards, "rewards", shape=(N, H))
    gamma = validate.real(gamma, "gamma", low=0.0, high=1.0)
    if mode not in OFF_POLICY_MODES:
        raise ValueError(f"mode must be one of {OFF_POLICY_MODES}, got {mode!r}")
    R = rewards * gamma ** np.arange(H)
    W = np.exp(np.cumsum(log_ratios, axis=1))  # W_{0:t}
    if mode == "trajectory":
        return (W[:, -1] * R.sum(axis=1))[:, None] * scores.sum(axis=1)
    if mode == "per_decision":
        weighted = np.cumsum((R * W)[:, ::-1], axis=1)[:, ::-1]  # sum_{l >= t} R_l W_{0:l}
        return np.einsum("nt,ntd->nd", weighted, scores)
    to_go = np.cumsum(R[:, ::-1], axis=1)[:, ::-1]  # sum_{l >= t} R_l
    factor = W if mode == "dropped_after" else np.exp(log_ratios)
    return np.einsum("nt,ntd->nd", factor * to_go, scores)
