"""Finite MDPs the book uses as examples: random, two-state, chain, text gridworlds and the short
corridor (Chapters 1, 2 and 7).

Each builder returns a validated :class:`~rlcore.tabular.mdp.FiniteMDP`. The Gymnasium toy-text
environments are converted by :func:`rlcore.envs.toytext.from_toytext`, the only place that
imports Gymnasium.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..base import validate
from .mdp import FiniteMDP


def random_mdp(
    n_states: int, n_actions: int, gamma: float = 0.9, seed: int = 0, alpha: float = 0.5
) -> FiniteMDP:
    """A random MDP: Dirichlet(``alpha``) transitions, U[0, 1] rewards, Dirichlet(1) start (Chapter 1, §1.1)."""
    n_states = validate.integer(n_states, "n_states", low=1)
    n_actions = validate.integer(n_actions, "n_actions", low=1)
    validate.real(alpha, "alpha", low=0.0, low_open=True)
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(n_states, alpha), size=(n_states, n_actions))
    r = rng.uniform(0.0, 1.0, size=(n_states, n_actions))
    rho0 = rng.dirichlet(np.ones(n_states))
    return FiniteMDP(P, r, rho0, gamma, name=f"random({n_states}x{n_actions}, seed={seed})")


def two_state_mdp(gamma: float = 0.9) -> FiniteMDP:
    """Two states, two actions: *stay* (a=0) or *switch* (a=1).

    Staying in state 1 pays 1, everything else pays 0; switching succeeds with
    probability 0.9. Small enough to solve by hand (Chapter 1, §1.1).
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
    the myopic policy keeps the small reward, the optimal one walks right (Chapter 2, §2.4).
    """
    n = validate.integer(n, "n", low=2)
    slip = validate.real(slip, "slip", low=0.0, high=1.0)
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


def short_corridor(gamma: float = 0.95) -> FiniteMDP:
    """The short corridor with switched actions of Sutton and Barto, Example 13.1 (Chapter 7, §7.5).

    States 0, 1, 2 and the goal 3 (absorbing, reward 0); actions 0 (left) and 1 (right); every step before the
    goal pays -1. Actions move as named in states 0 and 2 (left in state 0 stays there) but are *switched* in
    state 1. A policy that sees no state, ``pi(right) = p`` everywhere, does best with ``p`` near 0.6; both
    deterministic policies never reach the goal.
    """
    P = np.zeros((4, 2, 4))
    P[0, 0, 0] = P[0, 1, 1] = 1.0
    P[1, 0, 2] = P[1, 1, 0] = 1.0  # switched
    P[2, 0, 1] = P[2, 1, 3] = 1.0
    P[3, :, 3] = 1.0
    r = np.array([[-1.0, -1.0], [-1.0, -1.0], [-1.0, -1.0], [0.0, 0.0]])
    return FiniteMDP(P, r, np.array([1.0, 0.0, 0.0, 0.0]), gamma, name="short corridor")


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
    (both are absorbing). Walls are states that cannot be entered (Chapter 2, §2.1).
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
    slip = validate.real(slip, "slip", low=0.0, high=1.0)
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
