"""Exact policy gradients of tabular softmax policies (Chapter 6, §6.3-§6.4).

With logits ``theta[s, a]`` and ``pi(a|s) = softmax(theta[s])_a``, everything the policy gradient
theorem talks about can be computed exactly by linear algebra: the gradient of ``J`` in the occupancy
form, in its closed form for the softmax, and the Jacobian of ``V`` by recursive unrolling. The
derivation checks compare each with ``torch.autograd`` of the closed-form ``J`` (DC-17, DC-18, DC-19).
"""

from __future__ import annotations

import numpy as np

from ..base import validate
from .exact import advantages, evaluate_policy, occupancy, policy_transition, q_from_v, require_mdp
from .mdp import FiniteMDP


def softmax_policy(theta) -> np.ndarray:
    """``pi(a|s) = exp(theta[s, a]) / sum_b exp(theta[s, b])``, an ``(S, A)`` table (Chapter 6, §6.1)."""
    theta = validate.array(theta, "theta", ndim=2)
    z = np.exp(theta - theta.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _logits(mdp: FiniteMDP, theta) -> np.ndarray:
    require_mdp(mdp).require_discounted("the policy gradient")
    return validate.array(theta, "theta", shape=(mdp.n_states, mdp.n_actions))


def softmax_policy_gradient(mdp: FiniteMDP, theta) -> np.ndarray:
    """``dJ/dtheta[s, a] = d^pi(s) pi(a|s) A^pi(s, a) / (1 - gamma)`` for softmax logits (Chapter 6, §6.4).

    The occupancy form of the policy gradient theorem with the softmax score ``e_a - pi(.|s)``,
    whose advantage-weighted average over ``a`` collapses to this (DC-18).
    """
    pi = softmax_policy(_logits(mdp, theta))
    d = occupancy(mdp, pi)
    return d[:, None] * pi * advantages(mdp, pi) / (1 - mdp.gamma)


def finite_horizon_gradient(mdp: FiniteMDP, theta, horizon: int, gamma_t: bool = True) -> np.ndarray:
    """The exact gradient of ``J_H = E[sum_{t<H} gamma^t r_t]`` for softmax logits, by forward and backward
    recursions (Chapter 7, §7.2).

    ``sum_t c_t sum_s Pr(s_t = s) pi(a|s) A_t(s, a)`` in entry ``[s, a]``, with ``A_t = Q_t - V_t`` the advantage
    with ``H - t`` steps to go and ``c_t = gamma^t``: eq. (eq-softmax-gradient) with the discounted occupancy
    replaced by the time-indexed state distribution. ``gamma_t=False`` gives ``c_t = 1``: the mean of the
    estimator that drops ``gamma^t``, eq. (eq-no-gamma-t-mean), which is not a gradient in general. ``gamma``
    may be 1 here (the horizon is finite). No trajectory is enumerated.
    """
    require_mdp(mdp)
    pi = softmax_policy(validate.array(theta, "theta", shape=(mdp.n_states, mdp.n_actions)))
    horizon = validate.integer(horizon, "horizon", low=1)
    V = np.zeros(mdp.n_states)  # V_H = 0
    A = []
    for _ in range(horizon):  # backward: A_t for t = H-1, ..., 0
        Q = mdp.r + mdp.gamma * mdp.P @ V
        V = np.sum(pi * Q, axis=1)
        A.append(Q - V[:, None])
    state = mdp.rho0.copy()  # Pr(s_t = .), forward
    grad = np.zeros_like(pi)
    P_pi = policy_transition(mdp, pi)
    for t in range(horizon):
        grad += (mdp.gamma**t if gamma_t else 1.0) * state[:, None] * pi * A[horizon - 1 - t]
        state = state @ P_pi
    return grad


def occupancy_policy_gradient(mdp: FiniteMDP, theta, use_advantage: bool = True) -> np.ndarray:
    """``1/(1 - gamma) E_{s ~ d, a ~ pi}[grad log pi(a|s) Q(s, a)]`` (or ``A`` in place of ``Q``) (Chapter 6, §6.3).

    Computed term by term with the softmax score ``grad_theta[s] log pi(a|s) = e_a - pi(.|s)``; the
    baseline ``V`` of the ``A`` form changes nothing, by the expected-score lemma (DC-17).
    """
    pi = softmax_policy(_logits(mdp, theta))
    V = evaluate_policy(mdp, pi)
    weights = advantages(mdp, pi) if use_advantage else q_from_v(mdp, V)
    d = occupancy(mdp, pi)
    S, A = pi.shape
    grad = np.zeros((S, A))
    eye = np.eye(A)
    for s in range(S):
        for a in range(A):
            grad[s] += d[s] * pi[s, a] * weights[s, a] * (eye[a] - pi[s])
    return grad / (1 - mdp.gamma)


def value_jacobian(mdp: FiniteMDP, theta) -> np.ndarray:
    """``dV(s)/dtheta[x, b]`` by recursive unrolling: ``(I - gamma P_pi)^{-1} Phi`` (Chapter 6, §6.2; DC-19).

    ``Phi[x, (x, b)] = sum_a dpi(a|x)/dtheta[x, b] Q(x, a)``. Returns shape ``(S, S, A)``.
    """
    pi = softmax_policy(_logits(mdp, theta))
    Q = q_from_v(mdp, evaluate_policy(mdp, pi))
    S, A = pi.shape
    phi = np.zeros((S, S, A))
    for x in range(S):
        jac = np.diag(pi[x]) - np.outer(pi[x], pi[x])  # dpi(a|x)/dtheta[x, b], rows a, columns b
        phi[x, x] = Q[x] @ jac
    system = np.eye(S) - mdp.gamma * policy_transition(mdp, pi)  # its inverse is sum_k gamma^k P_pi^k
    return np.linalg.solve(system, phi.reshape(S, S * A)).reshape(S, S, A)


def trajectory_score(theta, states, actions) -> np.ndarray:
    """``sum_t grad_theta log pi_theta(a_t|s_t)`` for one trajectory of a tabular softmax policy (Chapter 6, §6.1).

    The transition probabilities do not depend on ``theta`` and drop out (eq. (eq-trajectory-score)); row
    ``s`` of the result collects ``e_{a_t} - pi(.|s)`` over the steps spent in ``s``.
    """
    theta = validate.array(theta, "theta", ndim=2)
    S, A = theta.shape
    states = validate.integer_array(states, "states", low=0, high=S)
    actions = validate.integer_array(actions, "actions", low=0, high=A, shape=states.shape)
    pi = softmax_policy(theta)
    score = np.zeros((S, A))
    np.add.at(score, (states, actions), 1.0)
    np.add.at(score, states, -pi[states])
    return score


def step_scores(theta, states, actions) -> np.ndarray:
    """``grad_theta log pi(a_t|s_t)`` of every step, shape ``states.shape + (S, A)`` (Chapter 9, §9.4).

    For tabular softmax logits the score of a step is ``e_{a_t} - pi(.|s_t)`` in row ``s_t`` and zero elsewhere;
    ``states`` and ``actions`` are integer arrays of one shape (steps of one or many trajectories).
    """
    pi = softmax_policy(theta)
    states, actions = np.asarray(states), np.asarray(actions)
    if states.shape != actions.shape:
        raise ValueError(f"states and actions must have one shape, got {states.shape} and {actions.shape}")
    out = np.zeros(states.shape + pi.shape)
    index = np.indices(states.shape)
    out[(*index, states)] = -pi[states]
    out[(*index, states, actions)] += 1.0
    return out


def softmax_fisher(probs) -> np.ndarray:
    """``diag(p) - p p^T``: the Fisher information of a categorical distribution in its logits (Chapter 10, §10.7,
    eq. (eq-softmax-fisher)). Singular: ``(diag(p) - p p^T) 1 = 0`` (adding a constant to every logit changes
    nothing)."""
    probs = validate.probability_rows(validate.array(probs, "probs", ndim=1), "probs")
    return np.diag(probs) - np.outer(probs, probs)


def policy_fisher(mdp: FiniteMDP, theta) -> np.ndarray:
    """The state-averaged Fisher information of a tabular softmax policy, ``(S A, S A)`` (Chapter 10, §10.7,
    eq. (eq-policy-fisher)).

    ``F = sum_s d^pi(s) sum_a pi(a|s) grad log pi(a|s) grad log pi(a|s)^T`` with ``d^pi`` the normalised
    discounted occupancy of ``pi_theta``. The score of ``(s, a)`` is ``e_a - pi(.|s)`` in row ``s`` of ``theta``, so
    ``F`` is block diagonal: block ``s`` is ``d^pi(s) (diag(pi(.|s)) - pi(.|s) pi(.|s)^T)``. Index ``s * A + a``
    (``theta.ravel()``'s order).
    """
    pi = softmax_policy(_logits(mdp, theta))
    d = occupancy(mdp, pi)
    S, A = pi.shape
    fisher = np.zeros((S * A, S * A))
    for s in range(S):
        fisher[s * A:(s + 1) * A, s * A:(s + 1) * A] = d[s] * softmax_fisher(pi[s])
    return fisher


def exact_gradient_ascent(mdp: FiniteMDP, theta0, step_size: float, steps: int, gradient=None) -> list[float]:
    """``theta <- theta + step_size grad J(theta)``, exact gradient; returns ``J`` along the way (Chapter 6, §6.4).

    ``gradient(P, r, rho0, theta, gamma)`` may replace :func:`softmax_policy_gradient` (a reader's version).
    """
    theta = _logits(mdp, theta0).copy()
    step_size = validate.real(step_size, "step_size", low=0.0, low_open=True)
    steps = validate.integer(steps, "steps", low=0)
    values = []
    for _ in range(steps + 1):
        pi = softmax_policy(theta)
        values.append(float(mdp.rho0 @ evaluate_policy(mdp, pi)))
        grad = (softmax_policy_gradient(mdp, theta) if gradient is None
                else np.asarray(gradient(P=mdp.P, r=mdp.r, rho0=mdp.rho0, theta=theta, gamma=mdp.gamma)))
        theta = theta + step_size * grad
    return values
