"""Every derivation check passes, is fast, fails when the code it checks is wrong, and is registered
for exactly the chapters that syllabus §7 lists it in."""

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

import rlcore.checks.mdp_values as D
import rlcore.checks.monte_carlo as M
from rlcore.checks import REGISTRY, load_all, run_checks

SYLLABUS = Path(__file__).resolve().parents[2] / "shared" / "syllabus.md"
ALL = sorted(load_all().values(), key=lambda e: e.id)


def syllabus_text() -> str:
    if not SYLLABUS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI runs beside shared/, but {SYLLABUS} is missing")
        pytest.skip(f"the syllabus ({SYLLABUS}) is not beside this checkout")
    return SYLLABUS.read_text(encoding="utf-8")


def _expand(ids: str) -> list[str]:
    """'49–51' -> ['DC-49', 'DC-50', 'DC-51']; '36–41,43' -> ..."""
    out = []
    for part in ids.split(","):
        lo, _, hi = part.strip().partition("–")
        out += [f"DC-{n:02d}" for n in range(int(lo), int(hi or lo) + 1)]
    return out


def syllabus_chapters() -> dict[str, set[int | str]]:
    """Check id -> the chapters whose §7 "Contains" line lists it, and the appendices (letters) that the coverage
    cross-check assigns it to ("DC-49–51→App-B")."""
    out: dict[str, set[int | str]] = {}
    text = syllabus_text()
    for chapter, body in re.findall(r"^### Ch-(\d+) .*?\n(.*?)(?=^### )", text, re.M | re.S):
        contains = re.search(r"\*\*Contains\*\*:(.*)", body)
        for dc in re.findall(r"DC-\d+", contains.group(1) if contains else ""):
            out.setdefault(dc, set()).add(int(chapter))
    for ids, letter in re.findall(r"DC-([\d–,]+)→App-([A-Z])", text):
        for dc in _expand(ids):
            out.setdefault(dc, set()).add(letter)
    return out


@pytest.mark.parametrize("entry", ALL, ids=lambda e: e.id)
def test_check_passes_within_budget(entry):
    start = time.perf_counter()
    report = entry.fn()
    elapsed = time.perf_counter() - start
    assert report.all_passed, repr(report)
    assert len(report) >= 1 and all(row.id == entry.id for row in report)
    print(f"{entry.id}: {elapsed:.2f} s")  # the budget (< 1 s each) is reported, not asserted


def test_registry_agrees_with_the_syllabus():
    in_syllabus = syllabus_chapters()
    all_ids = set(re.findall(r"\*\*(DC-\d+) ", syllabus_text()))
    for entry in ALL:
        assert entry.id in all_ids, f"{entry.id} is registered but not a check of syllabus §3"
        assert set(entry.chapters) == in_syllabus.get(entry.id, set()), (
            f"{entry.id}: registered for chapters {entry.chapters}, syllabus §7 lists {in_syllabus.get(entry.id)}")


def test_registry_drives_run_checks():
    report = run_checks(1)
    assert {row.id for row in report} == {e.id for e in ALL if 1 in e.chapters}
    assert "<table>" in report._repr_html_() and "DC-01" in repr(report)
    with pytest.raises(ValueError, match="no derivation checks for chapter 99"):
        run_checks(99)
    assert set(REGISTRY) == {e.id for e in ALL}


def test_registering_an_id_twice_is_an_error():
    from rlcore.checks.registry import register

    with pytest.raises(ValueError, match="DC-01 is registered twice"):
        register("DC-01", (1,))(lambda: [])


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
    monkeypatch.setattr(M, "sample_variance", lambda x, unbiased=True: np.var(x, axis=-1, ddof=0))
    report = M.dc92_monte_carlo(n_replications=200_000)
    assert not report[1].passed  # the "unbiased" estimator is now biased, and the test sees it


def test_every_check_of_a_written_chapter_is_registered():
    """Syllabus §7 lists each chapter's checks; once the chapter's notebook exists, all of them must run in it."""
    book = Path(__file__).resolve().parents[1] / "book"
    written = {int(p.name[2:4]) for p in book.glob("ch[0-9][0-9]_*.ipynb")}
    written |= {p.name[4].upper() for p in book.glob("app_[a-z]_*.ipynb")}  # appendices by letter
    missing = [f"{dc} (Chapter {c})" for dc, chapters in syllabus_chapters().items() for c in chapters
               if c in written and (dc not in REGISTRY or c not in REGISTRY[dc].chapters)]
    assert not missing, f"checks listed by syllabus §7 for written chapters but not registered: {missing}"
