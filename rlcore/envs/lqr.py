"""A one-dimensional linear-quadratic regulator, where returns have a closed form (Chapters 11 and 15).

``s' = A s + B u + w``, ``w ~ N(0, noise_std^2)``, reward ``-(q s^2 + r u^2)``, ``s_0 ~ N(0, s0_std^2)``.
Under the linear Gaussian policy ``u = -k s + sigma eps`` the expected discounted return is
:func:`lqr_return`, so gradients taken by sampling (DPG, natural gradients) can be checked exactly.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from ..base import validate


class LQR1D(gym.Env):
    """The 1-D LQR as a Gymnasium environment: Box observation ``[s]``, Box action ``[u]`` (Chapter 15)."""

    metadata = {"render_modes": []}

    def __init__(self, A: float = 1.0, B: float = 1.0, q: float = 1.0, r: float = 0.1, s0_std: float = 1.0,
                 noise_std: float = 0.0, max_action: float = 100.0):
        self.A, self.B = validate.real(A, "A"), validate.real(B, "B")
        self.q, self.r = validate.real(q, "q", low=0.0), validate.real(r, "r", low=0.0)
        self.s0_std = validate.real(s0_std, "s0_std", low=0.0)
        self.noise_std = validate.real(noise_std, "noise_std", low=0.0)
        max_action = validate.real(max_action, "max_action", low=0.0, low_open=True)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float64)
        self.action_space = gym.spaces.Box(-max_action, max_action, shape=(1,), dtype=np.float64)
        self.s = 0.0

    def reset(self, *, seed=None, options=None):
        """``s_0 ~ N(0, s0_std^2)`` (Chapter 15)."""
        super().reset(seed=seed)
        self.s = float(self.np_random.normal(0.0, self.s0_std))
        return np.array([self.s]), {}

    def step(self, action):
        """One step of the linear dynamics with the quadratic cost as a negative reward (Chapter 15)."""
        u = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
        if not np.isfinite(u):
            raise ValueError(f"action must be a finite number, got {action!r}")
        reward = -(self.q * self.s**2 + self.r * u**2)
        self.s = self.A * self.s + self.B * u + float(self.np_random.normal(0.0, self.noise_std))
        return np.array([self.s]), reward, False, False, {}


def lqr_return(k: float, sigma: float, gamma: float, A: float = 1.0, B: float = 1.0, q: float = 1.0,
               r: float = 0.1, s0_std: float = 1.0, noise_std: float = 0.0) -> float:
    """``J(k, sigma)`` of the policy ``u = -k s + sigma eps`` on :class:`LQR1D`, in closed form (Chapter 15).

    With ``c = A - B k`` and ``m_t = E[s_t^2]``: ``m_{t+1} = c^2 m_t + v``, ``v = B^2 sigma^2 + noise_std^2``,
    ``E[r_t] = -(q + r k^2) m_t - r sigma^2``, so summing the geometric series,
    ``J = -(q + r k^2) [m_0 / (1 - gamma c^2) + gamma v / ((1 - gamma)(1 - gamma c^2))] - r sigma^2 / (1 - gamma)``,
    finite when ``gamma c^2 < 1`` and ``gamma < 1``.
    """
    gamma = validate.real(gamma, "gamma", low=0.0, high=1.0, high_open=True)
    k, sigma = validate.real(k, "k"), validate.real(sigma, "sigma", low=0.0)
    c = A - B * k
    if not gamma * c * c < 1:
        raise ValueError(f"the return is infinite: gamma (A - B k)^2 = {gamma * c * c:.4g} must be < 1")
    m0, v = s0_std**2, B**2 * sigma**2 + noise_std**2
    second_moments = m0 / (1 - gamma * c * c) + gamma * v / ((1 - gamma) * (1 - gamma * c * c))
    return float(-(q + r * k * k) * second_moments - r * sigma**2 / (1 - gamma))
