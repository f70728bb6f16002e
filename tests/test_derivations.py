"""Every derivation check passes, is fast, and fails when the code it checks is wrong."""

import time

import numpy as np
import pytest

from rlcore import derivations as D

ALL = [f for fns in D.CHAPTER_CHECKS.values() for f in fns]


@pytest.mark.parametrize("check", ALL, ids=lambda f: f.__name__)
def test_check_passes_within_budget(check):
    start = time.perf_counter()
    report = check()
    elapsed = time.perf_counter() - start
    assert report.all_passed, repr(report)
    assert len(report) >= 1
    print(f"{check.__name__}: {elapsed:.2f} s")  # the budget (< 1 s each) is reported, not asserted


def test_report_renders():
    report = D.run_checks(1)
    assert "<table>" in report._repr_html_() and "DC-01" in repr(report)
    with pytest.raises(ValueError, match="no derivation checks for chapter 99"):
        D.run_checks(99)


def test_dc01_fails_when_evaluation_is_wrong(monkeypatch):
    real = D.evaluate_policy
    monkeypatch.setattr(D, "evaluate_policy", lambda mdp, pi: real(mdp, pi) * 1.01)
    report = D.dc01_bellman_consistency()
    assert not any(row.passed for row in report)


def test_dc06_fails_with_the_seed_factor(monkeypatch):
    """Erratum E0.8: an occupancy normalised the seed's way breaks J = E_d[r]/(1-gamma)."""
    real = D.occupancy
    monkeypatch.setattr(D, "occupancy", lambda mdp, pi: real(mdp, pi) / (1 - mdp.gamma) ** 2)
    report = D.dc06_occupancy()
    assert not report.all_passed and not report[0].passed


def test_dc03_and_dc05_fail_for_a_broken_operator(monkeypatch):
    real = D.bellman_optimality
    monkeypatch.setattr(D, "bellman_optimality", lambda mdp, V: real(mdp, V) * 1.5)  # a 1.5 gamma "contraction"
    assert not D.dc03_contraction(n_instances=50).all_passed


def test_dc07_fails_if_q_and_v_disagree(monkeypatch):
    real = D.evaluate_policy
    monkeypatch.setattr(D, "evaluate_policy", lambda mdp, pi: real(mdp, pi) + 1e-6)
    assert not D.dc07_advantage_zero_mean().all_passed


def test_dc92_fails_for_the_wrong_variance_formula(monkeypatch):
    monkeypatch.setattr(D, "sample_variance", lambda x, unbiased=True: np.var(x, axis=-1, ddof=0))
    report = D.dc92_monte_carlo(n_replications=200_000)
    assert not report[1].passed  # the "unbiased" estimator is now biased, and the test sees it
