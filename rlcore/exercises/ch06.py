"""Checkers for the exercises of Chapter 6 (the policy gradient theorem).

Answers are deterministic, exact computations in float64: they are compared with the reference to a
relative 1e-9 (rounding of linear solves is below 1e-12; the conceptual errors the tests know move some
entry by more than 1e-3). The exact gradient is also compared with central finite differences of
``J`` on the small cases, a route that shares nothing with the policy gradient theorem.
"""

from __future__ import annotations

import numpy as np

from ..envs.toytext import from_toytext
from ..fixtures import random_instances
from ..tabular import exact
from ..tabular import policy_gradient as pg
from ..tabular.builders import random_mdp, two_state_mdp
from ..tabular.mdp import FiniteMDP
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import MULTIPLE, Question, make_quiz

RTOL = 1e-9


def _close(got, expected, name: str) -> str | None:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return array_problem(got, expected, RTOL * scale, name)


def check_trajectory_score(fn, seed: int = 61) -> CheckResult:
    """Exercise 6.1 (Chapter 6, §6.1): ``trajectory_score(theta, states, actions)``, eq. (eq-trajectory-score)."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("one step", dict(theta=np.zeros((2, 3)), states=np.array([1]), actions=np.array([2])),
             "one step in state 1 with action 2: row 1 is e_2 - pi(.|1) = (-1/3, -1/3, 2/3); row 0 stays 0."),
        Case("a state visited twice", dict(theta=np.array([[0.0, 1.0], [2.0, 0.0]]), states=np.array([0, 1, 0]),
                                           actions=np.array([1, 0, 0])),
             "every visit adds e_a - pi(.|s) to the row of its state."),
        Case("large logits", dict(theta=np.array([[1000.0, 0.0], [0.0, -1000.0]]), states=np.array([0, 1]),
                                  actions=np.array([1, 1])),
             "exp(1000) overflows: subtract each row's maximum before exponentiating."),
        Case("integer logits", dict(theta=np.array([[1, 2, 3], [0, 0, 0]]), states=np.array([0, 0, 1]),
                                    actions=np.array([2, 0, 1])),
             "theta may be an integer array: compute in floating point."),
    ]
    for i in range(4):
        S, A, T = int(rng.integers(2, 6)), int(rng.integers(2, 5)), int(rng.integers(3, 30))
        cases.append(Case(f"random trajectory #{i + 1}", dict(
            theta=rng.normal(size=(S, A)), states=rng.integers(0, S, size=T), actions=rng.integers(0, A, size=T))))
    return run_exercise("Exercise 6.1 (trajectory_score)", fn, cases, pg.trajectory_score,
                        lambda got, case: _close(got, case.expected, "the score"),
                        "rlcore.tabular.policy_gradient.trajectory_score")


def _gradient_reference(P, r, rho0, theta, gamma):
    mdp = FiniteMDP(np.asarray(P, float), np.asarray(r, float), np.asarray(rho0, float), gamma)
    return pg.softmax_policy_gradient(mdp, np.asarray(theta, float))


def _finite_differences(P, r, rho0, theta, gamma, h: float = 1e-6) -> np.ndarray:
    mdp = FiniteMDP(np.asarray(P, float), np.asarray(r, float), np.asarray(rho0, float), gamma)
    theta = np.asarray(theta, float)
    grad = np.zeros_like(theta)
    for index in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[index] = h
        grad[index] = (exact.expected_return(mdp, pg.softmax_policy(theta + step))
                       - exact.expected_return(mdp, pg.softmax_policy(theta - step))) / (2 * h)
    return grad


def check_softmax_policy_gradient(fn, seed: int = 62) -> CheckResult:
    """Exercise 6.2 (Chapter 6, §6.4): ``softmax_policy_gradient(P, r, rho0, theta, gamma)``.

    The exact gradient of ``J`` for tabular softmax logits, eq. (eq-softmax-gradient).
    """
    rng = np.random.default_rng(seed)
    two = two_state_mdp(0.9)
    negative = random_mdp(4, 3, gamma=0.8, seed=seed)
    lake = from_toytext("FrozenLake-v1", gamma=0.95, is_slippery=True)
    mdps = [("two-state MDP", two, "start from d^pi: the gradient of state s is weighted by how often pi is there."),
            ("gamma = 0", random_mdp(3, 2, gamma=0.0, seed=seed), "with gamma = 0, d = rho0 and A = r - r_pi."),
            ("negative rewards", FiniteMDP(negative.P, negative.r - 2.0, negative.rho0, 0.8),
             "rewards below zero: the advantage A = Q - V, not Q, sets the sign of each entry."),
            ("FrozenLake 4x4", lake, "")]
    mdps += [(f"random MDP #{i + 1}", m, "") for i, (m, _, _) in enumerate(random_instances(3, seed))]
    cases = [Case(label, dict(P=m.P, r=m.r, rho0=m.rho0, theta=rng.normal(size=(m.n_states, m.n_actions)),
                              gamma=m.gamma), hint or "dJ/dtheta[s, a] = d(s) pi(a|s) A(s, a) / (1 - gamma).")
             for label, m, hint in mdps]

    def compare(got, case):
        problem = _close(got, case.expected, "dJ/dtheta")
        if problem is None and case.kwargs["P"].shape[0] <= 6:  # property: finite differences of J
            fd = _finite_differences(**case.kwargs)
            if np.max(np.abs(np.asarray(got, float) - fd)) > 1e-6:  # h = 1e-6: error ~h^2 + 1e-16/h
                problem = "the gradient disagrees with finite differences of J"
        return problem

    return run_exercise("Exercise 6.2 (softmax_policy_gradient)", fn, cases, _gradient_reference, compare,
                        "rlcore.tabular.policy_gradient.softmax_policy_gradient")


QUESTIONS = {q.id: q for q in [
    Question(
        "6.1", "Which statements about policy gradient methods are true? Select all that apply.", MULTIPLE,
        frozenset("ac"),
        "(a) is the policy gradient theorem, up to the factor 1/(1 - gamma) of the normalised occupancy. (c) holds on "
        "average: for a tabular softmax dJ/dtheta[s, a] = d(s) pi(a|s) A(s, a)/(1 - gamma), so actions better than "
        "average gain probability. (b) is false: the step is the score times the return or advantage, which can be "
        "negative. (d) is false: J is not concave in theta in general.",
        choices=("∇_θ J = E_{s∼d^π, a∼π}[∇_θ log π_θ(a|s) Q^π(s, a)] / (1 − γ)",
                 "θ always moves in the direction of ∇_θ log π_θ(a_t|s_t)",
                 "state-action pairs with above-average Q gain probability, on average",
                 "gradient ascent is guaranteed to reach the best policy of the class"),
        hints={"abc": "look at (b) again: what if the return of the step is negative?",
               "acd": "J(theta) is not concave in general: ascent can stop at a stationary point that is not "
                      "optimal."}),
]}

#: ``quiz("6.1")`` shows question 6.1 (Chapter 6, §6.4).
quiz = make_quiz(QUESTIONS)
