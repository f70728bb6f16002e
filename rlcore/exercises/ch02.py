"""Checkers for the exercises of Chapter 2 (dynamic programming).

``V*`` comes from enumerating every deterministic policy where there are few enough (a route that
shares nothing with value or policy iteration), and from rlcore's value iteration run to 1e-12
on the 4×4 FrozenLake.
"""

from __future__ import annotations

import numpy as np

from ..envs.toytext import from_toytext
from ..fixtures import random_instances
from ..tabular import dp, exact
from ..tabular.builders import chain_mdp, random_mdp
from ..tabular.mdp import FiniteMDP
from .ch01 import as_float64
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import MULTIPLE, NUMBER, SINGLE, Question, make_quiz

#: Brute force enumerates A^S deterministic policies only below this count.
ENUMERATE_LIMIT = 20_000


def _mdp(P, r, gamma) -> FiniteMDP:
    P, r = as_float64(P, r)
    return FiniteMDP(P, r, np.full(P.shape[0], 1.0 / P.shape[0]), gamma)


def _optimal_values(P, r, gamma) -> np.ndarray:
    mdp = _mdp(P, r, gamma)
    if mdp.n_actions ** mdp.n_states <= ENUMERATE_LIMIT:
        return dp.brute_force_optimum(mdp)[0]
    return dp.value_iteration(mdp, tol=1e-12).V


def _integer_mdp() -> tuple[np.ndarray, np.ndarray]:
    """A deterministic 3-state MDP as integer arrays (P, r): the optimum has non-integer values."""
    P = np.zeros((3, 2, 3), dtype=np.int64)
    P[0, 0, 1] = P[0, 1, 0] = P[1, 0, 2] = P[1, 1, 0] = P[2, 0, 2] = P[2, 1, 0] = 1
    r = np.array([[0, 1], [0, -1], [1, 3]], dtype=np.int64)
    return P, r


def _small_mdps(seed: int) -> list[tuple[str, FiniteMDP, str]]:
    negative = random_mdp(4, 3, gamma=0.9, seed=seed + 1)
    out = [
        ("random MDP, gamma = 0.99", random_mdp(4, 3, gamma=0.99, seed=seed),
         "near gamma = 1, ||V_{k+1} - V_k|| < tol does NOT mean ||V_k - V*|| < tol: the error can be "
         "gamma/(1-gamma) = 99 times larger. Stop when ||V_{k+1} - V_k|| < tol (1-gamma) / (2 gamma)."),
        ("chain of 6 states, gamma = 0.9", chain_mdp(6, gamma=0.9),
         "the far reward is worth more than the small one at the left end: values must propagate "
         "back along the whole chain, which takes many backups."),
        ("negative rewards", FiniteMDP(negative.P, negative.r - 1.0, negative.rho0, 0.9),
         "every reward is negative, so the values fall from V_0 = 0: V_{k+1} - V_k is negative and the "
         "stopping test must use its absolute value."),
        ("gamma = 0", random_mdp(3, 2, gamma=0.0, seed=seed + 2),
         "with gamma = 0, V*(s) = max_a r(s, a), reached after one backup; a stopping threshold with gamma "
         "in the denominator divides by zero here."),
    ]
    for i, (mdp, _, _) in enumerate(random_instances(3, seed, states=(2, 5), actions=(2, 3), gammas=(0.5, 0.95))):
        out.append((f"random MDP #{i + 1}", mdp, ""))
    return out


def _value_iteration_fallback(P, r, gamma, tol):
    return dp.value_iteration(_mdp(P, r, gamma), tol).V


def check_value_iteration(fn, seed: int = 21) -> CheckResult:
    """Exercise 2.3: ``value_iteration(P, r, gamma, tol)`` → ``V`` with ``||V - V*||_inf <= tol`` (Chapter 2, §2.4).

    The tolerance is the exercise's own ``tol`` (eq. (eq-vi-stop) guarantees ``tol / 2``), on the
    cases below with tol from 1e-8 to 1e-3 (values near 100 carry
    rounding errors of about 1e-12, far below 1e-8).
    """
    cases = [Case(label, dict(P=mdp.P.copy(), r=mdp.r.copy(), gamma=mdp.gamma, tol=1e-6), hint)
             for label, mdp, hint in _small_mdps(seed)]
    P, r = _integer_mdp()
    cases.insert(4, Case("integer inputs", dict(P=P, r=r, gamma=0.5, tol=1e-6),
                         "P and r are integer arrays: V = np.zeros_like(r[:, 0]) is an integer array and rounds "
                         "every backup. Work in floating point."))
    slow = random_mdp(3, 2, gamma=0.99, seed=7)
    cases.insert(1, Case("gamma = 0.99, tol = 1e-8", dict(P=slow.P, r=slow.r, gamma=0.99, tol=1e-8),
                         "a fixed number of sweeps is not enough: the stopping rule must depend on tol and gamma "
                         "(here it needs about 3,000 backups)."))
    lake = from_toytext("FrozenLake-v1", gamma=0.9, is_slippery=True)
    cases.append(Case("float32 inputs, tol = 1e-3", dict(P=lake.P.astype(np.float32), r=lake.r.astype(np.float32),
                                                         gamma=0.9, tol=1e-3),
                      "float32 inputs: the answer needs to be within tol = 1e-3 of V*."))

    def compare(got, case):
        return array_problem(got, case.expected, case.kwargs["tol"], "V")

    return run_exercise("Exercise 2.3 (value_iteration)", fn, cases,
                        lambda P, r, gamma, tol: _optimal_values(P, r, gamma), compare,
                        "rlcore.tabular.dp.value_iteration", fallback_fn=_value_iteration_fallback)


def _policy_iteration_fallback(P, r, gamma):
    res = dp.policy_iteration(_mdp(P, r, gamma))
    return res.policy, res.values


def check_policy_iteration(fn, seed: int = 22) -> CheckResult:
    """Exercise 2.2: ``policy_iteration(P, r, gamma)`` → ``(policy, values)`` (Chapter 2, §2.3).

    ``policy`` is optimal (its exact value equals ``V*``), ``values[0]`` is the value of the start
    policy (action 0 everywhere), each entry is the value of a deterministic policy, the list never
    decreases in any state, and its last entry is the value of ``policy``.
    """
    cases = [Case(label, dict(P=mdp.P.copy(), r=mdp.r.copy(), gamma=mdp.gamma),
                  hint or "improve greedily, pi(s) = argmax_a Q^pi(s, a), and repeat until the policy stops changing.")
             for label, mdp, hint in _small_mdps(seed)]
    P, r = _integer_mdp()
    cases.insert(4, Case("integer inputs", dict(P=P, r=r, gamma=0.5), "P and r are integer arrays: work in floats."))
    lake = from_toytext("FrozenLake-v1", gamma=0.99, is_slippery=True)
    cases.append(Case("FrozenLake 4x4, gamma = 0.99", dict(P=lake.P, r=lake.r, gamma=0.99),
                      "exact ties (every action of a hole is worth 0) meet rounding: np.argmax can switch between "
                      "actions whose values differ by 1e-17 and cycle forever. Keep the current action unless "
                      "another is better by more than a tiny tolerance, and stop when the policy is stable."))

    def compare(got, case):
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            return f"return a tuple (policy, values), got {type(got).__name__}"
        k = case.kwargs
        mdp = _mdp(k["P"], k["r"], k["gamma"])
        policy = np.asarray(got[0])
        if policy.shape != (mdp.n_states,) or not np.issubdtype(policy.dtype, np.integer):
            return f"policy must be {mdp.n_states} integer actions, got shape {policy.shape}, dtype {policy.dtype}"
        if policy.min() < 0 or policy.max() >= mdp.n_actions:
            return f"policy holds actions outside [0, {mdp.n_actions})"
        values = list(got[1])
        if not values:
            return "values is empty: it must hold V^{pi_0}, V^{pi_1}, ... for every policy visited"
        scale = max(1.0, float(np.max(np.abs(case.expected))))
        tol = 1e-8 * scale  # 1e-8: two exact linear solves agree to ~1e-13 here; any wrong policy is off by > 1e-4
        for t, v in enumerate(values):
            problem = array_problem(v, case.expected, np.inf, f"values[{t}]")
            if problem:
                return problem
        start = exact.evaluate_policy(mdp, np.zeros(mdp.n_states, dtype=np.int64))
        problem = array_problem(values[0], start, tol, "values[0]")
        if problem:
            return problem + " (values[0] must be the value of the start policy, action 0 in every state)"
        if mdp.n_actions ** mdp.n_states <= ENUMERATE_LIMIT:
            all_values = dp.brute_force_optimum(mdp)[1]
            for t, v in enumerate(values):
                if not np.any(np.max(np.abs(all_values - np.asarray(v, dtype=float)), axis=1) <= tol):
                    return f"values[{t}] is not the value of any deterministic policy: it must be V^(pi_{t})"
        for t in range(len(values) - 1):
            if np.any(np.asarray(values[t + 1], float) < np.asarray(values[t], float) - tol):
                return f"values[{t + 1}] < values[{t}] somewhere: policy iteration never gets worse"
        mine = exact.evaluate_policy(mdp, policy)
        problem = array_problem(values[-1], mine, tol, "values[-1]")
        if problem:
            return problem + " (the last entry must be the value of the policy you return)"
        return array_problem(mine, case.expected, tol, "V of your policy")

    return run_exercise("Exercise 2.2 (policy_iteration)", fn, cases,
                        lambda P, r, gamma: _optimal_values(P, r, gamma), compare,
                        "rlcore.tabular.dp.policy_iteration", fallback_fn=_policy_iteration_fallback)


def check_greedy(fn, seed: int = 23) -> CheckResult:
    """Exercise 2.1: ``greedy(Q)`` → integer actions, exact ties broken towards the lowest index (Chapter 2, §2.3)."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("a tie between actions 1 and 2", dict(Q=np.array([[0.0, 1.0, 1.0]])),
             "among tied best actions pick the lowest index (np.argmax does exactly this)."),
        Case("an all-equal row", dict(Q=np.zeros((2, 4))), "all actions tie, so the answer is action 0."),
        Case("negative values", dict(Q=np.array([[-3.0, -1.0, -2.0], [-5.0, -5.0, -4.0]])),
             "the best action has the largest Q, even when every Q is negative."),
        Case("a gap of 0.001 is not a tie", dict(Q=np.array([[1.0, 1.001, 0.0], [2.0, 1.999, 2.0]])),
             "only exactly equal values tie: 1.001 beats 1.0."),
        Case("integer Q", dict(Q=np.array([[3, 7, 7], [-1, -4, -1]], dtype=np.int64)),
             "Q may hold integers; the answer is the same."),
        Case("float32 Q", dict(Q=rng.normal(size=(20, 3)).astype(np.float32))),
        Case("many states", dict(Q=rng.integers(0, 3, size=(50, 4)).astype(float)),
             "return one action per state (a row of Q), as integers."),
        Case("one action", dict(Q=rng.normal(size=(5, 1))), "with one action the answer is 0 everywhere."),
        Case("random Q", dict(Q=rng.normal(size=(30, 5)))),
    ]

    def compare(got, case):
        arr = np.asarray(got)
        Q = case.kwargs["Q"]
        if arr.shape != (Q.shape[0],):
            return f"expected {Q.shape[0]} actions (one per state, a row of Q), got shape {arr.shape}"
        if not np.issubdtype(arr.dtype, np.integer):
            return f"actions must be integers, got dtype {arr.dtype}"
        return array_problem(arr, case.expected, 0, "action")

    return run_exercise("Exercise 2.1 (greedy)", fn, cases, dp.greedy, compare, "rlcore.tabular.dp.greedy")


QUESTIONS = {q.id: q for q in [
    Question(
        "2.1", "Value iteration with \\(\\gamma = 0.99\\) stops when "
        "\\(\\lVert V_{k+1} - V_k\\rVert_\\infty = 0.001\\). "
        "What is the guaranteed bound on \\(\\lVert V_{k+1} - V^*\\rVert_\\infty\\) that the contraction gives?",
        NUMBER, 0.099,
        "||V_{k+1} - V*|| <= gamma/(1 - gamma) ||V_{k+1} - V_k|| = 99 * 0.001 = 0.099: a hundred times the last "
        "change, which is why the stopping threshold carries the factor (1 - gamma)/(2 gamma).", rtol=1e-2),
    Question(
        "2.2", "Policy iteration with exact evaluation keeps its current action unless another is strictly better. "
        "Which statements are true? Select all that apply.", MULTIPLE, frozenset("acd"),
        "Each change strictly improves the value in some state and never lowers it anywhere, so no policy can come "
        "back (b is false) and at most A^S policies are visited; at the end the policy is greedy for its own Q, "
        "which makes its value a solution of the optimality equation.",
        choices=("V^{π_{t+1}}(s) ≥ V^{π_t}(s) in every state s", "it may visit the same policy twice before stopping",
                 "it stops after at most A^S improvement steps", "the policy it returns is greedy with respect to "
                 "its own action values")),
    Question(
        "2.3", "Values \\(V\\) satisfy \\(\\lVert V - V^*\\rVert_\\infty \\le e\\). How much can the policy "
        "greedy with respect to \\(V\\) lose, \\(\\lVert V^* - V^{\\pi}\\rVert_\\infty\\), in the worst case?",
        SINGLE, "c",
        "The bound 2 gamma e / (1 - gamma) of §2.4 is tight: the two-state example there loses 0.9 with e = 0.051.",
        choices=("e", "2e", "2γe / (1 − γ)", "e / (1 − γ)"),
        hints={"a": "closeness of the values does not carry over to the policy: see the example in §2.4.",
               "b": "that would hold without the feedback of the policy's own future; §2.4 has a counterexample."}),
]}

#: ``quiz("2.1")`` shows question 2.1; ``quiz("2.1", answer=0.099)`` grades an answer (Chapter 2, §2.3).
quiz = make_quiz(QUESTIONS)
