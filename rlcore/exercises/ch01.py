"""Checkers for the exercises of Chapter 1 (the RL problem: MDPs, returns, values).

Tolerances, as the exercises state them: an entry is right when it is within ``1e-5`` of the
reference, relative to the largest entry of the answer (or 1, whichever is larger). float32 code
makes errors of about 1e-6 there; every conceptual error the tests know moves some entry by more
than 1e-3. On float64 inputs the answers must also satisfy their defining linear equations to
``1e-10`` (relative to the largest reward), which a linear solve does and an explicit inverse
does not when gamma is close to 1.
"""

from __future__ import annotations

import numpy as np

from ..envs.toytext import from_toytext
from ..estimators import returns
from ..fixtures import random_instances
from ..tabular import exact
from ..tabular.builders import random_mdp, two_state_mdp
from ..tabular.mdp import FiniteMDP, random_policy
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import MULTIPLE, NUMBER, SINGLE, Question, make_quiz

#: Agreement with the reference, relative to max(1, largest |entry|): float32 code passes, conceptual errors fail.
RTOL = 1e-5
#: Largest residual of the defining linear equation on float64 inputs, relative to max(1, largest |reward|).
RESIDUAL_TOL = 1e-10


def as_float64(P, *arrays):
    """The inputs in float64, transition rows renormalised: float32 rows sum to 1 only within 1e-7 (Chapter 1, §1.2)."""
    P = np.asarray(P, dtype=np.float64)
    return (P / P.sum(axis=-1, keepdims=True), *(np.asarray(x, dtype=np.float64) for x in arrays))


def close(got, expected, name: str) -> str | None:
    """``array_problem`` with this chapter's tolerance (Chapter 1, §1.2)."""
    scale = max(1.0, float(np.max(np.abs(expected))) if np.size(expected) else 1.0)
    return array_problem(got, expected, RTOL * scale, name)


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
        Case("negative rewards", dict(rewards=np.array([-1.0, -1.0, -1.0, -10.0, -1.0]),
                                      dones=np.array([False, False, False, True, False]), gamma=0.8),
             "rewards can be negative (a cost per step); nothing in the recursion should assume r >= 0."),
        Case("integer rewards, 0/1 dones", dict(rewards=np.array([1, 0, 2, 1, 3]), dones=np.array([0, 0, 1, 0, 1]),
                                                gamma=0.5),
             "the inputs are integer arrays: an output made with np.zeros_like(rewards) is an integer array that "
             "rounds every return, and ~dones on integers gives -1 and -2 instead of False and True. Build a float "
             "output and test dones[t] (or use 1 - dones)."),
        Case("float32 rewards", dict(rewards=rng.normal(size=30).astype(np.float32), dones=rng.random(30) < 0.2,
                                     gamma=0.95), "float32 inputs: the tolerance allows float32 rounding."),
        Case("gamma = 0.999, long episode", dict(rewards=rng.normal(size=600).round(3),
                                                 dones=np.arange(600) == 599, gamma=0.999),
             "near gamma = 1 every reward to the episode's end counts; check the discount is applied once per step."),
    ]
    for i in range(6):
        T = int(rng.integers(5, 40))
        cases.append(Case(f"random stream #{i + 1}", dict(
            rewards=rng.normal(size=T).round(3), dones=rng.random(T) < 0.2, gamma=float(rng.uniform(0.5, 0.999)))))
    return cases


def _rewards_to_go_fallback(rewards, dones, gamma):
    return returns.rewards_to_go(np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool), gamma)


def check_rewards_to_go(fn, seed: int = 101) -> CheckResult:
    """Exercise 1.1 (Chapter 1, §1.2): ``rewards_to_go(rewards, dones, gamma)``.

    Expected: ``G_t = r_t + gamma (1 - done_t) G_{t+1}`` (eq. (eq-rewards-to-go)).
    """
    return run_exercise(
        "Exercise 1.1 (rewards_to_go)", fn, _reward_streams(seed), _rewards_to_go_fallback,
        lambda got, case: close(got, case.expected, "G"), "rlcore.estimators.returns.rewards_to_go")


def _zero_mean_reward(mdp: FiniteMDP, pi: np.ndarray) -> np.ndarray:
    """Rewards shifted so that their long-run average under ``pi`` is 0: V stays small as gamma -> 1."""
    P_pi = exact.policy_transition(mdp, pi)
    w, v = np.linalg.eig(P_pi.T)
    mu = np.real(v[:, np.argmin(np.abs(w - 1))])
    mu = mu / mu.sum()
    return mdp.r - mu @ exact.policy_reward(mdp, pi)


def _mdp_cases(seed: int) -> list[tuple[str, FiniteMDP, np.ndarray, str]]:
    """(label, mdp, policy, hint) for the evaluation and occupancy exercises."""
    rng = np.random.default_rng(seed)
    two = two_state_mdp(0.9)
    lake = from_toytext("FrozenLake-v1", gamma=0.95, is_slippery=True)
    negative = random_mdp(5, 3, gamma=0.9, seed=seed)
    negative = FiniteMDP(negative.P, negative.r - 2.0, negative.rho0, 0.9)
    near_one = random_mdp(10, 3, gamma=1 - 1e-9, seed=seed)
    uniform = np.full((10, 3), 1 / 3)
    near_one = FiniteMDP(near_one.P, _zero_mean_reward(near_one, uniform), near_one.rho0, near_one.gamma)
    out = [
        ("two-state MDP, always switch", two, np.array([[0.0, 1.0], [0.0, 1.0]]),
         "solve (I - gamma P_pi) V = r_pi, with P_pi[s, s'] = sum_a pi(a|s) P[s, a, s']."),
        ("gamma = 0", random_mdp(3, 2, gamma=0.0, seed=seed), None,
         "with gamma = 0 the value is the expected immediate reward: V = r_pi, Q = r."),
        ("FrozenLake 4x4, uniform policy", lake, np.full((16, 4), 0.25),
         "terminal states are absorbing with zero reward, so nothing special is needed for them."),
        ("negative rewards", negative, None, "rewards can be negative; nothing should assume r >= 0."),
        ("gamma = 0.99", random_mdp(6, 2, gamma=0.99, seed=seed + 1), None, ""),
        ("gamma = 1 - 1e-9, rewards averaging 0", near_one, uniform,
         "I - gamma P_pi is nearly singular here: np.linalg.solve gives a tiny residual, np.linalg.inv(...) @ r_pi "
         "does not. Solve the linear system; do not invert the matrix."),
    ]
    for i, (mdp, _, _) in enumerate(random_instances(3, seed)):
        out.append((f"random MDP #{i + 1}", mdp, None, ""))
    return [(label, mdp, random_policy(mdp, rng) if pi is None else pi, hint) for label, mdp, pi, hint in out]


def _integer_case() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A deterministic 3-state MDP given entirely as integer arrays: (P, r, pi, rho0)."""
    P = np.zeros((3, 2, 3), dtype=np.int64)
    P[0, 0, 1] = P[0, 1, 2] = P[1, 0, 2] = P[1, 1, 0] = P[2, 0, 2] = P[2, 1, 0] = 1
    r = np.array([[1, 0], [2, -1], [0, 3]], dtype=np.int64)
    pi = np.array([[1, 0], [0, 1], [0, 1]], dtype=np.int64)
    return P, r, pi, np.array([1, 0, 0], dtype=np.int64)


def _evaluate_fallback(P, r, pi, gamma):
    P, r, pi = as_float64(P, r, pi)
    mdp = FiniteMDP(P, r, np.full(P.shape[0], 1.0 / P.shape[0]), gamma)
    V = exact.evaluate_policy(mdp, pi)
    return V, exact.q_from_v(mdp, V)


def check_evaluate_policy(fn, seed: int = 12) -> CheckResult:
    """Exercise 1.2: ``evaluate_policy_exact(P, r, pi, gamma)`` → ``(V, Q)`` by a linear solve (Chapter 1, §1.3).

    The reference solves eq. (eq-bellman-matrix); the answer must also make the Bellman residual
    ``r_pi + gamma P_pi V - V`` tiny on float64 inputs.
    """
    cases = [Case(label, dict(P=mdp.P.copy(), r=mdp.r.copy(), pi=pi, gamma=mdp.gamma), hint)
             for label, mdp, pi, hint in _mdp_cases(seed)]
    P, r, pi, _ = _integer_case()
    cases.insert(3, Case("integer inputs", dict(P=P, r=r, pi=pi, gamma=0.5),
                         "P, r and pi are integer arrays here: arrays made with np.zeros_like(r) are integers too "
                         "and round every value. Work in floating point."))
    lake = from_toytext("FrozenLake-v1", gamma=0.9, is_slippery=True)
    cases.insert(4, Case("float32 inputs", dict(P=lake.P.astype(np.float32), r=lake.r.astype(np.float32),
                                                pi=np.full((16, 4), 0.25, dtype=np.float32), gamma=0.9),
                         "float32 inputs: the tolerance allows float32 rounding."))

    def compare(got, case):
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            return f"return a tuple (V, Q), got {type(got).__name__}"
        problem = close(got[0], case.expected[0], "V") or close(got[1], case.expected[1], "Q")
        if problem:
            return problem
        k = case.kwargs
        if all(np.asarray(k[n]).dtype == np.float64 for n in ("P", "r", "pi")):
            P, r, pi, gamma = k["P"], k["r"], k["pi"], k["gamma"]
            V, Q = np.asarray(got[0], dtype=float), np.asarray(got[1], dtype=float)
            P_pi, r_pi = np.einsum("sa,sat->st", pi, P), np.sum(pi * r, axis=1)
            scale = max(1.0, float(np.max(np.abs(r))))
            residual = float(np.max(np.abs(r_pi + gamma * P_pi @ V - V)))
            if residual > RESIDUAL_TOL * scale:
                return (f"V is close to V^pi but its Bellman residual max|r_pi + gamma P_pi V - V| = {residual:.2g} "
                        f"exceeds {RESIDUAL_TOL:g}: solve the linear system instead of inverting the matrix")
            q_residual = float(np.max(np.abs(r + gamma * P @ V - Q)))
            if q_residual > RESIDUAL_TOL * scale:
                return f"Q != r + gamma P V (largest difference {q_residual:.2g})"
        return None

    return run_exercise("Exercise 1.2 (evaluate_policy_exact)", fn, cases, _evaluate_fallback, compare,
                        "rlcore.tabular.exact.evaluate_policy and rlcore.tabular.exact.q_from_v")


def _occupancy_fallback(P, rho0, pi, gamma):
    P, rho0, pi = as_float64(P, rho0, pi)
    return exact.occupancy(FiniteMDP(P, np.zeros(P.shape[:2]), rho0, gamma), pi)


def check_occupancy(fn, seed: int = 13) -> CheckResult:
    """Exercise 1.3 (Chapter 1, §1.5): ``occupancy(P, rho0, pi, gamma)``, the normalised discounted occupancy.

    The reference solves eq. (eq-occupancy-linear); the answer must be a distribution.
    """
    cases = []
    for label, mdp, pi, hint in _mdp_cases(seed):
        if mdp.gamma == 0:
            hint = "with gamma = 0 the agent is only ever 'at' its start state: d = rho0."
        elif "singular" not in hint:
            hint = ("d solves d = (1 - gamma) rho0 + gamma P_pi^T d: probability flows forward along P_pi, and the "
                    "factor (1 - gamma) makes d a distribution (it sums to 1).")
        cases.append(Case(label, dict(P=mdp.P.copy(), rho0=mdp.rho0.copy(), pi=pi, gamma=mdp.gamma), hint))
    P, _, pi, rho0 = _integer_case()
    cases.insert(3, Case("integer inputs", dict(P=P, rho0=rho0, pi=pi, gamma=0.5),
                         "P, rho0 and pi are integer arrays here: work in floating point."))

    def compare(got, case):
        problem = close(got, case.expected, "d")
        if problem:
            total = float(np.sum(np.asarray(got, dtype=float)))
            if np.isfinite(total) and abs(total - 1) > 1e-6 and np.shape(got) == np.shape(case.expected):
                problem += f"; your d sums to {total:.4g}, but a distribution sums to 1"
            return problem
        k = case.kwargs
        if all(np.asarray(k[n]).dtype == np.float64 for n in ("P", "rho0", "pi")):
            d = np.asarray(got, dtype=float)
            P_pi = np.einsum("sa,sat->st", k["pi"], k["P"])
            residual = float(np.max(np.abs((1 - k["gamma"]) * k["rho0"] + k["gamma"] * P_pi.T @ d - d)))
            if residual > RESIDUAL_TOL:
                return (f"d is close, but its residual max|(1 - gamma) rho0 + gamma P_pi^T d - d| = {residual:.2g} "
                        f"exceeds {RESIDUAL_TOL:g}: solve the linear system instead of inverting the matrix")
        return None

    return run_exercise("Exercise 1.3 (occupancy)", fn, cases, _occupancy_fallback, compare,
                        "rlcore.tabular.exact.occupancy")


QUESTIONS = {q.id: q for q in [
    Question(
        "1.1", "A policy earns a reward of 2 at every step, forever, and \\(\\gamma = 0.99\\). What is its value "
        "\\(V^\\pi(s)\\)?", NUMBER, 200.0,
        "V = sum_t 0.99^t * 2 = 2 / (1 - 0.99) = 200: the reward times the effective horizon 1/(1 - gamma) = 100.",
        rtol=1e-6),
    Question(
        "1.2", "Which identity between the objective and the normalised occupancy \\(d^\\pi\\) is right?", SINGLE, "b",
        "d^pi carries a factor (1 - gamma) that makes it sum to 1; undoing it divides by (1 - gamma).",
        choices=("J = (1 − γ) E_{s∼d, a∼π}[r(s, a)]", "J = E_{s∼d, a∼π}[r(s, a)] / (1 − γ)",
                 "J = E_{s∼d, a∼π}[r(s, a)]",
                 "J = γ E_{s∼d, a∼π}[r(s, a)] / (1 − γ)"),
        hints={"a": "that is the erratum of §1.5: the factor goes the other way.",
               "c": "d is normalised, so the expected reward under it is an average per step, not a sum over steps."}),
    Question(
        "1.3", "Which statements hold for every finite MDP with γ < 1, every policy π and every state s? "
        "Select all that apply.", MULTIPLE, frozenset("abd"),
        "(a) and (b): V^pi(s) is the pi-average of Q^pi(s, .), so the advantages average to zero and some action "
        "is at least average. (d) is the upper half of the value bound. (c) fails when rewards are negative.",
        choices=("Σ_a π(a|s) A^π(s, a) = 0", "A^π(s, a) ≥ 0 for at least one action a",
                 "V^π(s) ≥ 0", "Q^π(s, a) ≤ R_max / (1 − γ) when every reward is at most R_max"),
        hints={"abcd": "look again at (c): what if every reward is −1?"}),
]}

#: ``quiz("1.1")`` shows question 1.1; ``quiz("1.1", answer=200)`` grades an answer (Chapter 1, §1.3).
quiz = make_quiz(QUESTIONS)
