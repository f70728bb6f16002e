"""Checkers for the exercises of Chapter 10 (distances between policies: KL, TV, entropy, the Fisher metric).

The KLs are compared with ``torch.distributions`` (a route that shares no code with rlcore) to a relative 1e-9:
float64 rounding of sums over a few dozen outcomes is below 1e-13, and the conceptual errors the tests know (the
direction, the factor 1/2 of erratum E4.1, std for log std, no normalisation) move the answer by more than 1e-2.
The Fisher matrix is compared with rlcore's closed form and, on small MDPs, with the autograd Hessian of the mean
KL at ``theta' = theta``. A maximal coupling is not unique, so it is judged by its properties: a joint
distribution with marginals ``p`` and ``q`` whose mass off the diagonal is ``TV(p, q)``.
"""

from __future__ import annotations

import numpy as np

from ..envs.toytext import from_toytext
from ..tabular import exact
from ..tabular import information as info
from ..tabular import policy_gradient as pg
from ..tabular.builders import random_mdp, two_state_mdp
from ..tabular.mdp import FiniteMDP
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import MULTIPLE, Question, make_quiz

RTOL = 1e-9


def _close(got, expected, name: str) -> str | None:
    scale = max(1.0, float(np.max(np.abs(expected)))) if np.size(expected) else 1.0
    return array_problem(got, expected, RTOL * scale, name)


def _torch_categorical_kl(p_logits, q_logits) -> np.ndarray:
    import torch

    def dist(logits):
        return torch.distributions.Categorical(logits=torch.as_tensor(np.asarray(logits, float)))

    return torch.distributions.kl_divergence(dist(p_logits), dist(q_logits)).numpy()


def categorical_kl(p_logits, q_logits):
    """Exercise 10.1's signature: ``KL(softmax(p_logits) || softmax(q_logits))`` per row, by rlcore's
    :class:`rlcore.distributions.Categorical` (Chapter 10, §10.3)."""
    import torch

    from ..distributions import Categorical

    out = Categorical.kl(torch.as_tensor(np.asarray(p_logits, float)), torch.as_tensor(np.asarray(q_logits, float)))
    return out.numpy()


def check_categorical_kl(fn, seed: int = 101) -> CheckResult:
    """Exercise 10.1 (Chapter 10, §10.3): ``categorical_kl(p_logits, q_logits)``, eq. (eq-kl) for softmax
    distributions given by their logits, one KL per row (the last axis holds the outcomes)."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("equal logits", dict(p_logits=np.array([0.3, -1.0, 2.0]), q_logits=np.array([0.3, -1.0, 2.0])),
             "KL(p || p) = 0."),
        Case("logits shifted by a constant", dict(p_logits=np.array([5.3, 4.0, 7.0]),
                                                  q_logits=np.array([0.3, -1.0, 2.0])),
             "softmax(z + c) = softmax(z): the two distributions are equal, so the KL is 0. Logits are not "
             "log-probabilities until you subtract their log-sum-exp."),
        Case("two outcomes", dict(p_logits=np.array([0.0, np.log(3.0)]), q_logits=np.array([0.0, 0.0])),
             "p = (1/4, 3/4), q = (1/2, 1/2): KL = 1/4 log(1/2) + 3/4 log(3/2), weighted by p, not by q."),
        Case("large logits", dict(p_logits=np.array([1000.0, 0.0]), q_logits=np.array([0.0, 1000.0])),
             "exp(1000) overflows: work with log-softmax (subtract the row maximum, then the log-sum-exp). The "
             "answer is about 1000."),
        Case("a batch of rows", dict(p_logits=np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0], [3.0, 0.0, 0.0]]),
                                     q_logits=np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0], [3.0, 0.0, 0.0]])),
             "one KL per row: sum over the last axis only; the result has shape (3,)."),
    ]
    for i in range(3):
        shape = (int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(2, 8)))[i % 3:]
        cases.append(Case(f"random logits, shape {shape}", dict(p_logits=rng.normal(size=shape) * 2,
                                                                q_logits=rng.normal(size=shape) * 2)))
    return run_exercise("Exercise 10.1 (categorical_kl)", fn, cases, _torch_categorical_kl,
                        lambda got, case: _close(got, case.expected, "the KL"),
                        "rlcore.distributions.Categorical.kl", fallback_fn=categorical_kl)


def _torch_diag_gaussian_kl(mu1, log_std1, mu2, log_std2) -> np.ndarray:
    import torch

    def dist(mu, log_std):
        return torch.distributions.Normal(torch.as_tensor(np.asarray(mu, float)),
                                          torch.as_tensor(np.asarray(log_std, float)).exp())

    return torch.distributions.kl_divergence(dist(mu1, log_std1), dist(mu2, log_std2)).sum(-1).numpy()


def diag_gaussian_kl(mu1, log_std1, mu2, log_std2):
    """Exercise 10.2's signature: ``KL(N(mu1, diag(e^{2 log_std1})) || N(mu2, diag(e^{2 log_std2})))`` summed over
    the last axis, by rlcore's :class:`rlcore.distributions.DiagGaussian` (Chapter 10, §10.3)."""
    import torch

    from ..distributions import DiagGaussian

    args = (torch.as_tensor(np.asarray(x, float)) for x in (mu1, log_std1, mu2, log_std2))
    return DiagGaussian.kl(*args).numpy()


def check_diag_gaussian_kl(fn, seed: int = 102) -> CheckResult:
    """Exercise 10.2 (Chapter 10, §10.3): ``diag_gaussian_kl(mu1, log_std1, mu2, log_std2)``, eq.
    (eq-gaussian-kl-1d) summed over the action dimensions (the last axis)."""
    rng = np.random.default_rng(seed)
    zero, one = np.zeros(1), np.ones(1)
    cases = [
        Case("equal Gaussians", dict(mu1=np.array([0.5, -1.0]), log_std1=np.array([0.2, -0.3]),
                                     mu2=np.array([0.5, -1.0]), log_std2=np.array([0.2, -0.3])), "KL(p || p) = 0."),
        Case("means 2 apart, unit variance", dict(mu1=zero, log_std1=zero, mu2=2 * one, log_std2=zero),
             "with equal variances the KL is (mu1 - mu2)^2 / (2 sigma^2) = 4/2 = 2: mind the 1/2 (erratum E4.1)."),
        Case("standard deviations 1 and e", dict(mu1=zero, log_std1=zero, mu2=zero, log_std2=one),
             "log_std is the log of the standard deviation: sigma2 = e, sigma2^2 = e^2. KL = log(s2/s1) + s1^2 / "
             "(2 s2^2) - 1/2."),
        Case("the direction matters", dict(mu1=zero, log_std1=one, mu2=zero, log_std2=zero),
             "KL(p || q) averages log(p/q) under p = N(mu1, s1^2): swapping the two gives a different number here."),
        Case("three dimensions", dict(mu1=np.array([0.0, 1.0, -1.0]), log_std1=np.array([0.0, 0.5, -0.5]),
                                      mu2=np.array([1.0, 1.0, 0.0]), log_std2=np.array([0.0, -0.5, 0.5])),
             "independent dimensions: the KL is the sum of the three univariate KLs (a scalar)."),
        Case("a batch of states", dict(mu1=np.zeros((3, 2)), log_std1=np.zeros((3, 2)),
                                       mu2=np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]), log_std2=np.zeros((3, 2))),
             "rows are states, columns are action dimensions: sum over the last axis only; shape (3,)."),
    ]
    for i in range(3):
        shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)))[i % 2:]
        cases.append(Case(f"random Gaussians, shape {shape}", dict(
            mu1=rng.normal(size=shape), log_std1=rng.normal(size=shape) * 0.5,
            mu2=rng.normal(size=shape), log_std2=rng.normal(size=shape) * 0.5)))
    return run_exercise("Exercise 10.2 (diag_gaussian_kl)", fn, cases, _torch_diag_gaussian_kl,
                        lambda got, case: _close(got, case.expected, "the KL"),
                        "rlcore.distributions.DiagGaussian.kl", fallback_fn=diag_gaussian_kl)


def policy_fisher(P, rho0, theta, gamma):
    """Exercise 10.4's signature for :func:`rlcore.tabular.policy_gradient.policy_fisher` (Chapter 10, §10.7)."""
    P = np.asarray(P, float)
    mdp = FiniteMDP(P, np.zeros(P.shape[:2]), np.asarray(rho0, float), gamma)
    return pg.policy_fisher(mdp, theta)


def kl_hessian(P, rho0, theta, gamma) -> np.ndarray:
    """The autograd Hessian of ``theta' -> sum_s d^pi(s) KL(pi_theta(.|s) || pi_theta'(.|s))`` at ``theta' = theta``
    (Chapter 10, §10.8): a route to the Fisher matrix that uses neither scores nor its closed form."""
    import torch

    P = np.asarray(P, float)
    theta = np.asarray(theta, float)
    mdp = FiniteMDP(P, np.zeros(P.shape[:2]), np.asarray(rho0, float), gamma)
    pi = pg.softmax_policy(theta)
    d, old = torch.from_numpy(exact.occupancy(mdp, pi)), torch.from_numpy(pi)

    def mean_kl(t):
        return (d * (old * (old.log() - torch.log_softmax(t, -1))).sum(-1)).sum()

    return torch.autograd.functional.hessian(mean_kl, torch.from_numpy(theta)).numpy().reshape(theta.size, -1)


def check_policy_fisher(fn, seed: int = 103) -> CheckResult:
    """Exercise 10.4 (Chapter 10, §10.7): ``policy_fisher(P, rho0, theta, gamma)``, the state-averaged Fisher
    information of a tabular softmax policy, eq. (eq-policy-fisher), indexed ``s * A + a``."""
    rng = np.random.default_rng(seed)
    lake = from_toytext("FrozenLake-v1", gamma=0.95, is_slippery=True)
    mdps = [("two-state MDP", two_state_mdp(0.9),
             "F = sum_s d(s) sum_a pi(a|s) score score^T, with d the normalised discounted occupancy of pi_theta."),
            ("gamma = 0", random_mdp(3, 2, gamma=0.0, seed=seed),
             "with gamma = 0, d = rho0: the first state is all there is."),
            ("three actions", random_mdp(3, 3, gamma=0.8, seed=seed + 1),
             "block s is d(s) (diag(pi(.|s)) - pi(.|s) pi(.|s)^T); the score of (s, a) is e_a - pi(.|s) in row s."),
            ("FrozenLake 4x4", lake, "")]
    mdps += [(f"random MDP #{i + 1}", random_mdp(int(rng.integers(2, 6)), int(rng.integers(2, 4)),
                                                 gamma=float(rng.uniform(0.5, 0.95)), seed=seed + 10 + i), "")
             for i in range(3)]
    cases = [Case(label, dict(P=m.P, rho0=m.rho0, theta=rng.normal(size=(m.n_states, m.n_actions)), gamma=m.gamma),
                  hint or "index s * A + a, the order of theta.ravel().") for label, m, hint in mdps]

    def compare(got, case):
        problem = _close(got, case.expected, "F")
        if problem is None and case.kwargs["P"].shape[0] <= 6:  # property: the Hessian of the mean KL
            hessian = kl_hessian(**case.kwargs)
            if np.max(np.abs(np.asarray(got, float) - hessian)) > 1e-9:  # autograd in float64: ~1e-15
                problem = "F disagrees with the Hessian of the mean KL at theta' = theta"
        return problem

    return run_exercise("Exercise 10.4 (policy_fisher)", fn, cases, policy_fisher, compare,
                        "rlcore.tabular.policy_gradient.policy_fisher")


def maximal_coupling(p, q):
    """Exercise 10.3's signature for :func:`rlcore.tabular.information.maximal_coupling` (Chapter 10, §10.4)."""
    return info.maximal_coupling(p, q)


def check_maximal_coupling(fn, seed: int = 104) -> CheckResult:
    """Exercise 10.3 (Chapter 10, §10.4): ``maximal_coupling(p, q)``, a ``(K, K)`` joint distribution ``C[x, y]``
    with row sums ``p``, column sums ``q`` and ``Pr(X != Y) = TV(p, q)`` ({prf:ref}`thm-maximal-coupling`)."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("equal distributions", dict(p=np.array([0.2, 0.3, 0.5]), q=np.array([0.2, 0.3, 0.5])),
             "TV = 0: all the mass goes on the diagonal, C = diag(p)."),
        Case("disjoint supports", dict(p=np.array([0.5, 0.5, 0.0, 0.0]), q=np.array([0.0, 0.0, 0.25, 0.75])),
             "TV = 1: X and Y can never agree, and every entry of C must still be >= 0 with the right marginals."),
        Case("overlapping", dict(p=np.array([0.5, 0.5, 0.0]), q=np.array([0.0, 0.5, 0.5])),
             "put min(p, q) on the diagonal first; the rest of p (row 0) must meet the rest of q (column 2)."),
        Case("two outcomes", dict(p=np.array([0.9, 0.1]), q=np.array([0.6, 0.4])),
             "rows are X ~ p, columns are Y ~ q: C.sum(axis=1) = p and C.sum(axis=0) = q."),
    ]
    for _ in range(4):
        k = int(rng.integers(2, 9))
        p, q = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k) * 0.5)
        cases.append(Case(f"random pair, K = {k}", dict(p=p, q=q)))

    def compare(got, case):
        p, q = case.kwargs["p"], case.kwargs["q"]
        try:
            C = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return f"the coupling must be a numeric (K, K) array, got {type(got).__name__}"
        if C.shape != (p.size, q.size):
            return f"the coupling has shape {C.shape}, expected ({p.size}, {q.size}): C[x, y] = Pr(X = x, Y = y)"
        if not np.all(np.isfinite(C)):
            return "the coupling contains NaN or inf"
        if C.min() < -1e-12:
            return f"the coupling has a negative entry {C.min():.3g}: it must be a joint distribution"
        rows, cols = C.sum(axis=1), C.sum(axis=0)
        if np.max(np.abs(rows - p)) > 1e-9:  # sums of K <= 8 numbers: rounding ~1e-16
            return f"the row sums are {np.round(rows, 6)}, expected p = {np.round(p, 6)} (X ~ p)"
        if np.max(np.abs(cols - q)) > 1e-9:
            return f"the column sums are {np.round(cols, 6)}, expected q = {np.round(q, 6)} (Y ~ q)"
        off = 1.0 - np.trace(C)
        tv = info.total_variation(p, q)
        if abs(off - tv) > 1e-9:
            return (f"Pr(X != Y) = 1 - trace(C) = {off:.6g}, but TV(p, q) = {tv:.6g}: a valid coupling, not a "
                    "maximal one")
        return None

    return run_exercise("Exercise 10.3 (maximal_coupling)", fn, cases, info.maximal_coupling, compare,
                        "rlcore.tabular.information.maximal_coupling", fallback_fn=maximal_coupling)


QUESTIONS = {q.id: q for q in [
    Question(
        "10.1", "Let p and q be distributions over finitely many outcomes. Which statements are true? Select all that "
        "apply.", MULTIPLE, frozenset("ad"),
        "(a) is Gibbs' inequality. (b) is false: KL is not symmetric (two Bernoullis show it), which is why the book "
        "fixes the direction KL(π_old‖π_new). (c) is false: Pinsker bounds TV by √(KL/2), not the other way round; KL "
        "can be infinite while TV ≤ 1. (d) is true: a discrete entropy is at most log K, attained by the uniform "
        "distribution. Differential entropies, unlike (d)'s, can be negative.",
        choices=("KL(p‖q) ≥ 0, with equality only when p = q",
                 "KL(p‖q) = KL(q‖p)",
                 "KL(p‖q) ≤ √(TV(p, q)/2)",
                 "over K outcomes, the entropy of p is at most log K, with equality for the uniform distribution"),
        hints={"a": "one more is true: what is the largest entropy over K outcomes?",
               "abd": "(b): compute KL between Bernoulli(0.5) and Bernoulli(0.9) both ways.",
               "acd": "(c) has the inequality backwards: which of TV and KL can be infinite?"}),
]}

#: ``quiz("10.1")`` shows question 10.1 (Chapter 10, §10.6).
quiz = make_quiz(QUESTIONS)
