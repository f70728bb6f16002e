"""Checkers for the exercises of Chapter 1 (the RL problem: MDPs, returns, values)."""

from __future__ import annotations

import numpy as np

from ..envs.toytext import from_toytext
from ..estimators import returns
from ..fixtures import random_instances
from ..tabular import exact
from ..tabular.builders import random_mdp, two_state_mdp
from ..tabular.mdp import FiniteMDP, random_policy
from .framework import Case, CheckResult, array_problem, run_exercise

# Tolerance for exact float64 answers: the reference and a correct reader's solution differ
# only by rounding (~1e-13 here), while every conceptual error moves some entry by > 1e-3.
ATOL = 1e-8


def _reward_streams(seed: int = 101) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = [
        Case("one step", dict(rewards=np.array([2.0]), dones=np.array([True]), gamma=0.9),
             "a single reward is its own return: G_0 = r_0, with no discount on the first reward."),
        Case("gamma = 0", dict(rewards=np.array([1.0, -2.0, 3.0]), dones=np.array([False, False, True]), gamma=0.0),
             "with gamma = 0 only the immediate reward counts: G_t = r_t."),
        Case("gamma = 1, one episode", dict(rewards=np.array([1.0, 2.0, 3.0, 4.0]),
                                            dones=np.array([False, False, False, True]), gamma=1.0),
             "with gamma = 1, G_t is the plain sum of the rewards from t to the episode's end."),
        Case("episode boundary", dict(rewards=np.array([1.0, 1.0, 5.0, 1.0]),
                                      dones=np.array([False, True, False, True]), gamma=0.5),
             "after dones[t] is True a new episode starts: G_t = r_t there, and no reward of the next "
             "episode may flow back across the boundary."),
        Case("unfinished last episode", dict(rewards=np.array([1.0, 2.0, 3.0]),
                                             dones=np.array([False, False, False]), gamma=0.9),
             "the stream may stop mid-episode: sum only the rewards that are there (nothing after the last step)."),
    ]
    for i in range(8):
        T = int(rng.integers(5, 40))
        cases.append(Case(f"random stream #{i + 1}", dict(
            rewards=rng.normal(size=T).round(3), dones=rng.random(T) < 0.2, gamma=float(rng.uniform(0.5, 0.999)))))
    return cases


def check_rewards_to_go(fn) -> CheckResult:
    """Exercise 1.1 (Chapter 1, §1.2): ``rewards_to_go(rewards, dones, gamma)``.

    Expected: ``G_t = r_t + gamma (1 - done_t) G_{t+1}``.
    """
    return run_exercise(
        "Exercise 1.1 (rewards_to_go)", fn, _reward_streams(), returns.rewards_to_go,
        lambda got, case: array_problem(got, case.expected, ATOL, "G"), "rlcore.returns.rewards_to_go")


def _mdp_cases(seed: int) -> list[tuple[str, FiniteMDP, np.ndarray, str]]:
    rng = np.random.default_rng(seed)
    two = two_state_mdp(0.9)
    lake = from_toytext("FrozenLake-v1", gamma=0.95, is_slippery=True)
    out = [
        ("two-state MDP, always switch", two, np.array([[0.0, 1.0], [0.0, 1.0]]),
         "solve (I - gamma P_pi) V = r_pi, with P_pi[s, s'] = sum_a pi(a|s) P[s, a, s']."),
        ("gamma = 0", random_mdp(3, 2, gamma=0.0, seed=seed), None,
         "with gamma = 0 the value is the expected immediate reward: V = r_pi, Q = r."),
        ("FrozenLake 4x4, uniform policy", lake, np.full((16, 4), 0.25),
         "terminal states are absorbing with zero reward, so nothing special is needed for them."),
    ]
    for i, (mdp, _, _) in enumerate(random_instances(4, seed)):
        out.append((f"random MDP #{i + 1}", mdp, None, ""))
    return [(label, mdp, random_policy(mdp, rng) if pi is None else pi, hint) for label, mdp, pi, hint in out]


def _evaluate_reference(P, r, pi, gamma):
    mdp = FiniteMDP(P, r, np.full(P.shape[0], 1.0 / P.shape[0]), gamma)
    V = exact.evaluate_policy(mdp, pi)
    return V, exact.q_from_v(mdp, V)


def check_evaluate_policy(fn) -> CheckResult:
    """Exercise 1.2: ``evaluate_policy_exact(P, r, pi, gamma)`` → ``(V, Q)`` by a linear solve (Chapter 1, §1.3)."""
    cases = [Case(label, dict(P=mdp.P.copy(), r=mdp.r.copy(), pi=pi, gamma=mdp.gamma), hint)
             for label, mdp, pi, hint in _mdp_cases(seed=12)]

    def compare(got, case):
        if not (isinstance(got, tuple) and len(got) == 2):
            return f"return a tuple (V, Q), got {type(got).__name__}"
        V, Q = (np.asarray(x) for x in got)
        problem = array_problem(V, case.expected[0], ATOL, "V") or array_problem(Q, case.expected[1], ATOL, "Q")
        if problem:
            return problem
        k = case.kwargs  # property: V is the fixed point of T^pi and V = sum_a pi Q
        residual = np.max(np.abs(np.sum(k["pi"] * Q, axis=1) - V))
        return None if residual < 1e-10 * max(1.0, np.max(np.abs(V))) else f"V != sum_a pi(a|s) Q(s,a) ({residual:.2g})"

    return run_exercise("Exercise 1.2 (evaluate_policy_exact)", fn, cases, _evaluate_reference, compare,
                        "rlcore.exact.evaluate_policy and rlcore.exact.q_from_v")


def _occupancy_reference(P, rho0, pi, gamma):
    return exact.occupancy(FiniteMDP(P, np.zeros(P.shape[:2]), rho0, gamma), pi)


def check_occupancy(fn) -> CheckResult:
    """Exercise 1.3 (Chapter 1, §1.5): ``occupancy(P, rho0, pi, gamma)``, the normalised discounted occupancy."""
    cases = []
    for label, mdp, pi, hint in _mdp_cases(seed=13):
        if mdp.gamma == 0:
            hint = "with gamma = 0 the agent is only ever 'at' its start state: d = rho0."
        else:
            hint = ("d solves d = (1 - gamma) rho0 + gamma P_pi^T d: probability flows forward along P_pi, and the "
                    "factor (1 - gamma) makes d a distribution (it sums to 1).")
        cases.append(Case(label, dict(P=mdp.P.copy(), rho0=mdp.rho0.copy(), pi=pi, gamma=mdp.gamma), hint))

    def compare(got, case):
        problem = array_problem(got, case.expected, ATOL, "d")
        if problem:
            total = float(np.sum(np.asarray(got, dtype=float)))
            if np.isfinite(total) and abs(total - 1) > 1e-6 and np.shape(got) == np.shape(case.expected):
                problem += f"; your d sums to {total:.4g}, but a distribution sums to 1"
        return problem

    return run_exercise("Exercise 1.3 (occupancy)", fn, cases, _occupancy_reference, compare,
                        "rlcore.exact.occupancy")
