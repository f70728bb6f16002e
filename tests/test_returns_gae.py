"""GAE, n-step and bootstrapped returns, each against an independent brute-force recomputation."""

import numpy as np
import pytest
import torch
import toy_envs  # noqa: F401  (registers the toy environments)

from rlcore.data.rollouts import RolloutCollector
from rlcore.envs import make_vec_env
from rlcore.estimators import advantages as returns
from rlcore.fixtures import random_rollout_batch as random_batch
from rlcore.nets import ActorCritic, TorchPolicy
from rlcore.training.optim import Adam


def brute_n_step_return(r, next_v, term, trunc, gamma, t, n):
    """sum_{k<m} gamma^k r_{t+k} + gamma^m V(s_{t+m}), stopping at an episode end or the array's end."""
    G, T = 0.0, len(r)
    for k in range(n):
        s = t + k
        G += gamma**k * r[s]
        if term[s]:
            return G
        if trunc[s] or s == T - 1 or k == n - 1:
            return G + gamma ** (k + 1) * next_v[s]
    raise AssertionError("unreachable")


def horizon(term, trunc, t):
    """Number of steps from t to the end of its episode or of the array."""
    T = len(term)
    for s in range(t, T):
        if term[s] or trunc[s]:
            return s - t + 1
    return T - t


def brute_gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """The lambda-weighted average of n-step advantages: (1-lam) sum_n lam^(n-1) A^(n), mass lam^(H-1) on A^(H)."""
    T, N = rewards.shape
    A = np.zeros((T, N))
    for i in range(N):
        r, v, nv, te, tr = rewards[:, i], values[:, i], next_values[:, i], terminated[:, i], truncated[:, i]
        for t in range(T):
            H = horizon(te, tr, t)
            adv = [brute_n_step_return(r, nv, te, tr, gamma, t, n) - v[t] for n in range(1, H + 1)]
            weights = [(1 - lam) * lam ** (n - 1) for n in range(1, H)] + [lam ** (H - 1)]
            A[t, i] = np.dot(weights, adv)
    return A


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("lam", [0.0, 0.3, 0.95, 1.0])
def test_gae_equals_lambda_average_of_n_step_advantages(seed, lam):
    rng = np.random.default_rng(seed)
    batch = random_batch(rng)
    gamma = 0.9
    fast = returns.gae(*batch, gamma, lam)
    # float64 sums of at most 12 terms: agreement to rounding error
    np.testing.assert_allclose(fast, brute_gae(*batch, gamma, lam), rtol=1e-10, atol=1e-10)


def test_gae_limits():
    rng = np.random.default_rng(7)
    rewards, values, next_values, terminated, truncated = batch = random_batch(rng)
    gamma = 0.97
    td = rewards + gamma * (1 - terminated) * next_values - values
    np.testing.assert_allclose(returns.gae(*batch, gamma, 0.0), td, atol=1e-12)  # lambda = 0: the TD error
    mc = returns.bootstrapped_returns(rewards, next_values, terminated, truncated, gamma)
    np.testing.assert_allclose(returns.gae(*batch, gamma, 1.0), mc - values, atol=1e-10)  # lambda = 1: G - V


@pytest.mark.parametrize("n", [1, 2, 5, 40])
def test_n_step_returns_against_brute_force(n):
    rng = np.random.default_rng(n)
    rewards, values, next_values, terminated, truncated = random_batch(rng)
    gamma = 0.8
    fast = returns.n_step_returns(rewards, values, next_values, terminated, truncated, gamma, n)
    for i in range(rewards.shape[1]):
        for t in range(len(rewards)):
            expected = brute_n_step_return(rewards[:, i], next_values[:, i], terminated[:, i], truncated[:, i],
                                           gamma, t, n)
            assert fast[t, i] == pytest.approx(expected, abs=1e-12)


def test_termination_and_truncation_give_different_advantages():
    """One episode of 3 steps; it ends at the last step either by termination or by a time limit."""
    rewards = np.ones((3, 1))
    values = np.full((3, 1), 5.0)
    next_values = np.full((3, 1), 5.0)  # V of the final observation is 5 too
    ended = np.array([[False], [False], [True]])
    gamma, lam = 0.9, 0.95
    a_term = returns.gae(rewards, values, next_values, ended, ~ended & False, gamma, lam)
    a_trunc = returns.gae(rewards, values, next_values, ended & False, ended, gamma, lam)
    # last step by hand: termination -> 1 - 5 = -4; truncation -> 1 + 0.9 * 5 - 5 = 0.5
    assert a_term[2, 0] == pytest.approx(-4.0)
    assert a_trunc[2, 0] == pytest.approx(0.5)
    assert np.all(a_trunc > a_term)


def test_input_validation_names_the_argument():
    with pytest.raises(ValueError, match="next_values"):
        returns.gae(np.ones((3, 2)), np.ones((3, 2)), np.ones((2, 2)), np.zeros((3, 2)), np.zeros((3, 2)), 0.9, 0.9)
    with pytest.raises(ValueError, match="lam"):
        returns.gae(np.ones(3), np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), 0.9, 1.5)
    with pytest.raises(ValueError, match="n must"):
        returns.n_step_returns(np.ones(3), np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), 0.9, 0)


def learned_start_value(handle_truncation: bool, gamma=0.9, iterations=150) -> float:
    """Fit V on ForeverEnv (reward 1 forever, cut at 20 steps) by repeated regression onto GAE(0) targets."""
    torch.manual_seed(0)
    envs = make_vec_env("rlcore-test/Forever-v0", 4, seed=0)
    net = ActorCritic(1, 2, True, hidden=(16,))
    optimizer = Adam(net.parameters(), lr=0.05)
    collector = RolloutCollector(envs, TorchPolicy(net, torch.Generator().manual_seed(0)), 25)
    for _ in range(iterations):
        ro = collector.collect()
        terminated = ro.terminated if handle_truncation else ro.terminated | ro.truncated
        targets = returns.gae(ro.rewards, ro.values[:-1], ro.next_values, terminated, ro.truncated, gamma, 0.0)
        batch = ro.transitions(returns=targets + ro.values[:-1])
        for _ in range(10):
            _, _, value = net.evaluate_actions(batch["obs"], batch["actions"], entropy=False)
            loss = (value - batch["returns"]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return float(net.value(torch.ones(1, 1)))


def test_time_limit_value_only_right_when_truncation_is_handled():
    true_value = 1 / (1 - 0.9)  # reward 1 forever: V = 1 / (1 - gamma) = 10
    assert abs(learned_start_value(True) - true_value) < 1.0
    # treating the time limit as a terminal state teaches the finite-horizon average, about 6
    assert abs(learned_start_value(False) - true_value) > 2.0
