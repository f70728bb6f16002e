"""The book's own environments: the LQR against its closed-form return, the token MDP and the
maximization-bias MDP against their definitions."""

import gymnasium as gym
import numpy as np
import pytest

from rlcore.envs import LQR1D, MaximizationBias, TokenMDP, lqr_return, make_vec_env
from rlcore.estimators.stats import mean_se


def test_lqr_return_matches_monte_carlo():
    """Rollouts of u = -k s + sigma eps through the environment agree with the closed form within 4 SE."""
    k, sigma, gamma, horizon = 0.6, 0.5, 0.8, 100  # 0.8^100 ~ 2e-10: truncation is negligible
    envs = make_vec_env("rlcore/LQR1D-v0", 400, seed=0, noise_std=0.3)
    rng = np.random.default_rng(0)
    returns = []
    for _ in range(4):
        obs, _ = envs.reset(seed=int(rng.integers(2**31)))
        G, discount = np.zeros(envs.num_envs), 1.0
        for _ in range(horizon):
            u = -k * obs + sigma * rng.standard_normal(obs.shape)
            obs, reward, *_ = envs.step(u)
            G += discount * reward
            discount *= gamma
        returns.append(G)
    mean, se = mean_se(np.concatenate(returns))
    exact = lqr_return(k, sigma, gamma, noise_std=0.3)
    assert abs(mean - exact) < 4 * se, (mean, exact, se)
    assert abs(lqr_return(k + 0.3, sigma, gamma, noise_std=0.3) - mean) > 4 * se  # the test can tell k apart


def test_lqr_errors():
    with pytest.raises(ValueError, match="the return is infinite"):
        lqr_return(k=-1.0, sigma=0.1, gamma=0.9)  # c = 2: gamma c^2 > 1
    env = LQR1D()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be a finite number"):
        env.step(np.array([np.nan]))


def test_token_mdp():
    env = TokenMDP(vocab=3, length=2, prompts=[(2, 1)])
    obs, info = env.reset(seed=0)
    np.testing.assert_array_equal(obs, [2, 1, -1, -1])
    obs, reward, terminated, _, _ = env.step(0)
    assert reward == 0.0 and not terminated
    np.testing.assert_array_equal(obs, [2, 1, 0, -1])
    obs, reward, terminated, _, info = env.step(1)
    assert terminated and reward == 0.5 and info["output"] == (0, 1)  # one of two tokens is 0
    assert len(list(env.sequences())) == 3**2
    with pytest.raises(ValueError, match="action must be an integer in"):
        env.step(3)
    with pytest.raises(ValueError, match="prompts must all have one length"):
        TokenMDP(prompts=[(0,), (0, 1)])
    assert gym.make("rlcore/TokenMDP-v0").action_space.n == 4


def test_maximization_bias_mdp():
    env = MaximizationBias(n_actions=5, mean=-0.1, std=1.0)
    env.reset(seed=0)
    assert env.step(1)[:3] == (2, 0.0, True)  # right: the episode ends with nothing
    env.reset()
    assert env.step(0)[:3] == (1, 0.0, False)  # left: to B
    rewards = []
    for _ in range(4000):
        env.reset()
        env.step(0)
        rewards.append(env.step(int(env.np_random.integers(5)))[1])
    mean, se = mean_se(np.array(rewards))
    assert abs(mean - (-0.1)) < 4 * se  # B's rewards average the configured mean
    np.testing.assert_array_equal(env.legal_actions(0), [0, 1])
    env.reset()
    with pytest.raises(ValueError, match="action must be 0 \\(left\\) or 1 \\(right\\) in state A"):
        env.step(3)
