"""Checkers for the exercises of Chapter 8 (actor-critic, n-step returns and GAE).

GAE is a deterministic function of its arrays: answers are compared with rlcore's recursion to a relative
1e-9 (float64 rounding of sums of at most a few hundred terms is below 1e-12; every conceptual error the
tests know moves some entry by more than 1e-2), and, for one environment, with GAE's definition as a
lambda-weighted average of k-step advantages, a route that shares no code with the recursion. The critic
loss is judged by its gradient: one gradient-descent step on the values must lower it, and no gradient may
reach the targets.
"""

from __future__ import annotations

import numpy as np

from ..estimators.advantages import gae, lambda_averaged_advantages
from .framework import Case, CheckResult, array_problem, loss_gradient, run_exercise
from .quiz import MULTIPLE, Question, make_quiz

RTOL = 1e-9


def _close(got, expected, name: str, rtol: float = RTOL) -> str | None:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return array_problem(got, expected, rtol * scale, name)


def compute_gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """Exercise 8.1's signature for :func:`rlcore.estimators.advantages.gae` (Chapter 8, §8.3)."""
    return gae(rewards, values, next_values, terminated, truncated, gamma, lam)


def check_compute_gae(fn, seed: int = 81) -> CheckResult:
    """Exercise 8.1 (Chapter 8, §8.3): ``compute_gae(rewards, values, next_values, terminated, truncated, gamma,
    lam)``, eq. (eq-gae-recursion), with terminations, truncations and arrays of shape ``(T,)`` or ``(T, N)``."""
    rng = np.random.default_rng(seed)

    def case(label, rewards, values, next_values, terminated, truncated, gamma, lam, hint=""):
        return Case(label, dict(rewards=np.asarray(rewards, float), values=np.asarray(values, float),
                                next_values=np.asarray(next_values, float), terminated=np.asarray(terminated, bool),
                                truncated=np.asarray(truncated, bool), gamma=gamma, lam=lam), hint)

    r3, v3 = [1.0, 0.0, 2.0], [0.5, 1.0, 1.5]
    cases = [
        case("one step, terminated", [1.0], [0.5], [9.0], [True], [False], 0.9, 0.95,
             "a terminated step has no future: delta = r - V(s), and next_values is ignored."),
        case("one step, truncated", [1.0], [0.5], [2.0], [False], [True], 0.9, 0.95,
             "a truncated step bootstraps: delta = r + gamma V(s_next) - V(s), with V(s_next) = next_values."),
        case("lam = 0", r3, v3, [1.0, 1.5, 0.0], [False, False, True], [False] * 3, 0.9, 0.0,
             "with lam = 0 the advantage is the TD error delta_t."),
        case("lam = 1", r3, v3, [1.0, 1.5, 0.0], [False, False, True], [False] * 3, 0.9, 1.0,
             "with lam = 1 the advantage is G_t - V(s_t), the Monte Carlo return minus the value."),
        case("two episodes", [1.0, 1.0, 1.0, 5.0], [0.0, 0.5, 1.0, 2.0], [0.5, 7.0, 2.0, 3.0],
             [False, True, False, False], [False, False, False, True], 0.9, 0.8,
             "the sum stops at every episode end (terminated or truncated): nothing of episode 2 leaks into "
             "episode 1."),
        case("the array ends inside an episode", r3, v3, [1.0, 1.5, 4.0], [False] * 3, [False] * 3, 0.9, 0.8,
             "the last step bootstraps from next_values[-1]: the episode goes on after the rollout."),
        case("gamma = 0", r3, v3, [1.0, 1.5, 4.0], [False] * 3, [False] * 3, 0.0, 0.9,
             "with gamma = 0, delta_t = r_t - V(s_t), and nothing is carried back."),
        case("two environments, shape (T, 2)", [[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]],
             [[0.5, 0.2], [1.0, 0.4], [1.5, 0.6]], [[1.0, 0.4], [1.5, 9.0], [0.0, 0.8]],
             [[False, False], [False, True], [True, False]], [[False] * 2] * 3, 0.9, 0.9,
             "rows are time, columns are environments: run the recursion over axis 0, for every column at once."),
    ]
    for i in range(3):
        T = int(rng.integers(20, 60))
        terminated = rng.random(T) < 0.1
        truncated = ~terminated & (rng.random(T) < 0.05)
        values = rng.normal(size=T)
        next_values = np.append(values[1:], rng.normal())  # V(s_{t+1}) is the next row's value inside an episode
        ends = terminated | truncated
        next_values[ends] = rng.normal(size=int(ends.sum()))  # the value of the episode's real final observation
        cases.append(case(f"random rollout #{i + 1}", rng.normal(size=T), values, next_values, terminated, truncated,
                          float(rng.uniform(0.8, 0.999)), float(rng.uniform(0.5, 1.0))))

    def compare(got, case_):
        problem = _close(got, case_.expected, "the advantages")
        if problem is None and np.ndim(case_.kwargs["rewards"]) == 1:  # property: the definition, term by term
            definition = lambda_averaged_advantages(**case_.kwargs)
            if np.max(np.abs(np.asarray(got, float) - definition)) > 1e-9 * max(1.0, np.max(np.abs(definition))):
                problem = "the advantages differ from the lambda-weighted average of k-step advantages"
        return problem

    return run_exercise("Exercise 8.1 (compute_gae)", fn, cases, compute_gae, compare,
                        "rlcore.estimators.advantages.gae")


def critic_loss(values, targets):
    """Exercise 8.2's reference: the mean squared error ``mean (V(s_t) - y_t)^2``, targets held fixed
    (Chapter 8, §8.5)."""
    return (values - targets.detach()).square().mean()


def _loss_gradient(values, targets):
    """The reference: d loss / d values of :func:`critic_loss`."""
    import torch

    leaf = values.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic_loss(leaf, targets), leaf)
    return grad.numpy().astype(np.float64)


def check_critic_loss(fn, seed: int = 82) -> CheckResult:
    """Exercise 8.2 (Chapter 8, §8.5): ``critic_loss(values, targets)``, the critic's regression loss,
    eq. (eq-critic-loss); it must go down under a step of gradient descent (the source notes' erratum went up)."""
    import torch

    rng = np.random.default_rng(seed)

    def case(label, values, targets, hint="", dtype=torch.float64, grad_targets=False):
        return Case(label, dict(values=torch.tensor(values, dtype=dtype, requires_grad=True),
                                targets=torch.tensor(targets, dtype=dtype, requires_grad=grad_targets)), hint)

    cases = [
        case("one value", [1.0], [3.0], "(V - y)^2 = 4 for V = 1, y = 3; its gradient in V is 2 (V - y) = -4."),
        case("values above and below", [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0],
             "the mean over the batch of (V - y)^2: gradient 2 (V - y) / n."),
        case("targets that carry gradient", [0.5, -1.0, 2.0], [1.0, 1.0, 1.0],
             "targets such as r + gamma V(s') come from the same critic: detach them (a semi-gradient), or the "
             "critic is also pulled towards its own old predictions.", grad_targets=True),
        case("float32", [0.5, 1.5], [1.0, -1.0], "keep the inputs' dtype.", dtype=torch.float32),
    ]
    for i in range(3):
        n = int(rng.integers(5, 200))
        cases.append(case(f"random batch #{i + 1}", rng.normal(size=n) * 10, rng.normal(size=n) * 10))

    def compare(got, case_):
        values, targets = case_.kwargs["values"], case_.kwargs["targets"]
        problem, grad = loss_gradient(got, values, "values", targets, "targets")
        if problem is not None:
            return problem
        with torch.no_grad():  # property: one small step of gradient descent lowers the loss
            stepped = values - 1e-3 * torch.as_tensor(grad, dtype=values.dtype)
            before = float((values - targets).square().mean())
            after = float((stepped - targets).square().mean())
        if after >= before:
            return (f"one step of gradient descent on your loss moves the values away from the targets (mean squared "
                    f"error {before:.4g} -> {after:.4g}): the sign is wrong")
        rtol = 1e-5 if values.dtype == torch.float32 else 1e-9
        return _close(grad, case_.expected, "d loss / d values", rtol)

    return run_exercise("Exercise 8.2 (critic_loss)", fn, cases, _loss_gradient, compare,
                        "rlcore.exercises.ch08.critic_loss", fallback_fn=critic_loss)


QUESTIONS = {q.id: q for q in [
    Question(
        "8.1", "With a learned critic V (not exactly V^π), consider the one-step advantage Â⁽¹⁾ = r_t + γV(s_{t+1}) − "
        "V(s_t) and the Monte Carlo advantage Â⁽∞⁾ = Σ_k γ^k r_{t+k} − V(s_t). Which statements are true? Select all "
        "that apply.", MULTIPLE, frozenset("d"),
        "Â⁽¹⁾ is biased whenever V ≠ V^π (its mean is A^π plus γE[ε(s')] − ε(s), with ε = V − V^π), so (a) is false; "
        "its variance is usually low, so (b) is false too. Â⁽∞⁾ sums many random rewards (high variance), and V only "
        "enters as a baseline, which biases no policy gradient: (c) is false and (d) true.",
        choices=("Â⁽¹⁾ has low variance and low bias", "Â⁽¹⁾ has high variance and low bias",
                 "Â⁽∞⁾ has low variance and high bias", "Â⁽∞⁾ has high variance and low bias"),
        hints={"ad": "(a): what is E[Â⁽¹⁾ | s, a] when V is off by ε?",
               "a": "(a): what is E[Â⁽¹⁾ | s, a] when V is off by ε? And look at (d) again.",
               "bd": "(b): one reward and two values: is that a high-variance quantity?"}),
]}

#: ``quiz("8.1")`` shows question 8.1 (Chapter 8, §8.4).
quiz = make_quiz(QUESTIONS)
