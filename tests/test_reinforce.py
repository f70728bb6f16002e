"""The REINFORCE loss: its gradient is exactly the single-batch estimate that the enumeration checks of
Chapter 7 use, for every trajectory of a small MDP, with and without gamma^t and with a baseline."""

import numpy as np
import pytest
import torch

from rlcore.algos.reinforce import discounted_rewards_to_go, reinforce_loss
from rlcore.tabular.builders import random_mdp
from rlcore.tabular.enumeration import Trajectories, enumerate_trajectories, reinforce_terms
from rlcore.tabular.policy_gradient import softmax_policy


def _grad(theta, states, actions, rewards, dones, gamma, **kwargs):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    log_prob = torch.log_softmax(t, dim=1)[torch.tensor(states), torch.tensor(actions)]
    loss = reinforce_loss(log_prob, torch.tensor(rewards, dtype=torch.float64), torch.tensor(dones), gamma, **kwargs)
    (grad,) = torch.autograd.grad(loss, t)
    return -grad.numpy()


@pytest.mark.parametrize("gamma_t", [True, False])
@pytest.mark.parametrize("with_baseline", [False, True])
def test_the_loss_gradient_is_the_estimator_on_every_trajectory(gamma_t, with_baseline):
    mdp = random_mdp(3, 2, gamma=0.9, seed=3)
    theta = np.random.default_rng(3).normal(size=(3, 2))
    trajs = enumerate_trajectories(mdp, softmax_policy(theta), horizon=3)
    b = np.array([0.5, -1.0, 2.0]) if with_baseline else None
    expected = reinforce_terms(theta, trajs, mdp.gamma, gamma_t=gamma_t, baseline=b)
    dones = np.array([False, False, True])
    for k in range(len(trajs.prob)):
        s, a = trajs.states[k], trajs.actions[k]
        baseline = None if b is None else torch.tensor(b[s])
        got = _grad(theta, s, a, trajs.rewards[k], dones, mdp.gamma, gamma_t=gamma_t, baseline=baseline)
        assert np.allclose(got, expected[k], atol=1e-12), k


def test_two_episodes_in_one_batch_average_and_restart_the_discount():
    mdp = random_mdp(3, 2, gamma=0.8, seed=4)
    theta = np.random.default_rng(4).normal(size=(3, 2))
    trajs = enumerate_trajectories(mdp, softmax_policy(theta), horizon=3)
    i, j = 0, len(trajs.prob) - 1
    pair = Trajectories(trajs.prob[[i, j]], trajs.states[[i, j]], trajs.actions[[i, j]], trajs.rewards[[i, j]])
    expected = reinforce_terms(theta, pair, mdp.gamma).mean(axis=0)
    got = _grad(theta, np.concatenate(pair.states), np.concatenate(pair.actions), np.concatenate(pair.rewards),
                np.array([False, False, True] * 2), mdp.gamma)
    assert np.allclose(got, expected, atol=1e-12)


def test_rewards_to_go_restart_at_episode_ends():
    G = discounted_rewards_to_go(torch.tensor([1.0, 1.0, 5.0, 1.0]), torch.tensor([False, True, False, True]), 0.5)
    assert torch.allclose(G, torch.tensor([1.5, 1.0, 5.5, 1.0]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(dones=torch.tensor([False, False])), "complete episode"),
    (dict(rewards=torch.zeros(3)), "rewards must have shape"),
    (dict(log_prob=np.zeros(2)), "torch tensor"),
    (dict(baseline=torch.zeros(5)), "baseline must have shape"),
])
def test_bad_batches_are_refused_with_a_reason(kwargs, message):
    args = dict(log_prob=torch.zeros(2, requires_grad=True), rewards=torch.zeros(2), dones=torch.tensor([False, True]),
                gamma=0.9)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        reinforce_loss(**args)


def test_reinforce_solves_cartpole():
    """Seed 0, 120k steps: greedy returns of 500 (about 15 s on one core)."""
    from rlcore.algos.reinforce import train_reinforce

    agent = train_reinforce(seed=0, total_steps=120_000)
    assert agent.episode_returns(episodes=10).mean() >= 475
    assert agent.history["steps"][-1] >= 120_000 and len(agent.history["episode_return"]) >= 50


def test_the_learners_gamma_t_step_is_the_loss_of_the_tests_above():
    """The learner's per-step discount gamma^k restarts at each episode, as reinforce_loss's does."""
    from rlcore.algos.reinforce import _step_discounts

    dones = torch.tensor([False, False, True, False, True])
    assert torch.allclose(_step_discounts(dones, 0.5), torch.tensor([1, 0.5, 0.25, 1, 0.5], dtype=torch.float64))


@pytest.mark.parametrize("field, value, message", [
    ("baseline", "mean", "'value' or 'none'"), ("batch_steps", 0, "integer >= 1"), ("gamma", 1.5, "[0, 1]"),
    ("lr", -1.0, "lr"),
])
def test_bad_configs_name_the_field(field, value, message):
    from rlcore.algos.reinforce import REINFORCEConfig

    with pytest.raises(ValueError, match=f"REINFORCEConfig.{field} must be"):
        REINFORCEConfig(**{field: value})


def test_a_reinforce_agent_saves_and_loads(tmp_path):
    """The agent file names its config class; loading rebuilds the same network, config and history."""
    import torch

    from rlcore.algos.reinforce import REINFORCEConfig, train_reinforce
    from rlcore.training.agent import Agent

    agent = train_reinforce(total_steps=600, batch_steps=300, seed=4, progress=False)
    agent.save(tmp_path / "reinforce.pt")
    again = Agent.load(tmp_path / "reinforce.pt")
    assert isinstance(again.config, REINFORCEConfig) and again.config == agent.config
    assert again.history == agent.history
    obs = torch.zeros((3, 4))
    assert torch.equal(again.net.actor(obs)[0], agent.net.actor(obs)[0])
