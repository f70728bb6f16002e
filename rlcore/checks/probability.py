"""Derivation checks of syllabus §3.3 and §3.5, the probability toolkit (Chapter 5): the score function
(DC-14, DC-15) and importance sampling (DC-31, DC-32, DC-33).

Each identity is computed as both of its sides, by independent routes: an exact sum or Gauss-Hermite
quadrature against a closed form, finite differences against the score formula, enumeration against
a closed form, and Monte Carlo against all of them (tolerances in :mod:`.registry`).
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from ..estimators.importance import gaussian_second_moment, importance_estimate
from ..estimators.stats import mean_se, z_scores
from ..tabular.policy_gradient import softmax_policy
from .registry import EXACT64, MC_Z, Check, register


def softmax(logits: np.ndarray) -> np.ndarray:
    """``exp(theta_k) / sum_j exp(theta_j)`` for one vector of logits (Chapter 5, §5.1)."""
    return softmax_policy(np.asarray(logits)[None])[0]


def _log_normal(x, mu, s):
    return -0.5 * ((x - mu) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)


@register("DC-14", chapters=(5,))
def dc14_expected_score(seed: int = 14, n_samples: int = 1_000_000):
    """DC-14 (Chapter 5, §5.1): ``E_{x ~ p_theta}[grad log p_theta(x)] = 0`` for three families (eq. (eq-eglp))."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=6)
    p = softmax(logits)
    softmax_scores = np.eye(6) - p  # row k: grad_theta log p_k = e_k - p
    theta = 0.7
    sig = 1 / (1 + np.exp(-theta))
    bernoulli = sig * (1 - sig) + (1 - sig) * (0 - sig)  # x = 1 w.p. sig (score 1 - sig); x = 0 (score -sig)
    mu, s = 0.8, 1.7
    nodes, weights = hermegauss(40)  # E over N(0, 1) of a polynomial, exactly
    x = mu + s * nodes
    quad = (weights / np.sqrt(2 * np.pi)) @ np.stack([(x - mu) / s**2, ((x - mu) ** 2 / s**2 - 1)], axis=1)
    samples = rng.normal(mu, s, size=n_samples)
    score_mu = (samples - mu) / s**2
    score_log_s = (samples - mu) ** 2 / s**2 - 1
    m1, se1 = mean_se(score_mu)
    m2, se2 = mean_se(score_log_s)
    z_mc = float(max(z_scores(m1, 0.0, se1), z_scores(m2, 0.0, se2)))
    return [
        Check("DC-14", "softmax: Σ_k p_k ∇_θ log p_k = 0", "exact sum over 6 actions", "0",
              float(np.max(np.abs(p @ softmax_scores))), EXACT64),
        Check("DC-14", "Bernoulli-sigmoid: E[∇_θ log p] = 0", "exact sum over {0, 1}", "0", abs(bernoulli), EXACT64),
        Check("DC-14", "Gaussian (μ, log σ): E[∇ log p] = 0", "Gauss–Hermite quadrature, 40 nodes", "0",
              float(np.max(np.abs(quad))), EXACT64),
        Check("DC-14", "Gaussian (μ, log σ): E[∇ log p] = 0", f"mean of {n_samples:.0e} samples", "0", z_mc,
              MC_Z, "SE"),
    ]


@register("DC-15", chapters=(5,))
def dc15_log_derivative(seed: int = 15, n_samples: int = 1_000_000):
    """DC-15 (Chapter 5, §5.2): ``grad E_{p_theta}[f] = E_{p_theta}[f grad log p_theta]`` (eq. (eq-score-gradient))."""
    rng = np.random.default_rng(seed)
    logits, f = rng.normal(size=5), rng.normal(size=5)
    p = softmax(logits)
    score_route = (p * f) @ (np.eye(5) - p)  # sum_k p_k f_k (e_k - p)
    h = 1e-6
    finite_differences = np.array([(softmax(logits + h * e) @ f - softmax(logits - h * e) @ f) / (2 * h)
                                   for e in np.eye(5)])
    mu = 0.6
    x = rng.normal(mu, 1.0, size=n_samples)
    m, se = mean_se(x**2 * (x - mu))  # f(x) = x^2, score of the mean: (x - mu)
    return [
        Check("DC-15", "categorical: ∇_θ Σ_k p_k f_k = Σ_k p_k f_k ∇ log p_k", "score formula, exact sum",
              "central finite differences", float(np.max(np.abs(score_route - finite_differences))),
              1e-8),  # finite differences with h = 1e-6: truncation ~h², rounding ~1e-16/h = 1e-10
        Check("DC-15", "N(μ, 1), f = x²: ∇_μ E[f] = 2μ", f"score-function estimate, {n_samples:.0e} samples",
              "2μ", float(z_scores(m, 2 * mu, se)), MC_Z, "SE"),
    ]


@register("DC-31", chapters=(5,))
def dc31_is_unbiased_and_support(seed: int = 31, n_samples: int = 200_000):
    """DC-31 (Chapter 5, §5.3): ``E_q[(p/q) f] = E_p[f]`` when ``q > 0`` wherever ``p f != 0``; otherwise a bias
    of exactly ``-sum_{q = 0} p f`` (eq. (eq-is-support))."""
    rng = np.random.default_rng(seed)
    P, Q, f = rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8)), rng.normal(size=8)
    exact_is = np.sum(Q * (P / Q) * f)
    Q_cut = Q.copy()
    Q_cut[:2] = 0.0  # the proposal never visits x = 0, 1
    Q_cut /= Q_cut.sum()
    support = Q_cut > 0
    is_cut = np.sum(Q_cut[support] * (P[support] / Q_cut[support]) * f[support])
    x = rng.choice(8, size=n_samples, p=Q_cut)
    estimate = importance_estimate(f[x], np.log(P[x]), np.log(Q_cut[x]))
    w_f = (P[x] / Q_cut[x]) * f[x]
    se = w_f.std(ddof=1) / np.sqrt(n_samples)
    missing = np.sum(P[~support] * f[~support])
    return [
        Check("DC-31", "E_q[(p/q)f] = E_p[f] (full support)", "exact sum over q", "exact sum over p",
              float(abs(exact_is - P @ f)), EXACT64),
        Check("DC-31", "support fails: E_q[(p/q)f] = E_p[f] − Σ_{q=0} p f", "exact sum over q's support",
              "E_p[f] minus the missing mass", float(abs(is_cut - (P @ f - missing))), EXACT64),
        Check("DC-31", "the IS estimate converges to the biased value", f"{n_samples:.0e} samples from q",
              "E_p[f] − Σ_{q=0} p f", float(z_scores(estimate, P @ f - missing, se)), MC_Z, "SE"),
    ]


@register("DC-32", chapters=(5,))
def dc32_is_variance(seed: int = 32, n_samples: int = 2_000_000, reps: int = 20_000, n: int = 100):
    """DC-32 (Chapter 5, §5.3): ``Var(mu_hat) = (E_q[w^2 f^2] - mu^2) / N`` and the Gaussian second moments
    (eq. (eq-is-variance), eq. (eq-is-second-moment))."""
    rng = np.random.default_rng(seed)
    rows = []
    for mu_q, s_q, label in [(1.0, 1.0, "q = N(1, 1): e^{μ²}"), (0.0, 1.3, "q = N(0, 1.3²): s²/√(2s²−1)")]:
        x = rng.normal(mu_q, s_q, size=n_samples)
        w2 = np.exp(2 * (_log_normal(x, 0.0, 1.0) - _log_normal(x, mu_q, s_q)))
        m, se = mean_se(w2)
        closed = np.exp(mu_q**2) if s_q == 1.0 else s_q**2 / np.sqrt(2 * s_q**2 - 1)
        rows.append(Check("DC-32", f"E_q[w²], p = N(0, 1), {label}", f"mean of {n_samples:.0e} samples",
                          "closed form", float(z_scores(m, closed, se)), MC_Z, "SE"))
        rows.append(Check("DC-32", f"the general Gaussian formula, {label.split(':')[0]}", "gaussian_second_moment",
                          "the special closed form", abs(gaussian_second_moment(0, 1, mu_q, s_q) - closed), EXACT64))
    x = rng.normal(1.0, 1.0, size=(reps, n))  # f(x) = x, P = N(0, 1), Q = N(1, 1): E_P f = 0
    w = np.exp(_log_normal(x, 0.0, 1.0) - _log_normal(x, 1.0, 1.0))
    estimates = (w * x).mean(axis=1)
    second = 2 * np.exp(1.0)  # E_Q[w² x²] = E_P[w x²] = e (1 + (-1)²) for P = N(0, 1), Q = N(1, 1)
    variance = (second - 0.0) / n
    spread = estimates.var(ddof=1)
    se_var = spread * np.sqrt(2 / (reps - 1))  # approximately normal estimates: SE of a sample variance
    rows.append(Check("DC-32", "Var(μ̂) = (E_q[w² f²] − μ²)/N", f"variance of {reps} estimates (N = {n})",
                      "closed form", float(z_scores(spread, variance, se_var)), MC_Z, "SE"))
    return rows


@register("DC-33", chapters=(5, 9))
def dc33_ratio_products(horizon: int = 6):
    """DC-33 (Chapter 5, §5.5): for i.i.d. steps, ``E_beta[prod w_t] = 1`` and
    ``Var = (1 + chi^2(pi||beta))^T - 1`` (eq. (eq-ratio-variance))."""
    pi, beta = np.array([0.7, 0.2, 0.1]), np.array([1 / 3, 1 / 3, 1 / 3])
    chi2 = np.sum(pi**2 / beta) - 1
    worst_mean, worst_var = 0.0, 0.0
    for T in range(1, horizon + 1):
        mean = second = 0.0
        for seq in itertools.product(range(3), repeat=T):  # every action sequence, with its probability
            prob_beta = np.prod(beta[list(seq)])
            product = np.prod(pi[list(seq)] / beta[list(seq)])
            mean += prob_beta * product
            second += prob_beta * product**2
        worst_mean = max(worst_mean, abs(mean - 1))
        worst_var = max(worst_var, abs((second - mean**2) - ((1 + chi2) ** T - 1)) / (1 + chi2) ** T)
    return [
        Check("DC-33", "E_β[Π_t w_t] = 1", f"enumeration of 3^T sequences, T ≤ {horizon}", "1", worst_mean, EXACT64),
        Check("DC-33", "Var_β[Π_t w_t] = (1 + χ²)^T − 1", "enumeration", "closed form (relative)", worst_var, EXACT64),
    ]
