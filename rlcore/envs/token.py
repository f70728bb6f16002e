"""The token MDP of RL for language models, small enough to enumerate (Chapter 19).

State ``s_t = x + y_{<t}`` (the prompt and the tokens generated so far), action ``a_t = y_t`` (the next
token), ``length`` tokens per episode, and one reward at the end, ``reward_fn(x, y)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np

from ..base import validate

PAD = -1  #: observation entry of a position not generated yet


def count_token_zero(prompt: Sequence[int], output: Sequence[int]) -> float:
    """A toy reward model: the fraction of output tokens equal to 0 (Chapter 19)."""
    return float(np.mean(np.asarray(output) == 0))


class TokenMDP(gym.Env):
    """Generate ``length`` tokens from a vocabulary of ``vocab`` after a prompt drawn from ``prompts`` (Chapter 19).

    Observation: the prompt followed by the output so far, padded with ``PAD`` (-1), as a float Box.
    The reward ``reward_fn(prompt, output)`` comes at the last token; every other reward is 0.
    """

    metadata = {"render_modes": []}

    def __init__(self, vocab: int = 4, length: int = 4, prompts: Sequence[Sequence[int]] = ((0,), (1,)),
                 reward_fn: Callable[[Sequence[int], Sequence[int]], float] = count_token_zero):
        self.vocab = validate.integer(vocab, "vocab", low=2)
        self.length = validate.integer(length, "length", low=1)
        if not prompts:
            raise ValueError("prompts must hold at least one prompt")
        self.prompts = [tuple(int(t) for t in validate.integer_array(p, "prompts[i]", low=0, high=self.vocab,
                                                                      ndim=1)) for p in prompts]
        if len({len(p) for p in self.prompts}) != 1:
            raise ValueError(f"prompts must all have one length, got lengths {sorted({len(p) for p in self.prompts})}")
        if not callable(reward_fn):
            raise TypeError(f"reward_fn must be a function (prompt, output) -> float, got {type(reward_fn).__name__}")
        self.reward_fn = reward_fn
        size = len(self.prompts[0]) + self.length
        self.observation_space = gym.spaces.Box(PAD, self.vocab - 1, shape=(size,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(self.vocab)
        self.prompt: tuple[int, ...] = self.prompts[0]
        self.output: list[int] = []

    def _obs(self) -> np.ndarray:
        obs = np.full(self.observation_space.shape, PAD, dtype=np.float32)
        tokens = list(self.prompt) + self.output
        obs[: len(tokens)] = tokens
        return obs

    def reset(self, *, seed=None, options=None):
        """A prompt drawn uniformly; no output yet (Chapter 19)."""
        super().reset(seed=seed)
        self.prompt = self.prompts[int(self.np_random.integers(len(self.prompts)))]
        self.output = []
        return self._obs(), {"prompt": self.prompt}

    def step(self, action):
        """Append the token ``action``; the episode terminates after ``length`` tokens (Chapter 19)."""
        token = validate.integer(np.asarray(action).item(), "action", low=0, high=self.vocab - 1)
        self.output.append(token)
        done = len(self.output) == self.length
        reward = float(self.reward_fn(self.prompt, tuple(self.output))) if done else 0.0
        return self._obs(), reward, done, False, {"output": tuple(self.output)}

    def sequences(self):
        """Every possible output, ``vocab ** length`` of them, for exact enumeration (Chapter 19)."""
        return itertools.product(range(self.vocab), repeat=self.length)
