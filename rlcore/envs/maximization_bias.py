"""The maximization-bias MDP of Sutton and Barto (2018, Example 6.7), behind Table 2.1 of the notes (Chapter 3).

From the start state A, action 0 (left) moves to state B with reward 0 and action 1 (right) ends the
episode with reward 0. From B, each of ``n_actions`` actions ends the episode with a reward drawn from
``N(mean, std^2)``. With ``mean < 0`` going left is worse, yet Q-learning's ``max`` over noisy estimates
of B's actions makes it look better at first; double Q-learning does not.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..base import validate

A_STATE, B_STATE, TERMINAL = 0, 1, 2
LEFT, RIGHT = 0, 1


class MaximizationBias(gym.Env):
    """States ``A = 0``, ``B = 1``, terminal ``2``; actions ``0 .. n_actions-1`` (only 0 and 1 in A) (Chapter 3)."""

    metadata = {"render_modes": []}

    def __init__(self, n_actions: int = 10, mean: float = -0.1, std: float = 1.0):
        self.n_actions = validate.integer(n_actions, "n_actions", low=2)
        self.mean, self.std = validate.real(mean, "mean"), validate.real(std, "std", low=0.0)
        self.observation_space = gym.spaces.Discrete(3)
        self.action_space = gym.spaces.Discrete(self.n_actions)
        self.state = A_STATE

    def legal_actions(self, state: int) -> np.ndarray:
        """The actions allowed in ``state``: left and right in A, all of them in B (Chapter 3)."""
        state = validate.integer(state, "state", low=0, high=2)
        return np.arange(2 if state == A_STATE else self.n_actions)

    def reset(self, *, seed=None, options=None):
        """Start in A (Chapter 3)."""
        super().reset(seed=seed)
        self.state = A_STATE
        return self.state, {}

    def step(self, action):
        """Move as described in the module docstring (Chapter 3)."""
        action = validate.integer(np.asarray(action).item(), "action", low=0, high=self.n_actions - 1)
        if self.state == A_STATE:
            if action not in (LEFT, RIGHT):
                raise ValueError(f"action must be 0 (left) or 1 (right) in state A, got {action}")
            self.state = B_STATE if action == LEFT else TERMINAL
            return self.state, 0.0, self.state == TERMINAL, False, {}
        if self.state == TERMINAL:
            raise RuntimeError("the episode has ended: call reset() first")
        self.state = TERMINAL
        return self.state, float(self.np_random.normal(self.mean, self.std)), True, False, {}
