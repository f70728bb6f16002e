"""Derivation checks of syllabus §3.1, MDPs, values and occupancy (Chapters 1 and 2): DC-01 ... DC-07.

Each identity is computed as both of its sides, by independent routes (see :mod:`.registry` for
the tolerances).
"""

from __future__ import annotations

import numpy as np

from ..estimators.stats import mean_se, z_scores
from ..fixtures import mdp_and_policy, random_instances
from ..tabular.builders import random_mdp
from ..tabular.dp import brute_force_optimum, greedy, policy_iteration, value_iteration
from ..tabular.exact import (
    advantages,
    bellman_expectation,
    bellman_optimality,
    bellman_optimality_q,
    evaluate_policy,
    occupancy,
    policy_reward,
    policy_transition,
    q_from_v,
)
from ..tabular.mdp import FiniteMDP, random_policy
from ..tabular.montecarlo import sample_returns
from .registry import BOUND_SLACK, EXACT64, MC_Z, Check, register


def _q_by_sa_solve(mdp: FiniteMDP, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Q = (I - gamma P Pi)^{-1} r`` in state-action space, with ``P`` as (SA x S) and ``Pi`` as (S x SA)."""
    S, A = mdp.n_states, mdp.n_actions
    Pi = np.zeros((S, S * A))
    for s in range(S):
        Pi[s, s * A:(s + 1) * A] = pi[s]
    Q = np.linalg.solve(np.eye(S * A) - mdp.gamma * mdp.P.reshape(S * A, S) @ Pi, mdp.r.reshape(-1))
    return Q.reshape(S, A), Pi


@register("DC-01", chapters=(1,))
def dc01_bellman_consistency(mdp: FiniteMDP | None = None, pi=None, seed: int = 0, n_rollouts: int = 2000):
    """DC-01 (Chapter 1, §1.7): ``V = (I - gamma P_pi)^{-1} r_pi`` agrees with the Q-form, iteration and rollouts."""
    mdp, pi, rng = mdp_and_policy(mdp, pi, seed)
    S, gamma = mdp.n_states, mdp.gamma
    V = evaluate_policy(mdp, pi)
    # Q-form: P as an (SA x S) matrix, Pi as (S x SA); Q = (I - gamma P Pi)^{-1} r, V = Pi Q.
    Q, Pi = _q_by_sa_solve(mdp, pi)
    V_qform = Pi @ Q.reshape(-1)
    V_iter = np.zeros(S)
    for _ in range(1000 if gamma < 0.98 else 3000):  # error gamma^k ||V|| < 1e-10 for these gammas
        V_iter = bellman_expectation(mdp, pi, V_iter)
    starts = np.repeat(np.arange(S), n_rollouts)
    G = sample_returns(mdp, pi, starts, rng).reshape(S, n_rollouts)
    mean, se = mean_se(G, axis=1)
    return [
        Check("DC-01", "V from the S-space solve = Π·Q from the SA-space solve", "(I−γP_π)⁻¹r_π",
              "Π(I−γPΠ)⁻¹r", float(np.max(np.abs(V - V_qform))), EXACT64),
        Check("DC-01", "V^π is the fixed point of T^π", "(I−γP_π)⁻¹r_π", "T^π applied 1000× to 0",
              float(np.max(np.abs(V - V_iter))), EXACT64),
        Check("DC-01", "V^π(s) is the expected discounted return", "(I−γP_π)⁻¹r_π",
              f"mean of {n_rollouts} rollouts per state", float(np.max(z_scores(mean, V, se))), MC_Z, "SE"),
    ]


@register("DC-02", chapters=(1,))
def dc02_value_bound(n_instances: int = 1000, r_min: float = -1.0, r_max: float = 2.0, seed: int = 2):
    """DC-02 (Chapter 1, §1.7): ``r in [R_min, R_max]`` gives ``R_min/(1-gamma) <= V, Q <= R_max/(1-gamma)``.

    The bound is eq. (eq-value-bound); rewards of both signs; attained when ``r`` is constant.
    """
    worst = np.inf
    for mdp, pi, _ in random_instances(n_instances, seed):
        scaled = FiniteMDP(mdp.P, r_min + (r_max - r_min) * mdp.r, mdp.rho0, mdp.gamma)  # r in [0, 1] -> [R_min, R_max]
        V = evaluate_policy(scaled, pi)
        Q = q_from_v(scaled, V)
        floor, ceiling = r_min / (1 - mdp.gamma), r_max / (1 - mdp.gamma)
        worst = min(worst, V.min() - floor, Q.min() - floor, ceiling - V.max(), ceiling - Q.max())
    full = random_mdp(4, 2, gamma=0.95, seed=seed)
    full = FiniteMDP(full.P, np.full_like(full.r, r_max), full.rho0, full.gamma)
    V_full = evaluate_policy(full, random_policy(full, np.random.default_rng(seed)))
    return [
        Check("DC-02", "R_min/(1−γ) ≤ V^π, Q^π ≤ R_max/(1−γ)", "V, Q by linear solve", f"{n_instances} random MDPs",
              float(-worst), -BOUND_SLACK, "violation"),
        Check("DC-02", "the bound is attained when r ≡ R_max", "V by linear solve", "R_max/(1−γ)",
              float(np.max(np.abs(V_full - r_max / (1 - full.gamma)))), EXACT64 * 10,  # V ~ 40: 10x the rounding
              ),
    ]


@register("DC-03", chapters=(2,))
def dc03_contraction(n_instances: int = 300, seed: int = 3):
    """DC-03: T and T^π are γ-contractions in sup norm; VI error ``<= gamma^k ||V_0 - V*||`` (Chapter 2, §2.7)."""
    worst_opt = worst_exp = worst_q = np.inf
    for mdp, pi, rng in random_instances(n_instances, seed):
        scale = rng.uniform(0.1, 10.0)
        V1, V2 = rng.normal(0, scale, (2, mdp.n_states))
        Q1, Q2 = rng.normal(0, scale, (2, mdp.n_states, mdp.n_actions))
        gap = np.max(np.abs(V1 - V2))
        worst_opt = min(worst_opt, mdp.gamma * gap - np.max(np.abs(bellman_optimality(mdp, V1)
                                                                   - bellman_optimality(mdp, V2))))
        worst_exp = min(worst_exp, mdp.gamma * gap - np.max(np.abs(bellman_expectation(mdp, pi, V1)
                                                                   - bellman_expectation(mdp, pi, V2))))
        worst_q = min(worst_q, mdp.gamma * np.max(np.abs(Q1 - Q2))
                      - np.max(np.abs(bellman_optimality_q(mdp, Q1) - bellman_optimality_q(mdp, Q2))))
    mdp = random_mdp(4, 3, gamma=0.9, seed=seed)
    V_star, _ = brute_force_optimum(mdp)
    vi = value_iteration(mdp, tol=1e-6, record=True)
    errors = np.array([np.max(np.abs(V - V_star)) for V in vi.iterates])
    envelope = mdp.gamma ** np.arange(len(errors)) * errors[0]
    return [
        Check("DC-03", "‖TV₁−TV₂‖∞ ≤ γ‖V₁−V₂‖∞", "optimality operator", f"{n_instances} random pairs",
              float(-worst_opt), -BOUND_SLACK, "violation"),
        Check("DC-03", "‖TQ₁−TQ₂‖∞ ≤ γ‖Q₁−Q₂‖∞", "Q optimality operator", f"{n_instances} random pairs",
              float(-worst_q), -BOUND_SLACK, "violation"),
        Check("DC-03", "‖T^πV₁−T^πV₂‖∞ ≤ γ‖V₁−V₂‖∞", "expectation operator", f"{n_instances} random pairs",
              float(-worst_exp), -BOUND_SLACK, "violation"),
        Check("DC-03", "‖V_k−V*‖∞ ≤ γ^k‖V_0−V*‖∞", "value iteration", "V* by brute force",
              float(np.max(errors[1:] - envelope[1:])), -BOUND_SLACK, "violation"),
    ]


@register("DC-04", chapters=(2,))
def dc04_deterministic_optimal(n_instances: int = 20, n_stochastic: int = 200, seed: int = 4):
    """DC-04 (Chapter 2, §2.7): one deterministic policy is optimal in every state at once, as value iteration finds."""
    rng = np.random.default_rng(seed)
    worst_vi, worst_simultaneous, worst_stochastic = 0.0, 0.0, np.inf
    for i in range(n_instances):
        mdp = random_mdp(int(rng.integers(2, 6)), int(rng.integers(2, 4)), float(rng.uniform(0.5, 0.95)),
                         seed=seed * 1000 + i)
        V_best, values = brute_force_optimum(mdp)
        vi = value_iteration(mdp, tol=1e-12)
        worst_vi = max(worst_vi, np.max(np.abs(vi.V - V_best)))
        # some single deterministic policy reaches the per-state maximum in every state
        worst_simultaneous = max(worst_simultaneous, np.min(np.max(V_best - values, axis=1)))
        for _ in range(n_stochastic // n_instances):
            worst_stochastic = min(worst_stochastic, np.min(V_best - evaluate_policy(mdp, random_policy(mdp, rng))))
    return [
        Check("DC-04", "max over deterministic policies = V* of value iteration", "enumerate A^S policies",
              "value iteration", float(worst_vi), EXACT64),
        Check("DC-04", "one deterministic policy is optimal in every state", "best single policy",
              "per-state max", float(worst_simultaneous), EXACT64),
        Check("DC-04", "no stochastic policy beats V*", "random stochastic π", "V* by enumeration",
              float(-worst_stochastic), -BOUND_SLACK, "violation"),
    ]


@register("DC-05", chapters=(2,))
def dc05_policy_iteration(n_instances: int = 20, seed: int = 5):
    """DC-05: PI improves monotonically, stops within A^S steps at V*, and argmax Q = argmax A (Chapter 2, §2.7)."""
    rng = np.random.default_rng(seed)
    worst_monotone, worst_optimum, worst_steps, argmax_mismatch = np.inf, 0.0, -np.inf, 0
    for i in range(n_instances):
        mdp = random_mdp(int(rng.integers(2, 6)), int(rng.integers(2, 4)), float(rng.uniform(0.5, 0.95)),
                         seed=seed * 1000 + i)
        pi0 = rng.integers(0, mdp.n_actions, mdp.n_states)
        result = policy_iteration(mdp, pi0)
        for before, after in zip(result.values, result.values[1:], strict=False):
            worst_monotone = min(worst_monotone, np.min(after - before))
        worst_optimum = max(worst_optimum, np.max(np.abs(result.V - brute_force_optimum(mdp)[0])))
        worst_steps = max(worst_steps, result.iterations - mdp.n_actions ** mdp.n_states)
        for pi in result.policies:
            argmax_mismatch += int(np.any(greedy(q_from_v(mdp, evaluate_policy(mdp, pi)))
                                          != greedy(advantages(mdp, pi))))
    return [
        Check("DC-05", "V^{π_{t+1}} ≥ V^{π_t} elementwise", "policy iteration", "previous iterate",
              float(-worst_monotone), -BOUND_SLACK, "violation"),
        Check("DC-05", "PI stops at V*", "policy iteration", "enumeration", float(worst_optimum), EXACT64),
        Check("DC-05", "PI stops within A^S improvements", "iterations", "A^S", float(max(worst_steps, 0)), 0.0,
              "steps over"),
        Check("DC-05", "argmax_a Q^π = argmax_a A^π", "greedy(Q)", "greedy(A)", float(argmax_mismatch), 0.0,
              "mismatches"),
    ]


@register("DC-06", chapters=(1, 6))
def dc06_occupancy(mdp: FiniteMDP | None = None, pi=None, seed: int = 6, horizon: int = 2000):
    """DC-06: ``d^pi`` sums to 1 and ``E_tau[sum_t gamma^t f] = E_{d^pi, pi}[f] / (1 - gamma)`` (Chapter 1, §1.7)."""
    mdp, pi, rng = mdp_and_policy(mdp, pi, seed)
    d = occupancy(mdp, pi)
    P_pi = policy_transition(mdp, pi)
    # truncated sum (1-gamma) sum_{t<=T} gamma^t Pr(s_t = .), by pushing rho0 forward
    marginal, d_sum = mdp.rho0.copy(), np.zeros(mdp.n_states)
    for t in range(horizon + 1):
        d_sum += (1 - mdp.gamma) * mdp.gamma ** t * marginal
        marginal = marginal @ P_pi
    f = rng.normal(size=(mdp.n_states, mdp.n_actions))
    lhs_f = mdp.rho0 @ np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * P_pi, np.sum(pi * f, axis=1))
    rhs_f = np.sum(d[:, None] * pi * f) / (1 - mdp.gamma)
    J = float(mdp.rho0 @ evaluate_policy(mdp, pi))
    J_occ = float(d @ policy_reward(mdp, pi)) / (1 - mdp.gamma)
    return [
        Check("DC-06", "Σ_s d^π(s) = 1", "solve (I−γP_πᵀ)d=(1−γ)μ", "1", float(abs(d.sum() - 1)), EXACT64),
        Check("DC-06", "d^π = (1−γ)Σ_t γ^t Pr(s_t=·)", "linear solve", f"sum to T={horizon}",
              float(np.max(np.abs(d - d_sum))), EXACT64),
        Check("DC-06", "E_τ[Σγ^t f(s_t,a_t)] = E_{d^π,π}[f]/(1−γ)", "μᵀ(I−γP_π)⁻¹f_π", "occupancy side",
              float(abs(lhs_f - rhs_f)), EXACT64),
        Check("DC-06", "J = E_{d^π,π}[r]/(1−γ) (not (1−γ)E[r]: E0.8)", "μᵀV^π", "occupancy side",
              float(abs(J - J_occ)), EXACT64),
    ]


@register("DC-07", chapters=(1, 12))
def dc07_advantage_zero_mean(mdp: FiniteMDP | None = None, pi=None, seed: int = 7):
    """DC-07: ``sum_a pi(a|s) A^pi(s, a) = 0`` for every state (Chapter 1, §1.7)."""
    mdp, pi, _ = mdp_and_policy(mdp, pi, seed)
    Q, _ = _q_by_sa_solve(mdp, pi)  # Q from the SA-space solve, V from the S-space solve: independent routes
    V = evaluate_policy(mdp, pi)
    return [Check("DC-07", "E_{a∼π}[A^π(s,a)] = 0 in every state", "Σ_a π(a|s)(Q−V)", "0",
                  float(np.max(np.abs(np.sum(pi * (Q - V[:, None]), axis=1)))), EXACT64)]
