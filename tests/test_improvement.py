"""Policy improvement theory (Chapter 12): the library's quantities on known cases, its validation, and checks that
fail when a bound or an identity is broken."""

import numpy as np
import pytest

import rlcore.checks.improvement as C
from rlcore.envs.toytext import from_toytext
from rlcore.tabular import builders, exact
from rlcore.tabular import improvement as imp
from rlcore.tabular.policy_gradient import softmax_policy


@pytest.fixture
def pair():
    mdp = builders.random_mdp(4, 3, gamma=0.9, seed=1)
    rng = np.random.default_rng(1)
    return mdp, softmax_policy(rng.normal(size=(4, 3))), softmax_policy(rng.normal(size=(4, 3)))


def test_performance_difference_on_frozenlake():
    lake = from_toytext("FrozenLake-v1", gamma=0.95, is_slippery=True)
    pi, pi_new = np.full((16, 4), 0.25), softmax_policy(np.random.default_rng(0).normal(size=(16, 4)))
    gap = exact.expected_return(lake, pi_new) - exact.expected_return(lake, pi)
    assert imp.performance_difference(lake, pi, pi_new) == pytest.approx(gap, abs=1e-12)


def test_surrogate_is_exact_at_the_old_policy_and_the_mixture_interpolates(pair):
    mdp, pi, pi_new = pair
    assert imp.surrogate_advantage(mdp, pi, pi) == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(imp.mixture(pi, pi_new, 0.25), 0.75 * pi + 0.25 * pi_new)
    assert imp.cpi_lower_bound(mdp, pi, pi_new, 0.0) == pytest.approx(exact.expected_return(mdp, pi))


def test_cpi_step_size_is_zero_without_improvement(pair):
    mdp, pi, _ = pair
    greedy_worst = np.eye(3)[np.argmin(exact.advantages(mdp, pi), axis=1)]  # every state's worst action
    assert imp.cpi_step_size(mdp, pi, greedy_worst) == 0.0


def test_agreement_of_identical_policies_is_certain(pair):
    mdp, pi, _ = pair
    assert np.allclose(imp.agreement_probabilities(mdp, pi, pi, 5), 1.0)
    assert np.allclose(imp.state_marginals(mdp, pi, 3).sum(axis=1), 1.0)


@pytest.mark.parametrize("call, message", [
    (lambda m, p, q: imp.mixture(p, q, 1.5), "alpha"),
    (lambda m, p, q: imp.trpo_lower_bound(m, p, q, divergence="js"), "divergence"),
    (lambda m, p, q: imp.performance_difference(m, p[:2], q), "pi"),
    (lambda m, p, q: imp.surrogate_advantage(m, p, q * 2), "pi_new"),
    (lambda m, p, q: imp.state_marginals(m, p, 0), "horizon"),
])
def test_bad_input_is_named(pair, call, message):
    with pytest.raises(ValueError, match=message):
        call(*pair)


def test_dc63_fails_without_the_penalty(monkeypatch):
    def no_penalty(mdp, pi, pi_new, divergence="tv"):
        return exact.expected_return(mdp, pi) + imp.surrogate_advantage(mdp, pi, pi_new)

    monkeypatch.setattr(C.imp, "trpo_lower_bound", no_penalty)
    assert not C.dc63_trpo_bound(count=200).all_passed


def test_dc59_fails_with_the_old_policys_states(monkeypatch):
    monkeypatch.setattr(C.imp, "performance_difference", imp.surrogate_advantage)  # the surrogate is not exact
    assert not C.dc59_performance_difference(count=50).all_passed


def test_dc61_fails_with_a_tenfold_optimistic_step_size(monkeypatch):
    def optimistic(mdp, pi, pi_new, alpha):
        A, eps = imp.cpi_constants(mdp, pi, pi_new)
        g = mdp.gamma
        return exact.expected_return(mdp, pi) + alpha * A / (1 - g) - 0.2 * g * eps * alpha**2 / (1 - g) ** 2

    monkeypatch.setattr(C.imp, "cpi_lower_bound", optimistic)
    assert not C.dc61_cpi(count=100).all_passed
