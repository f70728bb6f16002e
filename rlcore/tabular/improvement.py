"""Policy improvement theory on finite MDPs, exactly (Chapter 12).

The performance difference lemma, the surrogate objective, conservative policy iteration's mixtures and bound, the
TRPO and Achiam et al. lower bounds, and the drift of the state distribution, all computed by linear algebra on a
:class:`~rlcore.tabular.mdp.FiniteMDP`. Policies are ``(S, A)`` probability tables. ``epsilon`` names the advantage
constants of the bounds, as in the papers; the trust-region radius is ``delta`` elsewhere in the book.
"""

from __future__ import annotations

import numpy as np

from ..base import validate
from .exact import policy_transition, require_mdp
from .information import kl_divergence, total_variation
from .mdp import FiniteMDP, as_policy
from .policy_gradient import softmax_policy


def _policies(mdp: FiniteMDP, pi, pi_new) -> tuple[np.ndarray, np.ndarray]:
    require_mdp(mdp).require_discounted("policy improvement bounds")
    return (as_policy(pi, mdp.n_states, mdp.n_actions, "pi"),
            as_policy(pi_new, mdp.n_states, mdp.n_actions, "pi_new"))


def _solve(mdp: FiniteMDP, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(V^pi, A^pi, d^pi)`` of a validated policy table: the linear solves of Chapter 1, without re-validation."""
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    system = np.eye(mdp.n_states) - mdp.gamma * P_pi
    V = np.linalg.solve(system, np.sum(pi * mdp.r, axis=1))
    A = mdp.r + mdp.gamma * mdp.P @ V - V[:, None]
    d = np.linalg.solve(system.T, (1 - mdp.gamma) * mdp.rho0)
    return V, A, d


def expected_advantage(mdp: FiniteMDP, pi, pi_new) -> np.ndarray:
    """``A_bar(s) = sum_a pi_new(a|s) A^pi(s, a)``, the advantage of ``pi_new`` over ``pi`` at each state
    (Chapter 12, §12.1)."""
    pi, pi_new = _policies(mdp, pi, pi_new)
    return np.sum(pi_new * _solve(mdp, pi)[1], axis=1)


def performance_difference(mdp: FiniteMDP, pi, pi_new) -> float:
    """``J(pi_new) - J(pi) = 1/(1 - gamma) E_{s ~ d^new, a ~ pi_new}[A^pi(s, a)]`` (Chapter 12, §12.1, eq. (eq-pdl))."""
    pi, pi_new = _policies(mdp, pi, pi_new)
    a_bar = np.sum(pi_new * _solve(mdp, pi)[1], axis=1)
    return float(_solve(mdp, pi_new)[2] @ a_bar / (1 - mdp.gamma))


def surrogate_advantage(mdp: FiniteMDP, pi, pi_new) -> float:
    """``L_pi(pi_new) = 1/(1 - gamma) E_{s ~ d^pi, a ~ pi_new}[A^pi(s, a)]``: the performance difference with the
    old policy's states (Chapter 12, §12.2; Chapter 9, §9.4, eq. (eq-surrogate))."""
    pi, pi_new = _policies(mdp, pi, pi_new)
    _, A, d = _solve(mdp, pi)
    return float(d @ np.sum(pi_new * A, axis=1) / (1 - mdp.gamma))


def surrogate_logit_gradient(d: np.ndarray, A: np.ndarray, pi: np.ndarray, gamma: float) -> np.ndarray:
    """``d/dtheta[s, a]`` of ``1/(1 - gamma) sum_s d(s) sum_a pi_theta(a|s) A(s, a)`` for softmax logits, with ``d`` and
    ``A`` held at the old policy: ``d(s) pi(a|s) (A(s, a) - sum_b pi(b|s) A(s, b)) / (1 - gamma)``
    (Chapter 11, §11.5; Chapter 12, §12.5)."""
    return d[:, None] * pi * (A - np.sum(pi * A, axis=1, keepdims=True)) / (1 - gamma)


def mixture(pi, pi_new, alpha: float) -> np.ndarray:
    """``(1 - alpha) pi + alpha pi_new``, conservative policy iteration's update (Chapter 12, §12.3,
    eq. (eq-cpi-mixture))."""
    alpha = validate.real(alpha, "alpha", low=0.0, high=1.0)
    pi, pi_new = np.asarray(pi, float), np.asarray(pi_new, float)
    if pi.shape != pi_new.shape:
        raise ValueError(f"pi and pi_new must have one shape, got {pi.shape} and {pi_new.shape}")
    return (1 - alpha) * pi + alpha * pi_new


def cpi_constants(mdp: FiniteMDP, pi, pi_new) -> tuple[float, float]:
    """``(A, eps)`` of the CPI bound: ``A = E_{s ~ d^pi, a ~ pi_new}[A^pi]`` and ``eps = max_s |A_bar(s)|``
    (Chapter 12, §12.3)."""
    pi, pi_new = _policies(mdp, pi, pi_new)
    _, A, d = _solve(mdp, pi)
    a_bar = np.sum(pi_new * A, axis=1)
    return float(d @ a_bar), float(np.max(np.abs(a_bar)))


def cpi_lower_bound(mdp: FiniteMDP, pi, pi_new, alpha: float) -> float:
    """``J(pi) + alpha A / (1 - gamma) - 2 gamma eps alpha^2 / (1 - gamma)^2``, a lower bound on ``J`` of the mixture
    (Chapter 12, §12.3, eq. (eq-cpi-bound))."""
    alpha = validate.real(alpha, "alpha", low=0.0, high=1.0)
    A, eps = cpi_constants(mdp, pi, pi_new)
    g = mdp.gamma
    J = float(mdp.rho0 @ _solve(mdp, _policies(mdp, pi, pi_new)[0])[0])
    return J + alpha * A / (1 - g) - 2 * g * eps * alpha**2 / (1 - g) ** 2


def cpi_step_size(mdp: FiniteMDP, pi, pi_new) -> float:
    """``alpha* = min(1, (1 - gamma) A / (4 gamma eps))``, the maximiser of the CPI bound (0 if ``A <= 0``)
    (Chapter 12, §12.3, eq. (eq-cpi-alpha))."""
    A, eps = cpi_constants(mdp, pi, pi_new)
    if A <= 0:
        return 0.0
    if eps == 0 or mdp.gamma == 0:
        return 1.0
    return float(min(1.0, (1 - mdp.gamma) * A / (4 * mdp.gamma * eps)))


def trpo_lower_bound(mdp: FiniteMDP, pi, pi_new, divergence: str = "tv") -> float:
    """``J(pi) + L_pi(pi_new) - 4 eps gamma / (1 - gamma)^2 D``, with ``eps = max_{s,a} |A^pi(s, a)|`` and ``D`` the
    squared largest total variation (``divergence="tv"``) or the largest KL(pi || pi_new) (``"kl"``)
    (Chapter 12, §12.4, eq. (eq-trpo-bound))."""
    pi, pi_new = _policies(mdp, pi, pi_new)
    divergence = validate.one_of(divergence, "divergence", ("tv", "kl"))
    V, A, d = _solve(mdp, pi)
    eps = float(np.max(np.abs(A)))
    if divergence == "tv":
        D = float(np.max(total_variation(pi, pi_new))) ** 2
    else:
        D = float(np.max(kl_divergence(pi, pi_new)))
    g = mdp.gamma
    surrogate = float(d @ np.sum(pi_new * A, axis=1) / (1 - g))
    return float(mdp.rho0 @ V) + surrogate - 4 * eps * g / (1 - g) ** 2 * D


def achiam_error_bounds(mdp: FiniteMDP, pi, pi_new) -> tuple[float, float]:
    """Bounds on ``|J(pi_new) - J(pi) - L_pi(pi_new)|`` (Chapter 12, §12.4, eq. (eq-achiam-bound)):
    ``2 gamma eps / (1 - gamma)^2 E_{d^pi}[TV]`` and
    ``sqrt(2) gamma eps / (1 - gamma)^2 sqrt(E_{d^pi}[KL(pi_new || pi)])``, with ``eps = max_s |A_bar(s)|``."""
    pi, pi_new = _policies(mdp, pi, pi_new)
    _, A, d = _solve(mdp, pi)
    eps = float(np.max(np.abs(np.sum(pi_new * A, axis=1))))
    c = 2 * mdp.gamma * eps / (1 - mdp.gamma) ** 2
    return c * float(d @ total_variation(pi, pi_new)), c / np.sqrt(2) * float(np.sqrt(d @ kl_divergence(pi_new, pi)))


def state_marginals(mdp: FiniteMDP, pi, horizon: int) -> np.ndarray:
    """``Pr(s_t = s)`` for ``t = 0 .. horizon - 1``, shape ``(horizon, S)``, by matrix powers (Chapter 12, §12.4)."""
    require_mdp(mdp)
    pi = as_policy(pi, mdp.n_states, mdp.n_actions)
    horizon = validate.integer(horizon, "horizon", low=1)
    P_pi = policy_transition(mdp, pi)
    out = np.empty((horizon, mdp.n_states))
    out[0] = mdp.rho0
    for t in range(1, horizon):
        out[t] = out[t - 1] @ P_pi
    return out


def agreement_probabilities(mdp: FiniteMDP, pi, pi_new, horizon: int) -> np.ndarray:
    """``Pr(the coupled policies agree at steps 0 .. t-1)`` for ``t = 0 .. horizon - 1``, when each step couples
    ``pi(.|s)`` and ``pi_new(.|s)`` maximally (Chapter 12, §12.4): ``rho0^T M^t 1`` with
    ``M[s, s'] = sum_a min(pi, pi_new)(a|s) P[s, a, s']``."""
    pi, pi_new = _policies(mdp, pi, pi_new)
    horizon = validate.integer(horizon, "horizon", low=1)
    M = np.einsum("sa,sat->st", np.minimum(pi, pi_new), mdp.P)
    out, row = np.empty(horizon), mdp.rho0.copy()
    for t in range(horizon):
        out[t] = row.sum()
        row = row @ M
    return out


def values_difference(mdp: FiniteMDP, pi, pi_new) -> np.ndarray:
    """``V^{pi_new}(s) - V^pi(s)`` for every start state, by two evaluations (Chapter 12, §12.1)."""
    pi, pi_new = _policies(mdp, pi, pi_new)
    return _solve(mdp, pi_new)[0] - _solve(mdp, pi)[0]


def greedy_improvement(mdp: FiniteMDP, pi) -> np.ndarray:
    """The deterministic policy ``pi'(s) = argmax_a A^pi(s, a)`` as an ``(S, A)`` table, ties to the lowest action
    (Chapter 12, §12.3)."""
    require_mdp(mdp).require_discounted("the greedy improvement")
    pi = as_policy(pi, mdp.n_states, mdp.n_actions)
    return np.eye(mdp.n_actions)[np.argmax(_solve(mdp, pi)[1], axis=1)]


def cpi_step(mdp: FiniteMDP, pi) -> tuple[np.ndarray, float]:
    """One step of conservative policy iteration: ``((1 - alpha*) pi + alpha* pi', alpha*)`` with ``pi'`` greedy with
    respect to ``A^pi`` and ``alpha*`` of eq. (eq-cpi-alpha) (Chapter 12, §12.3)."""
    greedy = greedy_improvement(mdp, pi)
    alpha = cpi_step_size(mdp, pi, greedy)
    return mixture(as_policy(pi, mdp.n_states, mdp.n_actions), greedy, alpha), alpha


def conservative_policy_iteration(mdp: FiniteMDP, pi0, iterations: int) -> dict:
    """``iterations`` steps of :func:`cpi_step` from ``pi0``; returns the policies, ``J`` and the step sizes
    (Chapter 12, §12.3)."""
    pi = as_policy(pi0, mdp.n_states, mdp.n_actions, "pi0")
    iterations = validate.integer(iterations, "iterations", low=0)
    history = {"J": [float(mdp.rho0 @ _solve(mdp, pi)[0])], "alpha": [], "policy": [pi]}
    for _ in range(iterations):
        pi, alpha = cpi_step(mdp, pi)
        history["alpha"].append(alpha)
        history["J"].append(float(mdp.rho0 @ _solve(mdp, pi)[0]))
        history["policy"].append(pi)
    return history


def minorize_maximize(mdp, theta0, penalty: float, iterations: int = 15, inner_steps: int = 200,
                      step_size: float = 0.5) -> dict:
    """Monotonic improvement by minorise-maximise on tabular softmax logits (Chapter 12, §12.5, eq. (eq-mm)).

    ``M_k(theta) = J(pi_k) + L_{pi_k}(pi_theta) - penalty sum_s KL(pi_k(.|s) || pi_theta(.|s))`` is below ``J``
    whenever ``penalty >= 4 eps gamma / (1 - gamma)^2`` (the sum over states exceeds the maximum), and equal to it
    at ``pi_k``; each outer step improves ``M_k`` by gradient ascent. Returns ``J`` and ``M_k`` before and after.
    """
    theta = np.asarray(theta0, float).copy()
    history = {"J": [float(mdp.rho0 @ _solve(mdp, softmax_policy(theta))[0])], "M_gain": [], "penalty_ok": []}
    for _ in range(iterations):
        old = softmax_policy(theta)
        _, A, d = _solve(mdp, old)
        history["penalty_ok"].append(penalty >= 4 * np.max(np.abs(A)) * mdp.gamma / (1 - mdp.gamma) ** 2)

        def M(t, old=old, d=d, A=A):
            pi = softmax_policy(t)
            return float(d @ np.sum(pi * A, axis=1) / (1 - mdp.gamma) - penalty * np.sum(kl_divergence(old, pi)))

        new = theta.copy()
        for _ in range(inner_steps):
            pi = softmax_policy(new)
            grad_l = surrogate_logit_gradient(d, A, pi, mdp.gamma)
            new = new + step_size / (1 + penalty) * (grad_l - penalty * (pi - old))
        history["M_gain"].append(M(new) - M(theta))
        theta = new
        history["J"].append(float(mdp.rho0 @ _solve(mdp, softmax_policy(theta))[0]))
    history["theta"] = theta
    return history
