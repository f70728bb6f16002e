"""Checkers for the exercises of Chapter 2 (dynamic programming)."""

from __future__ import annotations

import numpy as np

from ..fixtures import random_instances
from ..tabular import dp, exact
from ..tabular.builders import chain_mdp, random_mdp
from ..tabular.mdp import FiniteMDP
from .framework import Case, CheckResult, array_problem, run_exercise


def _mdp(P, r, gamma) -> FiniteMDP:
    return FiniteMDP(P, r, np.full(P.shape[0], 1.0 / P.shape[0]), gamma)


def _small_mdps(seed: int) -> list[tuple[str, FiniteMDP, str]]:
    out = [
        ("random MDP, gamma = 0.99", random_mdp(4, 3, gamma=0.99, seed=seed),
         "near gamma = 1, ||V_{k+1} - V_k|| < tol does NOT mean ||V_k - V*|| < tol: the error can be "
         "gamma/(1-gamma) = 99 times larger. Stop when ||V_{k+1} - V_k|| < tol (1-gamma) / (2 gamma)."),
        ("chain of 6 states, gamma = 0.9", chain_mdp(6, gamma=0.9),
         "the far reward is worth more than the small one at the left end: values must propagate "
         "back along the whole chain, which takes many backups."),
    ]
    for i, (mdp, _, _) in enumerate(random_instances(4, seed, states=(2, 5), actions=(2, 3), gammas=(0.5, 0.95))):
        out.append((f"random MDP #{i + 1}", mdp, ""))
    return out


def check_value_iteration(fn) -> CheckResult:
    """Exercise 2.1: ``value_iteration(P, r, gamma, tol)`` → ``V`` with ``||V - V*||_inf <= tol`` (Chapter 2, §2.3).

    ``V*`` comes from enumerating every deterministic policy, a route that shares nothing with
    value iteration.
    """
    tol = 1e-6
    cases = [Case(label, dict(P=mdp.P.copy(), r=mdp.r.copy(), gamma=mdp.gamma, tol=tol), hint)
             for label, mdp, hint in _small_mdps(seed=21)]

    def reference(P, r, gamma, tol):
        return dp.brute_force_optimum(_mdp(P, r, gamma))[0]

    def compare(got, case):
        problem = array_problem(got, case.expected, tol, "V")
        if problem is None:  # property: V is (nearly) a fixed point of the optimality operator
            k = case.kwargs
            residual = np.max(np.abs(exact.bellman_optimality(_mdp(k["P"], k["r"], k["gamma"]), got) - got))
            if residual > 2 * tol:  # ||TV - V|| <= (1 + gamma) ||V - V*|| <= 2 tol
                problem = f"V is within tol of V* but ||TV - V||_inf = {residual:.3g} > 2 tol"
        return problem

    return run_exercise("Exercise 2.1 (value_iteration)", fn, cases, reference, compare,
                        "rlcore.dp.value_iteration")


def check_policy_iteration(fn) -> CheckResult:
    """Exercise 2.2: ``policy_iteration(P, r, gamma)`` → ``(policy, values)`` (Chapter 2, §2.4).

    ``policy`` is optimal (its exact value equals ``V*`` by enumeration) and ``values``, the list
    ``V^{pi_0}, V^{pi_1}, ...``, never decreases in any state.
    """
    cases = [Case(label, dict(P=mdp.P.copy(), r=mdp.r.copy(), gamma=mdp.gamma),
                  "improve greedily, pi(s) = argmax_a Q^pi(s, a), and repeat until the policy stops changing.")
             for label, mdp, _ in _small_mdps(seed=22)]

    def reference(P, r, gamma):
        return dp.brute_force_optimum(_mdp(P, r, gamma))[0]

    def compare(got, case):
        if not (isinstance(got, tuple) and len(got) == 2):
            return f"return a tuple (policy, values), got {type(got).__name__}"
        policy, values = np.asarray(got[0]), [np.asarray(v, dtype=float) for v in got[1]]
        k = case.kwargs
        mdp = _mdp(k["P"], k["r"], k["gamma"])
        if policy.shape != (mdp.n_states,) or not np.issubdtype(policy.dtype, np.integer):
            return f"policy must be {mdp.n_states} integer actions, got shape {policy.shape}, dtype {policy.dtype}"
        if policy.min() < 0 or policy.max() >= mdp.n_actions:
            return f"policy holds actions outside [0, {mdp.n_actions})"
        for t, (before, after) in enumerate(zip(values, values[1:], strict=False)):
            if np.any(after < before - 1e-10):  # 1e-10: rounding of two exact solves
                return f"values[{t + 1}] < values[{t}] somewhere: policy iteration must never get worse"
        return array_problem(exact.evaluate_policy(mdp, policy), case.expected, 1e-8, "V of your policy")

    return run_exercise("Exercise 2.2 (policy_iteration)", fn, cases, reference, compare,
                        "rlcore.dp.policy_iteration")


def check_greedy(fn) -> CheckResult:
    """Exercise 2.3: ``greedy(Q)`` → integer actions, ties broken towards the lowest index (Chapter 2, §2.4)."""
    rng = np.random.default_rng(23)
    cases = [
        Case("a tie between actions 1 and 2", dict(Q=np.array([[0.0, 1.0, 1.0]])),
             "among tied best actions pick the lowest index (np.argmax does exactly this)."),
        Case("an all-equal row", dict(Q=np.zeros((2, 4))), "all actions tie, so the answer is action 0."),
        Case("negative values", dict(Q=np.array([[-3.0, -1.0, -2.0], [-5.0, -5.0, -4.0]])),
             "the best action has the largest Q, even when every Q is negative."),
        Case("many states", dict(Q=rng.integers(0, 3, size=(50, 4)).astype(float)),
             "return one action per state (a row of Q), as integers."),
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

    return run_exercise("Exercise 2.3 (greedy)", fn, cases, dp.greedy, compare, "rlcore.dp.greedy")
