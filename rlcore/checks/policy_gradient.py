"""Derivation checks of syllabus §3.3, the policy gradient theorem (Chapter 6): DC-16 ... DC-19 and DC-25.

Every exact gradient is compared with ``torch.autograd`` of a closed form computed in float64 (torch is
imported inside the checks, so importing this module stays numpy-only).
"""

from __future__ import annotations

import itertools

import numpy as np

from ..envs.toytext import from_toytext
from ..fixtures import random_instances
from ..tabular.exact import advantages, occupancy
from ..tabular.mdp import FiniteMDP
from ..tabular.policy_gradient import (
    occupancy_policy_gradient,
    softmax_policy,
    softmax_policy_gradient,
    value_jacobian,
)
from .registry import MC_Z, Check, register

#: Agreement of two float64 routes to the same gradient: linear solves and autograd differ by rounding only.
AD64 = 1e-8


def _torch_J_and_V(mdp: FiniteMDP, theta: np.ndarray):
    import torch

    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    pi = torch.softmax(t, dim=1)
    P, r = torch.tensor(mdp.P), torch.tensor(mdp.r)
    P_pi = torch.einsum("sa,sat->st", pi, P)
    r_pi = (pi * r).sum(dim=1)
    V = torch.linalg.solve(torch.eye(mdp.n_states, dtype=torch.float64) - mdp.gamma * P_pi, r_pi)
    return t, V, torch.tensor(mdp.rho0) @ V


def _instances(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for mdp, _, _ in random_instances(count, seed):
        yield mdp, rng.normal(size=(mdp.n_states, mdp.n_actions))
    lake = from_toytext("FrozenLake-v1", gamma=0.95, is_slippery=True)
    yield lake, rng.normal(size=(lake.n_states, lake.n_actions))


@register("DC-16", chapters=(6,))
def dc16_dynamics_cancel(seed: int = 16, horizon: int = 3):
    """DC-16 (Chapter 6, §6.7): ``grad log p_theta(tau) = sum_t grad log pi_theta(a_t|s_t)``, on every trajectory."""
    import torch

    mdp = next(iter(random_instances(1, seed, states=(3, 3), actions=(2, 2))))[0]
    theta = np.random.default_rng(seed).normal(size=(3, 2))
    pi = softmax_policy(theta)
    worst = 0.0
    t = torch.tensor(theta, requires_grad=True)
    log_pi = torch.log_softmax(t, dim=1)
    for start in range(3):
        for steps in itertools.product(range(3), range(2), repeat=horizon):  # (s_1, a_0), (s_2, a_1), ...
            states = [start] + [steps[2 * k] for k in range(horizon)]
            actions = [steps[2 * k + 1] for k in range(horizon)]
            log_p = torch.log(torch.tensor(mdp.rho0[start]))
            for k in range(horizon):  # the full log-likelihood, dynamics included
                log_p = log_p + log_pi[states[k], actions[k]] + torch.log(torch.tensor(
                    mdp.P[states[k], actions[k], states[k + 1]]))
            (grad,) = torch.autograd.grad(log_p, t, retain_graph=True)
            scores = np.zeros_like(theta)
            for k in range(horizon):
                scores[states[k]] += np.eye(2)[actions[k]] - pi[states[k]]
            worst = max(worst, float(np.max(np.abs(grad.numpy() - scores))))
    return [Check("DC-16", "∇ log p_θ(τ) = Σ_t ∇ log π_θ(a_t|s_t)", f"autograd of the full log-likelihood, "
                  f"all {3 * 6**horizon} trajectories of length {horizon}", "sum of softmax scores", worst, AD64)]


@register("DC-17", chapters=(6,))
def dc17_policy_gradient_theorem(n_instances: int = 20, seed: int = 17):
    """DC-17 (Chapter 6, §6.7): ``grad J = E_{d, pi}[grad log pi Q] / (1 - gamma)``, also with ``A`` for ``Q``, and as
    ``sum_h gamma^h E_{P_h}[grad log pi Q]``; against autograd of the closed-form ``J``."""
    import torch

    worst_q = worst_a = worst_h = 0.0
    for mdp, theta in _instances(n_instances, seed):
        t, _, J = _torch_J_and_V(mdp, theta)
        (auto,) = torch.autograd.grad(J, t)
        auto = auto.numpy()
        worst_q = max(worst_q, float(np.max(np.abs(occupancy_policy_gradient(mdp, theta, use_advantage=False) - auto))))
        worst_a = max(worst_a, float(np.max(np.abs(occupancy_policy_gradient(mdp, theta) - auto))))
        pi = softmax_policy(theta)  # the time-indexed sum, h = 0 .. H with gamma^H < 1e-13
        d_unnormalised = occupancy(mdp, pi) / (1 - mdp.gamma)
        series, p_h = np.zeros(mdp.n_states), mdp.rho0.copy()
        h = 0
        while mdp.gamma**h > 1e-13:
            series += mdp.gamma**h * p_h
            p_h = p_h @ np.einsum("sa,sat->st", pi, mdp.P)
            h += 1
        worst_h = max(worst_h, float(np.max(np.abs(series - d_unnormalised))))
    return [
        Check("DC-17", "∇J = E_{d,π}[∇log π · Q]/(1−γ)", "occupancy form with Q", "autograd of ρ₀ᵀ(I−γP_π)⁻¹r_π",
              worst_q, AD64),
        Check("DC-17", "∇J = E_{d,π}[∇log π · A]/(1−γ)", "occupancy form with A", "autograd", worst_a, AD64),
        Check("DC-17", "Σ_h γ^h P_h = d^π/(1−γ)", "time-indexed sum to γ^H < 1e-13", "occupancy solve", worst_h, AD64),
    ]


@register("DC-18", chapters=(6,))
def dc18_softmax_closed_form(n_instances: int = 20, seed: int = 18):
    """DC-18 (Chapter 6, §6.7): ``dJ/dtheta[s, a] = d(s) pi(a|s) A(s, a) / (1 - gamma)``; its sign is that of ``A``."""
    import torch

    worst, sign_errors = 0.0, 0
    for mdp, theta in _instances(n_instances, seed):
        t, _, J = _torch_J_and_V(mdp, theta)
        (auto,) = torch.autograd.grad(J, t)
        auto = auto.numpy()
        worst = max(worst, float(np.max(np.abs(softmax_policy_gradient(mdp, theta) - auto))))
        A = advantages(mdp, softmax_policy(theta))
        significant = (np.abs(auto) > 1e-9) & (np.abs(A) > 1e-9)  # states the policy reaches, actions not tied
        sign_errors += int(np.sum(np.sign(auto[significant]) != np.sign(A[significant])))
    return [Check("DC-18", "∂J/∂θ_{s,a} = d(s)π(a|s)A(s,a)/(1−γ)", "closed form", "autograd", worst, AD64),
            Check("DC-18", "exact ascent raises π(a|s) iff A(s,a) > 0", "sign of autograd's gradient",
                  "sign of A (linear solve)", float(sign_errors), 0.0)]


@register("DC-19", chapters=(6,))
def dc19_recursive_unrolling(n_instances: int = 10, seed: int = 19):
    """DC-19 (Chapter 6, §6.7): ``grad V = (I - gamma P_pi)^{-1} Phi`` (unrolling) against autograd of ``V``."""
    import torch

    worst = 0.0
    for mdp, theta in _instances(n_instances, seed):
        t, V, _ = _torch_J_and_V(mdp, theta)
        auto = np.stack([torch.autograd.grad(V[s], t, retain_graph=True)[0].numpy() for s in range(mdp.n_states)])
        worst = max(worst, float(np.max(np.abs(value_jacobian(mdp, theta) - auto))))
    return [Check("DC-19", "∇V = (I−γP_π)⁻¹Φ, Φ(x) = Σ_a ∇π(a|x)Q(x,a)", "recursive unrolling", "autograd of V",
                  worst, AD64)]


@register("DC-25", chapters=(6,))
def dc25_gaussian_score_and_fisher(seed: int = 25, n_samples: int = 1_000_000):
    """DC-25 (Chapter 6, §6.7): the Gaussian score in ``(mu, log sigma)`` and its Fisher ``diag(1/sigma^2, 2)``."""
    import torch

    from ..estimators.score import gaussian_score

    rng = np.random.default_rng(seed)
    mu, sigma = 0.3, 0.7
    a = rng.normal(mu, sigma, size=50)
    params = torch.tensor([mu, np.log(sigma)], dtype=torch.float64, requires_grad=True)
    worst = 0.0
    for x in a:
        log_p = -0.5 * ((x - params[0]) / torch.exp(params[1])) ** 2 - params[1] - 0.5 * np.log(2 * np.pi)
        (grad,) = torch.autograd.grad(log_p, params)
        worst = max(worst, float(np.max(np.abs(grad.numpy() - gaussian_score(np.array([x]), mu, sigma)[0]))))
    scores = gaussian_score(rng.normal(mu, sigma, size=n_samples), mu, sigma)
    outer = scores[:, :, None] * scores[:, None, :]
    fisher, exact = outer.mean(axis=0), np.diag([1 / sigma**2, 2.0])
    se = outer.std(axis=0, ddof=1) / np.sqrt(n_samples)
    z = float(np.max(np.abs(fisher - exact) / se))
    return [Check("DC-25", "∇_(μ, log σ) log N = ((a−μ)/σ², (a−μ)²/σ² − 1)", "closed form", "autograd", worst, AD64),
            Check("DC-25", "F = E[score scoreᵀ] = diag(1/σ², 2)", f"mean of {n_samples:.0e} outer products",
                  "closed form", z, MC_Z, "SE")]
