"""Checkers for the exercises of Chapter 12 (policy improvement theory).

Answers are exact computations in float64 on small MDPs, compared with rlcore's to a relative 1e-9 (linear solves
with condition number <= (1 + gamma)/(1 - gamma) <= 200 round below 1e-12; the conceptual errors the tests know,
such as the old policy's states in the performance difference or a missing 1/(1 - gamma), move the answer by more
than 1e-3). Each answer is also judged by a property computed without the reference: the performance difference must
equal ``J(pi_new) - J(pi)`` from two evaluations, a CPI step must not lower ``J``, and a lower bound must lie below
``J(pi_new)``.
"""

from __future__ import annotations

import numpy as np

from ..envs.toytext import from_toytext
from ..fixtures import random_instances
from ..tabular import exact
from ..tabular import improvement as imp
from ..tabular.builders import random_mdp, two_state_mdp
from ..tabular.mdp import FiniteMDP
from ..tabular.policy_gradient import softmax_policy
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import MULTIPLE, Question, make_quiz

RTOL = 1e-9


def _mdp(P, r, rho0, gamma) -> FiniteMDP:
    return FiniteMDP(np.asarray(P, float), np.asarray(r, float), np.asarray(rho0, float), gamma)


def _close(got, expected, name: str) -> str | None:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return array_problem(got, expected, RTOL * scale, name)


def _pair_cases(seed: int, hint_identical: str, count: int = 3) -> list[Case]:
    rng = np.random.default_rng(seed)
    two = two_state_mdp(0.9)
    lake = from_toytext("FrozenLake-v1", gamma=0.95, is_slippery=True)
    stay = np.array([[1.0, 0.0], [1.0, 0.0]])
    switch_then_stay = np.array([[0.0, 1.0], [1.0, 0.0]])
    zero = random_mdp(3, 2, gamma=0.0, seed=seed)

    def case(label, mdp, pi, pi_new, hint=""):
        return Case(label, dict(P=mdp.P, r=mdp.r, rho0=mdp.rho0, pi=pi, pi_new=pi_new, gamma=mdp.gamma), hint)

    cases = [
        case("identical policies", two, np.full((2, 2), 0.5), np.full((2, 2), 0.5), hint_identical),
        case("two-state MDP: stay everywhere, then switch in state 0", two, stay, switch_then_stay,
             "the new policy reaches state 1 and stays: compute A of the OLD policy, and average it over the states "
             "the NEW policy visits (d^{pi_new}), with the factor 1/(1 - gamma)."),
        case("gamma = 0", zero, np.full((3, 2), 0.5), softmax_policy(rng.normal(size=(3, 2))),
             "with gamma = 0 only the first step counts: d = rho0 and A = r - r_pi."),
        case("FrozenLake 4x4", lake, np.full((16, 4), 0.25), softmax_policy(rng.normal(size=(16, 4)))),
    ]
    for i, (mdp, pi, r2) in enumerate(random_instances(count, seed)):
        cases.append(case(f"random MDP #{i + 1}", mdp, pi, softmax_policy(np.log(pi + 1e-9)
                                                                          + r2.normal(size=pi.shape))))
    return cases


def performance_difference(P, r, rho0, pi, pi_new, gamma):
    """Exercise 12.1's signature for :func:`rlcore.tabular.improvement.performance_difference` (Chapter 12, §12.1)."""
    return imp.performance_difference(_mdp(P, r, rho0, gamma), pi, pi_new)


def check_performance_difference(fn, seed: int = 121) -> CheckResult:
    """Exercise 12.1 (Chapter 12, §12.1): ``performance_difference(P, r, rho0, pi, pi_new, gamma)``, eq. (eq-pdl)."""
    cases = _pair_cases(seed, "pi_new = pi: the advantage of pi over itself averages to 0 in every state.")

    def compare(got, case):
        problem = _close(got, case.expected, "the performance difference")
        if problem is None:  # property: two evaluations, no advantage function
            k = case.kwargs
            mdp = _mdp(k["P"], k["r"], k["rho0"], k["gamma"])
            gap = exact.expected_return(mdp, k["pi_new"]) - exact.expected_return(mdp, k["pi"])
            if abs(float(got) - gap) > 1e-9 * max(1.0, abs(gap)):
                problem = "your value is not J(pi_new) - J(pi)"
        return problem

    return run_exercise("Exercise 12.1 (performance_difference)", fn, cases, performance_difference, compare,
                        "rlcore.tabular.improvement.performance_difference")


def cpi_step(P, r, rho0, pi, gamma):
    """Exercise 12.2's signature for :func:`rlcore.tabular.improvement.cpi_step` (Chapter 12, §12.3)."""
    return imp.cpi_step(_mdp(P, r, rho0, gamma), pi)


def check_cpi_step(fn, seed: int = 122) -> CheckResult:
    """Exercise 12.2 (Chapter 12, §12.3): ``cpi_step(P, r, rho0, pi, gamma)`` returns ``(pi_next, alpha)``: the
    mixture ``(1 - alpha) pi + alpha pi'`` with ``pi'`` greedy in ``A^pi`` (ties to the lowest action) and ``alpha``
    from eq. (eq-cpi-alpha)."""
    cases = []
    for case in _pair_cases(seed, "", count=4):
        kwargs = {k: v for k, v in case.kwargs.items() if k != "pi_new"}
        cases.append(Case(case.label.split(":")[0], kwargs, ""))
    cases[0].hint = "the uniform policy of the two-state MDP: alpha* = min(1, (1 - gamma) A / (4 gamma eps))."
    cases[1].hint = ("A is the advantage of the greedy policy averaged over d^pi (states of the OLD policy); eps is "
                     "the largest |sum_a pi'(a|s) A(s, a)| over states.")
    optimal = Case("an optimal policy", dict(P=cases[1].kwargs["P"], r=cases[1].kwargs["r"],
                                             rho0=cases[1].kwargs["rho0"], pi=np.array([[0.0, 1.0], [1.0, 0.0]]),
                                             gamma=0.9),
                   "an optimal policy has no positive advantage anywhere: alpha* = 0 and the policy stays.")
    cases.insert(2, optimal)

    def compare(got, case):
        try:
            pi_next, alpha = got
        except (TypeError, ValueError):
            return "return a pair (pi_next, alpha)"
        problem = _close(alpha, case.expected[1], "alpha") or _close(pi_next, case.expected[0], "pi_next")
        if problem is None:  # property: the step never lowers J
            k = case.kwargs
            mdp = _mdp(k["P"], k["r"], k["rho0"], k["gamma"])
            if exact.expected_return(mdp, np.asarray(pi_next, float)) < exact.expected_return(mdp, k["pi"]) - 1e-9:
                problem = "the step lowers J"
        return problem

    return run_exercise("Exercise 12.2 (cpi_step)", fn, cases, cpi_step, compare, "rlcore.tabular.improvement.cpi_step")


def trpo_lower_bound(P, r, rho0, pi, pi_new, gamma):
    """Exercise 12.3's signature: :func:`rlcore.tabular.improvement.trpo_lower_bound` with the total variation
    (Chapter 12, §12.4)."""
    return imp.trpo_lower_bound(_mdp(P, r, rho0, gamma), pi, pi_new, "tv")


def check_trpo_lower_bound(fn, seed: int = 123) -> CheckResult:
    """Exercise 12.3 (Chapter 12, §12.4): ``trpo_lower_bound(P, r, rho0, pi, pi_new, gamma)``, eq. (eq-trpo-bound)
    with ``D = (max_s TV(pi(.|s), pi_new(.|s)))^2``; it must lie below ``J(pi_new)`` on every case, 20 random MDPs
    among them."""
    cases = _pair_cases(seed, "pi_new = pi: TV = 0 and the surrogate gain is 0, so the bound is J(pi) itself.",
                        count=20)

    def compare(got, case):
        problem = _close(got, case.expected, "the bound")
        if problem is None:  # property: it is a lower bound
            k = case.kwargs
            J_new = exact.expected_return(_mdp(k["P"], k["r"], k["rho0"], k["gamma"]), k["pi_new"])
            if float(got) > J_new + 1e-10:
                problem = f"the bound {float(got):.6g} exceeds J(pi_new) = {J_new:.6g}"
        return problem

    return run_exercise("Exercise 12.3 (trpo_lower_bound)", fn, cases, trpo_lower_bound, compare,
                        "rlcore.tabular.improvement.trpo_lower_bound")


QUESTIONS = {q.id: q for q in [
    Question(
        "12.1", "The surrogate L_π(π′) replaces the states of π′ by those of π in the performance difference. Which "
        "statements are true? Select all that apply.", MULTIPLE, frozenset("acd"),
        "(a) The surrogate needs only samples of the old policy, with one ratio π′/π per step. (b) is false: it "
        "matches J(π′) − J(π) only to first order around π′ = π; far away the two can differ in sign. (c) This is the "
        "first-order match of §12.2. (d) The bounds of §12.4 control the error by a divergence between π and π′, "
        "which is why trust-region methods keep that divergence small.",
        choices=("it can be estimated from the old policy's data alone",
                 "it equals J(π′) − J(π) for every π′",
                 "its gradient at π′ = π is the policy gradient",
                 "its error is bounded by a multiple of a divergence between π and π′"),
        hints={"ac": "one more: what do the bounds of §12.4 say about the surrogate's error?",
               "abcd": "(b): look at the right side of the figure in §12.5, far from θ′ = θ."}),
]}

#: ``quiz("12.1")`` shows question 12.1 (Chapter 12, §12.2).
quiz = make_quiz(QUESTIONS)
