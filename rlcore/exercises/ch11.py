"""Checkers for the exercises of Chapter 11 (the natural policy gradient).

Both exercises are linear algebra on small matrices: answers are compared with rlcore's to a relative 1e-8
(rounding of a solve with condition number <= 1e4 is below 1e-11; the conceptual errors the tests know, such as
a dropped 1/2 or a gradient transformed with A instead of A^{-T}, move the answer by more than 1e-2). Each answer is
also judged by a property that does not use the reference: the step must fill the trust region exactly, and a
natural step taken in new coordinates must map back to the natural step in the old ones.
"""

from __future__ import annotations

import numpy as np

from ..tabular.natural import natural_gradient_step as _natural_gradient_step
from ..tabular.policy_gradient import softmax_fisher, softmax_policy
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import SINGLE, Question, make_quiz

RTOL = 1e-8


def _close(got, expected, name: str) -> str | None:
    scale = max(1.0, float(np.max(np.abs(expected)))) if np.size(expected) else 1.0
    return array_problem(got, expected, RTOL * scale, name)


def _spd(rng: np.random.Generator, n: int, condition: float) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(np.geomspace(1.0, condition, n)) @ Q.T


def natural_gradient_step(g, F, delta, damping=0.0):
    """Exercise 11.1's signature for :func:`rlcore.tabular.natural.natural_gradient_step` (Chapter 11, §11.2)."""
    return _natural_gradient_step(g, F, delta, damping)


def check_natural_gradient_step(fn, seed: int = 111) -> CheckResult:
    """Exercise 11.1 (Chapter 11, §11.2): ``natural_gradient_step(g, F, delta, damping)``, eq. (eq-npg-step) with
    ``F + damping I`` in place of ``F`` and the pseudo-inverse when ``damping = 0``."""
    rng = np.random.default_rng(seed)
    p = softmax_policy(np.array([[0.5, -1.0, 1.5]]))[0]
    singular = softmax_fisher(p)
    cases = [
        Case("diagonal F", dict(g=np.array([1.0, 1.0]), F=np.diag([4.0, 1.0]), delta=0.02, damping=0.0),
             "x = F^{-1} g = (0.25, 1); g^T x = 1.25; the step is sqrt(2 delta / 1.25) x, so that "
             "1/2 Delta^T F Delta = delta (mind the 1/2: a KL of delta, not delta/2)."),
        Case("the identity", dict(g=np.array([3.0, 4.0]), F=np.eye(2), delta=0.5, damping=0.0),
             "with F = I the natural step is the Euclidean one, of length sqrt(2 delta) = 1 along g."),
        Case("a singular softmax Fisher", dict(g=singular @ np.array([1.0, 0.0, -2.0]), F=singular, delta=0.01,
                                               damping=0.0),
             "F = diag(p) - p p^T has the null vector 1, so np.linalg.solve fails or returns garbage: use the "
             "pseudo-inverse (np.linalg.pinv) when damping is 0."),
        Case("damping", dict(g=np.array([1.0, -1.0, 0.5]), F=singular, delta=0.01, damping=0.1),
             "with damping, use F + damping I everywhere, also in the constraint: 1/2 Delta^T (F + damping I) Delta "
             "= delta."),
        Case("a zero gradient", dict(g=np.zeros(3), F=np.eye(3), delta=0.01, damping=0.0),
             "g = 0: there is nothing to climb, the step is 0 (not NaN from 0/0)."),
    ]
    for i in range(3):
        n = int(rng.integers(2, 7))
        cases.append(Case(f"random F and g #{i + 1}", dict(g=rng.normal(size=n), F=_spd(rng, n, 10.0 ** (i + 1)),
                                                             delta=float(rng.uniform(0.001, 0.05)), damping=0.0)))

    def compare(got, case):
        problem = _close(got, case.expected, "the step")
        if problem is None and np.any(case.kwargs["g"] != 0):  # property: the trust region is filled exactly
            k = case.kwargs
            M = k["F"] + k["damping"] * np.eye(len(k["g"]))
            step = np.asarray(got, float)
            if abs(0.5 * step @ M @ step - k["delta"]) > 1e-9:
                problem = "1/2 Delta^T F Delta is not delta: the step does not reach the edge of the trust region"
        return problem

    return run_exercise("Exercise 11.1 (natural_gradient_step)", fn, cases, natural_gradient_step, compare,
                        "rlcore.tabular.natural.natural_gradient_step")


def natural_step_in_new_coordinates(g_theta, F_theta, A, delta):
    """Exercise 11.2's reference: the natural step in the coordinates ``phi = A theta``, given the gradient and the
    Fisher matrix in ``theta`` (Chapter 11, §11.4, eq. (eq-npg-invariance))."""
    A = np.asarray(A, float)
    A_inv = np.linalg.inv(A)
    g_phi = A_inv.T @ np.asarray(g_theta, float)  # chain rule: dJ/dphi = A^{-T} dJ/dtheta
    F_phi = A_inv.T @ np.asarray(F_theta, float) @ A_inv  # the Fisher matrix is a covariance of gradients
    return _natural_gradient_step(g_phi, (F_phi + F_phi.T) / 2, delta)


def check_natural_step_in_new_coordinates(fn, seed: int = 112) -> CheckResult:
    """Exercise 11.2 (Chapter 11, §11.4): ``natural_step_in_new_coordinates(g_theta, F_theta, A, delta)``, the
    natural step ``Delta phi`` for ``phi = A theta``; mapped back, ``A^{-1} Delta phi`` must be the natural step in
    ``theta``."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("A = I", dict(g_theta=np.array([1.0, 2.0]), F_theta=np.diag([2.0, 1.0]), A=np.eye(2), delta=0.01),
             "with A = I the coordinates do not change: the answer is the natural step in theta."),
        Case("A = 2 I", dict(g_theta=np.array([1.0, 2.0]), F_theta=np.diag([2.0, 1.0]), A=2 * np.eye(2),
                             delta=0.01),
             "phi = 2 theta: dJ/dphi = (1/2) dJ/dtheta (chain rule), F_phi = F_theta / 4, and the step in phi is "
             "twice the step in theta."),
        Case("a diagonal A", dict(g_theta=np.array([1.0, 1.0]), F_theta=np.eye(2), A=np.diag([1.0, 10.0]),
                                  delta=0.02),
             "stretching one coordinate by 10 shrinks its gradient by 10 (A^{-T} g) and its Fisher entry by 100 "
             "(A^{-T} F A^{-1})."),
        Case("a shear", dict(g_theta=np.array([1.0, -1.0]), F_theta=np.array([[2.0, 0.5], [0.5, 1.0]]),
                             A=np.array([[1.0, 1.0], [0.0, 1.0]]), delta=0.01),
             "the gradient transforms with A^{-T}, not A and not A^{-1}; the Fisher matrix with A^{-T} on the left "
             "and A^{-1} on the right."),
    ]
    for i in range(3):
        n = int(rng.integers(2, 5))
        cases.append(Case(f"random A #{i + 1}", dict(g_theta=rng.normal(size=n), F_theta=_spd(rng, n, 20.0),
                                                     A=rng.normal(size=(n, n)) + 2 * np.eye(n), delta=0.01)))

    def compare(got, case):
        problem = _close(got, case.expected, "Delta phi")
        if problem is None:  # property: invariance, computed without the reference
            k = case.kwargs
            back = np.linalg.solve(k["A"], np.asarray(got, float))
            direct = _natural_gradient_step(k["g_theta"], k["F_theta"], k["delta"])
            if np.max(np.abs(back - direct)) > 1e-8 * max(1.0, np.max(np.abs(direct))):
                problem = "A^{-1} Delta phi is not the natural step in theta"
        return problem

    return run_exercise("Exercise 11.2 (natural_step_in_new_coordinates)", fn, cases, natural_step_in_new_coordinates,
                        compare, "rlcore.exercises.ch11.natural_step_in_new_coordinates")


QUESTIONS = {q.id: q for q in [
    Question(
        "11.1", "A policy-gradient method takes steps that are sometimes far too large and sometimes far too small. "
        "Which change addresses the cause?", SINGLE, "c",
        "(a) and (b) rescale the step in parameter space: Adam per coordinate, normalisation per batch. Neither looks "
        "at how much the policy changes, and the same parameter step can move one policy a lot and another hardly at "
        "all (§11.1). (c) bounds the change of the policy itself, measured by the KL, which is what the natural "
        "gradient does. (d) makes every step smaller, also the ones that were already too small.",
        choices=("use Adam instead of plain gradient ascent",
                 "normalise the advantages in every batch",
                 "bound the KL divergence between the old and the new policy at every step",
                 "divide the learning rate by 10"),
        hints={"a": "Adam adapts the step per parameter from the gradient's history. Does it know how far the policy "
                    "moves?",
               "b": "normalising advantages rescales the gradient. Is the gradient's size the problem?",
               "d": "the too-small steps get smaller too: what would fix both kinds at once?"}),
]}

#: ``quiz("11.1")`` shows question 11.1 (Chapter 11, §11.1).
quiz = make_quiz(QUESTIONS)
