"""The derivation-check framework: result rows, the registry, and running a chapter's checks.

Every check computes both sides of an identity by independent routes and returns :class:`Check`
rows (``error <= tol`` means it passed). Tolerances follow the syllabus shorthands, and each is
justified where set:

* ``EXACT64`` = 1e-10: float64 linear algebra on matrices with condition number
  ``<= (1 + gamma) / (1 - gamma) <= 200`` loses at most ~1e-13 relative, so 1e-10 leaves
  three orders of margin yet catches any algebraic slip (which shows up at >= 1e-3).
* ``BOUND`` slack ``>= -1e-10``: an inequality that is tight on some instances must survive
  rounding noise of the same size as ``EXACT64``.
* ``MC``: ``|estimate - exact| <= 4`` standard errors; a correct estimator fails one such
  comparison with probability ~6e-5, and seeds are fixed so runs are reproducible.

A topic module registers each check with :func:`register`, giving its syllabus id and the
chapters that show it; ``tests/test_checks.py`` keeps that table equal to syllabus §7.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EXACT64 = 1e-10
BOUND_SLACK = -1e-10
MC_Z = 4.0

#: The topic modules of this package, one per group of syllabus §3. Each is imported only
#: when a chapter asks for its checks, so Chapter 1 never loads torch.
TOPICS = ("mdp_values", "monte_carlo", "probability", "policy_gradient", "reinforce", "actor_critic",
          "off_policy", "information", "natural_gradient", "improvement", "trust_region", "proximal")


@dataclass
class Check:
    """One row of a derivation-check table (Chapter 1, §1.7)."""

    id: str  #: syllabus id, e.g. "DC-01"
    claim: str  #: the identity, in words or LaTeX-free math
    lhs: str  #: how the left side was computed
    rhs: str  #: how the right side was computed
    error: float  #: the measured discrepancy (abs error, |z|, or negative slack)
    tol: float  #: the largest discrepancy that passes
    #: "abs", "SE" (Monte Carlo z-score) or "violation" (largest breach of a bound; negative = margin)
    unit: str = "abs"
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.error) and self.error <= self.tol)


class Report(list):
    """A list of :class:`Check` rows that renders as a table in a notebook (Chapter 1, §1.7)."""

    @property
    def all_passed(self) -> bool:
        return all(c.passed for c in self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("id", "claim", "left side", "right side", "error", "tolerance",
                                                  "time", ""))
        rows = "".join(
            f"<tr><td>{c.id}</td><td>{c.claim}</td><td>{c.lhs}</td><td>{c.rhs}</td>"
            f"<td>{c.error:.2e} {c.unit}</td><td>{c.tol:.0e}</td><td>{c.seconds * 1000:.0f} ms</td>"
            f"<td>{'✓' if c.passed else '✗ FAILED'}</td></tr>"
            for c in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"

    def __repr__(self) -> str:
        return "\n".join(f"{'PASS' if c.passed else 'FAIL'} {c.id}: {c.claim} | {c.error:.2e} {c.unit} "
                         f"<= {c.tol:.0e}" for c in self)


@dataclass(frozen=True)
class Entry:
    """A registered check: its syllabus id, the chapters that show it, its topic and its function (Chapter 1, §1.7)."""

    id: str
    chapters: tuple[int | str, ...]  #: chapter numbers, and appendix letters ("B")
    topic: str
    fn: Callable[..., Report]


REGISTRY: dict[str, Entry] = {}


def register(check_id: str, chapters: tuple[int | str, ...]):
    """Register a check under ``check_id`` for ``chapters``; it returns a timed :class:`Report` (Chapter 1, §1.7)."""
    def decorator(fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            rows = fn(*args, **kwargs)
            for row in rows:
                row.seconds = (time.perf_counter() - start) / len(rows)
            return Report(rows)

        if check_id in REGISTRY:
            raise ValueError(f"{check_id} is registered twice ({REGISTRY[check_id].fn.__module__} and {fn.__module__})")
        REGISTRY[check_id] = Entry(check_id, tuple(chapters), fn.__module__.rsplit(".", 1)[-1], timed)
        return timed

    return decorator


def load_all() -> dict[str, Entry]:
    """Import every topic module (registering its checks) and return the registry (Chapter 1, §1.7)."""
    for topic in TOPICS:
        importlib.import_module(f"{__package__}.{topic}")
    return REGISTRY


def run_checks(chapter: int | str) -> Report:
    """Run every derivation check registered for ``chapter`` (a number, or an appendix letter such as ``"B"``) and
    return one table (Chapter 1, §1.7)."""
    entries = [e for e in load_all().values() if chapter in e.chapters]
    if not entries:
        chapters = sorted({c for e in REGISTRY.values() for c in e.chapters}, key=str)
        raise ValueError(f"no derivation checks for chapter {chapter!r}; chapters with checks: {chapters}")
    return Report(row for entry in sorted(entries, key=lambda e: e.id) for row in entry.fn())
