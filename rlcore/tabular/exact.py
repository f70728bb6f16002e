"""Exact policy evaluation on a finite MDP, by linear algebra (Chapter 1, §1.3 and §1.5).

Every function solves a linear system rather than forming an inverse: ``I - gamma P_pi``
is invertible for ``gamma < 1`` because ``||gamma P_pi||_inf = gamma``.
"""

from __future__ import annotations

import numpy as np

from ..base import validate
from .mdp import FiniteMDP, as_policy


def require_mdp(mdp, name: str = "mdp") -> FiniteMDP:
    """Raise ``TypeError`` unless ``mdp`` is a :class:`FiniteMDP` (Chapter 1, §1.1)."""
    if not isinstance(mdp, FiniteMDP):
        raise TypeError(f"{name} must be a FiniteMDP (see rlcore.tabular.builders), got {type(mdp).__name__}")
    return mdp


def _policy(mdp: FiniteMDP, pi) -> np.ndarray:
    return as_policy(pi, require_mdp(mdp).n_states, mdp.n_actions)


def policy_transition(mdp: FiniteMDP, pi) -> np.ndarray:
    """``P_pi[s, s'] = sum_a pi(a|s) P(s'|s, a)``, the state chain under ``pi`` (Chapter 1, §1.3)."""
    return np.einsum("sa,sat->st", _policy(mdp, pi), mdp.P)


def policy_reward(mdp: FiniteMDP, pi) -> np.ndarray:
    """``r_pi[s] = sum_a pi(a|s) r(s, a)`` (Chapter 1, §1.3)."""
    return np.einsum("sa,sa->s", _policy(mdp, pi), mdp.r)


def evaluate_policy(mdp: FiniteMDP, pi) -> np.ndarray:
    """``V^pi = (I - gamma P_pi)^{-1} r_pi`` by a linear solve, eq. (eq-bellman-matrix) (Chapter 1, §1.3)."""
    require_mdp(mdp).require_discounted("V^pi")
    P_pi = policy_transition(mdp, pi)
    return np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * P_pi, policy_reward(mdp, pi))


def q_from_v(mdp: FiniteMDP, V: np.ndarray) -> np.ndarray:
    """One-step lookahead ``Q(s, a) = r(s, a) + gamma sum_s' P(s'|s,a) V(s')`` (Chapter 1, §1.3)."""
    return mdp.r + mdp.gamma * mdp.P @ _values(mdp, V, "V")


def action_values(mdp: FiniteMDP, pi) -> np.ndarray:
    """``Q^pi = r + gamma P V^pi``, shape ``(S, A)`` (Chapter 1, §1.3)."""
    return q_from_v(mdp, evaluate_policy(mdp, pi))


def advantages(mdp: FiniteMDP, pi) -> np.ndarray:
    """``A^pi(s, a) = Q^pi(s, a) - V^pi(s)``, shape ``(S, A)`` (Chapter 1, §1.3)."""
    V = evaluate_policy(mdp, pi)
    return q_from_v(mdp, V) - V[:, None]


def occupancy(mdp: FiniteMDP, pi) -> np.ndarray:
    """Normalised discounted state occupancy ``d^pi`` (Chapter 1, §1.5).

    ``d^pi(s) = (1 - gamma) sum_t gamma^t Pr(s_t = s)``, eq. (eq-occupancy), which solves
    ``(I - gamma P_pi^T) d = (1 - gamma) rho0``, eq. (eq-occupancy-linear). It sums to 1.
    """
    require_mdp(mdp).require_discounted("the discounted occupancy d^pi")
    P_pi = policy_transition(mdp, pi)
    return np.linalg.solve(np.eye(mdp.n_states) - mdp.gamma * P_pi.T, (1 - mdp.gamma) * mdp.rho0)


def expected_return(mdp: FiniteMDP, pi) -> float:
    """``J(pi) = E_{s_0 ~ rho0}[V^pi(s_0)]`` (Chapter 1, §1.3)."""
    return float(mdp.rho0 @ evaluate_policy(mdp, pi))


def finite_horizon_values(mdp: FiniteMDP, pi, horizon: int) -> np.ndarray:
    """``V_t(s) = E[sum_{k=t}^{H-1} gamma^(k-t) r_k | s_t = s]`` for ``t = 0..H``, shape ``(H+1, S)`` (Chapter 7, §7.2).

    The values of an episode cut after ``horizon`` steps, by backward induction from ``V_H = 0``; they are
    the exact time-dependent baseline ``E[G_t | s_t]`` of the enumerated trajectories of Chapter 7.
    """
    pi = _policy(mdp, pi)
    horizon = validate.integer(horizon, "horizon", low=1)
    V = np.zeros((horizon + 1, mdp.n_states))
    for t in reversed(range(horizon)):
        V[t] = np.einsum("sa,sa->s", pi, mdp.r + mdp.gamma * mdp.P @ V[t + 1])
    return V


def bellman_expectation(mdp: FiniteMDP, pi, V: np.ndarray) -> np.ndarray:
    """The Bellman expectation operator ``(T^pi V)(s) = r_pi(s) + gamma (P_pi V)(s)`` (Chapter 1, §1.3)."""
    return policy_reward(mdp, pi) + mdp.gamma * policy_transition(mdp, pi) @ _values(mdp, V, "V")


def bellman_optimality(mdp: FiniteMDP, V: np.ndarray) -> np.ndarray:
    """The Bellman optimality operator of eq. (eq-optimality-operator), ``max_a [r + gamma P V]`` (Chapter 2, §2.2)."""
    return q_from_v(mdp, V).max(axis=1)


def bellman_optimality_q(mdp: FiniteMDP, Q: np.ndarray) -> np.ndarray:
    """``(T Q)(s, a) = r(s, a) + gamma sum_s' P(s'|s,a) max_a' Q(s', a')`` (Chapter 2, §2.2)."""
    Q = validate.array(Q, "Q", shape=(require_mdp(mdp).n_states, mdp.n_actions))
    return q_from_v(mdp, Q.max(axis=1))


def _values(mdp: FiniteMDP, V, name: str) -> np.ndarray:
    return validate.array(V, name, shape=(require_mdp(mdp).n_states,))
