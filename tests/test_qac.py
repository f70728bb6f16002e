"""QAC (Chapter 8, §8.6) and its tile coder: features, the update rule term by term, errors, save and load,
and learning on MountainCar."""

import numpy as np
import pytest

from rlcore.algos.qac import QAC, QACConfig, train_qac
from rlcore.nets.tiles import TileCoder


def test_tile_coder_activates_one_tile_per_tiling():
    coder = TileCoder([-1.2, -0.07], [0.6, 0.07], tilings=8, tiles=8)
    rng = np.random.default_rng(0)
    for state in rng.uniform([-1.2, -0.07], [0.6, 0.07], size=(200, 2)):
        active = coder(state)
        assert len(active) == 8 and len(set(active)) == 8
        assert np.all((active >= 0) & (active < coder.n_features))
        assert np.all(active // coder.cells == np.arange(8))  # tiling k's index lies in block k
    near = coder([0.0, 0.0]), coder([0.01, 0.001])
    far = coder([0.0, 0.0]), coder([0.5, 0.06])
    assert len(set(near[0]) & set(near[1])) >= 5 and not set(far[0]) & set(far[1])  # generalisation is local
    assert np.array_equal(coder([5.0, 5.0]), coder([0.6, 0.07]))  # clipped into the box


def test_tile_coder_rejects_bad_input():
    with pytest.raises(ValueError, match="high must exceed low"):
        TileCoder([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="state must have shape"):
        TileCoder([0.0], [1.0])([0.5, 0.5])


def test_update_is_the_rule_term_by_term():
    """theta += eta Q(s,a) grad log pi(a|s) and omega += eta delta x(s,a), recomputed with dense features."""
    coder = TileCoder([0.0], [1.0], tilings=2, tiles=2)
    for advantage in (False, True):
        learner = QAC(QACConfig(actor_lr=0.3, critic_lr=0.4, tilings=2, gamma=0.9, advantage=advantage), coder, 3)
        rng = np.random.default_rng(1)
        learner.theta, learner.omega = rng.normal(size=learner.theta.shape), rng.normal(size=learner.omega.shape)
        f, f2 = coder([0.3]), coder([0.8])
        phi = np.zeros(coder.n_features)
        phi[f] = 1.0
        pi = learner.policy(f)
        theta, w = learner.theta.copy(), learner.omega.copy()
        q_all = w @ phi
        target = -1.0 + 0.9 * w[2, f2].sum()
        learner.update(f, 1, -1.0, f2, 2, False, pi)
        weight = q_all[1] - pi @ q_all if advantage else q_all[1]
        grad_log_pi = -np.outer(pi, phi)
        grad_log_pi[1] += phi
        assert np.allclose(learner.theta, theta + 0.3 / 2 * weight * grad_log_pi, atol=1e-12)
        w_expected = w.copy()
        w_expected[1] += 0.4 / 2 * (target - q_all[1]) * phi
        assert np.allclose(learner.omega, w_expected, atol=1e-12)


def test_terminal_step_does_not_bootstrap():
    coder = TileCoder([0.0], [1.0], tilings=1, tiles=1)
    learner = QAC(QACConfig(tilings=1), coder, 2)
    learner.omega[:] = 5.0
    f = coder([0.5])
    assert learner.update(f, 0, -1.0, f, 1, True, learner.policy(f)) == pytest.approx(-1.0 - 5.0)


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="QACConfig.episodes must be an integer >= 1"):
        QACConfig(episodes=0)
    with pytest.raises(ValueError, match="QACConfig.actor_lr"):
        QACConfig(actor_lr=-1.0)
    with pytest.raises(ValueError, match="bounded Box observations"):
        train_qac(env_id="CartPole-v1", episodes=1)


def test_save_and_load_round_trip(tmp_path):
    learner = train_qac(episodes=2, seed=3)
    learner.save(tmp_path / "qac.npz")
    again = QAC.load(tmp_path / "qac.npz")
    assert np.array_equal(again.theta, learner.theta) and np.array_equal(again.omega, learner.omega)
    assert again.config == learner.config


def test_qac_learns_mountain_car():
    """The advantage variant's episodes get shorter (the goal is reached) within 150 episodes; 2-3 s."""
    lengths = train_qac(episodes=150, advantage=True, seed=0).history["episode_length"]
    assert np.mean(lengths[:20]) == 200 and np.mean(lengths[-30:]) < 175
