"""One shared validation module: a test per rule, and the bad inputs that once passed silently.

Every message names the argument, what it got and what was expected."""

import numpy as np
import pytest
import torch

from rlcore.base import validate
from rlcore.estimators import advantages as adv
from rlcore.estimators import returns, stats
from rlcore.exercises import ERROR, PASS, Case, run_exercise
from rlcore.tabular import dp, exact
from rlcore.tabular.builders import random_mdp
from rlcore.tabular.montecarlo import sample_returns


# ------------------------------------------------------------------ the rules, one by one
def test_array_rule():
    assert validate.array([1, 2], "x").dtype == np.float64
    with pytest.raises(TypeError, match=r"x must be a numeric array, got an array of shape \(2,\) and dtype <U1"):
        validate.array(["a", "b"], "x")
    with pytest.raises(ValueError, match=r"x must be a 2-D array, got shape \(3,\)"):
        validate.array(np.ones(3), "x", ndim=2)
    with pytest.raises(ValueError, match=r"x must have shape \(3, any\), got \(2, 2\)"):
        validate.array(np.ones((2, 2)), "x", shape=(3, None))
    with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at index \(1,\)\); expected finite"):
        validate.array([0.0, np.nan], "x")
    with pytest.raises(ValueError, match="NaN or inf"):
        validate.array([0.0, -np.inf], "x")
    original = np.ones(2)
    validate.array(original, "x", copy=True)[0] = 5
    assert original[0] == 1  # copy=True never aliases the caller's array


def test_integer_array_rule():
    np.testing.assert_array_equal(validate.integer_array(np.zeros(3), "a"), [0, 0, 0])  # whole floats are fine
    with pytest.raises(ValueError, match=r"a must hold whole numbers, got 1.7 at index \(1,\)"):
        validate.integer_array([1.0, 1.7], "a")
    with pytest.raises(TypeError, match="a must hold integers"):
        validate.integer_array(np.array([True, False]), "a")
    with pytest.raises(ValueError, match=r"a must be >= 0, got -1 at index \(0,\)"):
        validate.integer_array([-1, 0], "a", low=0)
    with pytest.raises(ValueError, match=r"a must be < 3, got 3 at index \(1,\)"):
        validate.integer_array([0, 3], "a", high=3)
    with pytest.raises(ValueError, match="NaN or inf"):
        validate.integer_array([0.0, np.nan], "a")


def test_probability_rows_rule():
    validate.probability_rows(np.array([[0.5, 0.5]]), "p")
    with pytest.raises(ValueError, match=r"p has a negative probability -0.1 at index \(0, 1\)"):
        validate.probability_rows(np.array([[1.1, -0.1]]), "p")
    with pytest.raises(ValueError, match=r"p \(shape \(1, 2\)\) must sum to 1"):
        validate.probability_rows(np.array([[0.5, 0.6]]), "p")


@pytest.mark.parametrize("value, kwargs, error, match", [
    (True, {}, TypeError, "x must be a real number, got bool"),
    ("0.5", {}, TypeError, "x must be a real number, got str"),
    (np.ones(2), {}, TypeError, "x must be a real number"),
    (float("nan"), {}, ValueError, r"x must be a finite number in \[-inf, inf\), got nan"),
    (0.0, dict(low=0.0, low_open=True), ValueError, r"x must be a finite number in \(0, inf\), got 0.0"),
    (1.5, dict(low=0.0, high=1.0), ValueError, r"x must be a finite number in \[0, 1\], got 1.5"),
])
def test_real_rule(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        validate.real(value, "x", **kwargs)


def test_integer_discount_one_of_generator_rules():
    assert validate.integer(np.int64(3), "n") == 3 and validate.integer(4.0, "n") == 4
    with pytest.raises(TypeError, match="n must be an integer, got float 3.5"):
        validate.integer(3.5, "n")
    with pytest.raises(TypeError, match="n must be an integer"):
        validate.integer(True, "n")
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        validate.integer(0, "n", low=1)
    with pytest.raises(ValueError, match=r"gamma must be a finite number in \[0, 1\], got 1.01"):
        validate.discount(1.01)
    with pytest.raises(ValueError, match="mode must be one of 'a', 'b', got 'c'"):
        validate.one_of("c", "mode", ("a", "b"))
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator \(np.random.default_rng"):
        validate.generator(np.random.RandomState(0))


# ------------------------------------------------------------------ the cases that once passed silently
def batch(T=4, N=4, **change):
    args = dict(rewards=np.ones((T, N)), values=np.zeros((T, N)), next_values=np.zeros((T, N)),
                terminated=np.zeros((T, N), bool), truncated=np.zeros((T, N), bool))
    args.update(change)
    return args


@pytest.mark.parametrize("name", ["rewards", "values", "next_values"])
def test_estimators_reject_nan(name):
    bad = batch()
    bad[name] = bad[name].copy()
    bad[name][2, 1] = np.nan
    with pytest.raises(ValueError, match=rf"{name} contains NaN or inf \(first at index \(2, 1\)\)"):
        adv.gae(**bad, gamma=0.9, lam=0.95)
    with pytest.raises(ValueError, match=rf"{name} contains NaN"):
        adv.n_step_returns(**bad, gamma=0.9, n=3)
    without_truncated = {k: v for k, v in bad.items() if k != "truncated"}
    with pytest.raises(ValueError, match=rf"{name} contains NaN"):
        adv.td_errors(**without_truncated, gamma=0.9)


def test_td_errors_checks_shapes_when_T_equals_N():
    """With T == N, a (T,) array used to broadcast across environments instead of time."""
    b = batch(T=4, N=4)
    with pytest.raises(ValueError, match=r"values must have shape \(4, 4\), got \(4,\)"):
        adv.td_errors(b["rewards"], np.zeros(4), b["next_values"], b["terminated"], 0.9)


def test_episode_end_flags_must_be_booleans_or_0_1():
    np.testing.assert_allclose(adv.gae(**batch(terminated=np.ones((4, 4))), gamma=0.9, lam=1.0), 1.0)  # 0/1 is fine
    with pytest.raises(ValueError, match="terminated must hold booleans or 0/1"):
        adv.gae(**batch(terminated=np.full((4, 4), 2.0)), gamma=0.9, lam=1.0)


def test_sample_returns_rejects_a_start_state_of_minus_one():
    mdp = random_mdp(3, 2, seed=0)
    with pytest.raises(ValueError, match=r"start_states must be >= 0, got -1 at index \(1,\)"):
        sample_returns(mdp, np.full((3, 2), 0.5), [0, -1], np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"start_states must be < 3"):
        sample_returns(mdp, np.full((3, 2), 0.5), [3], np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        sample_returns(mdp, np.full((3, 2), 0.5), [0], 0)


def test_dp_rejects_a_float_policy_instead_of_truncating_it():
    mdp = random_mdp(3, 2, seed=0)
    with pytest.raises(ValueError, match="pi0 must hold whole numbers, got 0.9"):
        dp.policy_iteration(mdp, pi0=np.array([0.9, 1.7, 0.2]))
    with pytest.raises(ValueError, match="must hold whole numbers, got 0.9"):
        exact.evaluate_policy(mdp, np.array([0.9, 1.7, 0.2]))
    assert dp.policy_iteration(mdp, pi0=np.zeros(3)).iterations >= 0  # whole-number floats are accepted


def test_value_iteration_with_a_nan_start_names_v0():
    with pytest.raises(ValueError, match=r"V0 contains NaN or inf \(first at index \(0,\)\)"):
        dp.value_iteration(random_mdp(3, 2, seed=0), V0=np.array([np.nan, 0.0, 0.0]))


def test_other_public_functions_validate():
    with pytest.raises(ValueError, match="rewards must be a 1-D array"):
        returns.discounted_return(np.ones((2, 2)), 0.9)
    with pytest.raises(ValueError, match="samples contains NaN"):
        stats.mean_se([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="se must be >= 0"):
        stats.z_scores(1.0, 1.0, -1.0)
    with pytest.raises(TypeError, match="mdp must be a FiniteMDP"):
        exact.evaluate_policy("FrozenLake", np.ones((3, 2)) / 2)
    with pytest.raises(ValueError, match=r"Q must have shape \(3, 2\)"):
        exact.bellman_optimality_q(random_mdp(3, 2, seed=0), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="Q contains NaN"):
        dp.greedy(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="values must have shape"):
        stats.explained_variance(np.zeros(3), np.ones(4))


def test_reader_arguments_reach_an_exercise_by_name():
    """The reference and the reader's function both receive keyword arguments, so their order cannot matter."""
    case = Case("c", dict(a=1.0, b=10.0))

    def reference(a, b):
        return np.array(a - b)

    def compare(got, c):
        return None if float(got) == float(c.expected) else f"got {got}"

    def swapped_order(b, a):  # same names, other order: still right
        return np.array(a - b)

    assert run_exercise("E", swapped_order, [case], reference, compare, "ref").status == PASS
    renamed = run_exercise("E", lambda x, y: np.array(x - y), [case], reference, compare, "ref")
    assert renamed.status == ERROR and "must take the arguments (a, b), by these names" in renamed.message


def test_torch_side_inputs_are_validated():
    from rlcore.base.quadratic import conjugate_gradient
    from rlcore.distributions import fisher_vector_product
    from rlcore.training.optim import clip_grad_norm_

    w = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"v must be a flat tensor of shape \(3,\)"):
        fisher_vector_product(lambda: (w**2).sum(), [w], torch.zeros(4))
    with pytest.raises(ValueError, match="iters must be an integer >= 0"):
        conjugate_gradient(lambda v: v, torch.ones(2), iters=-1)
    with pytest.raises(ValueError, match="b must be a 1-D tensor of finite numbers"):
        conjugate_gradient(lambda v: v, torch.tensor([1.0, float("nan")]), iters=2)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_([w], -1.0)
