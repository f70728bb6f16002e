"""Monte Carlo rollouts on a finite MDP, vectorised over many episodes (Chapter 1, §1.4).

Used by the derivation checks as the route to ``V^pi`` that involves no linear algebra.
"""

from __future__ import annotations

import math

import numpy as np

from ..base import validate
from .mdp import FiniteMDP, as_policy


def _sample_rows(cdf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw from each row's categorical distribution, given the rows' CDFs."""
    u = rng.random(cdf.shape[0])[:, None]
    return np.minimum((u >= cdf).sum(axis=1), cdf.shape[1] - 1)


def sample_returns(
    mdp: FiniteMDP, pi, start_states, rng: np.random.Generator, horizon: int | None = None,
    first_actions=None,
) -> np.ndarray:
    """Discounted returns ``sum_t gamma^t r(s_t, a_t)`` of episodes started in ``start_states``.

    With ``first_actions`` the first action of each episode is fixed (a sample of ``Q^pi``);
    otherwise it is drawn from ``pi`` (a sample of ``V^pi``). Episodes are cut at ``horizon``;
    by default the smallest one with ``gamma^H < 1e-12``, so the truncation bias is below
    ``1e-12 max|r| / (1 - gamma)`` (Chapter 1, §1.4).
    """
    if not isinstance(mdp, FiniteMDP):
        raise TypeError(f"mdp must be a FiniteMDP, got {type(mdp).__name__}")
    validate.generator(rng)
    pi = as_policy(pi, mdp.n_states, mdp.n_actions)
    s = validate.integer_array(start_states, "start_states", low=0, high=mdp.n_states, ndim=1).copy()
    if first_actions is not None:
        first_actions = validate.integer_array(first_actions, "first_actions", low=0, high=mdp.n_actions,
                                               shape=s.shape)
    if horizon is not None:
        horizon = validate.integer(horizon, "horizon", low=1)
    else:
        mdp.require_discounted("a truncation-free Monte Carlo return")
        horizon = 1 if mdp.gamma == 0 else math.ceil(math.log(1e-12) / math.log(mdp.gamma))
    pi_cdf, P_cdf = np.cumsum(pi, axis=1), np.cumsum(mdp.P, axis=2)
    G, discount = np.zeros(len(s)), 1.0
    for t in range(horizon):
        a = first_actions if (t == 0 and first_actions is not None) else _sample_rows(pi_cdf[s], rng)
        G += discount * mdp.r[s, a]
        s = _sample_rows(P_cdf[s, a], rng)
        discount *= mdp.gamma
    return G
