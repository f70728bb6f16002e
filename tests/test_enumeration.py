"""Exact trajectory enumeration (Chapter 7): probabilities sum to one, moments match sampling, and the
REINFORCE checks fail when an estimator is wrong."""

import numpy as np
import pytest

from rlcore.checks.registry import REGISTRY, load_all
from rlcore.tabular import enumeration
from rlcore.tabular.builders import random_mdp
from rlcore.tabular.policy_gradient import softmax_policy

load_all()


def test_probabilities_sum_to_one_and_rewards_are_read_from_the_mdp():
    mdp = random_mdp(3, 2, gamma=0.9, seed=0)
    pi = softmax_policy(np.random.default_rng(0).normal(size=(3, 2)))
    trajs = enumeration.enumerate_trajectories(mdp, pi, horizon=4)
    assert abs(trajs.prob.sum() - 1) < 1e-12
    assert np.allclose(trajs.rewards, mdp.r[trajs.states, trajs.actions])
    first_states = np.bincount(trajs.states[:, 0], weights=trajs.prob, minlength=3)
    assert np.allclose(first_states, mdp.rho0)


def test_exact_moments_agree_with_sampling():
    rng = np.random.default_rng(1)
    trajs = enumeration.Trajectories(np.array([0.2, 0.8]), np.zeros((2, 1), int), np.zeros((2, 1), int),
                                     np.zeros((2, 1)))
    values = np.array([[1.0, 0.0], [3.0, 1.0]])
    mean, cov = enumeration.moments(trajs, values)
    draws = values[rng.choice(2, size=200_000, p=trajs.prob)]
    assert np.allclose(mean, draws.mean(axis=0), atol=0.01) and np.allclose(cov, np.cov(draws.T), atol=0.01)


@pytest.mark.parametrize("check_id", ["DC-20", "DC-21", "DC-22", "DC-23", "DC-26"])
def test_the_chapter_7_checks_pass(check_id):
    assert REGISTRY[check_id].fn().all_passed


def test_dc20_fails_for_an_estimator_without_the_discount(monkeypatch):
    original = enumeration.reinforce_terms

    def no_gamma_t(theta, trajectories, gamma, estimator="reward_to_go", gamma_t=True, baseline=None):
        return original(theta, trajectories, gamma, estimator, gamma_t=False, baseline=baseline)

    monkeypatch.setattr("rlcore.checks.reinforce.reinforce_terms", no_gamma_t)
    assert not REGISTRY["DC-20"].fn().all_passed


def test_too_many_trajectories_are_refused():
    mdp = random_mdp(6, 4, gamma=0.9, seed=0)
    with pytest.raises(ValueError, match="exceed limit"):
        enumeration.enumerate_trajectories(mdp, np.full((6, 4), 0.25), horizon=8)
