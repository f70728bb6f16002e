"""Derivation checks of syllabus §3.4, the critic, n-step returns and GAE (Chapter 8): DC-08, DC-27 ... DC-30.

Identities about arrays are checked on random arrays with episode ends; identities about expectations are
exact, over every trajectory of a small MDP (:mod:`rlcore.tabular.enumeration`), against gradients computed
by backward and forward recursions that enumerate nothing.
"""

from __future__ import annotations

import numpy as np

from ..estimators.advantages import gae, lambda_averaged_advantages, n_step_returns, td_errors
from ..tabular import exact
from ..tabular.builders import random_mdp
from ..tabular.enumeration import enumerate_trajectories, gae_advantages, moments, policy_gradient_terms
from ..tabular.policy_gradient import finite_horizon_gradient, softmax_policy
from .registry import EXACT64, Check, register


def _episodes(seed: int, T: int = 40):
    """Random rewards and values with terminations and truncations; ``next_values[t] = values[t+1]`` inside an
    episode (as in a real rollout), a value of the real final observation at a truncation."""
    rng = np.random.default_rng(seed)
    rewards, values = rng.normal(size=T), rng.normal(size=T)
    terminated = rng.random(T) < 0.08
    truncated = ~terminated & (rng.random(T) < 0.08)
    next_values = np.append(values[1:], rng.normal())
    ends = terminated | truncated
    next_values[ends] = rng.normal(size=int(ends.sum()))  # the final observation's value, not the next episode's
    return rewards, values, next_values, terminated, truncated


@register("DC-08", chapters=(8,))
def dc08_td_error(seed: int = 8):
    """DC-08 (Chapter 8, §8.1): ``E[delta | s, a] = A^pi(s, a)`` when ``V = V^pi``; otherwise off by
    ``gamma E[eps(s')] - eps(s)`` with ``eps = V - V^pi``."""
    mdp = random_mdp(5, 3, gamma=0.9, seed=seed)
    pi = softmax_policy(np.random.default_rng(seed).normal(size=(5, 3)))
    V_pi, A = exact.evaluate_policy(mdp, pi), exact.advantages(mdp, pi)
    eps = np.random.default_rng(seed + 1).normal(size=5)

    def expected_delta(V):  # sum over s' of P(s'|s,a) (r + gamma V(s') - V(s)), term by term
        out = np.zeros_like(mdp.r)
        for s, a, s_next in np.ndindex(mdp.P.shape):
            out[s, a] += mdp.P[s, a, s_next] * (mdp.r[s, a] + mdp.gamma * V[s_next] - V[s])
        return out

    bias = mdp.gamma * mdp.P @ eps - eps[:, None]
    return [Check("DC-08", "E[δ | s, a] = A^π(s, a) with V = V^π", "sum over s' of P δ", "Q^π − V^π (linear solve)",
                  float(np.max(np.abs(expected_delta(V_pi) - A))), EXACT64),
            Check("DC-08", "with V = V^π + ε: E[δ | s, a] − A^π = γ E[ε(s')] − ε(s)", "sum over s' of P δ",
                  "A^π + the formula", float(np.max(np.abs(expected_delta(V_pi + eps) - A - bias))), EXACT64),
            Check("DC-08", "that bias is not zero for ε ≠ 0", "the formula", "> 0.01", 0.01 - float(np.abs(bias).max()),
                  0.0, "violation")]


@register("DC-27", chapters=(8,))
def dc27_n_step_telescopes(seed: int = 27):
    """DC-27 (Chapter 8, §8.2): the k-step advantage telescopes, ``A^(k)_t = sum_{l<k} gamma^l delta_{t+l}``."""
    rewards, values, next_values, terminated, truncated = _episodes(seed)
    gamma, T = 0.95, len(rewards)
    delta = td_errors(rewards, values, next_values, terminated, gamma)
    ends = terminated | truncated
    worst = 0.0
    for k in (1, 2, 5, 50):
        direct = n_step_returns(rewards, values, next_values, terminated, truncated, gamma, k) - values
        telescoped = np.zeros(T)
        for t in range(T):
            for m in range(k):
                if t + m >= T:
                    break
                telescoped[t] += gamma**m * delta[t + m]
                if ends[t + m]:
                    break
        worst = max(worst, float(np.max(np.abs(direct - telescoped))))
    return [Check("DC-27", "A^(k)_t = Σ_{l<k} γ^l δ_{t+l} (k = 1, 2, 5, 50)", "n-step returns − V",
                  "sum of TD errors", worst, EXACT64)]


@register("DC-28", chapters=(8,))
def dc28_gae_identities(seed: int = 28):
    """DC-28 (Chapter 8, §8.3): GAE's limits, its definition as a lambda-average of k-step advantages, and its
    backward recursion, with terminations and truncations."""
    rewards, values, next_values, terminated, truncated = _episodes(seed)
    gamma = 0.9
    args = (rewards, values, next_values, terminated, truncated, gamma)
    delta = td_errors(rewards, values, next_values, terminated, gamma)
    monte_carlo = n_step_returns(*args, n=len(rewards)) - values
    worst_average = max(float(np.max(np.abs(gae(*args, lam) - lambda_averaged_advantages(*args, lam))))
                        for lam in (0.0, 0.3, 0.9, 0.97, 1.0))
    return [Check("DC-28", "λ = 0: GAE = δ_t", "rlcore.gae", "TD errors",
                  float(np.max(np.abs(gae(*args, 0.0) - delta))), EXACT64),
            Check("DC-28", "λ = 1: GAE = G_t − V(s_t) (bootstrapped at truncation)", "rlcore.gae",
                  "n-step returns, n = T", float(np.max(np.abs(gae(*args, 1.0) - monte_carlo))), EXACT64),
            Check("DC-28", "recursion = λ-weighted average of k-step advantages (tail mass at the episode end)",
                  "rlcore.gae (backward recursion)", "the definition, term by term", worst_average, EXACT64)]


def _critic_setting(seed: int, horizon: int = 4):
    mdp = random_mdp(3, 2, gamma=0.9, seed=seed)
    theta = np.random.default_rng(seed).normal(size=(3, 2))
    pi = softmax_policy(theta)
    trajs = enumerate_trajectories(mdp, pi, horizon)
    V = exact.finite_horizon_values(mdp, pi, horizon)[:horizon]  # the exact V_t(s), t < H
    return mdp, theta, trajs, V


def gae_bias_variance(mdp, theta, trajectories, values, gamma: float, lam: float, objective_gamma: float | None = None):
    """Exact squared bias and variance (trace) of the single-episode gradient estimate with GAE weights
    ``gamma^t A_t`` (Chapter 8, §8.4), against the gradient of ``J_H`` discounted with ``objective_gamma``
    (default ``gamma``). Returns ``(bias^2, variance)``."""
    H = trajectories.states.shape[1]
    objective_gamma = gamma if objective_gamma is None else objective_gamma
    weights = objective_gamma ** np.arange(H) * gae_advantages(trajectories, values, gamma, lam)
    mean, cov = moments(trajectories, policy_gradient_terms(theta, trajectories, weights))
    truth = finite_horizon_gradient(_with_gamma(mdp, objective_gamma), theta, H).ravel()
    return float(np.sum((mean - truth) ** 2)), float(np.trace(cov))


def _with_gamma(mdp, gamma):
    from ..tabular.mdp import FiniteMDP

    return FiniteMDP(mdp.P, mdp.r, mdp.rho0, gamma)


@register("DC-29", chapters=(8,))
def dc29_bias_and_variance(seed: int = 29):
    """DC-29 (Chapter 8, §8.4): with a wrong critic ``V = V^pi + eps``, the TD-error estimate (lambda = 0) biases the
    gradient and the Monte Carlo one (lambda = 1) does not, at a higher variance (for a critic this close; a much
    worse critic raises the variance of every lambda, §8.4); with the exact critic neither is biased."""
    mdp, theta, trajs, V = _critic_setting(seed)
    eps = 0.2 * np.random.default_rng(seed + 1).normal(size=V.shape[1])  # a critic about 10-20% off
    wrong = V + eps
    bias0, var0 = gae_bias_variance(mdp, theta, trajs, wrong, mdp.gamma, 0.0)
    bias1, var1 = gae_bias_variance(mdp, theta, trajs, wrong, mdp.gamma, 1.0)
    exact0, _ = gae_bias_variance(mdp, theta, trajs, V, mdp.gamma, 0.0)
    return [Check("DC-29", "exact critic: GAE(0) is unbiased", "exact enumeration", "recursions (no enumeration)",
                  exact0, EXACT64, "bias²"),
            Check("DC-29", "wrong critic: GAE(1) = G − V is unbiased (V acts as a baseline)", "exact enumeration",
                  "recursions", bias1, EXACT64, "bias²"),
            Check("DC-29", "wrong critic: GAE(0) is biased (bias² > 1e-4)", "exact enumeration", "recursions",
                  1e-4 - bias0, 0.0, "violation"),
            Check("DC-29", "variance: GAE(0) < GAE(1)", "exact covariances", "ratio < 1", var0 / var1, 1.0, "ratio")]


@register("DC-30", chapters=(8,))
def dc30_gamma_knob(seed: int = 30):
    """DC-30 (Chapter 8, §8.4): a smaller discount in GAE(gamma, 1) biases the gradient of the undiscounted
    objective, and lowers the variance, monotonically."""
    mdp, theta, trajs, _ = _critic_setting(seed, horizon=5)
    rows = []
    for gamma in (1.0, 0.95, 0.9, 0.7, 0.5):
        pi = softmax_policy(theta)
        V = exact.finite_horizon_values(_with_gamma(mdp, gamma), pi, 5)[:5]  # the exact critic for that gamma
        rows.append(gae_bias_variance(mdp, theta, trajs, V, gamma, 1.0, objective_gamma=1.0))
    bias, variance = np.array(rows).T
    return [Check("DC-30", "γ = 1: unbiased for the undiscounted objective", "exact enumeration", "recursions",
                  float(bias[0]), EXACT64, "bias²"),
            Check("DC-30", "smaller γ: more bias, less variance (monotone)", "exact enumeration", "differences",
                  float(max(np.max(-np.diff(bias)), np.max(np.diff(variance)))), 0.0, "violation")]
