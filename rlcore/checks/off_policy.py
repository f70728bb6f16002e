"""Derivation checks of syllabus §3.5, off-policy policy gradients (Chapter 9): DC-34 and DC-35.

Expectations under the behaviour policy are exact, over every trajectory it can produce in a small MDP
(:mod:`rlcore.tabular.enumeration`); the gradient they are compared with comes from the backward and forward
recursions of Chapter 7, which enumerate nothing.
"""

from __future__ import annotations

import numpy as np

from ..estimators.importance import off_policy_gradient
from ..tabular import exact
from ..tabular.builders import random_mdp
from ..tabular.enumeration import Trajectories, enumerate_trajectories, moments
from ..tabular.mdp import FiniteMDP
from ..tabular.policy_gradient import finite_horizon_gradient, softmax_policy, step_scores
from .registry import EXACT64, Check, register


def enumerated_off_policy_terms(theta, beta, trajectories: Trajectories, gamma: float, mode: str) -> np.ndarray:
    """Per-trajectory off-policy estimates for tabular softmax logits ``theta`` from trajectories of the behaviour
    policy ``beta`` (an ``(S, A)`` table), shape ``(K, S * A)`` (Chapter 9, §9.4); modes as
    :func:`rlcore.estimators.importance.off_policy_gradient`."""
    pi = softmax_policy(theta)
    s, a = trajectories.states, trajectories.actions
    scores = step_scores(theta, s, a).reshape(s.shape + (-1,))
    log_ratios = np.log(pi[s, a]) - np.log(np.asarray(beta)[s, a])
    return off_policy_gradient(scores, log_ratios, trajectories.rewards, gamma, mode)


def setting(seed: int = 34, mix: float = 0.5, horizon: int = 4):
    """A random 3-state MDP, target logits, and a behaviour policy that mixes the target with the uniform policy
    (``mix = 0``: the target itself) (Chapter 9, §9.4)."""
    mdp = random_mdp(3, 2, gamma=0.9, seed=seed)
    theta = np.random.default_rng(seed).normal(size=(3, 2)) * 1.5
    beta = (1 - mix) * softmax_policy(theta) + mix * 0.5
    return mdp, theta, beta, enumerate_trajectories(mdp, beta, horizon)


@register("DC-34", chapters=(9,))
def dc34_off_policy_estimators(seed: int = 34):
    """DC-34 (Chapter 9, §9.4): under the behaviour policy, the trajectory and per-decision estimators average to
    ``grad J`` exactly; dropping the later ratios or keeping one ratio per step does not."""
    mdp, theta, beta, trajs = setting(seed)
    truth = finite_horizon_gradient(mdp, theta, trajs.states.shape[1]).ravel()
    rows = []
    for mode in ("trajectory", "per_decision"):
        mean, _ = moments(trajs, enumerated_off_policy_terms(theta, beta, trajs, mdp.gamma, mode))
        rows.append(Check("DC-34", f"{mode} IS: E_β[estimate] = ∇J", "exact enumeration under β",
                          "recursions under π", float(np.max(np.abs(mean - truth))), 1e-8))  # float64 sums
    for mode in ("dropped_after", "single_ratio"):
        mean, _ = moments(trajs, enumerated_off_policy_terms(theta, beta, trajs, mdp.gamma, mode))
        relative = float(np.linalg.norm(mean - truth) / np.linalg.norm(truth))
        rows.append(Check("DC-34", f"{mode}: biased (relative bias > 1%)", "exact enumeration under β",
                          "recursions under π", 0.01 - relative, 0.0, "violation"))
    return rows


def _with(mdp: FiniteMDP, pi) -> tuple[np.ndarray, float]:
    return exact.occupancy(mdp, pi), exact.expected_return(mdp, pi)


@register("DC-35", chapters=(9, 12))
def dc35_performance_difference(seed: int = 35):
    """DC-35 (Chapter 9, §9.5): ``J(pi') - J(pi) = E_{s ~ d^pi, a ~ pi}[(d^pi'(s)/d^pi(s)) (pi'(a|s)/pi(a|s))
    A^pi(s, a)] / (1 - gamma)``; without the state ratio (the surrogate) the error is second order in the step."""
    mdp = random_mdp(4, 3, gamma=0.9, seed=seed)
    rng = np.random.default_rng(seed)
    theta, direction = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    pi = softmax_policy(theta)
    d, J = _with(mdp, pi)
    A = exact.advantages(mdp, pi)
    errors, worst = [], 0.0
    for step in (0.2, 0.1, 0.05):
        new = softmax_policy(theta + step * direction)
        d_new, J_new = _with(mdp, new)
        weighted = (d[:, None] * pi) * (d_new / d)[:, None] * (new / pi) * A  # sum over s, a of the IS form
        worst = max(worst, abs(weighted.sum() / (1 - mdp.gamma) - (J_new - J)))
        surrogate = (d[:, None] * pi * (new / pi) * A).sum() / (1 - mdp.gamma)
        errors.append(abs(surrogate - (J_new - J)))
    order = np.log2(errors[0] / errors[1]), np.log2(errors[1] / errors[2])
    return [Check("DC-35", "J(π') − J(π) = E_{d^π, π}[(d^π'/d^π)(π'/π) A^π] / (1 − γ)", "importance-weighted sum",
                  "two linear solves", float(worst), EXACT64),
            Check("DC-35", "without d^π'/d^π: error O(step²) (halving the step quarters it)", "surrogate − ΔJ",
                  "slope 2 in log2", float(max(abs(o - 2) for o in order)), 0.3)]  # 0.3: third-order terms at 0.2
