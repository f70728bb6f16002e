"""Rollouts under Gymnasium's next-step autoreset: no transition straddles two episodes."""

import numpy as np
import pytest
import torch
import toy_envs  # noqa: F401
from gymnasium.vector import AutoresetMode

from rlcore.data.rollouts import RolloutCollector
from rlcore.envs import make_vec_env
from rlcore.nets import ActorCritic, NumpyPolicy, TorchPolicy


def collect(env_id, num_envs=3, steps=13, rollouts=2):
    envs = make_vec_env(env_id, num_envs, seed=0)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    net = ActorCritic(1, 2, True, hidden=(8,))
    collector = RolloutCollector(envs, TorchPolicy(net, torch.Generator().manual_seed(0)), steps)
    return collector, [collector.collect() for _ in range(rollouts)]


def test_truncated_episodes_keep_their_true_final_observation():
    collector, rollouts = collect("rlcore-test/Counter-v0")  # time limit 5, never terminates
    for ro in rollouts:
        counter = ro.obs[..., 0]
        for t, i in zip(*np.nonzero(ro.valid)):
            if ro.truncated[t, i]:
                assert counter[t + 1, i] == 5  # the final observation, not the next episode's first
            else:
                assert counter[t + 1, i] == counter[t, i] + 1  # an ordinary step of the same episode
        # the step after every episode end is the reset step: not a transition, reward 0, counter back to 0
        ended = ro.terminated | ro.truncated
        assert np.array_equal(~ro.valid[1:], ended[:-1])
        assert np.all(ro.rewards[~ro.valid] == 0)
        assert np.all(counter[:-1][~ro.valid] == 5) and np.all(counter[1:][~ro.valid] == 0)
        np.testing.assert_array_equal(ro.final_obs[:, 0], 5)
        assert not ro.terminated.any()
    # 26 steps in 3 envs: every finished episode had 5 valid steps and return 5
    assert collector.episode_lengths and set(collector.episode_lengths) == {5}
    assert set(collector.episode_returns) == {5.0}
    assert collector.steps == sum(ro.num_transitions for ro in rollouts)


def test_validity_carries_across_rollouts():
    # 5 valid steps + 1 reset step per episode: a 6-step rollout ends right after an episode's last step
    _, rollouts = collect("rlcore-test/Counter-v0", steps=5, rollouts=3)
    assert rollouts[0].truncated[-1].all()
    assert not rollouts[1].valid[0].any()  # the next rollout starts with the reset step
    assert rollouts[1].obs[1, :, 0].tolist() == [0, 0, 0]


def test_terminations_are_not_truncations():
    _, rollouts = collect("rlcore-test/CounterTerminates-v0")  # terminates after 3 steps, before the limit of 5
    ro = rollouts[0]
    assert ro.terminated.any() and not ro.truncated.any()
    assert np.all(ro.obs[1:][ro.terminated][:, 0] == 3)


def test_transitions_are_the_valid_rows():
    _, rollouts = collect("rlcore-test/Counter-v0")
    ro = rollouts[0]
    batch = ro.transitions(advantages=np.arange(ro.rewards.size, dtype=np.float32).reshape(ro.rewards.shape))
    assert len(batch["obs"]) == ro.num_transitions == ro.valid.sum()
    assert torch.equal(batch["advantages"], torch.as_tensor(np.flatnonzero(ro.valid).astype(np.float32)))


def test_cartpole_uses_the_numpy_vectorised_env_and_numpy_policy():
    envs = make_vec_env("CartPole-v1", 4, seed=1)
    assert type(envs.unwrapped).__name__ == "CartPoleVectorEnv"
    net = ActorCritic(4, 2, True)
    collector = RolloutCollector(envs, NumpyPolicy(net, seed=0), 64)
    ro = collector.collect()
    # CartPole episodes under a random policy end within 64 steps; each end is followed by a reset step
    ended = ro.terminated | ro.truncated
    assert ended.any() and np.array_equal(~ro.valid[1:], ended[:-1])
    # V(obs) was stored for every row, including the final observations used for bootstrapping
    with torch.no_grad():
        np.testing.assert_allclose(ro.values, net.value(torch.as_tensor(ro.obs.reshape(-1, 4))).numpy()
                                   .reshape(ro.values.shape), atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_envs"):
        make_vec_env("CartPole-v1", 0)
    with pytest.raises(ValueError, match="not a registered"):
        make_vec_env("CartPole-v0-nope", 2)
    net = ActorCritic(4, 2, True)
    with pytest.raises(ValueError, match="num_steps"):
        RolloutCollector(make_vec_env("CartPole-v1", 2), TorchPolicy(net), 0)
    with pytest.raises(TypeError, match="policy must have a sync"):
        RolloutCollector(make_vec_env("CartPole-v1", 2), None, 4)
    with pytest.raises(ValueError, match="autoreset_mode"):
        import gymnasium as gym
        envs = gym.make_vec("CartPole-v1", 2, vectorization_mode="sync",
                            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
        RolloutCollector(envs, None, 4)


def test_episode_returns_and_lengths_recounted_step_by_step():
    """The collector's per-rollout episode bookkeeping against a step-by-step recount from the rollouts' arrays,
    with episodes of varied lengths that span rollouts (CartPole under a random policy)."""
    envs = make_vec_env("CartPole-v1", 4, seed=3)
    collector = RolloutCollector(envs, NumpyPolicy(ActorCritic(4, 2, True), seed=0), 40)
    rollouts = [collector.collect() for _ in range(4)]
    running, length, returns, lengths = np.zeros(4), np.zeros(4, dtype=int), [], []
    for ro in rollouts:
        for t in range(40):
            running += ro.rewards[t] * ro.valid[t]
            length += ro.valid[t]
            for i in np.flatnonzero(ro.terminated[t] | ro.truncated[t]):
                returns.append(running[i])
                lengths.append(length[i])
                running[i], length[i] = 0.0, 0
    assert len(set(lengths)) > 3  # varied lengths, several per rollout
    assert collector.episode_lengths == lengths and collector.episode_returns == returns
