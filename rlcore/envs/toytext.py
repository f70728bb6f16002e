"""Gymnasium toy-text environments as finite MDPs (Chapter 1, §1.1): FrozenLake, CliffWalking, Taxi."""

from __future__ import annotations

import numpy as np

from ..tabular.mdp import FiniteMDP

# The (d_row, d_col) of each action in the toy-text environments we convert.
_TOYTEXT_DELTAS = {
    "FrozenLake": ((0, -1), (1, 0), (0, 1), (-1, 0)),  # left, down, right, up
    "CliffWalking": ((-1, 0), (0, 1), (1, 0), (0, -1)),  # up, right, down, left
}


def from_toytext(env_or_id, gamma: float = 0.99, **make_kwargs) -> FiniteMDP:
    """Convert a Gymnasium toy-text environment into a :class:`FiniteMDP` (Chapter 1, §1.1).

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

    if isinstance(env_or_id, str):
        try:
            gym.spec(env_or_id)
        except gym.error.Error as err:
            raise ValueError(f"env_or_id={env_or_id!r} is not a registered Gymnasium environment ({err})") from None
    elif not isinstance(env_or_id, gym.Env):
        raise TypeError(f"env_or_id must be a Gymnasium id or environment, got {type(env_or_id).__name__}")
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


def run_episodes(env_id: str, pi, n_episodes: int, seed: int = 0, **make_kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Run the tabular policy ``pi`` in the Gymnasium environment for whole episodes (Chapter 1, §1.4).

    Returns the concatenated stream ``(rewards, dones)`` of all ``n_episodes`` episodes: ``dones[t]``
    is True on the last step of each, whether the episode terminated or hit the environment's time
    limit. ``pi`` is an ``(S, A)`` table of action probabilities or ``S`` integer actions.
    """
    steps = run_trajectories(env_id, pi, n_episodes, seed, **make_kwargs)
    return steps["rewards"], steps["dones"]


def run_trajectories(env_id: str, pi, n_episodes: int, seed: int = 0, **make_kwargs) -> dict[str, np.ndarray]:
    """As :func:`run_episodes`, with the states and actions too: ``{"states", "actions", "rewards", "dones"}``,
    each concatenated over the episodes (Chapter 9, §9.2)."""
    import gymnasium as gym

    from ..base import validate

    n_episodes = validate.integer(n_episodes, "n_episodes", low=1)
    env = gym.make(env_id, **make_kwargs)
    S, A = int(env.observation_space.n), int(env.action_space.n)
    pi = np.asarray(pi, dtype=np.float64)
    if pi.shape == (S,):
        pi = np.eye(A)[pi.astype(np.int64)]
    if pi.shape != (S, A):
        raise ValueError(f"pi must have shape ({S}, {A}) or ({S},) for {env_id}, got {pi.shape}")
    cdf = np.cumsum(pi, axis=1)
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {"states": [], "actions": [], "rewards": [], "dones": []}
    for episode in range(n_episodes):
        s, _ = env.reset(seed=seed + episode)
        while True:
            a = min(int(np.searchsorted(cdf[s], rng.random(), side="right")), A - 1)
            out["states"].append(int(s))
            out["actions"].append(a)
            s, reward, terminated, truncated, _ = env.step(a)
            out["rewards"].append(float(reward))
            out["dones"].append(bool(terminated or truncated))
            if terminated or truncated:
                break
    env.close()
    return {key: np.array(values) for key, values in out.items()}
