"""Steepest descent and conjugate gradient on quadratics (Chapter 13, Appendix C), and checks that fail when the
solver is wrong."""

import numpy as np
import pytest

import rlcore.checks.trust_region as T
from rlcore.base import quadratic as q


def test_cg_solves_a_small_system_in_n_steps_and_stops_early_at_tol():
    A = np.array([[4.0, 1.0], [1.0, 3.0]])
    b = np.array([1.0, 2.0])
    run = q.conjugate_gradient_history(A, b)
    assert np.allclose(run["x"][-1], np.linalg.solve(A, b), atol=1e-14) and len(run["p"]) == 2
    assert len(q.conjugate_gradient_history(np.eye(3), np.ones(3), tol=1e-12)["p"]) == 1  # one step for I


def test_steepest_descent_zig_zags_on_an_elongated_bowl():
    A = np.diag([1.0, 50.0])
    run = q.steepest_descent(A, np.array([1.0, 1.0]), 30)
    r = run["r"]
    assert np.allclose(np.sum(r[1:5] * r[:4], axis=1), 0.0, atol=1e-12)  # successive residuals orthogonal
    assert np.linalg.norm(run["x"][-1] - [1.0, 0.02]) < 0.5  # slow: still far after 30 steps


@pytest.mark.parametrize("A, b, message", [
    (np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2), "symmetric"),
    (np.eye(3), np.ones(2), "A must be a square matrix of shape \\(2, 2\\)"),
    (np.eye(2), np.array([1.0, np.inf]), "b"),
])
def test_bad_systems_are_named(A, b, message):
    with pytest.raises(ValueError, match=message):
        q.conjugate_gradient_history(A, b)


def test_dc57_fails_for_steepest_descent_posing_as_cg(monkeypatch):
    def impostor(A, b, iters=None, tol=0.0):
        run = q.steepest_descent(A, b, iters if iters is not None else len(b))
        p = run["r"][:-1]
        return {"x": run["x"], "r": run["r"], "p": p, "beta": np.ones(len(p)), "beta_conjugacy": np.ones(len(p))}

    monkeypatch.setattr(T, "conjugate_gradient_history", impostor)
    assert not T.dc57_conjugate_gradient().all_passed


def test_dc46_fails_if_the_vector_is_left_attached(monkeypatch):
    real = T.fisher_vector_product

    def attached(kl, params, v, damping=0.0):  # a product that ignores v: not F v
        return real(kl, params, v * 0 + 1.0, damping)

    monkeypatch.setattr(T, "fisher_vector_product", attached)
    assert not T.dc46_pearlmutter().all_passed


def test_conjugate_gradient_stops_where_the_matrix_has_no_curvature():
    """A direction with p^T A p <= 0 has no minimum along it: the solver returns the iterate reached, never NaN."""
    x = q.conjugate_gradient(lambda v: 0.0 * v, np.array([1.0, 2.0]), iters=5)
    assert np.array_equal(x, np.zeros(2))
    indefinite = np.diag([1.0, -1.0])
    x = q.conjugate_gradient(lambda v: indefinite @ v, np.array([1.0, 1.0]), iters=5)
    assert np.all(np.isfinite(x))
