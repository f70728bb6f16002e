"""Derivation checks of syllabus §3.4, REINFORCE and variance reduction (Chapter 7): DC-20 ... DC-23, DC-26.

Expectations are exact: every trajectory of a small MDP is enumerated with its probability
(:mod:`rlcore.tabular.enumeration`), and the true gradient of the finite-horizon objective comes from
``torch.autograd`` of the same sum, a route that uses no score function.
"""

from __future__ import annotations

import numpy as np

from ..estimators.advantages import normalize_advantages
from ..tabular.builders import random_mdp
from ..tabular.enumeration import enumerate_trajectories, moments, reinforce_terms
from ..tabular.policy_gradient import finite_horizon_gradient, softmax_policy, step_scores
from .registry import EXACT64, Check, register

AD64 = 1e-8  # two float64 routes to one gradient differ by rounding only


def _setting(seed: int, horizon: int = 4):
    mdp = random_mdp(3, 2, gamma=0.9, seed=seed)
    theta = np.random.default_rng(seed).normal(size=(3, 2))
    return mdp, theta, enumerate_trajectories(mdp, softmax_policy(theta), horizon)


def _autograd_gradient(mdp, theta, trajectories) -> np.ndarray:
    """grad of J_H(theta) = sum_tau p_theta(tau) R(tau), by autograd of the enumerated sum."""
    import torch

    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    log_pi = torch.log_softmax(t, dim=1)
    H = trajectories.states.shape[1]
    discounts = torch.tensor(mdp.gamma ** np.arange(H))
    log_policy = log_pi[torch.tensor(trajectories.states), torch.tensor(trajectories.actions)].sum(dim=1)
    fixed = torch.tensor(np.log(trajectories.prob)) - log_policy.detach()  # rho0 and P: no theta
    R = (torch.tensor(trajectories.rewards) * discounts).sum(dim=1)
    J = (torch.exp(fixed + log_policy) * R).sum()
    (grad,) = torch.autograd.grad(J, t)
    return grad.numpy()


@register("DC-20", chapters=(7,))
def dc20_reward_to_go(seed: int = 20):
    """DC-20 (Chapter 7, §7.2): full-return and reward-to-go estimators have the same mean, the true gradient."""
    mdp, theta, trajs = _setting(seed)
    truth = _autograd_gradient(mdp, theta, trajs)
    mean_full, cov_full = moments(trajs, reinforce_terms(theta, trajs, mdp.gamma, "full"))
    mean_rtg, cov_rtg = moments(trajs, reinforce_terms(theta, trajs, mdp.gamma, "reward_to_go"))
    return [
        Check("DC-20", "E[R(τ) Σ_t ∇log π] = ∇J_H", "exact enumeration", "autograd of Σ_τ p_θ(τ)R(τ)",
              float(np.max(np.abs(mean_full - truth.ravel()))), AD64),
        Check("DC-20", "E[Σ_t γ^t G_t ∇log π] = ∇J_H", "exact enumeration", "autograd",
              float(np.max(np.abs(mean_rtg - truth.ravel()))), AD64),
        Check("DC-20", "∇J_H = Σ_t γ^t Σ_s Pr(s_t = s) π A_t (no enumeration)", "forward-backward recursions",
              "autograd", float(np.max(np.abs(finite_horizon_gradient(mdp, theta, 4) - truth))), AD64),
        Check("DC-20", "tr Var(reward-to-go) ≤ tr Var(full return)", "exact covariances", "ratio ≤ 1",
              float(np.trace(cov_rtg) / np.trace(cov_full)), 1.0, "ratio"),
    ]


@register("DC-21", chapters=(7,))
def dc21_gamma_t_factor(seed: int = 21):
    """DC-21 (Chapter 7, §7.2): without the ``gamma^t`` factor the estimator's mean is not the gradient."""
    mdp, theta, trajs = _setting(seed)
    truth = _autograd_gradient(mdp, theta, trajs).ravel()
    mean_without, _ = moments(trajs, reinforce_terms(theta, trajs, mdp.gamma, gamma_t=False))
    relative_bias = float(np.linalg.norm(mean_without - truth) / np.linalg.norm(truth))
    undiscounted = finite_horizon_gradient(mdp, theta, 4, gamma_t=False).ravel()
    return [Check("DC-21", "dropping γ^t biases the mean (relative bias > 1%)", "exact enumeration",
                  "autograd", 0.01 - relative_bias, 0.0, "violation"),
            Check("DC-21", "that mean = Σ_t Σ_s Pr(s_t = s) Σ_a ∇π Q_t (undiscounted visitation)", "exact enumeration",
                  "forward-backward recursions", float(np.max(np.abs(mean_without - undiscounted))), AD64)]


@register("DC-22", chapters=(7,))
def dc22_baselines(seed: int = 22):
    """DC-22 (Chapter 7, §7.3): a state baseline is unbiased; a batch mean including the sample's own return biases
    the mean by ``-grad J / N``; leave-one-out does not (exact over all pairs, ``N = 2``)."""
    mdp, theta, trajs = _setting(seed, horizon=3)
    truth = _autograd_gradient(mdp, theta, trajs).ravel()
    baseline = np.random.default_rng(seed).normal(size=3) * 5
    mean_b, _ = moments(trajs, reinforce_terms(theta, trajs, mdp.gamma, baseline=baseline))
    K = len(trajs.prob)
    scores = step_scores(theta, trajs.states, trajs.actions).sum(axis=1)  # each trajectory's score
    R = (trajs.rewards * mdp.gamma ** np.arange(trajs.states.shape[1])).sum(axis=1)
    scores = scores.reshape(K, -1)
    joint = np.outer(trajs.prob, trajs.prob)  # all ordered pairs (i, j) of independent trajectories
    with_own = (R[:, None] + R[None, :]) / 2  # the batch mean of N = 2 returns, own included
    mean_batch = np.einsum("ij,ik,ij->k", joint, scores, R[:, None] - with_own)
    mean_loo = np.einsum("ij,ik,ij->k", joint, scores, R[:, None] - R[None, :])  # leave-one-out: the other's
    return [
        Check("DC-22", "a state baseline b(s_t) keeps the mean", "exact enumeration", "autograd",
              float(np.max(np.abs(mean_b - truth))), AD64),
        Check("DC-22", "batch-mean baseline (own return in it): mean = (1 − 1/N)∇J", "exact over all pairs",
              "(1 − 1/2)·autograd", float(np.max(np.abs(mean_batch - truth / 2))), AD64),
        Check("DC-22", "leave-one-out baseline: unbiased", "exact over all pairs", "autograd",
              float(np.max(np.abs(mean_loo - truth))), AD64),
    ]


@register("DC-23", chapters=(7,))
def dc23_optimal_baseline(seed: int = 23):
    """DC-23 (Chapter 7, §7.3): ``b_k* = E[(d_k log pi)^2 G] / E[(d_k log pi)^2]`` minimises component k's variance."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=3)  # a one-state bandit with a softmax policy
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    outcomes = [(a, g, p_g) for a in range(3) for g, p_g in zip(rng.normal(size=2) * 3 + a, (0.3, 0.7), strict=True)]
    prob = np.array([pi[a] * p_g for a, _, p_g in outcomes])
    score = np.array([np.eye(3)[a] - pi for a, _, _ in outcomes])  # (outcomes, 3)
    G = np.array([g for _, g, _ in outcomes])
    worst, margin = 0.0, np.inf
    V = prob @ G
    for k in range(3):
        formula = (prob @ (score[:, k] ** 2 * G)) / (prob @ score[:, k] ** 2)

        def variance(b, k=k):
            x = score[:, k] * (G - b)
            return prob @ x**2 - (prob @ x) ** 2

        grid = np.linspace(G.min() - 5, G.max() + 5, 20001)
        numeric = grid[np.argmin([variance(b) for b in grid])]
        worst = max(worst, abs(numeric - formula))
        margin = min(margin, variance(V) - variance(formula), variance(0.0) - variance(formula))
    step = (G.max() - G.min() + 10) / 20000
    return [Check("DC-23", "b_k* minimises Var of component k", "grid search of the exact variance",
                  "the formula", worst, step),  # the grid's resolution
            Check("DC-23", "Var(b*) ≤ Var(V) and Var(b*) ≤ Var(0)", "exact variances", "ordering", -margin, EXACT64,
                  "violation")]


@register("DC-26", chapters=(7, 14))
def dc26_advantage_normalization(seed: int = 26):
    """DC-26 (Chapter 7, §7.3): normalised advantages have mean 0 and std 1; the share reinforced is not one half."""
    adv = np.random.default_rng(seed).exponential(size=1000)  # skewed, like many advantage batches
    normed = normalize_advantages(adv)
    share = float(np.mean(normed > 0))
    return [Check("DC-26", "mean 0 and std 1 after normalisation", "normalize_advantages", "0 and 1 (Bessel's std)",
                  float(max(abs(normed.mean()), abs(normed.std(ddof=1) - 1))), 1e-6),  # the library's eps = 1e-8
            Check("DC-26", "share of positive normalised advantages = share above the mean ≠ 1/2", "count",
                  "count above the mean", float(abs(share - np.mean(adv > adv.mean()))), EXACT64)]


ESTIMATORS = ("full return", "reward-to-go", "reward-to-go − baseline", "reward-to-go, γ = 0.9")


def horizon_estimates(horizon: int, n: int = 10_000, u: float = 0.5, rho: float = 0.5, sigma: float = 0.5,
                      seed: int = 0) -> dict:
    """Single-episode gradient estimates of the four :data:`ESTIMATORS`, ``n`` episodes of ``horizon`` steps
    (Chapter 7, §7.4).

    The episode: at every step the policy picks ``a_t = 1`` with probability ``u = sigmoid(theta)`` (one
    parameter, score ``a_t - u``) and earns ``r_t = a_t + eps_t``, where the noise ``eps`` is a stationary
    AR(1) process with standard deviation ``sigma`` and correlation ``rho`` between neighbouring steps. The
    objective is the undiscounted sum; the baseline is the exact ``E[G_t] = (H - t) u``; the last estimator
    discounts the reward-to-go with ``gamma = 0.9`` (biased for the undiscounted objective, as §7.4 says).
    """
    rng = np.random.default_rng(seed)
    a = (rng.random((n, horizon)) < u).astype(float)
    eps = np.empty((n, horizon))
    eps[:, 0] = rng.normal(size=n) * sigma
    shocks = rng.normal(size=(n, horizon)) * sigma * np.sqrt(1 - rho**2)
    for t in range(1, horizon):
        eps[:, t] = rho * eps[:, t - 1] + shocks[:, t]
    r = a + eps
    score = a - u
    G = np.cumsum(r[:, ::-1], axis=1)[:, ::-1]  # undiscounted reward-to-go
    G_discounted = np.zeros_like(r)
    running = np.zeros(n)
    for t in reversed(range(horizon)):
        running = r[:, t] + 0.9 * running
        G_discounted[:, t] = running
    baseline = (horizon - np.arange(horizon)) * u
    return {ESTIMATORS[0]: score.sum(axis=1) * G[:, 0], ESTIMATORS[1]: (score * G).sum(axis=1),
            ESTIMATORS[2]: (score * (G - baseline)).sum(axis=1), ESTIMATORS[3]: (score * G_discounted).sum(axis=1)}


def horizon_slopes(horizons=(20, 40, 80, 160), n: int = 10_000, boot: int = 200, seed: int = 24) -> dict:
    """Log-log slope of each estimator's variance against the horizon, with a 95% bootstrap interval
    (Chapter 7, §7.4): ``{name: (slope, low, high, variances)}``."""
    rng = np.random.default_rng(seed)
    samples = [horizon_estimates(h, n, seed=seed + i) for i, h in enumerate(horizons)]
    x = np.log(np.asarray(horizons, dtype=float))
    out = {}
    for name in ESTIMATORS:
        variances = np.array([s[name].var(ddof=1) for s in samples])
        resampled = rng.integers(0, n, size=(boot, n))  # the same resamples for every horizon
        boots = np.stack([s[name][resampled].var(axis=1, ddof=1) for s in samples])  # (horizons, boot)
        slopes = np.polyfit(x, np.log(boots), 1)[0]
        low, high = np.quantile(slopes, [0.025, 0.975])
        out[name] = (float(np.polyfit(x, np.log(variances), 1)[0]), float(low), float(high), variances)
    return out


@register("DC-24", chapters=(7,))
def dc24_variance_and_horizon(seed: int = 24):
    """DC-24 (Chapter 7, §7.4): how the variance of single-episode REINFORCE grows with the horizon ``H``.

    A claim check, not an identity: for rewards with a non-zero mean the analysis of §7.4 predicts
    ``Var ~ H^3`` for the full return and the reward-to-go (a smaller constant), ``H^2`` once the baseline
    removes the mean, and ``H`` with discounting; the fitted slopes' 95% bootstrap intervals must sit
    within 0.5 of those exponents.
    """
    slopes = horizon_slopes(seed=seed)
    predicted = dict(zip(ESTIMATORS, (3.0, 3.0, 2.0, 1.0), strict=True))
    rows = [Check("DC-24", f"{name}: Var ∝ H^{predicted[name]:g}", "fitted log-log slope (bootstrap 95%)",
                  f"{predicted[name]:g} ± 0.5",
                  float(max(abs(slopes[name][1] - predicted[name]), abs(slopes[name][2] - predicted[name]))), 0.5)
            for name in ESTIMATORS]
    ratio = slopes[ESTIMATORS[1]][3] / slopes[ESTIMATORS[0]][3]
    rows.append(Check("DC-24", "reward-to-go variance < full-return variance at every H", "sample variances",
                      "ratio < 1", float(ratio.max()), 1.0, "ratio"))
    return rows
