"""The off-policy loop and the replay buffer, on environments whose every number is known."""

import numpy as np
import pytest
import torch
import toy_envs  # noqa: F401  (registers the toy environments)

from rlcore.data import ReplayBuffer
from rlcore.envs import make_vec_env
from rlcore.training.offpolicy import OffPolicyConfig, polyak_update_, train_offpolicy


class RecordingLearner:
    """Explores with action 1, records every batch it is trained on and every target update."""

    def __init__(self):
        self.batches, self.target_updates = [], 0

    def explore(self, obs):
        return np.ones(len(obs), dtype=np.int64)

    def update(self, batch, progress_remaining):
        self.batches.append(batch)
        return {"loss": float(batch["rewards"].mean())}

    def update_target(self):
        self.target_updates += 1


def run(env_id, **cfg):
    config = OffPolicyConfig(env_id=env_id, progress=False, **cfg)
    learner = RecordingLearner()
    history = train_offpolicy(learner, make_vec_env(env_id, config.num_envs, seed=0), config)
    return learner, history


def test_no_transition_straddles_two_episodes():
    # Counter: obs = steps taken so far; a time limit of 5 steps truncates every episode
    learner, history = run("rlcore-test/Counter-v0", num_envs=3, total_steps=300, learning_starts=30, batch_size=64)
    for batch in learner.batches:
        obs, next_obs = batch["obs"][:, 0], batch["next_obs"][:, 0]
        torch.testing.assert_close(next_obs, obs + 1)  # always the same episode, never a reset step
        assert torch.all(obs <= 4) and not batch["terminated"].any()  # truncated at 5, never terminated
    assert set(history["episode_returns"]) == {5.0}


def test_terminations_are_stored_as_terminal():
    learner, _ = run("rlcore-test/CounterTerminates-v0", total_steps=200, learning_starts=20, batch_size=32)
    batch = learner.batches[-1]
    torch.testing.assert_close(batch["terminated"], batch["next_obs"][:, 0] == 3)  # terminates after 3 steps


def test_learning_starts_train_freq_gradient_steps_and_target_updates():
    learner, history = run("rlcore-test/Counter-v0", num_envs=2, total_steps=400, learning_starts=100,
                           train_freq=4, gradient_steps=3, target_update_interval=2)
    assert history["steps"][0] >= 100  # no update before learning_starts transitions
    assert len(learner.batches) == 3 * len(history["steps"]) == history["updates"][-1]
    assert learner.target_updates == history["updates"][-1] // 2
    rounds = np.diff(history["steps"])  # 4 vector steps of 2 envs between rounds, minus reset steps
    assert np.all((rounds >= 4) & (rounds <= 8))


def test_polyak_update():
    torch.manual_seed(0)
    target, source = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = [p.detach().clone() for p in target.parameters()]
    polyak_update_(target, source, 0.1)
    for b, t, s in zip(before, target.parameters(), source.parameters()):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * s)
    polyak_update_(target, source, 1.0)
    assert all(torch.equal(t, s) for t, s in zip(target.parameters(), source.parameters()))
    with pytest.raises(ValueError, match="tau"):
        polyak_update_(target, source, 0.0)


def test_replay_buffer_ring_and_sampling():
    buffer = ReplayBuffer(5, (2,), seed=0)
    for k in range(3):  # 3 batches of 2: the first transition is overwritten
        obs = np.full((2, 2), 2 * k, dtype=np.float32) + np.array([[0], [1]], dtype=np.float32)
        buffer.add(obs, np.array([0, 1]), np.array([1.0, 2.0]), obs + 1, np.array([False, True]))
    assert len(buffer) == 5
    assert sorted(buffer.obs[:, 0].tolist()) == [1, 2, 3, 4, 5]  # 0 was the oldest
    batch = buffer.sample(1000)
    assert set(batch["obs"][:, 0].tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    torch.testing.assert_close(batch["next_obs"], batch["obs"] + 1)
    with pytest.raises(ValueError, match=r"obs must have shape \(B, 2\)"):
        buffer.add(np.zeros((2, 3)), np.zeros(2), np.zeros(2), np.zeros((2, 3)), np.zeros(2, bool))
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(3, (2,)).sample(4)


def test_config_validation():
    with pytest.raises(ValueError, match="OffPolicyConfig.learning_starts"):
        OffPolicyConfig(learning_starts=-1)
    with pytest.raises(ValueError, match="OffPolicyConfig.train_freq"):
        OffPolicyConfig(train_freq=0)


def test_demonstrations_and_preferences():
    from rlcore.data import Demonstrations, Preferences

    demos = Demonstrations(np.arange(10, dtype=np.float32).reshape(5, 2), np.array([0, 1, 1, 0, 2]))
    grown = demos.extend(np.zeros((3, 2)), np.array([1, 1, 1]))
    assert len(grown) == 8 and len(demos) == 5
    seen = [a for _, a in grown.minibatches(3, np.random.default_rng(0))]
    assert [len(a) for a in seen] == [3, 3, 2] and sorted(torch.cat(seen).tolist()) == sorted(grown.actions.tolist())
    with pytest.raises(ValueError, match="actions must hold whole numbers"):
        Demonstrations(np.zeros((2, 2)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="must match the dataset's shapes"):
        demos.extend(np.zeros((1, 3)), np.array([0]))
    prefs = Preferences(np.zeros((4, 3, 2)), np.ones((4, 3, 2)), np.array([1, 0, 0.5, 1]))
    first, second, label = next(prefs.minibatches(4, np.random.default_rng(0)))
    assert first.shape == (4, 3, 2) and sorted(label.tolist()) == [0, 0.5, 1, 1]
    with pytest.raises(ValueError, match="label must hold 0, 0.5 or 1"):
        Preferences(np.zeros((1, 3, 2)), np.zeros((1, 3, 2)), np.array([0.7]))
