"""The MDP container rejects bad input with clear messages; builders produce valid, correct MDPs."""

import gymnasium as gym
import numpy as np
import pytest

from rlcore.envs.toytext import from_toytext
from rlcore.estimators.stats import mean_se
from rlcore.tabular.builders import chain_mdp, gridworld, random_mdp, two_state_mdp
from rlcore.tabular.mdp import FiniteMDP, as_policy


def valid():
    m = random_mdp(3, 2, seed=0)
    return dict(P=m.P.copy(), r=m.r.copy(), rho0=m.rho0.copy(), gamma=0.9)


@pytest.mark.parametrize("change, match", [
    (lambda d: d["P"].__setitem__((0, 0), [0.5, 0.4, 0.2]), r"P \(shape \(3, 2, 3\)\) must sum to 1 along axis 2"),
    (lambda d: d["P"].__setitem__((1, 1), [1.2, -0.2, 0.0]), r"P has a negative probability -0.2 at index \(1, 1, 1\)"),
    (lambda d: d.__setitem__("P", d["P"][:, :, :2]), r"P must have shape \(S, A, S\)"),
    (lambda d: d.__setitem__("r", np.zeros((3, 3))), r"r must have shape \(S, A\) = \(3, 2\) to match P"),
    (lambda d: d.__setitem__("rho0", np.ones(4) / 4), r"rho0 must have shape \(S,\) = \(3,\) to match P"),
    (lambda d: d.__setitem__("rho0", np.array([0.5, 0.5, 0.5])), r"rho0 .* must sum to 1"),
    (lambda d: d["r"].__setitem__((2, 1), np.nan), r"r contains NaN or inf \(first at index \(2, 1\)\)"),
    (lambda d: d["P"].__setitem__((0, 0, 0), np.inf), r"P contains NaN or inf"),
    (lambda d: d.__setitem__("gamma", 1.5), r"gamma must be a finite number in \[0, 1\], got 1.5"),
    (lambda d: d.__setitem__("gamma", float("nan")), r"gamma must be a finite number in \[0, 1\]"),
])
def test_container_rejects_bad_input(change, match):
    d = valid()
    change(d)
    with pytest.raises(ValueError, match=match):
        FiniteMDP(**d)


def test_probability_tolerance_is_1e_8():
    d = valid()
    d["P"][0, 0] += np.array([5e-9, 0, 0])  # within PROB_ATOL
    FiniteMDP(**d)
    d["P"][0, 0] += np.array([5e-8, 0, 0])
    with pytest.raises(ValueError, match="within 1e-08"):
        FiniteMDP(**d)


def test_infinite_horizon_needs_gamma_below_one():
    from rlcore.tabular.exact import evaluate_policy, occupancy

    m = random_mdp(3, 2, gamma=1.0, seed=0)
    with pytest.raises(ValueError, match=r"V\^pi needs gamma in \[0, 1\) .* got gamma=1.0"):
        evaluate_policy(m, np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="occupancy"):
        occupancy(m, np.full((3, 2), 0.5))


@pytest.mark.parametrize("pi, match", [
    (np.full((3, 2), 0.6), r"pi \(shape \(3, 2\)\) must sum to 1"),
    (np.array([[1.5, -0.5], [1, 0], [1, 0]]), "pi has a negative probability"),
    (np.full((2, 2), 0.5), r"pi must have shape \(3, 2\), got \(2, 2\)"),
    (np.array([0, 1, 2]), r"pi \(a deterministic policy: one action per state\) must be < 2, got 2 at index \(2,\)"),
    (np.array([0.9, 1.7, 0.2]), r"pi .* must hold whole numbers, got 0.9 at index \(0,\)"),  # never truncated
    (np.array([0, 1]), r"pi \(a deterministic policy.*\) must have shape \(3,\), got \(2,\)"),
    (np.array([-1, 0, 1]), r"must be >= 0, got -1"),
    (np.array([[np.nan, 1], [1, 0], [1, 0]]), "pi contains NaN"),
])
def test_policies_must_be_distributions(pi, match):
    with pytest.raises(ValueError, match=match):
        as_policy(pi, 3, 2)


def test_arrays_are_read_only_float64():
    m = random_mdp(3, 2, seed=1)
    assert m.P.dtype == np.float64 and not m.P.flags.writeable


def test_two_state_values_by_hand():
    # Always stay: state 1 earns 1 forever -> V(1) = 1/(1-g); state 0 earns 0 forever.
    from rlcore.tabular.exact import evaluate_policy

    g = 0.9
    V = evaluate_policy(two_state_mdp(g), np.array([0, 0]))
    np.testing.assert_allclose(V, [0.0, 1 / (1 - g)], atol=1e-12)


def test_chain_and_gridworld_are_valid_and_absorbing():
    c = chain_mdp(5, slip=0.1)
    assert c.P.shape == (5, 2, 5)
    g = gridworld()
    for s in np.flatnonzero(g.terminal):
        assert np.all(g.P[s, :, s] == 1) and np.all(g.r[s] == 0)
    with pytest.raises(ValueError, match="exactly one start"):
        gridworld(["..G", "..."])


@pytest.mark.parametrize("env_id, kwargs, shape", [
    ("FrozenLake-v1", dict(is_slippery=True), (16, 4)),
    ("FrozenLake-v1", dict(is_slippery=False), (16, 4)),
    ("FrozenLake-v1", dict(map_name="8x8", is_slippery=True), (64, 4)),
    ("CliffWalking-v1", {}, (48, 4)),
    ("Taxi-v4", {}, (500, 6)),
])
def test_toytext_conversion(env_id, kwargs, shape):
    m = from_toytext(env_id, gamma=0.95, **kwargs)
    assert m.r.shape == shape
    assert m.terminal.any()
    for s in np.flatnonzero(m.terminal):
        assert np.all(m.P[s, :, s] == 1) and np.all(m.r[s] == 0)


def test_toytext_transitions_match_the_simulator():
    """An independent route: step the real environment and compare frequencies with P (4 SE)."""
    m = from_toytext("FrozenLake-v1", is_slippery=True)
    env = gym.make("FrozenLake-v1", is_slippery=True)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for s, a in [(0, 1), (6, 2), (14, 2)]:
        hits = np.zeros((3000, 16))
        for i in range(3000):
            env.unwrapped.s = s
            s2, *_ = env.step(a)
            hits[i, s2] = 1
        freq, se = mean_se(hits)
        assert np.all(np.abs(freq - m.P[s, a]) <= 4 * np.maximum(se, 1e-3)), (s, a)
    del rng


def test_cliffwalking_rewards():
    m = from_toytext("CliffWalking-v1", gamma=0.9)
    start = int(np.argmax(m.rho0))
    assert m.cell_labels[start] == "S"
    assert m.r[start, 1] == -100  # stepping right from the start falls off the cliff
    assert m.r[start, 0] == -1
