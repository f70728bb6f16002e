"""Finite Markov decision processes: the validated container and policies as tables.

Chapter 1 (*The RL problem*, §1.1) defines the objects stored here. Everything is float64:
these arrays feed exact linear solves whose answers the derivation checks compare at 1e-10.

Conventions (the book's notation appendix):

* ``P[s, a, s']`` is the probability of moving to ``s'`` after action ``a`` in state ``s``;
* ``r[s, a]`` is the expected immediate reward of taking ``a`` in ``s``;
* ``rho0[s]`` is the initial-state distribution (written ``\\rho_0`` in the text);
* ``gamma`` is the discount factor;
* a terminal state is *absorbing*: it loops to itself with reward 0, so every
  infinite-horizon formula needs no special case for episode ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..base import validate
from ..base.validate import PROB_ATOL, probability_rows

__all__ = ["PROB_ATOL", "FiniteMDP", "as_policy", "uniform_policy", "random_policy"]

@dataclass(frozen=True, eq=False)
class FiniteMDP:
    """A finite, discounted MDP ``(S, A, P, r, rho0, gamma)`` (Chapter 1, §1.1).

    Arrays are validated and converted to float64 on construction. Optional layout fields
    let :mod:`rlcore.plots` draw gridworlds.

    Args:
        P: transitions, shape ``(S, A, S)``; each ``P[s, a]`` sums to 1.
        r: expected rewards, shape ``(S, A)``.
        rho0: initial-state distribution, shape ``(S,)``.
        gamma: discount factor in ``[0, 1]`` (solvers for infinite-horizon quantities need ``< 1``).
        name: a label for plots and messages.
        terminal: boolean mask of absorbing terminal states, shape ``(S,)``.
        grid_shape: ``(rows, cols)`` when state ``s`` is the cell ``divmod(s, cols)``.
        action_deltas: for grid MDPs, the ``(d_row, d_col)`` each action intends.
        cell_labels: one character per state for drawing (``"S"``, ``"H"``, ``"G"``, ...).
    """

    P: np.ndarray
    r: np.ndarray
    rho0: np.ndarray
    gamma: float
    name: str = "mdp"
    terminal: np.ndarray | None = None
    grid_shape: tuple[int, int] | None = None
    action_deltas: tuple[tuple[int, int], ...] | None = None
    cell_labels: tuple[str, ...] | None = field(default=None, repr=False)

    def __post_init__(self):
        P = validate.array(self.P, "P", ndim=3, copy=True)  # a copy: the container freezes its own arrays
        S, A, S2 = P.shape
        if S != S2 or S == 0 or A == 0:
            raise ValueError(f"P must have shape (S, A, S) with S, A >= 1, got {P.shape}")
        probability_rows(P, "P", axis=2)
        r = validate.array(self.r, "r", ndim=2, copy=True)
        if r.shape != (S, A):
            raise ValueError(f"r must have shape (S, A) = {(S, A)} to match P {P.shape}, got {r.shape}")
        rho0 = validate.array(self.rho0, "rho0", ndim=1, copy=True)
        if rho0.shape != (S,):
            raise ValueError(f"rho0 must have shape (S,) = ({S},) to match P {P.shape}, got {rho0.shape}")
        probability_rows(rho0, "rho0")
        gamma = validate.discount(self.gamma)
        terminal = (np.zeros(S, bool) if self.terminal is None
                    else validate.array(self.terminal, "terminal", shape=(S,), dtype=bool, copy=True))
        if self.grid_shape is not None and self.grid_shape[0] * self.grid_shape[1] != S:
            raise ValueError(f"grid_shape {self.grid_shape} does not hold S = {S} states")
        for k, v in dict(P=P, r=r, rho0=rho0, terminal=terminal).items():
            v.setflags(write=False)
            object.__setattr__(self, k, v)
        object.__setattr__(self, "gamma", gamma)

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    def with_gamma(self, gamma: float) -> FiniteMDP:
        """The same MDP with another discount factor (Chapter 1, §1.1)."""
        return FiniteMDP(**{**self.__dict__, "gamma": gamma})

    def require_discounted(self, what: str = "this quantity") -> None:
        """Raise unless ``gamma < 1``, which every infinite-horizon value needs to be finite (Chapter 1, §1.3)."""
        if not self.gamma < 1.0:
            raise ValueError(f"{what} needs gamma in [0, 1) for an infinite horizon, got gamma={self.gamma}")


# ----------------------------------------------------------------------------- policies


def as_policy(pi, n_states: int, n_actions: int, name: str = "pi") -> np.ndarray:
    """Return ``pi`` as an ``(S, A)`` float64 table of action probabilities (Chapter 1, §1.2).

    Accepts a table whose rows are distributions, or a deterministic policy given as ``S``
    whole-number actions (integer dtype, or floats such as ``np.zeros(S)`` whose values are
    whole). Anything else, ``[0.9, 1.7, 0.2]`` among it, raises ``ValueError`` naming ``name``.
    """
    arr = np.asarray(pi)
    if arr.ndim == 1:
        actions = validate.integer_array(arr, f"{name} (a deterministic policy: one action per state)",
                                         low=0, high=n_actions, shape=(n_states,))
        return np.eye(n_actions)[actions]
    table = validate.array(arr, name, ndim=(1, 2), shape=(n_states, n_actions))
    return probability_rows(table, name)


def uniform_policy(mdp: FiniteMDP) -> np.ndarray:
    """The policy that picks every action with probability ``1/A`` (Chapter 1, §1.2)."""
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def random_policy(mdp: FiniteMDP, rng: np.random.Generator, concentration: float = 1.0) -> np.ndarray:
    """A stochastic policy whose rows are drawn from Dirichlet(``concentration``) (Chapter 1, §1.2)."""
    validate.real(concentration, "concentration", low=0.0, low_open=True)
    return rng.dirichlet(np.full(mdp.n_actions, concentration), size=mdp.n_states)
