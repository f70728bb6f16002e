"""Checkers for the exercises of Chapter 14 (PPO): the clipped surrogate loss (14.1), the adaptive KL coefficient
(14.2) and the value loss with optional clipping (14.3), and quiz 14.1.

Losses are judged by their value and by their gradient with respect to the new log-probabilities (or values), both
against rlcore's in float64 to 1e-10 (the same arithmetic in another order differs by rounding only); the
conceptual errors the tests know (clipping alone, max for min, the ratio as a quotient of log-probabilities, the
clip on the wrong side) change the gradient by at least the size of an advantage on some case. Inputs that hold
collection-time quantities (old log-probabilities, old values) may carry gradient, and none may flow into them.
The coefficient is compared exactly, including the boundary cases of the rule.
"""

from __future__ import annotations

import numpy as np

from ..algos.ppo import adaptive_kl_coef
from .framework import Case, CheckResult, array_problem, loss_gradient, run_exercise
from .quiz import MULTIPLE, Question, make_quiz

TOL = 1e-10


def ppo_clip_loss(logp_new, logp_old, adv, eps):
    """Exercise 14.1's reference: ``-mean min(rho A, clip(rho, 1 - eps, 1 + eps) A)`` with
    ``rho = exp(logp_new - logp_old)`` (Chapter 14, §14.1), by :func:`rlcore.algos.ppo.clipped_surrogate_loss`."""
    import torch

    from ..algos.ppo import clipped_surrogate_loss

    return clipped_surrogate_loss(torch.exp(logp_new - logp_old.detach()), adv, eps)


def _value_and_grad(loss, wrt):
    import torch

    (grad,) = torch.autograd.grad(loss, wrt)
    return float(loss.detach()), grad.detach().numpy()


def _reference_clip(logp_new, logp_old, adv, eps):
    return _value_and_grad(ppo_clip_loss(logp_new, logp_old, adv, eps), logp_new)


def _judge_loss(got, case, wrt: str, fixed: str):
    problem, grad = loss_gradient(got, case.kwargs[wrt], wrt, case.kwargs[fixed], fixed)
    if problem is not None:
        return problem
    value, expected_grad = case.expected
    problem = array_problem(float(got.detach()), np.array(value), TOL * max(1.0, abs(value)), "the loss")
    if problem is None:
        problem = array_problem(grad, expected_grad, TOL * max(1.0, float(np.max(np.abs(expected_grad)))),
                                f"d loss / d {wrt}")
    return problem


def check_ppo_clip_loss(fn, seed: int = 141) -> CheckResult:
    """Exercise 14.1 (Chapter 14, §14.1): ``ppo_clip_loss(logp_new, logp_old, adv, eps)`` returns the scalar loss
    ``-mean min(rho A, clip(rho, 1 - eps, 1 + eps) A)`` with ``rho = exp(logp_new - logp_old)``, differentiable in
    ``logp_new``; judged by its value and its gradient, on a grid of ratios on both sides of the clip with both
    signs of the advantage."""
    import torch

    rng = np.random.default_rng(seed)

    def case(label, ratios, adv, eps, hint="", old_grad=False):
        ratios = np.asarray(ratios, float)
        old = rng.uniform(-2.0, -0.1, size=ratios.size)
        logp_old = torch.tensor(old, dtype=torch.float64, requires_grad=old_grad)
        logp_new = torch.tensor(old + np.log(ratios), dtype=torch.float64, requires_grad=True)
        return Case(label, dict(logp_new=logp_new, logp_old=logp_old,
                                adv=torch.tensor(np.broadcast_to(adv, ratios.shape).copy(), dtype=torch.float64),
                                eps=eps), hint)

    grid = [0.5, 0.7, 0.9, 1.0, 1.1, 1.3, 1.6]
    cases = [
        case("the new policy is the old one", [1.0, 1.0, 1.0], [1.0, -2.0, 0.5], 0.2,
             "at rho = 1 nothing is clipped: the loss is -mean(A) and its gradient -A / n."),
        case("positive advantages, ratios from 0.5 to 1.6", grid, 1.0, 0.2,
             "for A > 0 the objective is min(rho, 1 + eps) A: flat (zero gradient) only above 1 + eps; below 1 - eps "
             "the gradient is still A (the clip never protects a worsening)."),
        case("negative advantages, ratios from 0.5 to 1.6", grid, -1.0, 0.2,
             "for A < 0 the objective is max(rho, 1 - eps) A: flat only below 1 - eps."),
        case("mixed signs, eps = 0.1", [0.85, 1.15, 0.85, 1.15, 1.05], [1.0, 1.0, -1.0, -1.0, 2.0], 0.1,
             "take the minimum of the unclipped and the clipped term, per sample, then the mean."),
        case("old log-probabilities that carry gradient", grid, 0.7, 0.3,
             "logp_old was stored at collection: detach it, or the loss also pushes the old policy.", old_grad=True),
    ]
    for i in range(3):
        n = int(rng.integers(5, 40))
        cases.append(case(f"random batch #{i + 1}", np.exp(rng.normal(0, 0.3, size=n)), rng.normal(size=n),
                          float(rng.choice([0.1, 0.2, 0.3]))))

    return run_exercise("Exercise 14.1 (ppo_clip_loss)", fn, cases, _reference_clip,
                        lambda got, case: _judge_loss(got, case, "logp_new", "logp_old"),
                        "rlcore.algos.ppo.clipped_surrogate_loss", fallback_fn=ppo_clip_loss)


def value_loss(v_new, v_old, returns, clip_eps=None):
    """Exercise 14.3's reference: ``mean (v_new - R)^2``, or ``mean max((v_new - R)^2, (v_old + clip(v_new - v_old,
    -eps, eps) - R)^2)`` with ``clip_eps`` (Chapter 14, §14.4), by :func:`rlcore.algos.ppo.value_loss`."""
    from ..algos.ppo import value_loss as _value_loss

    return _value_loss(v_new, returns, v_old.detach(), clip_eps)


def _reference_value(v_new, v_old, returns, clip_eps=None):
    return _value_and_grad(value_loss(v_new, v_old, returns, clip_eps), v_new)


def check_value_loss(fn, seed: int = 142) -> CheckResult:
    """Exercise 14.3 (Chapter 14, §14.4): ``value_loss(v_new, v_old, returns, clip_eps=None)`` returns ``mean (v_new -
    R)^2`` or, with ``clip_eps``, ``mean max((v_new - R)^2, (v_old + clip(v_new - v_old, -eps, eps) - R)^2)``,
    differentiable in ``v_new``; judged by value and gradient."""
    import torch

    rng = np.random.default_rng(seed)

    def case(label, v_new, v_old, returns, clip_eps=None, hint="", old_grad=False):
        return Case(label, dict(v_new=torch.tensor(v_new, dtype=torch.float64, requires_grad=True),
                                v_old=torch.tensor(v_old, dtype=torch.float64, requires_grad=old_grad),
                                returns=torch.tensor(returns, dtype=torch.float64), clip_eps=clip_eps), hint)

    cases = [
        case("no clipping", [1.0, 2.0, -1.0], [0.0, 0.0, 0.0], [1.5, 1.0, 0.0], None,
             "without clip_eps: the mean of (v_new - returns)^2, no factor 1/2."),
        case("clipping that binds", [3.0, -3.0, 0.1], [0.0, 0.0, 0.0], [2.0, -2.0, 0.0], 0.5,
             "v_clipped = v_old + clip(v_new - v_old, -eps, eps); take the max of the two squared errors, per sample."),
        case("clipping that does not bind", [0.1, -0.2], [0.0, 0.0], [1.0, 1.0], 0.5,
             "inside the clip range both terms are equal."),
        case("the clipped error is the larger", [2.0, -2.0], [0.0, 0.0], [0.2, -0.2], 0.5,
             "the max picks the clipped error when v_new overshoots the target: the clipped term then pulls v_new "
             "with zero gradient (it is constant in v_new)."),
        case("old values that carry gradient", [1.0, 0.0, 3.0], [0.5, 0.5, 0.5], [2.0, 2.0, 2.0], 0.2,
             "v_old was computed at collection: detach it.", old_grad=True),
    ]
    for i in range(3):
        n = int(rng.integers(5, 40))
        v_old = rng.normal(size=n)
        cases.append(case(f"random batch #{i + 1}", v_old + rng.normal(0, 0.5, size=n), v_old, rng.normal(size=n),
                          [None, 0.2, 0.5][i]))

    return run_exercise("Exercise 14.3 (value_loss)", fn, cases, _reference_value,
                        lambda got, case: _judge_loss(got, case, "v_new", "v_old"),
                        "rlcore.algos.ppo.value_loss", fallback_fn=value_loss)


def adaptive_kl_beta(beta, kl, target):
    """Exercise 14.2's reference, :func:`rlcore.algos.ppo.adaptive_kl_coef` (Chapter 14, §14.2)."""
    return adaptive_kl_coef(beta, kl, target)


def check_adaptive_kl_beta(fn, seed: int = 143) -> CheckResult:
    """Exercise 14.2 (Chapter 14, §14.2): ``adaptive_kl_beta(beta, kl, target)`` returns ``2 beta`` if ``kl > 1.5
    target``, ``beta / 2`` if ``kl < target / 1.5``, else ``beta``; compared exactly, on the boundaries too."""
    t = 0.01
    cases = [Case(label, dict(beta=beta, kl=kl, target=target), hint) for label, beta, kl, target, hint in [
        ("a KL far above the target", 1.0, 0.05, t, "the update moved too far: a larger penalty, 2 beta."),
        ("a KL far below the target", 1.0, 0.001, t, "the update hardly moved: a smaller penalty, beta / 2."),
        ("a KL on target", 0.5, 0.01, t, "inside [target / 1.5, 1.5 target] beta stays as it is."),
        ("a KL just above 1.5 target", 3.0, 0.0151, t, "the factors are 1.5 for the band and 2 for beta."),
        ("a KL just below target / 1.5", 3.0, 0.0066, t, "below target / 1.5 = 0.00667: halve beta."),
        ("a KL exactly 1.5 target", 0.25, 0.375, 0.25, "the rule doubles only when the KL *exceeds* 1.5 target."),
        ("a KL exactly target / 1.5", 0.25, 0.5, 0.75, "the rule halves only when the KL is *below* target / 1.5."),
        ("a large beta", 1e3, 1.0, 0.02, "no cap: 2 beta."),
    ]]

    def compare(got, case):
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.floating, np.integer)):
            return f"return a number, got {type(got).__name__} (expected {case.expected!r})"
        if float(got) != case.expected:
            return f"expected beta = {case.expected!r}, got {float(got)!r}"
        return None

    return run_exercise("Exercise 14.2 (adaptive_kl_beta)", fn, cases, adaptive_kl_beta, compare,
                        "rlcore.algos.ppo.adaptive_kl_coef")


QUESTIONS = {q.id: q for q in [
    Question(
        "14.1", "The figure shows the clipped objective L^CLIP of one sample as a function of the ratio w, for some "
        "ε_clip in (0, 1), in two panels. Which statements are true? Select all that apply.", MULTIPLE, frozenset("a"),
        "(a) For A > 0 the objective is min(w, 1 + ε_clip)A: it rises with w and is flat to the right of 1 + ε_clip, "
        "the left panel. For A < 0 it is max(w, 1 − ε_clip)A: flat to the left of 1 − ε_clip, then falling, the right "
        "panel. (b) is the mirror of (a), so false. (c) is false: ε_clip moves the kinks, not which side is flat.",
        choices=("the left panel is for A > 0 and the right one for A < 0",
                 "the right panel is for A > 0 and the left one for A < 0",
                 "which panel is which depends on the value of ε_clip"),
        hints={"b": "for A > 0, does the objective grow or shrink as w grows?",
               "ac": "(c): redraw the panels for ε_clip = 0.1 and ε_clip = 0.5; which side is flat?"}),
]}

#: ``quiz("14.1")`` shows question 14.1 (Chapter 14, §14.1).
quiz = make_quiz(QUESTIONS)
