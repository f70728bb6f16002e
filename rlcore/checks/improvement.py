"""Derivation checks of syllabus §3.8, policy improvement theory (Chapter 12): DC-59 ... DC-68.

Identities are computed by two routes (linear solves against enumeration, automatic differentiation or a closed
series); bounds are checked on at least 1,000 random MDPs and policy pairs, with slack ``>= -1e-10``
(:data:`~rlcore.checks.registry.BOUND_SLACK`). The pairs perturb the logits of a random policy at scales from 0.01
to 2, so that the bounds are met both where they are nearly tight and where they are loose.
"""

from __future__ import annotations

import numpy as np
import torch

from ..fixtures import random_instances
from ..tabular import exact
from ..tabular import improvement as imp
from ..tabular.enumeration import enumerate_trajectories
from ..tabular.information import kl_divergence, total_variation
from ..tabular.policy_gradient import softmax_policy, softmax_policy_gradient
from .information import AD64
from .registry import BOUND_SLACK, EXACT64, Check, register


def policy_pairs(count: int, seed: int):
    """``count`` random ``(mdp, pi, pi_new)``: ``pi_new`` perturbs ``pi``'s logits by Gaussian noise of a random scale
    in ``[0.01, 2]`` (log-uniform) (Chapter 12, §12.4)."""
    for mdp, pi, rng in random_instances(count, seed):
        scale = float(np.exp(rng.uniform(np.log(0.01), np.log(2.0))))
        pi = np.clip(pi, 1e-6, None)
        pi /= pi.sum(axis=1, keepdims=True)
        yield mdp, pi, softmax_policy(np.log(pi) + scale * rng.normal(size=pi.shape)), rng


@register("DC-59", chapters=(12,))
def dc59_performance_difference(count: int = 300, seed: int = 59):
    """DC-59 (Chapter 12, §12.1): ``J(pi') - J(pi) = 1/(1 - gamma) E_{d^{pi'}, pi'}[A^pi]``, and per start state
    ``V^{pi'} - V^pi = (I - gamma P_{pi'})^{-1} A_bar`` (eq. (eq-pdl))."""
    worst_j = worst_v = 0.0
    for mdp, pi, pi_new, _ in policy_pairs(count, seed):
        lhs = exact.expected_return(mdp, pi_new) - exact.expected_return(mdp, pi)
        worst_j = max(worst_j, abs(lhs - imp.performance_difference(mdp, pi, pi_new)))
        a_bar = imp.expected_advantage(mdp, pi, pi_new)
        recursion = np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * exact.policy_transition(mdp, pi_new), a_bar)
        worst_v = max(worst_v, float(np.max(np.abs(imp.values_difference(mdp, pi, pi_new) - recursion))))
    return [
        Check("DC-59", f"J(π′) − J(π) = E_{{d^π′,π′}}[A^π]/(1−γ) ({count:,} MDPs)", "two evaluations",
              "occupancy form", worst_j, EXACT64),
        Check("DC-59", "per start state: V^π′ − V^π = (I − γP_π′)⁻¹ Ā", "two evaluations", "the recursion",
              worst_v, EXACT64),
    ]


def _torch_J(mdp, theta: torch.Tensor) -> torch.Tensor:
    P, r, rho0 = (torch.tensor(x) for x in (mdp.P, mdp.r, mdp.rho0))
    pi = torch.softmax(theta, -1)
    V = torch.linalg.solve(torch.eye(mdp.n_states, dtype=P.dtype) - mdp.gamma * torch.einsum("sa,sat->st", pi, P),
                           (pi * r).sum(-1))
    return rho0 @ V


@register("DC-60", chapters=(12,))
def dc60_surrogate_first_order(seed: int = 60):
    """DC-60 (Chapter 12, §12.2): ``L(theta') = J(theta) + L_{pi_theta}(pi_theta')`` matches ``J`` in value and
    gradient at ``theta' = theta`` but not in its Hessian (eq. (eq-surrogate-first-order))."""
    mdp, pi, rng = next(random_instances(1, seed))
    theta = rng.normal(size=pi.shape)
    old = softmax_policy(theta)
    d = torch.from_numpy(exact.occupancy(mdp, old))
    A = torch.from_numpy(exact.advantages(mdp, old))
    J0 = exact.expected_return(mdp, old)

    def surrogate(t):
        return J0 + (d[:, None] * torch.softmax(t, -1) * A).sum() / (1 - mdp.gamma)

    t = torch.from_numpy(theta)
    grad_L = torch.autograd.functional.jacobian(surrogate, t).numpy()
    grad_J = torch.autograd.functional.jacobian(lambda z: _torch_J(mdp, z), t).numpy()
    hess_L = torch.autograd.functional.hessian(surrogate, t).numpy()
    hess_J = torch.autograd.functional.hessian(lambda z: _torch_J(mdp, z), t).numpy()
    return [
        Check("DC-60", "L(θ) = J(θ)", "surrogate at θ′ = θ", "J(θ)", abs(float(surrogate(t)) - J0), EXACT64),
        Check("DC-60", "∇L = ∇J at θ′ = θ", "autograd of the surrogate", "autograd of J",
              float(np.max(np.abs(grad_L - grad_J))), AD64),
        Check("DC-60", "… and the softmax-gradient closed form of Chapter 6", "autograd of the surrogate",
              "d π A / (1−γ)", float(np.max(np.abs(grad_L - softmax_policy_gradient(mdp, theta)))), AD64),
        Check("DC-60", "second derivatives differ (by more than 1e-3)", "Hessian of L", "Hessian of J",
              1e-3 - float(np.max(np.abs(hess_L - hess_J))), 0.0, "violation"),
    ]


@register("DC-61", chapters=(12,))
def dc61_cpi(count: int = 1000, seed: int = 61):
    """DC-61 (Chapter 12, §12.3): for the mixture ``pi_alpha``, ``|d^{pi_alpha} - d^pi|_1 <= 2 gamma alpha/(1-gamma)``
    and ``J(pi_alpha) >=`` eq. (eq-cpi-bound); ``alpha*`` of eq. (eq-cpi-alpha) gains at least
    ``A^2 / (8 gamma eps)`` when it is below 1."""
    worst_shift = worst_bound = worst_gain = -np.inf
    for i, (mdp, pi, pi_new, _) in enumerate(policy_pairs(count, seed)):
        g, S = mdp.gamma, mdp.n_states
        A, eps = imp.cpi_constants(mdp, pi, pi_new)
        alpha_star = min(1.0, (1 - g) * A / (4 * g * eps)) if A > 0 else 0.0  # eq. (eq-cpi-alpha)
        alphas = np.r_[np.linspace(0.0, 1.0, 11), alpha_star]
        mixed = (1 - alphas)[:, None, None] * pi + alphas[:, None, None] * pi_new  # every mixture at once
        system = np.eye(S) - g * np.einsum("ksa,sat->kst", mixed, mdp.P)
        J_mixed = np.linalg.solve(system, np.sum(mixed * mdp.r, axis=2)[..., None])[..., 0] @ mdp.rho0
        rhs = np.broadcast_to((1 - g) * mdp.rho0[:, None], (len(alphas), S, 1))
        d_mixed = np.linalg.solve(np.swapaxes(system, 1, 2), rhs)[..., 0]
        shift = np.abs(d_mixed - d_mixed[0]).sum(axis=1)
        worst_shift = max(worst_shift, float(np.max(shift - 2 * g * alphas / (1 - g))))
        bound = J_mixed[0] + alphas * A / (1 - g) - 2 * g * eps * alphas**2 / (1 - g) ** 2  # eq. (eq-cpi-bound)
        worst_bound = max(worst_bound, float(np.max(bound - J_mixed)))
        if i < 100:  # the library's functions agree with the formulas used above (checked on the first 100)
            worst_bound = max(worst_bound, abs(imp.cpi_lower_bound(mdp, pi, pi_new, 0.5) - bound[5]) - 1e-12,
                              abs(imp.cpi_step_size(mdp, pi, pi_new) - alpha_star) - 1e-12)
        if 0 < alpha_star < 1:
            worst_gain = max(worst_gain, A**2 / (8 * g * eps) - (J_mixed[-1] - J_mixed[0]))
    return [
        Check("DC-61", f"occupancy shift ≤ 2γα/(1−γ) ({count:,} MDPs × 11 α)", "‖d^π_α − d^π‖₁", "2γα/(1−γ)",
              float(worst_shift), -BOUND_SLACK, "violation"),
        Check("DC-61", "J(π_α) ≥ J(π) + αA/(1−γ) − 2γεα²/(1−γ)²", "CPI bound", "J(π_α), exact", float(worst_bound),
              -BOUND_SLACK, "violation"),
        Check("DC-61", "α* < 1 gains at least A²/(8γε)", "A²/(8γε)", "J(π_α*) − J(π)", float(worst_gain),
              -BOUND_SLACK, "violation"),
    ]


@register("DC-62", chapters=(12,))
def dc62_coupling_lemmas(count: int = 1000, seed: int = 62, rollouts: int = 20_000):
    """DC-62 (Chapter 12, §12.4): ``|A_bar(s)| <= 2 alpha max|A^pi|`` when ``max_s TV <= alpha``; maximally coupled
    rollouts agree for ``t`` steps with probability ``>= (1 - alpha)^t`` (exactly and by simulation); and
    ``sum_t gamma^t (1 - (1 - alpha)^t) = gamma alpha / ((1 - gamma)(1 - gamma (1 - alpha)))``, at most
    ``gamma alpha / (1 - gamma)^2``."""
    worst_abar = worst_agree = -np.inf
    for mdp, pi, pi_new, _ in policy_pairs(count, seed):
        alpha = float(np.max(total_variation(pi, pi_new)))
        A = exact.advantages(mdp, pi)
        worst_abar = max(worst_abar, np.max(np.abs(np.sum(pi_new * A, axis=1))) - 2 * alpha * np.max(np.abs(A)))
        agree = imp.agreement_probabilities(mdp, pi, pi_new, 20)
        worst_agree = max(worst_agree, np.max((1 - alpha) ** np.arange(20) - agree))
    mdp, pi, pi_new, rng = next(policy_pairs(1, seed + 1))
    alpha = float(np.max(total_variation(pi, pi_new)))
    exact_agree = imp.agreement_probabilities(mdp, pi, pi_new, 6)
    simulated = _simulate_agreement(mdp, pi, pi_new, rng, rollouts, 6)
    se = np.sqrt(exact_agree * (1 - exact_agree) / rollouts) + 1e-12
    series = []
    for gamma, a in ((0.9, 0.1), (0.99, 0.01), (0.5, 0.7)):
        t = np.arange(20_000)
        summed = np.sum(gamma**t * (1 - (1 - a) ** t))
        closed = gamma * a / ((1 - gamma) * (1 - gamma * (1 - a)))
        series.append((abs(summed - closed) / closed, closed - gamma * a / (1 - gamma) ** 2))
    return [
        Check("DC-62", f"|Ā(s)| ≤ 2α max|A^π| ({count:,} MDPs)", "max_s |Σ_a π′A^π|", "2α max|A^π|",
              float(worst_abar), -BOUND_SLACK, "violation"),
        Check("DC-62", "Pr(coupled rollouts agree for t steps) ≥ (1 − α)^t, t < 20", "ρ₀ᵀMᵗ1", "(1 − α)^t",
              float(worst_agree), -BOUND_SLACK, "violation"),
        Check("DC-62", f"… the exact agreement probabilities against {rollouts:,} coupled rollouts", "simulation",
              "ρ₀ᵀMᵗ1", float(np.max(np.abs(simulated - exact_agree) / se)), 4.0, "SE"),
        # 2e4 terms of a geometric series with ratio <= 0.99: the tail is below 1e-80
        Check("DC-62", "Σ_t γ^t(1 − (1 − α)^t) in closed form (three (γ, α))", "sum of 20,000 terms",
              "γα/((1−γ)(1−γ(1−α)))", float(max(s[0] for s in series)), EXACT64),
        Check("DC-62", "… ≤ γα/(1 − γ)²", "closed form", "γα/(1−γ)²", float(max(s[1] for s in series)),
              -BOUND_SLACK, "violation"),
    ]


def _simulate_agreement(mdp, pi, pi_new, rng, n: int, horizon: int) -> np.ndarray:
    """The fraction of ``n`` maximally coupled rollouts whose actions agreed at every step before ``t``."""
    S, A = pi.shape
    overlap = np.minimum(pi, pi_new)
    stay = overlap.sum(axis=1)  # Pr(the coupled actions agree | s) = 1 - TV
    s = rng.choice(S, size=n, p=mdp.rho0)
    alive = np.ones(n, bool)
    out = np.empty(horizon)
    for t in range(horizon):
        out[t] = alive.mean()
        agree = rng.random(n) < stay[s]
        alive &= agree
        # an agreeing pair takes the shared action from the overlap; after a disagreement we stop tracking
        probs = overlap[s] / np.where(stay[s] > 0, stay[s], 1.0)[:, None]
        cdf = probs.cumsum(axis=1)
        a = np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), A - 1)
        next_cdf = mdp.P[s, a].cumsum(axis=1)
        s = np.minimum((rng.random(n)[:, None] > next_cdf).sum(axis=1), S - 1)
    return out


@register("DC-63", chapters=(12,))
def dc63_trpo_bound(count: int = 1000, seed: int = 63):
    """DC-63 (Chapter 12, §12.4): ``J(pi') >= J(pi) + L_pi(pi') - 4 eps gamma/(1-gamma)^2 alpha^2`` with
    ``alpha = max_s TV``, and with ``max_s KL`` in place of ``alpha^2`` (eq. (eq-trpo-bound))."""
    worst_tv = worst_kl = -np.inf
    for mdp, pi, pi_new, _ in policy_pairs(count, seed):
        J_new = exact.expected_return(mdp, pi_new)
        worst_tv = max(worst_tv, imp.trpo_lower_bound(mdp, pi, pi_new, "tv") - J_new)
        worst_kl = max(worst_kl, imp.trpo_lower_bound(mdp, pi, pi_new, "kl") - J_new)
    return [
        Check("DC-63", f"J(π′) ≥ L − 4εγ/(1−γ)² · max TV² ({count:,} MDPs)", "the bound", "J(π′), exact",
              float(worst_tv), -BOUND_SLACK, "violation"),
        Check("DC-63", "J(π′) ≥ L − 4εγ/(1−γ)² · max KL", "the bound", "J(π′), exact", float(worst_kl),
              -BOUND_SLACK, "violation"),
    ]


@register("DC-64", chapters=(12,))
def dc64_achiam_bound(count: int = 1000, seed: int = 64):
    """DC-64 (Chapter 12, §12.4): ``|J(pi') - J(pi) - L_pi(pi')|`` is at most ``2 gamma eps/(1-gamma)^2 E_{d^pi}[TV]``
    and at most ``sqrt(2) gamma eps/(1-gamma)^2 sqrt(E_{d^pi} KL(pi' || pi))`` (eq. (eq-achiam-bound))."""
    worst_tv = worst_kl = -np.inf
    for mdp, pi, pi_new, _ in policy_pairs(count, seed):
        error = abs(imp.performance_difference(mdp, pi, pi_new) - imp.surrogate_advantage(mdp, pi, pi_new))
        tv_bound, kl_bound = imp.achiam_error_bounds(mdp, pi, pi_new)
        worst_tv, worst_kl = max(worst_tv, error - tv_bound), max(worst_kl, error - kl_bound)
    return [
        Check("DC-64", f"|J(π′) − J(π) − L| ≤ 2γε/(1−γ)² E[TV] ({count:,} MDPs)", "the error", "the bound",
              float(worst_tv), -BOUND_SLACK, "violation"),
        Check("DC-64", "|J(π′) − J(π) − L| ≤ √2γε/(1−γ)² √E[KL(π′‖π)]", "the error", "the bound",
              float(worst_kl), -BOUND_SLACK, "violation"),
    ]


@register("DC-65", chapters=(12,))
def dc65_state_drift(count: int = 1000, seed: int = 65, horizon: int = 30):
    """DC-65 (Chapter 12, §12.4): ``|p'(s_t) - p(s_t)|_1 <= 2 (1 - (1 - eps)^t) <= 2 eps t`` with ``eps = max_s TV``,
    the state marginals computed exactly by matrix powers (eq. (eq-drift))."""
    worst_first = worst_second = -np.inf
    t = np.arange(horizon)
    for mdp, pi, pi_new, _ in policy_pairs(count, seed):
        eps = float(np.max(total_variation(pi, pi_new)))
        drift = np.abs(imp.state_marginals(mdp, pi_new, horizon) - imp.state_marginals(mdp, pi, horizon)).sum(axis=1)
        worst_first = max(worst_first, np.max(drift - 2 * (1 - (1 - eps) ** t)))
        worst_second = max(worst_second, np.max(2 * (1 - (1 - eps) ** t) - 2 * eps * t))
    return [
        Check("DC-65", f"‖p′(s_t) − p(s_t)‖₁ ≤ 2(1 − (1 − ε)^t), t < {horizon} ({count:,} MDPs)", "matrix powers",
              "2(1 − (1 − ε)^t)", float(worst_first), -BOUND_SLACK, "violation"),
        Check("DC-65", "2(1 − (1 − ε)^t) ≤ 2εt", "left", "right", float(worst_second), -BOUND_SLACK, "violation"),
    ]


@register("DC-66", chapters=(12,))
def dc66_monotonic_improvement(count: int = 20, seed: int = 66):
    """DC-66 (Chapter 12, §12.5): minorise-maximise with the KL penalty of DC-63 improves ``J`` at every step, by at
    least the gain of the minorizer (eq. (eq-mm))."""
    worst_monotone = worst_gain = -np.inf
    for mdp, pi, _ in random_instances(count, seed, gammas=(0.5, 0.9)):
        theta0 = np.log(np.clip(pi, 1e-6, None))
        A = exact.advantages(mdp, pi)
        penalty = 4 * np.max(np.abs(A)) * mdp.gamma / (1 - mdp.gamma) ** 2 * 2  # twice the bound's constant
        history = imp.minorize_maximize(mdp, theta0, penalty, iterations=8, inner_steps=50)
        steps = np.diff(history["J"])
        ok = np.array(history["penalty_ok"])  # the guarantee needs the penalty to cover the current constant
        worst_monotone = max(worst_monotone, float(np.max(-steps[ok]))) if ok.any() else worst_monotone
        worst_gain = max(worst_gain, float(np.max((np.array(history["M_gain"]) - steps)[ok]))) if ok.any() \
            else worst_gain
    return [
        Check("DC-66", f"J(π_k+1) ≥ J(π_k) ({count} MDPs × 8 steps)", "J after", "J before", float(worst_monotone),
              -BOUND_SLACK, "violation"),
        Check("DC-66", "J(π_k+1) − J(π_k) ≥ M_k(π_k+1) − M_k(π_k)", "the minorizer's gain", "the true gain",
              float(worst_gain), -BOUND_SLACK, "violation"),
    ]


@register("DC-67", chapters=(12,))
def dc67_q_versus_a(count: int = 200, seed: int = 67):
    """DC-67 (Chapter 12, §12.2): ``E_{a ~ pi}[(pi'/pi) Q^pi] - E_{a ~ pi}[(pi'/pi) A^pi] = V^pi(s)`` for every
    ``pi'`` (eq. (eq-q-versus-a))."""
    worst = 0.0
    for mdp, pi, pi_new, _ in policy_pairs(count, seed):
        Q, V = exact.action_values(mdp, pi), exact.evaluate_policy(mdp, pi)
        ratio = pi_new / pi
        gap = np.sum(pi * ratio * Q, axis=1) - np.sum(pi * ratio * (Q - V[:, None]), axis=1)
        worst = max(worst, float(np.max(np.abs(gap - V))))
    return [Check("DC-67", f"the Q and A surrogates differ by V^π(s) ({count} MDPs)", "E_π[(π′/π)(Q − A)]", "V^π(s)",
                  worst, EXACT64)]


@register("DC-68", chapters=(12,))
def dc68_trajectory_kl(seed: int = 68, horizon: int = 4):
    """DC-68 (Chapter 12, §12.4):
    ``KL(p_old(tau) || p_new(tau)) = sum_{h<H} E_{s_h}[KL(pi_old(.|s_h) || pi_new(.|s_h))]`` by enumerating every
    trajectory; the discounted sum of per-step KLs is ``E_{d^old}[KL]/(1 - gamma)``, not the undiscounted one
    (erratum E4.2) (eq. (eq-trajectory-kl))."""
    mdp, old, new, _ = next(policy_pairs(1, seed))
    trajs = enumerate_trajectories(mdp, old, horizon)
    s, a = trajs.states, trajs.actions
    log_ratio = np.sum(np.log(old[s, a]) - np.log(new[s, a]), axis=1)  # the dynamics cancel
    trajectory_kl = float(trajs.prob @ log_ratio)
    per_state = kl_divergence(old, new)
    marginals = imp.state_marginals(mdp, old, 2000)
    stepwise = float(np.sum(marginals[:horizon] @ per_state))
    discounted = float(np.sum((mdp.gamma ** np.arange(2000))[:, None] * marginals @ per_state))
    occupancy_form = float(exact.occupancy(mdp, old) @ per_state / (1 - mdp.gamma))
    undiscounted_long = float(np.sum(marginals @ per_state))
    return [
        Check("DC-68", f"trajectory KL = Σ_h E[KL(π_old‖π_new)(s_h)], H = {horizon}", "enumerated trajectories",
              "state marginals", abs(trajectory_kl - stepwise), EXACT64),
        # 2000 terms with gamma <= 0.99: the tail is below 0.99^2000 ~ 2e-9 of the first term
        Check("DC-68", "Σ_h γ^h E[KL(s_h)] = E_{d^old}[KL]/(1−γ)", "sum over 2,000 steps", "occupancy form",
              abs(discounted - occupancy_form), 1e-8),
        Check("DC-68", "… but the undiscounted sum is not (erratum E4.2)", "Σ_h E[KL(s_h)], 2,000 steps",
              "E_{d^old}[KL]/(1−γ)", 0.1 - abs(undiscounted_long - occupancy_form) / occupancy_form, 0.0,
              "violation"),
    ]
