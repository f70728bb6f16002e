"""The natural gradient (Chapter 11): the closed-form step, its validation, exact tabular ascent, dual ascent, and
the linear softmax policy's score and update, each against an independent computation."""

import numpy as np
import pytest

from rlcore.algos import npg
from rlcore.tabular import builders, exact
from rlcore.tabular import natural as nat
from rlcore.tabular import policy_gradient as pg


def test_the_step_fills_the_trust_region_and_beats_random_feasible_steps():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    F, g = Q @ np.diag([1.0, 5.0, 25.0]) @ Q.T, rng.normal(size=3)
    step = nat.natural_gradient_step(g, F, 0.02)
    assert 0.5 * step @ F @ step == pytest.approx(0.02, rel=1e-12)
    others = rng.normal(size=(5000, 3))
    others *= np.sqrt(0.02 / (0.5 * np.einsum("ij,jk,ik->i", others, F, others)))[:, None]
    assert np.max(others @ g) <= g @ step + 1e-12


def test_singular_fisher_damping_and_zero_gradient():
    p = pg.softmax_policy(np.array([[0.2, -0.4, 1.0]]))[0]
    F = pg.softmax_fisher(p)
    g = F @ np.array([1.0, 0.0, -1.0])
    pinv = nat.natural_direction(g, F)
    assert np.allclose(F @ pinv, g, atol=1e-12) and abs(pinv.sum()) < 1e-10  # minimum norm: no component along 1
    assert np.allclose(nat.natural_direction(g, F, 1e-9), pinv, atol=1e-6)
    damped = nat.natural_gradient_step(g, F, 0.01, damping=0.1)
    assert 0.5 * damped @ (F + 0.1 * np.eye(3)) @ damped == pytest.approx(0.01)
    assert np.array_equal(nat.natural_gradient_step(np.zeros(3), F, 0.01), np.zeros(3))


@pytest.mark.parametrize("kwargs, message", [
    (dict(g=np.ones(2), F=np.eye(3), delta=0.1), "F must be a square matrix"),
    (dict(g=np.ones(2), F=np.array([[1.0, 0.5], [0.0, 1.0]]), delta=0.1), "F must be symmetric"),
    (dict(g=np.ones(2), F=np.eye(2), delta=0.0), "delta"),
    (dict(g=np.ones(2), F=np.eye(2), delta=0.1, damping=-1.0), "damping"),
    (dict(g=np.array([1.0, np.nan]), F=np.eye(2), delta=0.1), "g"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nat.natural_gradient_step(**kwargs)


def test_tabular_natural_gradient_is_the_advantage_up_to_a_constant_per_state():
    mdp = builders.random_mdp(4, 3, gamma=0.8, seed=3)
    theta = np.random.default_rng(3).normal(size=(4, 3))
    x = nat.natural_direction(pg.softmax_policy_gradient(mdp, theta).ravel(), pg.policy_fisher(mdp, theta))
    A = exact.advantages(mdp, pg.softmax_policy(theta)) / (1 - mdp.gamma)
    diff = A - x.reshape(4, 3)
    assert np.allclose(diff, diff.mean(axis=1, keepdims=True), atol=1e-9)


def test_exact_natural_ascent_improves_and_the_sigmoid_fisher_is_the_softmax_block():
    two = builders.two_state_mdp(0.9)
    _, J = nat.natural_ascent(two, np.array([-4.0, 4.0]), 0.02, 10, parametrisation="sigmoid")
    assert np.all(np.diff(J) > -1e-9) and J[-1] > 8.8
    theta = np.array([0.3, -0.7])
    u = 1 / (1 + np.exp(-theta))
    d = exact.occupancy(two, pg.softmax_policy(nat.sigmoid_logits(theta)))
    assert np.allclose(nat.sigmoid_policy_fisher(two, theta), np.diag(d * u * (1 - u)), atol=1e-14)
    with pytest.raises(ValueError, match="parametrisation"):
        nat.natural_ascent(two, theta, 0.01, 1, parametrisation="tanh")


def test_dual_ascent_meets_the_constraint():
    mdp = builders.random_mdp(3, 2, gamma=0.9, seed=5)
    history = nat.dual_ascent(mdp, np.zeros((3, 2)), 0.02, iterations=200)
    assert history["kl"][-1] == pytest.approx(0.02, abs=2e-4) and history["multiplier"][-1] > 0
    assert history["surrogate"][-1] > 0  # the surrogate of the old policy itself is 0


def test_linear_scores_match_finite_differences_of_the_log_probability():
    rng = np.random.default_rng(1)
    W, phi, actions = rng.normal(size=(3, 4)), rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    scores = npg.linear_scores(W, phi, actions)
    h = 1e-6
    for k in range(W.size):
        E = np.zeros(W.size)
        E[k] = h
        plus = np.log(npg.linear_softmax(W + E.reshape(W.shape), phi)[np.arange(6), actions])
        minus = np.log(npg.linear_softmax(W - E.reshape(W.shape), phi)[np.arange(6), actions])
        assert np.allclose(scores[:, k], (plus - minus) / (2 * h), atol=1e-8)  # central differences: ~h^2


def test_the_natural_update_moves_the_policy_by_about_delta():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(2, 5)) * 0.1
    phi = npg.features(rng.normal(size=(400, 4)))
    actions = np.array([rng.choice(2, p=p) for p in npg.linear_softmax(W, phi)])
    rewards = rng.normal(size=400) + actions
    dones = np.zeros(400, bool)
    dones[49::50] = True
    batch = dict(phi=phi, actions=actions, rewards=rewards, dones=dones)
    _, kl = npg.linear_pg_update(W, batch, npg.LinearPGConfig(method="natural", delta=0.005, damping=1e-6))
    assert kl == pytest.approx(0.005, rel=0.2)  # the quadratic model of the KL, to second order


def test_config_names_a_bad_method():
    with pytest.raises(ValueError, match="method"):
        npg.LinearPGConfig(method="adam")
