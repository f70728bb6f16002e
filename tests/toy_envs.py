"""Tiny environments whose every number is known, for the rollout and return tests."""

import gymnasium as gym
import numpy as np


class CounterEnv(gym.Env):
    """Observation = [steps taken in this episode]; reward 1 per step; terminates at ``terminate_at`` if set."""

    def __init__(self, terminate_at: int | None = None):
        self.observation_space = gym.spaces.Box(0.0, np.inf, shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.terminate_at = terminate_at
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return np.array([self.t], dtype=np.float32), 1.0, terminated, False, {}


class ForeverEnv(gym.Env):
    """The same observation forever and reward 1 at every step: only a time limit ends it."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(1, dtype=np.float32), {}

    def step(self, action):
        return np.ones(1, dtype=np.float32), 1.0, False, False, {}


gym.register("rlcore-test/Counter-v0", entry_point=CounterEnv, max_episode_steps=5)
gym.register("rlcore-test/CounterTerminates-v0", entry_point=lambda: CounterEnv(terminate_at=3), max_episode_steps=5)
gym.register("rlcore-test/Forever-v0", entry_point=ForeverEnv, max_episode_steps=20)
