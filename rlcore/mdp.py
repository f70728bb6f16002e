"""Finite Markov decision processes: a validated container and builders.

Chapter 1 (*The RL problem*) defines the objects stored here. Everything is float64:
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

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: Largest deviation from 1 that a row of ``P`` (or of a policy, or ``rho0``) may have.
#: Toy-text environments store probabilities such as 1/3 whose sums are off by ~1e-16;
#: 1e-8 admits those and any hand-written table rounded to eight digits, and rejects
#: tables that were never normalised.
PROB_ATOL = 1e-8


def _as_float_array(x, name: str, ndim: int) -> np.ndarray:
    try:
        arr = np.array(x, dtype=np.float64)  # a copy: the container freezes its arrays, not the caller's
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})")
    return arr


def check_distribution_rows(x: np.ndarray, name: str, axis: int = -1) -> None:
    """Raise ``ValueError`` unless every slice of ``x`` along ``axis`` is a probability vector."""
    if np.any(x < 0):
        bad = np.argwhere(x < 0)[0]
        raise ValueError(
            f"{name} has a negative probability {float(x[tuple(bad)]):.3g} at index {tuple(int(i) for i in bad)}"
        )
    sums = x.sum(axis=axis)
    err = np.abs(sums - 1.0)
    if np.any(err > PROB_ATOL):
        bad = np.unravel_index(int(np.argmax(err)), np.shape(sums))
        raise ValueError(
            f"{name} (shape {x.shape}) must sum to 1 along axis {axis} within {PROB_ATOL:g}; "
            f"the sum at index {tuple(int(i) for i in bad)} is {float(np.asarray(sums)[bad]):.10g}"
        )


@dataclass(frozen=True, eq=False)
class FiniteMDP:
    """A finite, discounted MDP ``(S, A, P, r, rho0, gamma)`` (Chapter 1, eq. (1.1)).

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
        P = _as_float_array(self.P, "P", 3)
        S, A, S2 = P.shape
        if S != S2 or S == 0 or A == 0:
            raise ValueError(f"P must have shape (S, A, S) with S, A >= 1, got {P.shape}")
        check_distribution_rows(P, "P", axis=2)
        r = _as_float_array(self.r, "r", 2)
        if r.shape != (S, A):
            raise ValueError(f"r must have shape (S, A) = {(S, A)} to match P {P.shape}, got {r.shape}")
        rho0 = _as_float_array(self.rho0, "rho0", 1)
        if rho0.shape != (S,):
            raise ValueError(f"rho0 must have shape (S,) = ({S},) to match P {P.shape}, got {rho0.shape}")
        check_distribution_rows(rho0, "rho0")
        gamma = float(self.gamma)
        if not (np.isfinite(gamma) and 0.0 <= gamma <= 1.0):
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma!r}")
        terminal = np.zeros(S, bool) if self.terminal is None else np.asarray(self.terminal, bool)
        if terminal.shape != (S,):
            raise ValueError(f"terminal must have shape ({S},), got {terminal.shape}")
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
        """The same MDP with another discount factor."""
        return FiniteMDP(**{**self.__dict__, "gamma": gamma})

    def require_discounted(self, what: str = "this quantity") -> None:
        """Raise unless ``gamma < 1``, which every infinite-horizon value needs to be finite."""
        if not self.gamma < 1.0:
            raise ValueError(f"{what} needs gamma in [0, 1) for an infinite horizon, got gamma={self.gamma}")


# ----------------------------------------------------------------------------- policies


def as_policy(pi, n_states: int, n_actions: int, name: str = "pi") -> np.ndarray:
    """Return ``pi`` as an ``(S, A)`` float64 table of action probabilities.

    Accepts a table whose rows are distributions, or a deterministic policy given as
    ``S`` integer actions. Anything else raises ``ValueError`` naming ``name``.
    """
    arr = np.asarray(pi)
    if arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
        if arr.shape != (n_states,):
            raise ValueError(f"{name} as a deterministic policy must have shape ({n_states},), got {arr.shape}")
        if arr.min() < 0 or arr.max() >= n_actions:
            raise ValueError(f"{name} holds actions outside [0, {n_actions}): min {arr.min()}, max {arr.max()}")
        return np.eye(n_actions)[arr]
    table = _as_float_array(arr, name, 2)
    if table.shape != (n_states, n_actions):
        raise ValueError(
            f"{name} must have shape (S, A) = {(n_states, n_actions)} (or ({n_states},) integer actions), "
            f"got {table.shape}"
        )
    check_distribution_rows(table, name)
    return table


def uniform_policy(mdp: FiniteMDP) -> np.ndarray:
    """The policy that picks every action with probability ``1/A``."""
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def random_policy(mdp: FiniteMDP, rng: np.random.Generator, concentration: float = 1.0) -> np.ndarray:
    """A stochastic policy whose rows are drawn from Dirichlet(``concentration``)."""
    return rng.dirichlet(np.full(mdp.n_actions, concentration), size=mdp.n_states)


# ----------------------------------------------------------------------------- builders


def random_mdp(
    n_states: int, n_actions: int, gamma: float = 0.9, seed: int = 0, alpha: float = 0.5
) -> FiniteMDP:
    """A random MDP: Dirichlet(``alpha``) transitions, U[0, 1] rewards, Dirichlet(1) start."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(n_states, alpha), size=(n_states, n_actions))
    r = rng.uniform(0.0, 1.0, size=(n_states, n_actions))
    rho0 = rng.dirichlet(np.ones(n_states))
    return FiniteMDP(P, r, rho0, gamma, name=f"random({n_states}x{n_actions}, seed={seed})")


def two_state_mdp(gamma: float = 0.9) -> FiniteMDP:
    """Two states, two actions: *stay* (a=0) or *switch* (a=1).

    Staying in state 1 pays 1, everything else pays 0; switching succeeds with
    probability 0.9. Small enough to solve by hand (Chapter 1, exercise warm-up).
    """
    P = np.zeros((2, 2, 2))
    P[0, 0] = [1.0, 0.0]
    P[0, 1] = [0.1, 0.9]
    P[1, 0] = [0.0, 1.0]
    P[1, 1] = [0.9, 0.1]
    r = np.array([[0.0, 0.0], [1.0, 0.0]])
    return FiniteMDP(P, r, np.array([1.0, 0.0]), gamma, name="two-state")


def chain_mdp(n: int = 5, gamma: float = 0.9, slip: float = 0.0, small_reward: float = 0.01) -> FiniteMDP:
    """A chain of ``n`` states; action 0 moves left, action 1 right.

    Staying at the left end pays ``small_reward``; moving right off the right end pays 1.
    With probability ``slip`` the move goes the other way. A classic exploration trap:
    the myopic policy keeps the small reward, the optimal one walks right.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip must be in [0, 1], got {slip}")
    P = np.zeros((n, 2, n))
    r = np.zeros((n, 2))
    for s in range(n):
        left, right = max(s - 1, 0), min(s + 1, n - 1)
        P[s, 0, left] += 1 - slip
        P[s, 0, right] += slip
        P[s, 1, right] += 1 - slip
        P[s, 1, left] += slip
    r[0, 0] = small_reward * (1 - slip)
    r[n - 1, 1] = 1.0 * (1 - slip)
    rho0 = np.zeros(n)
    rho0[0] = 1.0
    return FiniteMDP(P, r, rho0, gamma, name=f"chain({n})", grid_shape=(1, n), action_deltas=((0, -1), (0, 1)))


#: Actions of :func:`gridworld`: up, right, down, left.
GRID_ACTIONS = ((-1, 0), (0, 1), (1, 0), (0, -1))


def gridworld(
    layout: Sequence[str] = ("...G", ".#.H", "S..."),
    gamma: float = 0.95,
    slip: float = 0.1,
    step_reward: float = 0.0,
    goal_reward: float = 1.0,
    hole_reward: float = -1.0,
) -> FiniteMDP:
    """A gridworld drawn as text: ``S`` start, ``G`` goal, ``H`` hole, ``#`` wall, ``.`` floor.

    Actions are up, right, down, left. With probability ``slip`` the agent moves in one of
    the two perpendicular directions instead (half each). Bumping into a wall or the edge
    leaves it in place. Entering ``G`` or ``H`` pays its reward and ends the episode
    (both are absorbing). Walls are states that cannot be entered.
    """
    rows = [str(row) for row in layout]
    n_rows, n_cols = len(rows), len(rows[0]) if rows else 0
    if n_rows == 0 or any(len(row) != n_cols for row in rows):
        raise ValueError(f"layout must be a non-empty list of equal-length strings, got {layout!r}")
    cells = "".join(rows)
    if set(cells) - set("SGH#."):
        raise ValueError(f"layout may contain only 'S', 'G', 'H', '#', '.', got {sorted(set(cells))}")
    if cells.count("S") != 1:
        raise ValueError("layout must contain exactly one start 'S'")
    if not 0.0 <= slip <= 1.0:
        raise ValueError(f"slip must be in [0, 1], got {slip}")
    S, A = n_rows * n_cols, 4
    P, r = np.zeros((S, A, S)), np.zeros((S, A))
    terminal = np.array([c in "GH" for c in cells])

    def move(s: int, delta: tuple[int, int]) -> int:
        row, col = divmod(s, n_cols)
        nr, nc = row + delta[0], col + delta[1]
        if 0 <= nr < n_rows and 0 <= nc < n_cols and cells[nr * n_cols + nc] != "#":
            return nr * n_cols + nc
        return s

    for s in range(S):
        for a in range(A):
            if terminal[s] or cells[s] == "#":
                P[s, a, s] = 1.0
                continue
            outcomes = [(1 - slip, GRID_ACTIONS[a]), (slip / 2, GRID_ACTIONS[(a + 1) % 4]),
                        (slip / 2, GRID_ACTIONS[(a + 3) % 4])]
            for p, delta in outcomes:
                s2 = move(s, delta)
                P[s, a, s2] += p
                bonus = {"G": goal_reward, "H": hole_reward}.get(cells[s2], 0.0)
                r[s, a] += p * (step_reward + bonus)
    rho0 = np.array([c == "S" for c in cells], float)
    return FiniteMDP(P, r, rho0, gamma, name="gridworld", terminal=terminal, grid_shape=(n_rows, n_cols),
                     action_deltas=GRID_ACTIONS, cell_labels=tuple(cells))


# The (d_row, d_col) of each action in the toy-text environments we convert.
_TOYTEXT_DELTAS = {
    "FrozenLake": ((0, -1), (1, 0), (0, 1), (-1, 0)),  # left, down, right, up
    "CliffWalking": ((-1, 0), (0, 1), (1, 0), (0, -1)),  # up, right, down, left
}


def from_toytext(env_or_id, gamma: float = 0.99, **make_kwargs) -> FiniteMDP:
    """Convert a Gymnasium toy-text environment into a :class:`FiniteMDP` (Chapter 1).

    Reads ``env.unwrapped.P``, whose entries are lists of ``(prob, next_state, reward,
    terminated)``. Rewards are averaged into ``r[s, a]``. Every state entered by a
    terminating transition becomes absorbing with zero reward, which is what "the episode
    ends" means for discounted values. Works for ``FrozenLake-v1`` (any map, slippery or not),
    ``CliffWalking-v1`` and ``Taxi-v4``.

    Args:
        env_or_id: an environment, or an id passed to ``gymnasium.make`` with ``make_kwargs``.
        gamma: discount factor stored in the MDP.
    """
    import gymnasium as gym

    env = gym.make(env_or_id, **make_kwargs) if isinstance(env_or_id, str) else env_or_id
    base = env.unwrapped
    if not hasattr(base, "P"):
        raise ValueError(f"{base!r} has no transition table P; only toy-text environments can be converted")
    S, A = base.observation_space.n, base.action_space.n
    P, r = np.zeros((S, A, S)), np.zeros((S, A))
    terminal = np.zeros(S, bool)
    for s in range(S):
        for a in range(A):
            for prob, s2, reward, done in base.P[s][a]:
                P[s, a, s2] += prob
                r[s, a] += prob * reward
                if done and prob > 0:
                    terminal[s2] = True
    P[terminal] = 0.0
    P[terminal, :, terminal.nonzero()[0]] = 1.0  # absorbing self-loops
    r[terminal] = 0.0
    rho0 = np.asarray(base.initial_state_distrib, dtype=np.float64)
    spec_id = env.spec.id if env.spec is not None else type(base).__name__
    family = spec_id.split("-")[0]
    grid_shape = labels = None
    if family == "FrozenLake":
        grid_shape = (base.nrow, base.ncol)
        labels = tuple(c.decode() for c in np.asarray(base.desc).ravel())
    elif family == "CliffWalking":
        grid_shape = tuple(base.shape)
        labels = tuple("C" if base._cliff[divmod(s, grid_shape[1])] else "." for s in range(S))
        labels = tuple("S" if s == base.start_state_index else ("G" if terminal[s] else c)
                       for s, c in enumerate(labels))
    return FiniteMDP(P, r, rho0, gamma, name=spec_id, terminal=terminal, grid_shape=grid_shape,
                     action_deltas=_TOYTEXT_DELTAS.get(family), cell_labels=labels)
