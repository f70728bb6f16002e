"""Exact tabular policy gradients (Chapter 6): the library's closed forms against torch.autograd, and the
checks failing when a factor is wrong."""

import numpy as np
import pytest

from rlcore.checks.registry import REGISTRY, load_all
from rlcore.tabular import policy_gradient as pg
from rlcore.tabular.builders import random_mdp

load_all()


@pytest.mark.parametrize("check_id", ["DC-16", "DC-17", "DC-18", "DC-19", "DC-25"])
def test_the_chapter_6_checks_pass(check_id):
    report = REGISTRY[check_id].fn()
    assert report.all_passed, str(report)


def test_a_wrong_factor_is_caught(monkeypatch):
    """Drop the 1/(1 - gamma) of the occupancy form (the source notes' erratum E0.8): DC-18 must fail."""
    original = pg.softmax_policy_gradient

    def erratum(mdp, theta):
        return original(mdp, theta) * (1 - mdp.gamma) ** 2  # (1 - gamma) instead of 1 / (1 - gamma)

    monkeypatch.setattr("rlcore.checks.policy_gradient.softmax_policy_gradient", erratum)
    assert not REGISTRY["DC-18"].fn().all_passed


def test_softmax_policy_is_a_distribution_and_validates():
    pi = pg.softmax_policy(np.array([[1000.0, 0.0], [0.0, 0.0]]))
    assert np.allclose(pi.sum(axis=1), 1) and pi[0, 0] == 1.0
    with pytest.raises(ValueError, match="theta must have shape"):
        pg.softmax_policy_gradient(random_mdp(3, 2, gamma=0.9, seed=0), np.zeros((2, 2)))
