"""Checkers for the exercises of Chapter 9 (off-policy policy gradients).

Both exercises are deterministic functions of their arrays, compared with rlcore to a relative 1e-9 (float64
rounding of a few hundred products and sums is below 1e-12; the conceptual errors the tests know move some
entry by more than 1e-2). Inputs include log-probabilities of -800, whose probabilities underflow: only
log-space arithmetic survives them. The off-policy gradient is also averaged exactly over every trajectory the
behaviour policy can produce in a small MDP and compared with the exact gradient of the target policy.
"""

from __future__ import annotations

import numpy as np

from ..estimators.importance import off_policy_gradient, per_decision_weights
from ..tabular.builders import random_mdp
from ..tabular.enumeration import enumerate_trajectories
from ..tabular.policy_gradient import finite_horizon_gradient, softmax_policy, step_scores
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import MULTIPLE, Question, make_quiz

RTOL = 1e-9


def _close(got, expected, name: str) -> str | None:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return array_problem(got, expected, RTOL * scale, name)


def check_per_decision_weights(fn, seed: int = 91) -> CheckResult:
    """Exercise 9.1 (Chapter 9, §9.3): ``per_decision_weights(logp_pi, logp_beta, dones)``,
    eq. (eq-per-decision-weights)."""
    rng = np.random.default_rng(seed)
    half, third = np.log(0.5), np.log(1 / 3)
    cases = [
        Case("one step", dict(logp_pi=np.array([half]), logp_beta=np.array([third]), dones=np.array([True])),
             "one step: the weight is pi/beta = 0.5 / (1/3) = 1.5."),
        Case("one episode", dict(logp_pi=np.array([half, np.log(0.9), np.log(0.2)]),
                                 logp_beta=np.array([third, half, half]), dones=np.array([False, False, True])),
             "W_t multiplies the ratios of steps 0..t: 1.5, then 1.5 * 1.8, then 1.5 * 1.8 * 0.4."),
        Case("two episodes", dict(logp_pi=np.array([half, half, np.log(0.9), np.log(0.9)]),
                                  logp_beta=np.array([third, third, half, half]),
                                  dones=np.array([False, True, False, True])),
             "the product restarts after every done: the second episode's first weight is its own first ratio."),
        Case("tiny probabilities", dict(logp_pi=np.array([-800.0, -801.0, -5.0]),
                                        logp_beta=np.array([-801.0, -800.0, -5.0]),
                                        dones=np.array([False, False, True])),
             "exp(-800) is 0 in floating point: add and subtract logs, then exponentiate once (e^1, e^0, e^0)."),
        Case("an action the target never takes", dict(logp_pi=np.array([-np.inf, half, half]),
                                                      logp_beta=np.array([half, half, half]),
                                                      dones=np.array([True, False, True])),
             "log pi = -inf means pi = 0: the weight is 0 for the rest of that episode, and the next starts afresh."),
    ]
    for i in range(3):
        T = int(rng.integers(10, 60))
        dones = rng.random(T) < 0.15
        dones[-1] = True
        cases.append(Case(f"random episodes #{i + 1}", dict(
            logp_pi=np.log(rng.uniform(0.05, 1.0, T)), logp_beta=np.log(rng.uniform(0.05, 1.0, T)), dones=dones)))
    return run_exercise("Exercise 9.1 (per_decision_weights)", fn, cases, per_decision_weights,
                        lambda got, case: _close(got, case.expected, "the weights"),
                        "rlcore.estimators.importance.per_decision_weights")


def off_policy_pg(scores, log_ratios, rewards, gamma, mode):
    """Exercise 9.2's signature for :func:`rlcore.estimators.importance.off_policy_gradient` (Chapter 9, §9.4)."""
    return off_policy_gradient(scores, log_ratios, rewards, gamma, mode)


def enumerated_case(seed: int, mix: float = 0.5, horizon: int = 3):
    """Every trajectory of a behaviour policy in a small MDP as one batch, with its probabilities and the target
    policy's exact gradient (Chapter 9, §9.4): ``(kwargs without mode, prob, grad_J)``."""
    mdp = random_mdp(3, 2, gamma=0.9, seed=seed)
    theta = np.random.default_rng(seed).normal(size=(3, 2)) * 1.5
    pi = softmax_policy(theta)
    beta = (1 - mix) * pi + mix * 0.5
    trajs = enumerate_trajectories(mdp, beta, horizon)
    s, a = trajs.states, trajs.actions
    kwargs = dict(scores=step_scores(theta, s, a).reshape(s.shape + (-1,)),
                  log_ratios=np.log(pi[s, a]) - np.log(beta[s, a]), rewards=trajs.rewards, gamma=mdp.gamma)
    return kwargs, trajs.prob, finite_horizon_gradient(mdp, theta, horizon).ravel()


def check_off_policy_pg(fn, seed: int = 92) -> CheckResult:
    """Exercise 9.2 (Chapter 9, §9.4): ``off_policy_pg(scores, log_ratios, rewards, gamma, mode)`` for the modes
    "trajectory", "per_decision" and "single_ratio": per-episode estimates, shape ``(N, d)``."""
    rng = np.random.default_rng(seed)
    hand = dict(scores=np.array([[[1.0, 0.0], [0.0, 1.0]]]), log_ratios=np.log([[2.0, 0.5]]),
                rewards=np.array([[1.0, 3.0]]), gamma=0.5)
    cases = [
        Case("one episode, trajectory", dict(hand, mode="trajectory"),
             "W_{0:1} = 2 * 0.5 = 1, the return 1 + 0.5 * 3 = 2.5, times the sum of the scores (1, 1)."),
        Case("one episode, per_decision", dict(hand, mode="per_decision"),
             "score_0 * (1 * 2 + 0.5 * 3 * 1) + score_1 * (0.5 * 3 * 1): reward r_l is weighted by W_{0:l}, with "
             "gamma^l counted from the start of the episode."),
        Case("one episode, single_ratio", dict(hand, mode="single_ratio"),
             "score_t * w_t * sum_{l >= t} gamma^l r_l: only the ratio of step t."),
        Case("extreme ratios", dict(scores=np.ones((1, 2, 1)), log_ratios=np.array([[-800.0, 800.5]]),
                                    rewards=np.array([[0.0, 1.0]]), gamma=1.0, mode="per_decision"),
             "exp(-800) underflows to 0 and exp(800.5) overflows to inf: add the log-ratios first, then "
             "exponentiate (W_{0:1} = e^0.5)."),
    ]
    for mode in ("trajectory", "per_decision", "single_ratio"):
        N, H, d = int(rng.integers(2, 6)), int(rng.integers(2, 8)), int(rng.integers(1, 5))
        cases.append(Case(f"random batch, {mode}", dict(scores=rng.normal(size=(N, H, d)),
                                                         log_ratios=rng.normal(size=(N, H)) * 0.5,
                                                         rewards=rng.normal(size=(N, H)),
                                                         gamma=float(rng.uniform(0.8, 1.0)), mode=mode)))
    exact_kwargs, prob, grad_J = enumerated_case(seed)
    for mode in ("trajectory", "per_decision", "single_ratio"):
        cases.append(Case(f"every trajectory of the behaviour policy, {mode}", dict(exact_kwargs, mode=mode),
                          "averaged with the trajectories' probabilities, the trajectory and per-decision estimates "
                          "must equal grad J exactly."))

    def compare(got, case):
        problem = _close(got, case.expected, "the per-episode estimates")
        if problem is None and case.label.startswith("every trajectory"):  # property: unbiased, or not
            bias = np.linalg.norm(prob @ np.asarray(got, float) - grad_J)
            unbiased = case.kwargs["mode"] != "single_ratio"
            if unbiased and bias > 1e-9:
                problem = f"the mean of your {case.kwargs['mode']} estimate is not grad J (off by {bias:.3g})"
        return problem

    return run_exercise("Exercise 9.2 (off_policy_pg)", fn, cases, off_policy_pg, compare,
                        "rlcore.estimators.importance.off_policy_gradient")


QUESTIONS = {q.id: q for q in [
    Question(
        "9.1", "Episodes come from a behaviour policy β, and we want the gradient for π_θ. Which estimators have mean "
        "exactly ∇J(θ)? Select all that apply.", MULTIPLE, frozenset("ab"),
        "(a) and (b) reweight each reward by the ratio of every action that led to it, which makes their means exact "
        "(given β > 0 wherever π > 0). (c) drops the ratios of the actions after t, so the future is valued under β "
        "(Q^β, not Q^π). (d) keeps one ratio per step, so the states are still visited as β visits them. Both are "
        "biased; (d) is the per-step surrogate that Chapters 12-14 control with a trust region.",
        choices=("the full-trajectory ratio times the return times the summed scores",
                 "per-decision: each reward r_l weighted by the ratios up to step l",
                 "each step's score weighted by the ratios up to t and the unweighted rewards after t",
                 "each step's score weighted by its own ratio π(a_t|s_t)/β(a_t|s_t) and the rewards after t"),
        hints={"abd": "(d): under which policy's state distribution are the s_t of the data drawn?",
               "a": "(b) also weights every reward by all the ratios it depends on.",
               "abc": "(c): which policy chose the actions after step t, and who reweights them?"}),
]}

#: ``quiz("9.1")`` shows question 9.1 (Chapter 9, §9.4).
quiz = make_quiz(QUESTIONS)
