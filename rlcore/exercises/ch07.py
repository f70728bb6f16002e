"""Checkers for the exercises of Chapter 7 (REINFORCE and variance reduction).

Exercise 7.1 is judged by what matters in a loss: its gradient with respect to ``log_prob``, computed by
``torch.autograd`` from the reader's loss and from rlcore's, to a relative 1e-6 (float64 rounding is below
1e-12; float32 inputs get 1e-4; every conceptual error the tests know moves some weight by more than 1e-2).
One case feeds every trajectory of a small MDP and checks the unbiasedness itself: the probability-weighted
mean of the reader's estimate equals ``torch.autograd`` of the enumerated objective. Exercises 7.2 and 7.3
are exact computations compared to a relative 1e-9, plus a property each: the variance is minimal at the
reader's baseline (a parabola through three points, a route without the formula), and the leave-one-out
estimate is unbiased over every batch of three outcomes of a bandit.
"""

from __future__ import annotations

import numpy as np

from ..algos.reinforce import reinforce_loss as _reinforce_loss
from ..estimators import baselines
from ..tabular.builders import random_mdp
from ..tabular.enumeration import enumerate_trajectories, policy_gradient_terms
from ..tabular.policy_gradient import softmax_policy
from .framework import Case, CheckResult, array_problem, loss_gradient, run_exercise
from .quiz import MULTIPLE, SINGLE, Question, make_quiz

RTOL = 1e-9


def _close(got, expected, name: str, rtol: float = RTOL) -> str | None:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return array_problem(got, expected, rtol * scale, name)


def reinforce_loss(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True):
    """Exercise 7.1's signature for :func:`rlcore.algos.reinforce.reinforce_loss` (Chapter 7, §7.1)."""
    return _reinforce_loss(log_prob, rewards, dones, gamma, baseline=baseline, gamma_t=gamma_t)


def _weights(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True) -> np.ndarray:
    """The reference: d loss / d log_prob of rlcore's loss (the per-step weights, signs included)."""
    import torch

    leaf = log_prob.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(reinforce_loss(leaf, rewards, dones, gamma, baseline, gamma_t), leaf)
    return grad.numpy().astype(np.float64)


def _enumerated_batch(seed: int):
    """Every trajectory of a 3-state, 2-action MDP cut at H = 3, as one batch; and the true gradient."""
    import torch

    mdp = random_mdp(3, 2, gamma=0.8, seed=seed)
    theta = np.random.default_rng(seed).normal(size=(3, 2))
    trajs = enumerate_trajectories(mdp, softmax_policy(theta), 3)
    K, H = trajs.states.shape
    t = torch.tensor(theta, requires_grad=True)  # the truth: autograd of J_H = sum_tau p(tau) R(tau)
    log_pi = torch.log_softmax(t, dim=1)[torch.tensor(trajs.states), torch.tensor(trajs.actions)].sum(dim=1)
    fixed = torch.tensor(np.log(trajs.prob)) - log_pi.detach()
    R = torch.tensor((trajs.rewards * mdp.gamma ** np.arange(H)).sum(axis=1))
    (truth,) = torch.autograd.grad((torch.exp(fixed + log_pi) * R).sum(), t)
    log_prob = np.log(softmax_policy(theta)[trajs.states, trajs.actions]).ravel()
    dones = np.zeros((K, H), dtype=bool)
    dones[:, -1] = True
    kwargs = dict(log_prob=torch.tensor(log_prob, requires_grad=True),
                  rewards=torch.tensor(trajs.rewards.ravel()), dones=torch.tensor(dones.ravel()), gamma=mdp.gamma,
                  baseline=None, gamma_t=True)
    return kwargs, (theta, trajs, truth.numpy())


def check_reinforce_loss(fn, seed: int = 71) -> CheckResult:
    """Exercise 7.1 (Chapter 7, §7.1): ``reinforce_loss(log_prob, rewards, dones, gamma, baseline, gamma_t)``.

    A scalar tensor whose gradient with respect to ``log_prob`` is minus the REINFORCE weights of
    eq. (eq-reinforce): ``-(1/E) c_t (G_t - b_t)``.
    """
    import torch

    rng = np.random.default_rng(seed)

    def batch(rewards, dones, gamma, baseline=None, gamma_t=True, dtype=torch.float64, grad_baseline=False):
        rewards = torch.tensor(rewards, dtype=dtype)
        log_prob = torch.tensor(-rng.uniform(0.1, 2.0, size=len(rewards)), dtype=dtype, requires_grad=True)
        if baseline is not None:
            baseline = torch.tensor(baseline, dtype=dtype, requires_grad=grad_baseline)
        return dict(log_prob=log_prob, rewards=rewards, dones=torch.tensor(dones, dtype=torch.bool), gamma=gamma,
                    baseline=baseline, gamma_t=gamma_t)

    one = [1.0, 0.0, 2.0, 1.0]
    end = [False, False, False, True]
    enumerated, (theta, trajs, truth) = _enumerated_batch(seed)
    cases = [
        Case("one episode", batch(one, end, 0.9),
             "G_t = r_t + gamma G_{t+1}; the weight of step t is gamma^t G_t, and the loss is minus the sum over "
             "steps divided by the number of episodes (here 1)."),
        Case("one episode, gamma_t = False", batch(one, end, 0.9, gamma_t=False),
             "without the gamma^t factor each step is weighted by G_t alone."),
        Case("two episodes", batch([1.0, 1.0, 1.0, 5.0, 0.0], [False, True, False, False, True], 0.5),
             "the reward-to-go restarts after every done, and gamma^t counts t from the start of each episode; "
             "divide by the number of episodes (2), not of steps."),
        Case("with a baseline", batch(one, end, 0.9, baseline=[0.5, -1.0, 2.0, 0.0]),
             "the weight is gamma^t (G_t - b_t)."),
        Case("a baseline that carries gradient", batch(one, end, 0.9, baseline=[1.0, 1.0, 1.0, 1.0],
                                                       grad_baseline=True),
             "the baseline comes from a critic network: detach it (baseline.detach()), or the policy loss "
             "trains the critic."),
        Case("gamma = 1", batch([1.0, 1.0, 1.0, 2.0, 2.0], [False, False, True, False, True], 1.0),
             "an undiscounted episodic task: G_t is the plain sum of the rewards left in the episode."),
        Case("gamma = 0", batch(one, end, 0.0),
             "with gamma = 0, G_t = r_t, and gamma^t is 1 at the first step and 0 after it (0**0 == 1)."),
        Case("negative rewards", batch([-1.0, -1.0, -1.0, -1.0, -1.0, -1.0], [False, False, True, False, False, True],
                                       0.9), "rewards of -1 per step: the weights are negative."),
        Case("float32 inputs", batch(one, end, 0.9, dtype=torch.float32),
             "log_prob and rewards may be float32: keep their dtype."),
        Case("every trajectory of a small MDP (unbiasedness)", enumerated,
             "with all trajectories and their probabilities, the mean of your estimate must equal grad J."),
    ]
    for i in range(3):
        T = int(rng.integers(5, 40))
        dones = rng.random(T) < 0.2
        dones[-1] = True
        cases.append(Case(f"random batch #{i + 1}", batch(rng.normal(size=T), dones, float(rng.uniform(0.8, 1.0)),
                                                          baseline=rng.normal(size=T) if i else None,
                                                          gamma_t=bool(i % 2))))

    def compare(got, case):
        log_prob = case.kwargs["log_prob"]
        problem, grad = loss_gradient(got, log_prob, "log_prob", case.kwargs["baseline"], "baseline")
        if problem is not None:
            return problem
        rtol = 1e-4 if log_prob.dtype == torch.float32 else 1e-6
        problem = _close(grad, case.expected, "d loss / d log_prob", rtol)
        if problem is None and case.label.startswith("every trajectory"):
            K = len(trajs.prob)  # property: E[estimate] = grad J, with estimate = -K * d loss/d log_prob per episode
            weights = -K * grad.reshape(trajs.states.shape)
            mean = trajs.prob @ policy_gradient_terms(theta, trajs, weights).reshape(K, -1)
            if np.max(np.abs(mean - truth.ravel())) > 1e-8:  # exact sums in float64
                problem = "the mean of your estimate over all trajectories is not grad J: it is biased"
        return problem

    return run_exercise("Exercise 7.1 (reinforce_loss)", fn, cases, _weights, compare,
                        "rlcore.algos.reinforce.reinforce_loss", fallback_fn=reinforce_loss)


def bandit(seed: int, shift: float = 0.0):
    """A one-state bandit with a softmax policy and two reward outcomes per arm (Chapter 7, §7.3):
    ``(scores, returns, prob, grad_J)`` over its six outcomes, exact."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=3)
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    outcomes = [(a, g, q) for a in range(3) for g, q in zip(rng.normal(size=2) + a + shift, (0.3, 0.7), strict=True)]
    prob = np.array([pi[a] * q for a, _, q in outcomes])
    scores = np.array([np.eye(3)[a] - pi for a, _, _ in outcomes])
    returns = np.array([g for _, g, _ in outcomes])
    return scores, returns, prob, prob @ (scores * returns[:, None])


def _variance(scores, returns, prob, k, b):
    x = scores[:, k] * (returns - b)
    return prob @ x**2 - (prob @ x) ** 2


def check_optimal_baseline(fn, seed: int = 72) -> CheckResult:
    """Exercise 7.2 (Chapter 7, §7.3): ``optimal_baseline(scores, returns, weights)``, eq. (eq-optimal-baseline)."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("one component", dict(scores=np.array([[1.0], [-1.0], [2.0], [0.5]]), returns=np.array([1.0, 2.0, 3.0,
                                                                                                   4.0]),
                                   weights=np.ones(4)),
             "b = sum_i w_i s_i^2 G_i / sum_i w_i s_i^2: the returns weighted by the squared scores."),
        Case("a bandit, all rewards positive", dict(zip(("scores", "returns", "weights"), bandit(seed, 5.0)[:3])),
             "one baseline per parameter component k, each with its own weights s_k^2."),
        Case("a parameter that no outcome moves", dict(scores=np.array([[1.0, 0.0], [-0.5, 0.0], [-0.5, 0.0]]),
                                                       returns=np.array([3.0, 1.0, 2.0]),
                                                       weights=np.array([0.2, 0.4, 0.4])),
             "a component whose score is zero on every outcome gets baseline 0 (0/0 otherwise)."),
        Case("integer inputs", dict(scores=np.array([[1, -1], [2, 0], [-1, 1]]), returns=np.array([1, 5, 2]),
                                    weights=np.array([1, 1, 2])),
             "the inputs may be integer arrays: compute in floating point."),
    ]
    for i in range(3):
        cases.append(Case(f"random bandit #{i + 1}", dict(zip(("scores", "returns", "weights"),
                                                              bandit(seed + i + 1, float(rng.normal()))[:3]))))

    def compare(got, case):
        problem = _close(got, case.expected, "the baseline")
        if problem is None and "bandit" in case.label:  # property: the variance of each component is minimal
            s, G, w = (case.kwargs[k] for k in ("scores", "returns", "weights"))
            for k in range(s.shape[1]):  # Var(b) is a parabola: its vertex from three points, no formula
                a, b_, _ = np.polyfit([-1.0, 0.0, 1.0], [_variance(s, G, w, k, b) for b in (-1.0, 0.0, 1.0)], 2)
                if abs(float(np.asarray(got, float)[k]) + b_ / (2 * a)) > 1e-6 * max(1.0, abs(b_ / a)):
                    problem = f"component {k}'s variance is not smallest at your baseline"
                    break
        return problem

    return run_exercise("Exercise 7.2 (optimal_baseline)", fn, cases, baselines.optimal_baseline, compare,
                        "rlcore.estimators.baselines.optimal_baseline")


def check_leave_one_out_baseline(fn, seed: int = 73) -> CheckResult:
    """Exercise 7.3 (Chapter 7, §7.3): ``leave_one_out_baseline(returns)``, eq. (eq-leave-one-out)."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("three returns", dict(returns=np.array([1.0, 2.0, 3.0])),
             "b_i is the mean of the other returns: (2 + 3)/2, (1 + 3)/2, (1 + 2)/2."),
        Case("two returns", dict(returns=np.array([4.0, -2.0])), "with two returns, each gets the other's."),
        Case("integer returns", dict(returns=np.array([3, 1, 4, 1, 5])),
             "returns may be an integer array: the means are not integers."),
        Case("every batch of three bandit outcomes (unbiasedness)", dict(returns=np.array([0.5, 1.5, 1.0])),
             "the estimate (1/N) sum_i score_i (G_i - b_i) must have mean grad J over all batches."),
    ]
    for i in range(3):
        cases.append(Case(f"random returns #{i + 1}", dict(returns=rng.normal(size=int(rng.integers(2, 50))) * 10)))
    scores, returns, prob, grad_J = bandit(seed)

    def compare(got, case):
        problem = _close(got, case.expected, "the baselines")
        if problem is None and "unbiasedness" in case.label:  # property: exact over all 6^3 batches
            mean = np.zeros(3)
            for i, j, k in np.ndindex(6, 6, 6):
                G = returns[[i, j, k]]
                b = np.asarray(fn(returns=G.copy()), dtype=float)
                mean += prob[i] * prob[j] * prob[k] * ((scores[[i, j, k]] * (G - b)[:, None]).mean(axis=0))
            if np.max(np.abs(mean - grad_J)) > 1e-9:
                problem = "over all batches of three outcomes the mean estimate is not grad J: it is biased"
        return problem

    return run_exercise("Exercise 7.3 (leave_one_out_baseline)", fn, cases, baselines.leave_one_out_baseline,
                        compare, "rlcore.estimators.baselines.leave_one_out_baseline")


QUESTIONS = {q.id: q for q in [
    Question(
        "7.1", "A batch holds N episodes, and each episode's return is baselined by the batch's mean return, its own "
        "return included. What is the expected gradient estimate?", SINGLE, "b",
        "The mean contains G_i / N, which depends on episode i's actions, so E[score_i (G_i - mean)] = "
        "(1 - 1/N) grad J: the batch mean shrinks the gradient by a factor 1 - 1/N. Leaving episode i out of the "
        "mean removes the bias.",
        choices=("∇J, since a baseline never biases the estimate", "(1 − 1/N) ∇J", "(1 + 1/N) ∇J",
                 "0, since the advantages average to zero"),
        hints={"a": "a baseline keeps the mean only if it does not depend on the action it multiplies; does the "
                    "batch mean depend on episode i?",
               "d": "the advantages sum to zero, but each is multiplied by a different score."}),
    Question(
        "7.2", "Which statements about baselines in REINFORCE are true? Select all that apply.", MULTIPLE,
        frozenset("ad"),
        "(a) is the baseline lemma: E[grad log pi(a|s) b(s)] = b(s) grad sum_a pi(a|s) = 0. (b) is false: an "
        "inaccurate baseline costs variance, not bias; bias comes from using a critic in place of the return. "
        "(c) is false: V is close to the variance-minimising baseline but not equal to it (that one weights the "
        "returns by the squared score). (d) is true: dividing by the batch's standard deviation rescales the "
        "step, by a factor that changes from batch to batch.",
        choices=("any baseline b(s_t) that does not depend on a_t keeps the estimate unbiased",
                 "a poorly fitted value baseline biases the gradient",
                 "b(s) = V^π(s) minimises the variance of every component of the estimate",
                 "normalising advantages by the batch's standard deviation changes the effective step size"),
        hints={"abd": "(b): what does the proof of the baseline lemma assume about b? Nothing about its accuracy.",
               "acd": "(c): compare V(s) = E[G | s] with the optimal baseline's formula."}),
    Question(
        "7.3", "Why does REINFORCE collect a fresh batch for every gradient step instead of reusing old episodes?",
        SINGLE, "c",
        "The gradient is an expectation under the current policy; after one step the stored episodes come from a "
        "different policy, and averaging them estimates the gradient at the old parameters. Reusing them needs the "
        "importance weights of Chapter 9.",
        choices=("old episodes take too much memory", "the environment changes between batches",
                 "the estimator is an expectation under the current policy, and old episodes come from another one",
                 "reusing episodes would make the baseline biased"),
        hints={"d": "think about which distribution the episodes were sampled from, not about the baseline."}),
]}

#: ``quiz("7.1")`` shows question 7.1 (Chapter 7, §7.3).
quiz = make_quiz(QUESTIONS)
