"""Exact evaluation and dynamic programming, each checked by a route that shares no code with it."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlcore.envs.toytext import from_toytext
from rlcore.estimators.returns import discounted_return, rewards_to_go
from rlcore.tabular import dp, exact
from rlcore.tabular.builders import chain_mdp, random_mdp
from rlcore.tabular.mdp import random_policy

mdps = st.builds(random_mdp, st.integers(1, 6), st.integers(1, 4), st.floats(0.0, 0.99), st.integers(0, 10**6))


@given(mdps, st.integers(0, 10**6))
def test_evaluate_policy_is_fixed_point_of_iteration(mdp, seed):
    pi = random_policy(mdp, np.random.default_rng(seed))
    V = exact.evaluate_policy(mdp, pi)
    W = np.zeros(mdp.n_states)
    r_pi, P_pi = exact.policy_reward(mdp, pi), exact.policy_transition(mdp, pi)
    for _ in range(3000):  # 0.99^3000 ~ 1e-13
        W = r_pi + mdp.gamma * P_pi @ W
    # 1e-8: the matrix I - gamma P_pi has condition number <= (1+gamma)/(1-gamma) = 199
    np.testing.assert_allclose(V, W, atol=1e-8)


@given(mdps, st.integers(0, 10**6))
def test_occupancy_is_a_distribution_and_gives_J(mdp, seed):
    pi = random_policy(mdp, np.random.default_rng(seed))
    d = exact.occupancy(mdp, pi)
    assert np.all(d >= -1e-12) and abs(d.sum() - 1) < 1e-10
    J = exact.expected_return(mdp, pi)
    assert abs(J - d @ exact.policy_reward(mdp, pi) / (1 - mdp.gamma)) < 1e-8 * max(1, abs(J))


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=30), st.floats(0, 1), st.integers(0, 2**31))
def test_rewards_to_go_against_double_loop(rewards, gamma, seed):
    dones = np.random.default_rng(seed).random(len(rewards)) < 0.3
    G = rewards_to_go(rewards, dones, gamma)
    for t in range(len(rewards)):
        end = next((e for e in range(t, len(rewards)) if dones[e]), len(rewards) - 1)
        brute = sum(gamma ** (k - t) * rewards[k] for k in range(t, end + 1))
        assert abs(G[t] - brute) < 1e-9 * max(1, abs(brute))
    first_end = next((e for e in range(len(rewards)) if dones[e]), len(rewards) - 1)
    assert abs(G[0] - discounted_return(rewards[:first_end + 1], gamma)) < 1e-9 * max(1, abs(G[0]))


def test_returns_validate_input():
    with pytest.raises(ValueError, match=r"gamma must be a finite number in \[0, 1\]"):
        rewards_to_go([1.0], [True], 1.5)
    with pytest.raises(ValueError, match=r"dones must have shape \(2,\), got \(1,\)"):
        rewards_to_go([1.0, 2.0], [True], 0.9)


@given(st.integers(1, 8), st.integers(1, 5), st.integers(0, 10**6))
def test_greedy_picks_a_maximiser_with_lowest_index(S, A, seed):
    Q = np.random.default_rng(seed).integers(0, 3, size=(S, A)).astype(float)  # many ties
    pi = dp.greedy(Q)
    assert pi.dtype.kind == "i"
    for s in range(S):
        best = np.flatnonzero(Q[s] == Q[s].max())
        assert pi[s] == best[0]


def test_greedy_compares_exactly_and_policy_iteration_absorbs_rounding_noise():
    assert dp.greedy(np.array([[1.0, 1.0 + 1e-14]]))[0] == 1  # exact: the larger value wins, however slightly
    assert dp.greedy(np.array([[1.0, 1.0]]))[0] == 0  # an exact tie goes to the lowest index
    lake = from_toytext("FrozenLake-v1", gamma=0.99)  # plain argmax policy iteration cycles here (Chapter 2, §2.3)
    result = dp.policy_iteration(lake, max_iter=100)
    assert result.iterations < 20
    assert np.max(np.abs(result.V - dp.value_iteration(lake, tol=1e-10).V)) < 1e-9


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99])
def test_value_iteration_stopping_rule_guarantee(gamma):
    for seed in range(10):
        mdp = random_mdp(4, 3, gamma=gamma, seed=seed)
        V_star, _ = dp.brute_force_optimum(mdp)
        for tol in (1e-2, 1e-5):
            vi = dp.value_iteration(mdp, tol=tol)
            assert np.max(np.abs(vi.V - V_star)) < tol / 2
            assert np.all(exact.evaluate_policy(mdp, vi.policy) >= V_star - tol)  # tol-optimal


def test_policy_iteration_matches_value_iteration_on_toytext():
    for mdp in (from_toytext("FrozenLake-v1", gamma=0.99, map_name="8x8"), from_toytext("Taxi-v4", gamma=0.95),
                from_toytext("CliffWalking-v1", gamma=0.95), chain_mdp(8, 0.95, slip=0.1)):
        pi_res = dp.policy_iteration(mdp)
        vi = dp.value_iteration(mdp, tol=1e-9)
        np.testing.assert_allclose(pi_res.V, vi.V, atol=1e-8)


def test_cliffwalking_optimal_path_avoids_the_cliff_only_when_slippery_would_matter():
    # deterministic cliff: the optimal path hugs the cliff, 13 steps of -1 from the start
    mdp = from_toytext("CliffWalking-v1", gamma=1 - 1e-9)
    V = dp.policy_iteration(mdp).V
    start = int(np.argmax(mdp.rho0))
    assert abs(V[start] - (-13)) < 1e-5


def test_brute_force_refuses_huge_enumerations():
    with pytest.raises(ValueError, match="exceeds limit"):
        dp.deterministic_policies(random_mdp(20, 4, seed=0))


def test_dp_rejects_bad_arguments():
    mdp = random_mdp(3, 2, seed=0)
    with pytest.raises(ValueError, match=r"tol must be a finite number in \(0, inf\)"):
        dp.value_iteration(mdp, tol=0)
    with pytest.raises(ValueError, match="V0 must have shape"):
        dp.value_iteration(mdp, V0=np.zeros(5))
    with pytest.raises(ValueError, match="gamma in"):
        dp.policy_iteration(mdp.with_gamma(1.0))


def test_sample_returns_with_first_action_estimates_q():
    from rlcore.estimators.stats import mean_se
    from rlcore.tabular.montecarlo import sample_returns

    mdp = random_mdp(3, 2, gamma=0.8, seed=3)
    rng = np.random.default_rng(0)
    pi = random_policy(mdp, rng)
    Q = exact.action_values(mdp, pi)
    for s in range(3):
        for a in range(2):
            G = sample_returns(mdp, pi, np.full(3000, s), rng, first_actions=np.full(3000, a))
            mean, se = mean_se(G)
            assert abs(mean - Q[s, a]) <= 4 * se  # MC(3000): 4 standard errors


def test_approximate_policy_iteration_is_reproducible_and_reports_exact_values():
    from rlcore.tabular.builders import gridworld

    world = gridworld(slip=0.2)
    runs = [dp.approximate_policy_iteration(world, np.random.default_rng(1), n_rollouts=200, iterations=5)
            for _ in range(2)]
    for a, b in zip(runs[0].policies, runs[1].policies):
        assert np.array_equal(a, b)
    for pi, V in zip(runs[0].policies, runs[0].values):
        np.testing.assert_allclose(V, exact.evaluate_policy(world, pi), atol=1e-12)
