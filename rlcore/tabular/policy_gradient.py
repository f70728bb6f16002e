"""Exact policy gradients of tabular softmax policies (Chapter 6).

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
    """``pi(a|s) = exp(theta[s, a]) / sum_b exp(theta[s, b])``, an ``(S, A)`` table (Chapter 6)."""
    theta = validate.array(theta, "theta", ndim=2)
    z = np.exp(theta - theta.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _logits(mdp: FiniteMDP, theta) -> np.ndarray:
    require_mdp(mdp).require_discounted("the policy gradient")
    return validate.array(theta, "theta", shape=(mdp.n_states, mdp.n_actions))


def softmax_policy_gradient(mdp: FiniteMDP, theta) -> np.ndarray:
    """``dJ/dtheta[s, a] = d^pi(s) pi(a|s) A^pi(s, a) / (1 - gamma)``, the closed form for softmax logits (Chapter 6).

    The occupancy form of the policy gradient theorem with the softmax score ``e_a - pi(.|s)``,
    whose advantage-weighted average over ``a`` collapses to this (DC-18).
    """
    pi = softmax_policy(_logits(mdp, theta))
    d = occupancy(mdp, pi)
    return d[:, None] * pi * advantages(mdp, pi) / (1 - mdp.gamma)


def occupancy_policy_gradient(mdp: FiniteMDP, theta, use_advantage: bool = True) -> np.ndarray:
    """``1/(1 - gamma) E_{s ~ d, a ~ pi}[grad log pi(a|s) Q(s, a)]`` (or ``A`` in place of ``Q``) (Chapter 6).

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
    """``dV(s)/dtheta[x, b]`` by recursive unrolling: ``(I - gamma P_pi)^{-1} Phi`` (Chapter 6; DC-19).

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
