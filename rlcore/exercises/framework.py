"""The exercise checker framework (every chapter's exercises; Chapter 1, §1.2 shows the first).

A chapter's exercise cell defines a function; the next cell calls its checker, e.g.
``ch01.check_rewards_to_go(rewards_to_go)``. The checker calls the reader's function with the
arguments *by name*, exactly as the exercise states its signature. The checker runs the function on hand-picked
edge cases and randomised inputs, compares it with rlcore's reference and with properties,
and returns a :class:`CheckResult` that renders as a coloured box. It never raises: a stub
that is not attempted, an exception, a wrong shape or dtype, NaN or a function that runs too
long are all reported, and the notebook keeps running.
"""

from __future__ import annotations

import inspect
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PASS, NOT_ATTEMPTED, FAIL, ERROR, TIMEOUT = "pass", "not attempted", "fail", "error", "timeout"


@dataclass
class Case:
    """One input to an exercise, with a hint shown when the reader's answer fails on it (Chapter 1, §1.2)."""

    label: str
    kwargs: dict
    hint: str = ""
    expected: Any = None  # filled in from the reference


@dataclass
class CheckResult:
    """The outcome of a checker; renders as HTML in a notebook and as text elsewhere (Chapter 1, §1.2)."""

    exercise: str
    status: str
    message: str
    case: Case | None = None
    n_cases: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [f"[{self.status.upper()}] {self.exercise}: {self.message}", *self.details]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        colour = {PASS: "#e6f4ea", NOT_ATTEMPTED: "#eef1f6"}.get(self.status, "#fdecea")
        icon = {PASS: "✓", NOT_ATTEMPTED: "…"}.get(self.status, "✗")
        body = "<br>".join(html.escape(d).replace("\n", "<br>") for d in self.details)
        return (f'<div style="background:{colour};padding:0.6em 0.9em;border-radius:6px;'
                f'font-family:sans-serif"><b>{icon} {html.escape(self.exercise)}</b>: '
                f"{html.escape(self.message)}"
                + (f'<pre style="background:transparent;margin:0.4em 0 0 0;white-space:pre-wrap">{body}</pre>'
                   if body else "")
                + "</div>")


def describe(value, limit: int = 400) -> str:
    """A short, readable rendering of an input or output for failure messages (Chapter 1, §1.2)."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, suppress_small=True, threshold=40, max_line_width=100)
        text = f"array(shape={value.shape}, dtype={value.dtype})\n{text}"
    elif isinstance(value, (list, tuple)) and len(value) and any(isinstance(v, np.ndarray) for v in value):
        text = f"{type(value).__name__} of {len(value)}: " + ", ".join(
            f"array{v.shape}" if isinstance(v, np.ndarray) else type(v).__name__ for v in value)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


class _Timeout(Exception):
    pass


def _call_with_limit(fn: Callable, kwargs: dict, seconds: float):
    """Call ``fn(**kwargs)``; raise ``_Timeout`` after ``seconds`` where the OS allows it.

    SIGALRM interrupts a runaway Python loop in the main thread (Jupyter, Colab, pytest on
    Linux and macOS). Elsewhere the call runs to completion and is judged by its duration.
    """
    can_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not can_alarm:
        start = time.perf_counter()
        out = fn(**kwargs)
        if time.perf_counter() - start > seconds:
            raise _Timeout
        return out

    def on_alarm(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(**kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _copy_inputs(kwargs: dict) -> dict:
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}


def run_exercise(
    exercise: str,
    fn: Callable,
    cases: list[Case],
    reference: Callable,
    compare: Callable[[Any, Case], str | None],
    fallback: str,
    time_limit: float = 5.0,
) -> CheckResult:
    """Run ``fn`` on every case and judge it with ``compare(got, case)`` (Chapter 1, §1.2).

    ``compare`` returns ``None`` when the answer is right, else a sentence saying what is
    wrong (it can use ``case.expected``, which is ``reference(**case.kwargs)``). ``fallback``
    names the reference implementation the chapter uses if the exercise is not solved.
    """
    if not callable(fn):
        return CheckResult(exercise, ERROR, f"expected a function, got {describe(fn)}")
    names = list(cases[0].kwargs) if cases else []
    try:
        inspect.signature(fn).bind(**{name: None for name in names})
    except TypeError:
        return CheckResult(exercise, ERROR, f"your function must take the arguments ({', '.join(names)}), by these "
                           f"names; it has the signature {fn.__name__}{inspect.signature(fn)}")
    except ValueError:  # builtins without a signature: let the call itself decide
        pass
    for case in cases:
        case.expected = reference(**_copy_inputs(case.kwargs))
    for case in cases:
        inputs = "\n".join(f"  {k} = {describe(v)}" for k, v in case.kwargs.items())
        try:
            got = _call_with_limit(fn, _copy_inputs(case.kwargs), time_limit)
        except NotImplementedError:
            return CheckResult(exercise, NOT_ATTEMPTED,
                               f"not attempted yet. Replace the `raise NotImplementedError` line with your code "
                               f"and run this cell again. Meanwhile the chapter goes on with {fallback}.")
        except _Timeout:
            return CheckResult(exercise, TIMEOUT, f"case '{case.label}' ran longer than {time_limit:g} s and was "
                               "stopped (an endless loop, or a loop over far more iterations than needed?)",
                               case, details=[f"inputs:\n{inputs}"])
        except Exception as exc:  # the reader's code raised: report it, keep the kernel alive
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return CheckResult(exercise, ERROR, f"case '{case.label}' raised {tb}", case,
                               details=[f"inputs:\n{inputs}", *([f"hint: {case.hint}"] if case.hint else [])])
        try:
            problem = compare(got, case)
        except Exception as exc:  # an answer of an unexpected type must not crash the checker
            problem = f"the result could not be read ({type(exc).__name__}: {exc}); check its type and shape"
        if problem is not None:
            details = [f"inputs:\n{inputs}", f"expected:\n  {describe(case.expected)}", f"got:\n  {describe(got)}"]
            if case.hint:
                details.append(f"hint: {case.hint}")
            return CheckResult(exercise, FAIL, f"wrong on case '{case.label}': {problem}", case, details=details)
    return CheckResult(exercise, PASS, f"all {len(cases)} cases pass. Well done!", n_cases=len(cases))


def array_problem(got, expected: np.ndarray, atol: float, name: str = "the result") -> str | None:
    """Say what is wrong with ``got`` as an approximation of ``expected``, or return ``None`` (Chapter 1, §1.2).

    Checks, in order: array-like, numeric dtype, shape, NaN/inf, then values within ``atol``.
    """
    try:
        arr = np.asarray(got)
    except Exception:
        return f"{name} must be an array, got {type(got).__name__}"
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        return f"{name} must be a numeric array, got dtype {arr.dtype}"
    if arr.shape != np.shape(expected):
        return f"{name} has shape {arr.shape}, expected {np.shape(expected)}"
    if not np.all(np.isfinite(arr)):
        return f"{name} contains NaN or inf"
    err = np.abs(arr.astype(np.float64) - expected)
    if np.any(err > atol):
        i = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        where = f" at index {tuple(int(k) for k in i)}" if i else ""
        return (f"{name}{where} is {arr[i].item()!r}, expected {np.asarray(expected)[i].item()!r} "
                f"(difference {err[i]:.3g} > tolerance {atol:g})")
    return None
