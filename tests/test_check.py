"""Each checker passes the reference, fails plausible wrong answers with the right message,
and never crashes on stubs, exceptions, NaN, wrong shapes or endless loops."""

import numpy as np
import pytest

from rlcore.estimators import returns
from rlcore.exercises import ERROR, FAIL, NOT_ATTEMPTED, PASS, TIMEOUT, Case, ch01, ch02, run_exercise
from rlcore.tabular import dp, exact
from rlcore.tabular.mdp import FiniteMDP


def _mdp(P, r, gamma, rho0=None):
    S = P.shape[0]
    r = np.zeros(P.shape[:2]) if r is None else r
    return FiniteMDP(P, r, np.full(S, 1 / S) if rho0 is None else rho0, gamma)


# ---------------------------------------------------------------- references (rlcore's own code)
def ref_rtg(rewards, dones, gamma):
    return returns.rewards_to_go(rewards, dones, gamma)


def ref_eval(P, r, pi, gamma):
    m = _mdp(P, r, gamma)
    V = exact.evaluate_policy(m, pi)
    return V, exact.q_from_v(m, V)


def ref_occ(P, rho0, pi, gamma):
    return exact.occupancy(_mdp(P, None, gamma, rho0), pi)


def ref_vi(P, r, gamma, tol):
    return dp.value_iteration(_mdp(P, r, gamma), tol).V


def ref_pi(P, r, gamma):
    res = dp.policy_iteration(_mdp(P, r, gamma))
    return res.policy, res.values


# ---------------------------------------------------------------- plausible wrong answers
def rtg_off_by_one(rewards, dones, gamma):  # discounts the first reward too
    return gamma * returns.rewards_to_go(rewards, dones, gamma)


def rtg_through_terminal(rewards, dones, gamma):  # bootstraps across episode ends
    return returns.rewards_to_go(rewards, np.zeros_like(dones), gamma)


def eval_no_gamma_in_q(P, r, pi, gamma):
    V, _ = ref_eval(P, r, pi, gamma)
    return V, r + P @ V


def eval_transposed(P, r, pi, gamma):
    P_pi = np.einsum("sa,sat->st", pi, P)
    V = np.linalg.solve(np.eye(len(V0 := P_pi)) - gamma * V0.T, np.sum(pi * r, axis=1))
    return V, r + gamma * P @ V


def occ_unnormalised(P, rho0, pi, gamma):  # forgets the (1 - gamma): sums to 1/(1 - gamma)
    return ref_occ(P, rho0, pi, gamma) / (1 - gamma) if gamma < 1 else ref_occ(P, rho0, pi, gamma)


def occ_backwards(P, rho0, pi, gamma):  # propagates along P_pi instead of P_pi^T
    P_pi = np.einsum("sa,sat->st", pi, P)
    return np.linalg.solve(np.eye(len(rho0)) - gamma * P_pi, (1 - gamma) * rho0)


def vi_naive_stop(P, r, gamma, tol):  # stops when ||V_{k+1} - V_k|| < tol
    V = np.zeros(P.shape[0])
    while True:
        V_next = (r + gamma * P @ V).max(axis=1)
        if np.max(np.abs(V_next - V)) < tol:
            return V_next
        V = V_next


def vi_sum_not_max(P, r, gamma, tol):  # evaluates the uniform policy instead of optimising
    V = np.zeros(P.shape[0])
    for _ in range(2000):
        V = (r + gamma * P @ V).mean(axis=1)
    return V


def pi_one_step(P, r, gamma):  # a single improvement, no iteration
    m = _mdp(P, r, gamma)
    pi0 = np.zeros(P.shape[0], dtype=int)
    return dp.greedy(exact.action_values(m, pi0)), [exact.evaluate_policy(m, pi0)]


def pi_argmin(P, r, gamma):
    m = _mdp(P, r, gamma)
    pi = np.zeros(P.shape[0], dtype=int)
    for _ in range(20):
        pi = exact.action_values(m, pi).argmin(axis=1)
    return pi, [exact.evaluate_policy(m, pi)]


def greedy_last_tie(Q):
    return Q.shape[1] - 1 - np.argmax(Q[:, ::-1], axis=1)


def greedy_float(Q):
    return np.argmax(Q, axis=1).astype(float)


CASES = [
    (ch01.check_rewards_to_go, ref_rtg, [(rtg_off_by_one, "one step"), (rtg_through_terminal, "episode boundary")]),
    (ch01.check_evaluate_policy, ref_eval, [(eval_no_gamma_in_q, "Q"), (eval_transposed, "V")]),
    (ch01.check_occupancy, ref_occ, [(occ_unnormalised, "a distribution sums to 1"),
                                     (occ_backwards, "probability flows forward")]),
    (ch02.check_value_iteration, ref_vi, [(vi_naive_stop, "gamma/(1-gamma)"), (vi_sum_not_max, "wrong on case")]),
    (ch02.check_policy_iteration, ref_pi, [(pi_one_step, "V of your policy"), (pi_argmin, "V of your policy")]),
    (ch02.check_greedy, dp.greedy, [(greedy_last_tie, "lowest index"), (greedy_float, "must be integers")]),
]


@pytest.mark.parametrize("checker, reference, wrongs", CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_reference_passes_and_wrong_answers_fail(checker, reference, wrongs):
    result = checker(reference)
    assert result.status == PASS, str(result)
    assert "pass" in result._repr_html_()
    for wrong, phrase in wrongs:
        result = checker(wrong)
        assert result.status == FAIL, f"{wrong.__name__}: {result}"
        assert phrase in str(result), f"{wrong.__name__}: expected {phrase!r} in\n{result}"
        assert "expected" in str(result) and "got" in str(result)


@pytest.mark.parametrize("checker", [c for c, _, _ in CASES], ids=lambda c: c.__name__)
def test_stub_is_reported_not_attempted(checker):
    def stub(*args, **kwargs):
        raise NotImplementedError

    result = checker(stub)
    assert result.status == NOT_ATTEMPTED and "rlcore." in result.message


@pytest.mark.parametrize("checker", [c for c, _, _ in CASES], ids=lambda c: c.__name__)
def test_exceptions_and_nan_are_reported(checker):
    def raises(*args, **kwargs):
        return 1 / 0

    result = checker(raises)
    assert result.status == ERROR and "ZeroDivisionError" in result.message

    def nan(*args, **kwargs):
        return np.full(3, np.nan)

    result = checker(nan)
    assert result.status == FAIL


def test_wrong_shape_and_nan_messages():
    case = Case("c", dict(x=np.arange(3.0)))
    ident = lambda x: x  # noqa: E731
    assert "shape (2,)" in str(run_exercise("E", lambda x: x[:2], [case], ident, _cmp, "ref"))
    assert "NaN" in str(run_exercise("E", lambda x: x * np.nan, [case], ident, _cmp, "ref"))
    assert "numeric" in str(run_exercise("E", lambda x: "abc", [case], ident, _cmp, "ref"))
    assert run_exercise("E", 3, [case], ident, _cmp, "ref").status == ERROR


def _cmp(got, case):
    from rlcore.exercises import array_problem
    return array_problem(got, case.expected, 1e-9)


def test_endless_loop_is_stopped():
    def forever(x):
        while True:
            pass

    result = run_exercise("E", forever, [Case("c", dict(x=1.0))], lambda x: x, _cmp, "ref", time_limit=0.3)
    assert result.status == TIMEOUT and "longer than 0.3 s" in result.message


def test_inputs_are_not_mutated_between_cases():
    def mutating(rewards, dones, gamma):
        G = returns.rewards_to_go(rewards, dones, gamma)
        rewards[:] = 0
        return G

    assert ch01.check_rewards_to_go(mutating).status == PASS
