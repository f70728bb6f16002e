"""Derivation checks of syllabus §3.6, information geometry (Chapter 10): KL (DC-36, DC-37), total variation and
coupling (DC-38, DC-40), Pinsker (DC-39), the Fisher information and the KL's Hessian (DC-41, DC-43, DC-44),
entropy (DC-47, DC-48).

Each identity is computed by two routes that share no code: a closed form against quadrature, Monte Carlo,
``torch.distributions`` or brute force over every event; a closed-form Fisher matrix against the average of
score outer products and against ``torch.autograd``'s Hessian of the KL.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from numpy.polynomial.hermite_e import hermegauss

from ..estimators.stats import mean_se, z_scores
from ..tabular import exact
from ..tabular import information as info
from ..tabular.builders import random_mdp
from ..tabular.policy_gradient import policy_fisher, softmax_fisher, softmax_policy, step_scores
from .registry import BOUND_SLACK, EXACT64, MC_Z, Check, register

#: Agreement of two float64 routes through torch (autograd, torch.distributions): a few hundred operations on
#: numbers of order 1, rounding ~1e-15 each; 1e-10 leaves a wide margin and catches any missing term (>= 1e-3).
AD64 = 1e-10


def random_categoricals(rng: np.random.Generator, n: int, k: int, spread: float = 2.0) -> np.ndarray:
    """``n`` random distributions over ``k`` outcomes, softmax of Gaussian logits with scale ``spread``
    (Chapter 10, §10.2)."""
    return softmax_policy(rng.normal(size=(n, k)) * spread)


def _pairs(rng: np.random.Generator, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of categoricals over 2-10 outcomes: independent, near-equal and near-disjoint ones."""
    ps, qs = [], []
    for k in range(2, 11):
        p = random_categoricals(rng, n // 9, k, spread=3.0)
        far = random_categoricals(rng, n // 27, k, spread=3.0)
        near = softmax_policy(np.log(p[: n // 27]) + 1e-3 * rng.normal(size=(n // 27, k)))
        disjoint = softmax_policy(-8.0 * np.log(p[: n // 27]))  # mass where p has little
        q = np.concatenate([far, near, disjoint])
        ps.append(np.pad(p[: len(q)], ((0, 0), (0, 10 - k))))
        qs.append(np.pad(q, ((0, 0), (0, 10 - k))))
    return np.concatenate(ps), np.concatenate(qs)


@register("DC-36", chapters=(10,))
def dc36_kl_properties(seed: int = 36):
    """DC-36 (Chapter 10, §10.2): ``KL >= 0`` (Gibbs' inequality), ``KL(p || p) = 0``, KL is not symmetric,
    eq. (eq-kl) against ``torch.distributions``."""
    rng = np.random.default_rng(seed)
    p, q = _pairs(rng)
    kl = info.kl_divergence(p, q)
    cross = -np.sum(p * np.log(np.where(p > 0, q, 1.0)), axis=1)  # cross-entropy H(p, q), a separate sum

    def categorical(x):  # by log-probabilities: torch clamps probs= at 1e-16, and near-disjoint pairs go below it
        return torch.distributions.Categorical(logits=torch.from_numpy(np.log(np.maximum(x, 1e-300))))

    torch_kl = torch.distributions.kl_divergence(categorical(p), categorical(q)).numpy()
    asymmetry = np.abs(kl - info.kl_divergence(q, p))
    return [
        Check("DC-36", "KL(p‖q) ≥ 0 on 3,000 pairs", "min over pairs of Σ p log(p/q)", "0", float(-kl.min()),
              -BOUND_SLACK, "violation"),
        Check("DC-36", "Gibbs: cross-entropy H(p, q) ≥ H(p)", "−Σ p log q", "−Σ p log p",
              float(np.max(info.entropy(p) - cross)), -BOUND_SLACK, "violation"),
        Check("DC-36", "KL(p‖p) = 0", "Σ p log(p/p)", "0", float(np.max(np.abs(info.kl_divergence(p, p)))), EXACT64),
        Check("DC-36", "KL(p‖q) formula", "rlcore.tabular.information", "torch.distributions",
              float(np.max(np.abs(kl - torch_kl))), EXACT64),
        Check("DC-36", "not symmetric: some pair has |KL(p‖q) − KL(q‖p)| > 0.5", "max over pairs", "0.5",
              0.5 - float(asymmetry.max()), 0.0, "violation"),
    ]


def _gauss_hermite_kl(m1: float, s1: float, m2: float, s2: float) -> float:
    """``E_{x ~ N(m1, s1^2)}[log p(x) - log q(x)]`` by Gauss-Hermite quadrature (exact: the integrand is quadratic)."""
    nodes, weights = hermegauss(10)
    x = m1 + s1 * nodes
    log_p = -0.5 * ((x - m1) / s1) ** 2 - math.log(s1)
    log_q = -0.5 * ((x - m2) / s2) ** 2 - math.log(s2)
    return float(weights @ (log_p - log_q) / math.sqrt(2 * math.pi))


@register("DC-37", chapters=(10,))
def dc37_gaussian_kl(seed: int = 37, n_samples: int = 500_000):
    """DC-37 (Chapter 10, §10.3): the Gaussian KL in closed form, eqs. (eq-gaussian-kl-1d) and (eq-gaussian-kl),
    against quadrature, Monte Carlo and ``torch.distributions``; the diagonal case is a sum of univariate ones; with
    a shared covariance ``s^2 I`` it is ``|m1 - m2|^2 / (2 s^2)`` (erratum E4.1)."""
    rng = np.random.default_rng(seed)
    uni = [(rng.normal(), math.exp(rng.normal() * 0.5), rng.normal(), math.exp(rng.normal() * 0.5))
           for _ in range(20)]
    closed_1d = [info.gaussian_kl([m1], [[s1**2]], [m2], [[s2**2]]) for m1, s1, m2, s2 in uni]
    quad_1d = [_gauss_hermite_kl(*args) for args in uni]
    n = 4
    m1, m2 = rng.normal(size=n), rng.normal(size=n)
    L1, L2 = rng.normal(size=(n, n)) * 0.4 + np.eye(n), rng.normal(size=(n, n)) * 0.4 + np.eye(n)
    S1, S2 = L1 @ L1.T, L2 @ L2.T
    closed = info.gaussian_kl(m1, S1, m2, S2)
    mvn = torch.distributions.MultivariateNormal
    torch_kl = float(torch.distributions.kl_divergence(mvn(torch.from_numpy(m1), torch.from_numpy(S1)),
                                                       mvn(torch.from_numpy(m2), torch.from_numpy(S2))))
    x = rng.multivariate_normal(m1, S1, size=n_samples)

    def log_density(x, m, S):
        diff = x - m
        return -0.5 * np.einsum("ij,ij->i", diff @ np.linalg.inv(S), diff) - 0.5 * np.linalg.slogdet(S)[1]

    mc, se = mean_se(log_density(x, m1, S1) - log_density(x, m2, S2))
    sd1, sd2 = np.exp(rng.normal(size=n) * 0.5), np.exp(rng.normal(size=n) * 0.5)
    diagonal = info.gaussian_kl(m1, np.diag(sd1**2), m2, np.diag(sd2**2))
    per_dim = sum(info.gaussian_kl([a], [[b**2]], [c], [[e**2]]) for a, b, c, e in zip(m1, sd1, m2, sd2))
    sigma = 0.7
    shared = info.gaussian_kl(m1, sigma**2 * np.eye(n), m2, sigma**2 * np.eye(n))
    return [
        Check("DC-37", "univariate closed form (20 pairs)", "closed form", "Gauss–Hermite quadrature, 10 nodes",
              float(np.max(np.abs(np.subtract(closed_1d, quad_1d)))), EXACT64),
        Check("DC-37", "multivariate closed form, n = 4", "closed form", "torch.distributions",
              abs(closed - torch_kl), AD64),
        Check("DC-37", "multivariate closed form, n = 4", "closed form", f"mean of {n_samples:.0e} log-ratios",
              float(z_scores(mc, closed, se)), MC_Z, "SE"),
        Check("DC-37", "diagonal covariances: sum of univariate KLs", "closed form, n = 4", "sum of 4 univariate",
              abs(diagonal - per_dim), EXACT64),
        Check("DC-37", "shared covariance σ²I: ‖μ₁ − μ₂‖² / (2σ²)", "general closed form", "‖Δμ‖²/(2σ²)",
              abs(shared - np.sum((m1 - m2) ** 2) / (2 * sigma**2)), EXACT64),
    ]


@register("DC-38", chapters=(10,))
def dc38_total_variation(seed: int = 38):
    """DC-38 (Chapter 10, §10.4): ``1/2 sum |p - q| = max_A (P(A) - Q(A))``, attained at ``A = {p > q}``, by brute
    force over all ``2^K`` events (eq. (eq-tv))."""
    rng = np.random.default_rng(seed)
    worst, worst_event, top = 0.0, 0.0, 0.0
    for k in range(2, 11):
        events = np.array(list(itertools.product((0.0, 1.0), repeat=k)))  # every subset A, as indicators
        for _ in range(30):
            p, q = random_categoricals(rng, 2, k)
            tv = info.total_variation(p, q)
            worst = max(worst, abs(tv - np.max(events @ (p - q))))
            worst_event = max(worst_event, abs(tv - np.sum((p - q)[p > q])))
            top = max(top, tv - 1.0)
    return [
        Check("DC-38", "½Σ|p − q| = max over events of P(A) − Q(A) (K ≤ 10)", "½Σ|p − q|", "all 2^K events",
              worst, EXACT64),
        Check("DC-38", "the maximum is attained at A = {p > q}", "½Σ|p − q|", "P({p>q}) − Q({p>q})", worst_event,
              EXACT64),
        Check("DC-38", "TV ≤ 1", "½Σ|p − q|", "1", top, -BOUND_SLACK, "violation"),
    ]


@register("DC-39", chapters=(10,))
def dc39_pinsker(seed: int = 39):
    """DC-39 (Chapter 10, §10.5): Pinsker's inequality ``TV <= sqrt(KL / 2)`` on random, near-equal and
    near-disjoint pairs; tight in the limit ``q -> p`` for two outcomes (eq. (eq-pinsker))."""
    rng = np.random.default_rng(seed)
    p, q = _pairs(rng)
    slack = np.sqrt(info.kl_divergence(p, q) / 2) - info.total_variation(p, q)
    eps = 1e-3  # Bernoulli(1/2 + eps) against Bernoulli(1/2): TV = eps, KL = 2 eps^2 + O(eps^4)
    two = np.array([[0.5 + eps, 0.5 - eps]]), np.array([[0.5, 0.5]])
    ratio = float(info.total_variation(*two)[0] / np.sqrt(info.kl_divergence(*two)[0] / 2))
    return [
        Check("DC-39", "TV ≤ √(KL/2) on 3,000 pairs", "½Σ|p − q|", "√(KL/2)", float(-slack.min()), -BOUND_SLACK,
              "violation"),
        # 1 - ratio = (2/3) eps^2 + O(eps^4) ~ 7e-7 at eps = 1e-3; 1e-5 rejects any constant other than 1/2
        Check("DC-39", "tight as q → p: TV / √(KL/2) → 1 (two outcomes, ε = 1e-3)", "TV / √(KL/2)", "1",
              abs(1 - ratio), 1e-5),
    ]


def north_west_coupling(p: np.ndarray, q: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A vertex of the set of couplings of ``p`` and ``q``: the north-west corner rule after ordering the outcomes
    of ``X`` by ``rows`` and those of ``Y`` by ``cols`` (Chapter 10, §10.4). Its marginals are exact."""
    C = np.zeros((p.size, q.size))
    left_p, left_q = p[rows].copy(), q[cols].copy()
    i = j = 0
    while i < p.size and j < q.size:
        mass = min(left_p[i], left_q[j])
        C[rows[i], cols[j]] += mass
        left_p[i] -= mass
        left_q[j] -= mass
        if left_p[i] <= left_q[j]:
            i += 1
        else:
            j += 1
    return C


def random_coupling(rng: np.random.Generator, p: np.ndarray, q: np.ndarray, vertices: int = 3) -> np.ndarray:
    """A random mixture of north-west-corner couplings of ``p`` and ``q`` (Chapter 10, §10.4)."""
    weights = rng.dirichlet(np.ones(vertices))
    return sum(w * north_west_coupling(p, q, rng.permutation(p.size), rng.permutation(q.size)) for w in weights)


@register("DC-40", chapters=(10, 12))
def dc40_maximal_coupling(seed: int = 40):
    """DC-40 (Chapter 10, §10.4): the maximal coupling has marginals ``p`` and ``q`` and ``Pr(X != Y) = TV``;
    every coupling has ``Pr(X != Y) >= TV`` ({prf:ref}`thm-maximal-coupling`)."""
    rng = np.random.default_rng(seed)
    marginal, mismatch, below, other_marginal = 0.0, 0.0, -np.inf, 0.0
    for _ in range(200):
        k = int(rng.integers(2, 8))
        p, q = random_categoricals(rng, 2, k)
        tv = info.total_variation(p, q)
        C = info.maximal_coupling(p, q)
        marginal = max(marginal, np.max(np.abs(C.sum(axis=1) - p)), np.max(np.abs(C.sum(axis=0) - q)),
                       -C.min())
        mismatch = max(mismatch, abs((1 - np.trace(C)) - tv))
        for _ in range(5):
            other = random_coupling(rng, p, q)
            other_marginal = max(other_marginal, np.max(np.abs(other.sum(axis=1) - p)),
                                 np.max(np.abs(other.sum(axis=0) - q)))
            below = max(below, tv - (1 - np.trace(other)))
    return [
        Check("DC-40", "maximal coupling: a joint with marginals p, q (200 pairs)", "row and column sums", "p, q",
              float(marginal), EXACT64),
        Check("DC-40", "maximal coupling: Pr(X ≠ Y) = TV", "1 − trace C", "½Σ|p − q|", float(mismatch), EXACT64),
        Check("DC-40", "random couplings (mixtures of north-west-corner vertices): marginals p, q",
              "row and column sums", "p, q", float(other_marginal), EXACT64),
        Check("DC-40", "any coupling: Pr(X ≠ Y) ≥ TV (1,000 random couplings)", "1 − trace C", "½Σ|p − q|",
              float(below), -BOUND_SLACK, "violation"),
    ]


def _neg_expected_hessian_categorical(logits: np.ndarray) -> np.ndarray:
    """``-E_{a ~ p}[Hessian of log p_a]`` in the logits, each Hessian by autograd."""
    t = torch.from_numpy(logits)
    p = torch.softmax(t, 0)
    return -sum(float(p[a]) * torch.autograd.functional.hessian(lambda z, a=a: torch.log_softmax(z, 0)[a], t).numpy()
                for a in range(len(logits)))


def _gaussian_fisher_by_quadrature(mu: float, log_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The Fisher information of ``N(mu, exp(log_sigma)^2)`` in ``(mu, log_sigma)``: the score covariance and minus
    the expected autograd Hessian of ``log p``, both by Gauss-Hermite quadrature (exact for these polynomials)."""
    nodes, weights = hermegauss(12)
    weights = weights / math.sqrt(2 * math.pi)
    theta = torch.tensor([mu, log_sigma], dtype=torch.float64)
    covariance, hessian = np.zeros((2, 2)), np.zeros((2, 2))
    for x, w in zip(mu + math.exp(log_sigma) * nodes, weights):
        def log_p(th, x=x):
            return -0.5 * ((x - th[0]) / th[1].exp()) ** 2 - th[1]

        score = torch.autograd.functional.jacobian(log_p, theta).numpy()
        covariance += w * np.outer(score, score)
        hessian -= w * torch.autograd.functional.hessian(log_p, theta).numpy()
    return covariance, hessian


def _mean_kl_torch(pi_old: torch.Tensor, d: torch.Tensor, reverse: bool = False):
    """``theta' -> sum_s d(s) KL(pi_old(.|s) || pi_theta'(.|s))`` (or the reverse direction) for tabular logits."""
    def kl(theta_new):
        log_new = torch.log_softmax(theta_new, -1)
        if reverse:
            return (d * (log_new.exp() * (log_new - pi_old.log())).sum(-1)).sum()
        return (d * (pi_old * (pi_old.log() - log_new)).sum(-1)).sum()
    return kl


@register("DC-41", chapters=(10,))
def dc41_fisher_identity(seed: int = 41):
    """DC-41 (Chapter 10, §10.7): ``E[score score^T] = -E[Hessian of log p]`` for a softmax categorical (exact sum),
    a Gaussian in ``(mu, log sigma)`` (quadrature) and a tabular softmax policy averaged over ``d^pi``
    (eqs. (eq-fisher), (eq-fisher-identity), (eq-policy-fisher))."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=5)
    p = softmax_policy(logits[None])[0]
    scores = np.eye(5) - p  # row a: e_a - p
    categorical = np.abs(scores.T @ (p[:, None] * scores) - _neg_expected_hessian_categorical(logits)).max()
    closed_categorical = np.abs(scores.T @ (p[:, None] * scores) - softmax_fisher(p)).max()
    mu, log_sigma = 0.3, -0.4
    covariance, neg_hessian = _gaussian_fisher_by_quadrature(mu, log_sigma)
    gaussian = np.abs(covariance - neg_hessian).max()
    closed_gaussian = np.abs(covariance - np.diag([math.exp(-2 * log_sigma), 2.0])).max()
    mdp = random_mdp(4, 3, gamma=0.9, seed=seed)
    theta = rng.normal(size=(4, 3))
    pi = softmax_policy(theta)
    d = exact.occupancy(mdp, pi)
    states, actions = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    step = step_scores(theta, states, actions).reshape(12, 12)  # the score of every (s, a), flattened
    weights = d[states] * pi[states, actions]
    score_covariance = step.T @ (weights[:, None] * step)
    t = torch.from_numpy(theta)
    neg_hessian_policy = np.zeros((12, 12))
    for s, a, w in zip(states, actions, weights):
        neg_hessian_policy -= w * torch.autograd.functional.hessian(
            lambda z, s=s, a=a: torch.log_softmax(z, -1)[s, a], t).numpy().reshape(12, 12)
    return [
        Check("DC-41", "softmax: E[score scoreᵀ] = −E[∇² log p]", "exact sum over 5 outcomes",
              "autograd Hessians", float(categorical), AD64),
        Check("DC-41", "softmax: E[score scoreᵀ] = diag(p) − ppᵀ", "exact sum over 5 outcomes", "closed form",
              float(closed_categorical), EXACT64),
        Check("DC-41", "Gaussian (μ, log σ): E[score scoreᵀ] = −E[∇² log p]", "quadrature of scores",
              "quadrature of autograd Hessians", float(gaussian), AD64),
        Check("DC-41", "Gaussian (μ, log σ): F = diag(1/σ², 2)", "quadrature of scores", "closed form",
              float(closed_gaussian), AD64),
        Check("DC-41", "policy Fisher over d^π: E[score scoreᵀ] = −E[∇² log π]", "scores of all (s, a)",
              "autograd Hessians", float(np.abs(score_covariance - neg_hessian_policy).max()), AD64),
        Check("DC-41", "policy Fisher over d^π: closed form", "scores of all (s, a)", "rlcore policy_fisher",
              float(np.abs(score_covariance - policy_fisher(mdp, theta)).max()), EXACT64),
    ]


class TinyGaussianPolicy(torch.nn.Module):
    """A 2-8-1 tanh network for the mean of a 1-D Gaussian policy with a learned, state-independent log std
    (Chapter 10, §10.8)."""

    def __init__(self, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.w1 = torch.nn.Parameter(torch.randn(8, 2, generator=generator, dtype=torch.float64) * 0.7)
        self.b1 = torch.nn.Parameter(torch.randn(8, generator=generator, dtype=torch.float64) * 0.1)
        self.w2 = torch.nn.Parameter(torch.randn(1, 8, generator=generator, dtype=torch.float64) * 0.5)
        self.log_std = torch.nn.Parameter(torch.tensor([-0.3], dtype=torch.float64))

    def forward(self, states: torch.Tensor, flat: torch.Tensor | None = None):
        """``(mean, log_std)`` for a batch of states; with ``flat`` the parameters are taken from that one vector
        instead (Chapter 10, §10.8)."""
        w1, b1, w2, log_std = self.w1, self.b1, self.w2, self.log_std
        if flat is not None:
            sizes = [w1.numel(), b1.numel(), w2.numel(), 1]
            w1, b1, w2, log_std = (piece.reshape(ref.shape) for piece, ref in
                                   zip(torch.split(flat, sizes), (w1, b1, w2, log_std)))
        return (torch.tanh(states @ w1.T + b1) @ w2.T).squeeze(-1), log_std.expand(states.shape[0])

    def flat(self) -> torch.Tensor:
        """The parameters as one detached vector, in the order :meth:`forward` reads them (Chapter 10, §10.8)."""
        return torch.cat([p.detach().reshape(-1) for p in self.parameters()])


def _gaussian_policy_fisher(policy: TinyGaussianPolicy, states: torch.Tensor, flat: torch.Tensor) -> np.ndarray:
    """``mean_s E_{a ~ pi(.|s)}[score score^T]`` by Gauss-Hermite quadrature over the action, scores by autograd."""
    nodes, weights = hermegauss(12)
    weights = weights / math.sqrt(2 * math.pi)
    mean, log_std = (x.detach() for x in policy(states, flat))
    fisher = np.zeros((flat.numel(), flat.numel()))
    for i in range(states.shape[0]):
        for z, w in zip(nodes, weights):
            action = mean[i] + log_std[i].exp() * z

            def log_prob(f, i=i, action=action):
                m, ls = policy(states[i:i + 1], f)
                return (-0.5 * ((action - m) / ls.exp()) ** 2 - ls).sum()

            score = torch.autograd.functional.jacobian(log_prob, flat).numpy()
            fisher += w * np.outer(score, score) / states.shape[0]
    return fisher


@register("DC-43", chapters=(10,))
def dc43_kl_hessian(seed: int = 43):
    """DC-43 (Chapter 10, §10.8): at ``theta' = theta`` the KL between ``pi_theta`` and ``pi_theta'`` (either
    direction) has zero gradient and Hessian ``F(theta)``, for a tabular softmax policy averaged over ``d^pi`` and
    for a small network's Gaussian policy ({prf:ref}`thm-kl-hessian`)."""
    rng = np.random.default_rng(seed)
    mdp = random_mdp(4, 3, gamma=0.9, seed=seed)
    theta = rng.normal(size=(4, 3))
    pi = softmax_policy(theta)
    d = torch.from_numpy(exact.occupancy(mdp, pi))
    t, pi_t = torch.from_numpy(theta), torch.from_numpy(pi)
    fisher = policy_fisher(mdp, theta)
    rows = []
    for reverse, name in ((False, "KL(π_θ‖π_θ′)"), (True, "KL(π_θ′‖π_θ)")):
        kl = _mean_kl_torch(pi_t, d, reverse)
        grad = torch.autograd.functional.jacobian(kl, t).numpy()
        hessian = torch.autograd.functional.hessian(kl, t).numpy().reshape(12, 12)
        rows += [Check("DC-43", f"tabular: ∇_θ′ {name} = 0 at θ′ = θ", "autograd gradient", "0",
                       float(np.abs(grad).max()), AD64),
                 Check("DC-43", f"tabular: ∇²_θ′ {name} = F at θ′ = θ", "autograd Hessian", "closed-form F",
                       float(np.abs(hessian - fisher).max()), AD64)]
    policy = TinyGaussianPolicy(seed)
    states = torch.from_numpy(rng.normal(size=(5, 2)))
    flat = policy.flat()
    old_mean, old_log_std = (x.detach() for x in policy(states, flat))

    def gaussian_kl(f):  # mean over states of KL(pi_old || pi_f), 1-D Gaussians in closed form
        mean, log_std = policy(states, f)
        return (log_std - old_log_std + ((2 * old_log_std).exp() + (old_mean - mean) ** 2)
                / (2 * (2 * log_std).exp()) - 0.5).mean()

    hessian = torch.autograd.functional.hessian(gaussian_kl, flat).numpy()
    grad = torch.autograd.functional.jacobian(gaussian_kl, flat).numpy()
    score_fisher = _gaussian_policy_fisher(policy, states, flat)
    rows += [Check("DC-43", "Gaussian MLP policy: ∇ KL = 0 at θ′ = θ", "autograd gradient", "0",
                   float(np.abs(grad).max()), AD64),
             Check("DC-43", f"Gaussian MLP policy ({flat.numel()} parameters): ∇² KL = E[score scoreᵀ]",
                   "autograd Hessian of the KL", "quadrature of score outer products",
                   float(np.abs(hessian - score_fisher).max()), AD64)]
    return rows


def kl_taylor_errors(mdp, theta, direction, sizes) -> tuple[np.ndarray, np.ndarray]:
    """``(KL(pi_theta || pi_{theta + eps u}), |KL - 1/2 eps^2 u^T F u|)`` for each step length ``eps`` in ``sizes``,
    the KL averaged over ``d^{pi_theta}`` (Chapter 10, §10.8, eq. (eq-kl-quadratic))."""
    theta = np.asarray(theta, float)
    u = np.asarray(direction, float) / np.linalg.norm(direction)
    pi = softmax_policy(theta)
    d = exact.occupancy(mdp, pi)
    quad_coef = 0.5 * u.ravel() @ policy_fisher(mdp, theta) @ u.ravel()
    kl = np.array([info.mean_kl(d, pi, softmax_policy(theta + eps * u)) for eps in sizes])
    return kl, np.abs(kl - quad_coef * np.asarray(sizes) ** 2)


@register("DC-44", chapters=(10, 11))
def dc44_kl_quadratic(seed: int = 44):
    """DC-44 (Chapter 10, §10.8): ``KL(pi_theta || pi_{theta + Delta}) = 1/2 Delta^T F Delta + O(|Delta|^3)``:
    the remainder's log-log slope is 3 (eq. (eq-kl-quadratic))."""
    rng = np.random.default_rng(seed)
    mdp = random_mdp(4, 3, gamma=0.9, seed=seed)
    theta, u = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    sizes = np.logspace(-4, -1, 13)
    kl, remainder = kl_taylor_errors(mdp, theta, u, sizes)
    slope = np.polyfit(np.log(sizes), np.log(remainder), 1)[0]
    return [
        # the fit mixes the eps^3 term with eps^4 corrections (~eps relative): 0.15 allows them at eps = 0.1, and
        # rejects slope 2 (a wrong quadratic term) and slope 4 (no cubic term)
        Check("DC-44", "remainder KL − ½ΔᵀFΔ is O(‖Δ‖³)", "log-log slope over ‖Δ‖ = 1e-4 … 1e-1", "3",
              abs(slope - 3.0), 0.15),
        # the relative error is ~ c ‖Δ‖ with c of order 1 for this MDP; 5% rejects a factor-2 slip in F
        Check("DC-44", "relative error of ½ΔᵀFΔ at ‖Δ‖ = 1e-2", "|KL − quad| / KL", "0",
              float(remainder[8] / kl[8]), 0.05),
    ]


@register("DC-47", chapters=(10,))
def dc47_discrete_entropy(seed: int = 47):
    """DC-47 (Chapter 10, §10.6): ``0 <= H <= log K``, the maximum at the uniform distribution, 0 for a point mass,
    invariance under relabelling, bits = nats / log 2 (eq. (eq-entropy))."""
    rng = np.random.default_rng(seed)
    worst_range, worst_perm, worst_bits, worst_torch = -np.inf, 0.0, 0.0, 0.0
    for k in range(2, 11):
        p = random_categoricals(rng, 300, k)
        H = info.entropy(p)
        worst_range = max(worst_range, -H.min(), np.max(H - np.log(k)))
        worst_perm = max(worst_perm, np.abs(info.entropy(p[:, rng.permutation(k)]) - H).max())
        worst_bits = max(worst_bits, np.abs(info.entropy(p, base=2) + np.sum(p * np.log2(p), axis=1)).max())
        torch_H = torch.distributions.Categorical(probs=torch.from_numpy(p)).entropy().numpy()
        worst_torch = max(worst_torch, np.abs(H - torch_H).max())
    extremes = max(abs(info.entropy(np.full(k, 1 / k)) - np.log(k)) for k in range(2, 11))
    point = info.entropy(np.eye(7)[3])
    return [
        Check("DC-47", "0 ≤ H ≤ log K (2,700 distributions)", "−Σ p log p", "[0, log K]", float(worst_range),
              -BOUND_SLACK, "violation"),
        Check("DC-47", "H(uniform) = log K; H(point mass) = 0", "−Σ p log p", "log K, 0",
              float(max(extremes, abs(point))), EXACT64),
        Check("DC-47", "H is unchanged by relabelling the outcomes", "H(p)", "H(p permuted)", float(worst_perm),
              EXACT64),
        Check("DC-47", "bits = nats / log 2", "entropy(p, base=2)", "−Σ p log₂ p", float(worst_bits), EXACT64),
        Check("DC-47", "formula", "rlcore.tabular.information", "torch.distributions", float(worst_torch), EXACT64),
    ]


@register("DC-48", chapters=(10, 17))
def dc48_differential_entropy(seed: int = 48, n_samples: int = 1_000_000):
    """DC-48 (Chapter 10, §10.6): ``h(N(mu, s^2)) = 1/2 log(2 pi e s^2)``, ``h(N(m, S)) = n/2 log(2 pi e) +
    1/2 log det S``, ``h(U(a, b)) = log(b - a)``, negative for narrow distributions (eq. (eq-gaussian-entropy))."""
    rng = np.random.default_rng(seed)
    rows = []
    for sigma in (0.1, 1.0, 3.0):
        x = rng.normal(0.5, sigma, size=n_samples)
        minus_log_p = 0.5 * ((x - 0.5) / sigma) ** 2 + math.log(sigma) + 0.5 * math.log(2 * math.pi)
        mc, se = mean_se(minus_log_p)
        rows.append(Check("DC-48", f"h(N(μ, σ²)) = ½ log(2πeσ²), σ = {sigma}", "closed form",
                          f"mean of −log p over {n_samples:.0e} samples",
                          float(z_scores(mc, info.gaussian_entropy([[sigma**2]]), se)), MC_Z, "SE"))
    L = rng.normal(size=(3, 3)) * 0.3 + 0.5 * np.eye(3)
    S = L @ L.T
    torch_h = float(torch.distributions.MultivariateNormal(torch.zeros(3, dtype=torch.float64),
                                                           torch.from_numpy(S)).entropy())
    a, b = 0.2, 0.45
    grid = np.linspace(a, b, 100_001)
    density = np.full_like(grid, 1 / (b - a))
    h_uniform = -np.trapezoid(density * np.log(density), grid)
    rows += [
        Check("DC-48", "h(N(m, Σ)) = (n/2) log(2πe) + ½ log det Σ, n = 3", "closed form", "torch.distributions",
              abs(info.gaussian_entropy(S) - torch_h), AD64),
        # the trapezoid rule is exact for a constant integrand, up to rounding of 1e5 terms
        Check("DC-48", "h(U(a, b)) = log(b − a)", "log(b − a)", "∫ −p log p, trapezoid rule",
              abs(math.log(b - a) - h_uniform), 1e-9),
        Check("DC-48", "negative for narrow distributions: h(N(0, 0.1²)) < 0 and h(U(0.2, 0.45)) < 0",
              "closed forms", "0", max(info.gaussian_entropy([[0.01]]), math.log(b - a)), 0.0, "violation"),
    ]
    return rows


# ----------------------------------------------------------------------------------------------- Appendix B

EULER_GAMMA = 0.5772156649015329


def digamma_half_integer(x: float) -> float:
    """``psi(x)`` for ``x`` a positive multiple of 1/2, from ``psi(1) = -gamma``, ``psi(1/2) = -gamma - 2 log 2`` and
    ``psi(x + 1) = psi(x) + 1/x`` (Appendix B, §B.2)."""
    if x <= 0 or abs(2 * x - round(2 * x)) > 1e-12:
        raise ValueError(f"x must be a positive multiple of 1/2, got {x!r}")
    value, start = (-EULER_GAMMA, 1.0) if abs(x - round(x)) < 1e-12 else (-EULER_GAMMA - 2 * math.log(2), 0.5)
    while start < x - 1e-12:
        value += 1 / start
        start += 1
    return value


def integrate(fn, breakpoints=(), lower: float = -math.inf, upper: float = math.inf, panels: int = 200) -> float:
    """``int fn(x) dx`` by composite Gauss-Legendre quadrature in ``u``, with ``x = sinh(u)`` on infinite ends, split
    at ``breakpoints`` where ``fn`` has a kink or a jump (Appendix B, §B.2). Accurate to ~1e-12 for the smooth,
    exponentially or polynomially decaying integrands of this appendix."""
    nodes, weights = np.polynomial.legendre.leggauss(20)
    edges = [lower, *sorted(breakpoints), upper]
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        ua = -12.0 if a == -math.inf else math.asinh(a)  # sinh(12) ~ 8e4: far beyond every tail used here
        ub = 12.0 if b == math.inf else math.asinh(b)
        grid = np.linspace(ua, ub, panels + 1)
        mid, half = (grid[1:] + grid[:-1]) / 2, (grid[1:] - grid[:-1]) / 2
        u = (mid[:, None] + half[:, None] * nodes[None, :]).ravel()
        w = (half[:, None] * weights[None, :]).ravel()
        total += float(np.sum(w * fn(np.sinh(u)) * np.cosh(u)))
    return total


def unit_variance_densities() -> dict:
    """Densities with mean 0 and variance 1, each with its log-density, its differential entropy in closed form
    and its kinks (Appendix B, §B.2): Laplace, uniform, logistic, Student-t with 5 degrees of freedom."""
    b = 1 / math.sqrt(2)  # Laplace scale: variance 2 b^2
    w = math.sqrt(12)  # uniform width: variance w^2 / 12
    s = math.sqrt(3) / math.pi  # logistic scale: variance s^2 pi^2 / 3
    nu = 5.0
    c = math.sqrt((nu - 2) / nu)  # Student-t scale: variance c^2 nu / (nu - 2)
    log_beta = math.lgamma(nu / 2) + math.lgamma(0.5) - math.lgamma((nu + 1) / 2)
    return {
        "Laplace": (lambda x: -np.abs(x) / b - math.log(2 * b), 1 + math.log(2 * b), (0.0,), None),
        "uniform": (lambda x: np.full_like(x, -math.log(w)), math.log(w), (), (-w / 2, w / 2)),
        "logistic": (lambda x: -np.abs(x) / s - 2 * np.log1p(np.exp(-np.abs(x) / s)) - math.log(s),
                     math.log(s) + 2, (), None),
        "Student-t (ν = 5)": (
            lambda x: -(nu + 1) / 2 * np.log1p((x / c) ** 2 / nu) - 0.5 * math.log(nu) - log_beta - math.log(c),
            (nu + 1) / 2 * (digamma_half_integer((nu + 1) / 2) - digamma_half_integer(nu / 2))
            + 0.5 * math.log(nu) + log_beta + math.log(c), (), None),
    }


@register("DC-49", chapters=("B",))
def dc49_gaussian_max_entropy():
    """DC-49 (Appendix B, §B.2): for a density ``f`` with variance 1, ``KL(f || g) = h(g) - h(f) >= 0`` with ``g`` the
    standard Gaussian, so the Gaussian has the largest differential entropy at a given variance
    (eq. (eq-max-entropy))."""
    h_gauss = 0.5 * math.log(2 * math.pi * math.e)
    rows = []
    for name, (log_f, h_f, kinks, support) in unit_variance_densities().items():
        lower, upper = support if support else (-math.inf, math.inf)

        def density(x, log_f=log_f):
            return np.exp(log_f(x))

        mass = integrate(density, kinks, lower, upper)
        variance = integrate(lambda x, d=density: x**2 * d(x), kinks, lower, upper)
        h_quad = integrate(lambda x, d=density, lf=log_f: -d(x) * lf(x), kinks, lower, upper)
        kl = integrate(lambda x, d=density, lf=log_f: d(x) * (lf(x) + 0.5 * x**2 + 0.5 * math.log(2 * math.pi)),
                       kinks, lower, upper)
        rows += [
            # quadrature of smooth pieces with 4,000 nodes each: error ~1e-13; 1e-8 as the syllabus sets
            Check("DC-49", f"{name}: unit mass and variance, h(f) in closed form", "quadrature",
                  "1, 1 and the closed form", max(abs(mass - 1), abs(variance - 1), abs(h_quad - h_f)), 1e-8),
            Check("DC-49", f"{name}: KL(f‖g) = h(g) − h(f)", "quadrature of f log(f/g)", "h(g) − h(f), closed forms",
                  abs(kl - (h_gauss - h_f)), 1e-8),
            Check("DC-49", f"{name}: h(f) < h(N(0, 1))", "h(f)", "½ log(2πe)", h_f - h_gauss, 0.0, "violation"),
        ]
    return rows


def transformed_entropy(mu: float, sigma: float, transform: str) -> float:
    """``h(T(X))`` for ``X ~ N(mu, sigma^2)``, by quadrature of ``-f_Y log f_Y`` with the density of ``Y = T(X)``,
    ``f_Y(y) = f_X(T^{-1}(y)) / |T'(T^{-1}(y))|`` (Appendix B, §B.3); ``transform`` is ``"-2x+1"`` or ``"tanh"``."""
    def log_f_x(x):
        return -0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)

    if transform == "-2x+1":
        def log_f_y(y):
            return log_f_x((1 - y) / 2) - math.log(2)
        lower, upper = -math.inf, math.inf
    elif transform == "tanh":
        def log_f_y(y):
            y = np.clip(y, -1 + 1e-16, 1 - 1e-16)
            return log_f_x(np.arctanh(y)) - np.log1p(-y**2)
        lower, upper = -1.0, 1.0
    else:
        raise ValueError(f"transform must be '-2x+1' or 'tanh', got {transform!r}")
    return integrate(lambda y: -np.exp(log_f_y(y)) * log_f_y(y), (), lower, upper, panels=400)


@register("DC-50", chapters=("B", 17))
def dc50_change_of_variables():
    """DC-50 (Appendix B, §B.3): ``h(T(X)) = h(X) + E log|T'(X)|`` for ``T(x) = -2x + 1`` (decreasing) and
    ``T = tanh``, against quadrature of the transformed density (eq. (eq-entropy-change-of-variables))."""
    mu, sigma = 0.3, 0.8
    h_x = 0.5 * math.log(2 * math.pi * math.e * sigma**2)
    nodes, weights = hermegauss(60)
    x = mu + sigma * nodes
    mean_log_jacobian = float(weights @ np.log1p(-np.tanh(x) ** 2) / math.sqrt(2 * math.pi))
    linear = transformed_entropy(mu, sigma, "-2x+1")
    squashed = transformed_entropy(mu, sigma, "tanh")
    return [
        Check("DC-50", "h(−2X + 1) = h(X) + log 2", "quadrature of −f_Y log f_Y", "h(X) + log|−2|",
              abs(linear - (h_x + math.log(2))), 1e-6),
        # the source's formula for decreasing T, -h(X) - E log(-T'), misses by 2 (h(X) + log 2) ~ 3.8 here
        Check("DC-50", "… not the source's −h(X) − log 2 (erratum E2.50)", "quadrature", "−h(X) − log 2",
              1.0 - abs(linear - (-h_x - math.log(2))), 0.0, "violation"),
        Check("DC-50", "h(tanh X) = h(X) + E log(1 − tanh² X)", "quadrature of −f_Y log f_Y on (−1, 1)",
              "h(X) + Gauss–Hermite mean", abs(squashed - (h_x + mean_log_jacobian)), 1e-6),
    ]


@register("DC-51", chapters=("B",))
def dc51_mutual_information(seed: int = 51):
    """DC-51 (Appendix B, §B.4): ``I(X; Y) = KL(P_XY || P_X P_Y) >= 0``, symmetric, zero for independent variables,
    and equal to ``H(X) - H(X | Y)`` on random joint tables (eq. (eq-mutual-information))."""
    rng = np.random.default_rng(seed)
    worst_sym = worst_h = worst_hy = 0.0
    smallest = np.inf
    worst_independent = 0.0
    for _ in range(300):
        nx, ny = int(rng.integers(2, 7)), int(rng.integers(2, 7))
        joint = rng.dirichlet(np.ones(nx * ny) * rng.uniform(0.2, 2)).reshape(nx, ny)
        mi = info.mutual_information(joint)
        smallest = min(smallest, mi)
        worst_sym = max(worst_sym, abs(mi - info.mutual_information(joint.T)))
        worst_h = max(worst_h, abs(mi - (info.entropy(joint.sum(axis=1)) - info.conditional_entropy(joint))))
        worst_hy = max(worst_hy, abs(mi - (info.entropy(joint.sum(axis=0)) - info.conditional_entropy(joint.T))))
        product = np.outer(rng.dirichlet(np.ones(nx)), rng.dirichlet(np.ones(ny)))
        worst_independent = max(worst_independent, abs(info.mutual_information(product)))
    return [
        Check("DC-51", "I(X; Y) ≥ 0 (300 random joint tables)", "KL(P_XY ‖ P_X P_Y)", "0", -smallest, -BOUND_SLACK,
              "violation"),
        Check("DC-51", "I(X; Y) = I(Y; X)", "KL of the table", "KL of its transpose", worst_sym, EXACT64),
        Check("DC-51", "I(X; Y) = H(X) − H(X | Y) = H(Y) − H(Y | X)", "KL(P_XY ‖ P_X P_Y)", "entropies",
              max(worst_h, worst_hy), EXACT64),
        Check("DC-51", "I(X; Y) = 0 for independent X, Y", "KL(P_X P_Y ‖ P_X P_Y)", "0", worst_independent, EXACT64),
    ]
