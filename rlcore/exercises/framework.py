"""The exercise checker framework (every chapter's exercises; Chapter 1, §1.2 shows the first).

A chapter's exercise cell defines a function; the next cell calls its checker, e.g.
``ch01.check_rewards_to_go(rewards_to_go)``. The checker calls the reader's function with the
arguments *by name*, exactly as the exercise states its signature, on hand-picked edge cases and
randomised inputs, compares it with rlcore's reference and with properties, and returns a
:class:`CheckResult` that renders as a coloured box.

The checker never raises and the reader's code can neither hang nor end the kernel: where the
operating system can fork (Linux, macOS, Colab) the cases run in a child process with its own
memory limit, which is killed when a case runs past the time limit, so no ``except Exception``
(nor a bare ``except``) in the reader's loop can swallow the timeout; ``SystemExit``,
``os._exit``, deep recursion and memory blow-ups become the reader's errors, and printed output
is captured and cut short. Elsewhere (Windows) the cases run in the kernel and the limit raises
:class:`CheckTimeout`, which derives from ``BaseException`` so that ``except Exception`` does not
catch it either.

When the reader's function passes, :meth:`CheckResult.use` hands it to the cells that follow;
otherwise it hands them rlcore's reference, and says which one runs.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

PASS, NOT_ATTEMPTED, FAIL, ERROR, TIMEOUT = "pass", "not attempted", "fail", "error", "timeout"

#: Output the reader's function may print before it is cut short (characters).
PRINT_LIMIT = 2_000
#: Seconds each case may run before the checker stops it (tests lower it).
TIME_LIMIT = 5.0
#: Extra memory (bytes) the reader's function may allocate in the child process.
MEMORY_LIMIT = 2 * 1024**3


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
    function: Callable | None = field(default=None, repr=False)  #: the reader's function
    fallback: Callable | None = field(default=None, repr=False)  #: rlcore's, with the same signature
    fallback_name: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def __bool__(self) -> bool:
        return self.passed

    def use(self, quiet: bool = False) -> Callable:
        """The function later cells should call: the reader's if it passed, else rlcore's (Chapter 1, §1.2).

        Prints which one it is, so a figure drawn with it says whose code drew it.
        """
        if self.passed and self.function is not None:
            chosen, who = self.function, f"your {getattr(self.function, '__name__', 'function')}"
        elif self.fallback is not None:
            chosen, who = self.fallback, f"{self.fallback_name}, the reference ({self.exercise} has not passed yet)"
        else:
            raise RuntimeError(f"{self.exercise}: no function to use (the checker has no reference)")
        if not quiet:
            print(f"Using {who}.")
        return chosen

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


class CheckTimeout(BaseException):  # noqa: N818 - a BaseException so that `except Exception` cannot swallow it
    """Raised in the reader's code when a case runs past its time limit, in-process mode only (Chapter 1, §1.2)."""


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


def _is_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "requires_grad")


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if _is_tensor(value):  # a fresh leaf: the reader's graph starts at the tensors it was handed
        return value.detach().clone().requires_grad_(value.requires_grad)
    return value


def _copy_inputs(kwargs: dict) -> dict:
    return {k: _copy(v) for k, v in kwargs.items()}


def _changed_input(before: dict, after: dict) -> str | None:
    """The name of an array or tensor argument the reader's function modified in place, if any."""
    for name, value in before.items():
        new = after[name]
        if _is_tensor(value):
            value, new = value.detach().numpy(), new.detach().numpy()
        if isinstance(value, np.ndarray):
            if new.shape != value.shape or not np.array_equal(new, value, equal_nan=True):
                return name
    return None


class _CappedText(io.TextIOBase):
    """A stdout/stderr stand-in that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = max(0, self.limit - self.kept)
        self.parts.append(text[:room])
        self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - room)
        return len(text)

    def getvalue(self) -> str:
        out = "".join(self.parts)
        return out + (f"\n... ({self.dropped:,} more characters not shown)" if self.dropped else "")


def _judge(exercise: str, fn: Callable, cases: list[Case], compare, fallback_name: str,
           report: Callable[[int], None]) -> CheckResult:
    """Run every case and return the first failure, or a pass (runs in the child process)."""
    for i, case in enumerate(cases):
        report(i)
        inputs = "\n".join(f"  {k} = {describe(v)}" for k, v in case.kwargs.items())
        hint = [f"hint: {case.hint}"] if case.hint else []
        kwargs = _copy_inputs(case.kwargs)
        try:
            got = fn(**kwargs)
        except NotImplementedError:
            return CheckResult(exercise, NOT_ATTEMPTED,
                               f"not attempted yet. Replace the `raise NotImplementedError` line with your code "
                               f"and run this cell again. Meanwhile the chapter goes on with {fallback_name}.")
        except CheckTimeout:
            raise
        except RecursionError:
            return CheckResult(exercise, ERROR, f"case '{case.label}': your function recursed too deeply "
                               "(RecursionError); does every recursive call move towards a base case?", case,
                               details=[f"inputs:\n{inputs}", *hint])
        except MemoryError:
            return CheckResult(exercise, ERROR, f"case '{case.label}': your function ran out of memory (it may "
                               f"allocate at most {MEMORY_LIMIT / 1024**3:g} GiB more)", case,
                               details=[f"inputs:\n{inputs}", *hint])
        except SystemExit as exc:
            return CheckResult(exercise, ERROR, f"case '{case.label}': your function called sys.exit({exc.code!r}) "
                               "(or exit()); return a value instead", case, details=[f"inputs:\n{inputs}"])
        except Exception as exc:  # the reader's code raised: report it, keep the kernel alive
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return CheckResult(exercise, ERROR, f"case '{case.label}' raised {tb}", case,
                               details=[f"inputs:\n{inputs}", *hint])
        changed = _changed_input(case.kwargs, kwargs)
        if changed:
            return CheckResult(exercise, FAIL, f"wrong on case '{case.label}': your function changed its input "
                               f"`{changed}` in place; work on a copy (for example `{changed}.copy()` or a new "
                               "array) so the caller's data stays as it was", case, details=[f"inputs:\n{inputs}"])
        try:  # compare sees the inputs the reader's function was handed (its autograd graph starts there)
            problem = compare(got, replace(case, kwargs=kwargs))
        except Exception as exc:  # an answer of an unexpected type must not crash the checker
            problem = f"the result could not be read ({type(exc).__name__}: {exc}); check its type and shape"
        if problem is not None:
            details = [f"inputs:\n{inputs}", f"expected:\n  {describe(case.expected)}", f"got:\n  {describe(got)}",
                       *hint]
            return CheckResult(exercise, FAIL, f"wrong on case '{case.label}': {problem}", case, details=details)
    return CheckResult(exercise, PASS, f"all {len(cases)} cases pass. Well done!", n_cases=len(cases))


def _timeout_result(exercise: str, case: Case, time_limit: float) -> CheckResult:
    inputs = "\n".join(f"  {k} = {describe(v)}" for k, v in case.kwargs.items())
    return CheckResult(exercise, TIMEOUT, f"case '{case.label}' ran longer than {time_limit:g} s and was stopped "
                       "(an endless loop, a loop that never meets its stopping rule, or far more iterations than "
                       "needed?)", case, details=[f"inputs:\n{inputs}", *([f"hint: {case.hint}"] if case.hint else [])])


def can_fork() -> bool:
    """Whether checkers can isolate the reader's code in a forked child process (Chapter 1, §1.2)."""
    return hasattr(os, "fork") and sys.platform != "win32"


def _run_forked(exercise, fn, cases, compare, fallback_name, time_limit) -> tuple[CheckResult, str]:
    """Judge in a forked child; kill it when a case passes its time limit. Returns (result, printed text)."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():  # Python >= 3.12 warns about forking a threaded process (ipykernel is)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's exit handlers
        code = 0
        try:
            os.close(read_fd)
            out = os.fdopen(write_fd, "wb", buffering=0)
            captured = _CappedText(PRINT_LIMIT)
            sys.stdout = sys.stderr = captured
            if "torch" in sys.modules:  # a forked child cannot use the parent's OpenMP thread pool: it would hang
                with contextlib.suppress(Exception):
                    sys.modules["torch"].set_num_threads(1)
            with contextlib.suppress(Exception):
                import resource

                used = _virtual_memory()
                if used:
                    resource.setrlimit(resource.RLIMIT_AS, (used + MEMORY_LIMIT, resource.RLIM_INFINITY))

            def report(i):
                _send(out, ("case", i))

            try:
                result = _judge(exercise, fn, cases, compare, fallback_name, report)
            except BaseException as exc:  # noqa: BLE001 - anything else the reader's code let loose
                result = CheckResult(exercise, ERROR, f"your function raised {type(exc).__name__}: {exc}")
            _send(out, ("done", result, captured.getvalue()))
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    current, printed, result = 0, "", None
    with os.fdopen(read_fd, "rb") as pipe:
        deadline = time.monotonic() + time_limit
        buffer = _Reader(pipe)
        while result is None:
            message = buffer.next(deadline - time.monotonic())
            if message is _Reader.TIMEOUT:
                _kill(pid)
                return _timeout_result(exercise, cases[current], time_limit), printed
            if message is _Reader.EOF:
                status = _reap(pid)
                return CheckResult(exercise, ERROR, f"case '{cases[current].label}': your function ended the "
                                   f"process ({status}); return a value instead of exiting", cases[current]), printed
            if message[0] == "case":
                current, deadline = message[1], time.monotonic() + time_limit
            else:
                _, result, printed = message
    _reap(pid)
    return result, printed


class _Reader:
    """Reads length-prefixed pickled messages from the child's pipe, with a deadline."""

    TIMEOUT, EOF = object(), object()

    def __init__(self, pipe):
        self.pipe, self.data = pipe, b""

    def _pop(self):
        """The next complete message in the buffer, or None (messages are tuples, never None)."""
        if len(self.data) >= 8:
            size = int.from_bytes(self.data[:8], "little")
            if len(self.data) >= 8 + size:
                message, self.data = pickle.loads(self.data[8:8 + size]), self.data[8 + size:]
                return message
        return None

    def read_ready(self) -> tuple[list, bool]:
        """One read of a pipe that is ready: the complete messages, and whether the writer closed it."""
        chunk = os.read(self.pipe.fileno(), 1 << 20)
        self.data += chunk
        messages = []
        while (message := self._pop()) is not None:
            messages.append(message)
        return messages, not chunk

    def next(self, seconds: float):
        import select

        while True:
            message = self._pop()
            if message is not None:
                return message
            if seconds <= 0:
                return self.TIMEOUT
            ready, _, _ = select.select([self.pipe], [], [], seconds)
            if not ready:
                return self.TIMEOUT
            chunk = os.read(self.pipe.fileno(), 1 << 20)
            if not chunk:
                return self.EOF
            self.data += chunk


def _send(out, message) -> None:
    payload = pickle.dumps(message)
    out.write(len(payload).to_bytes(8, "little") + payload)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> str:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "it exited"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.WEXITSTATUS(status)}"


def _virtual_memory() -> int:
    """This process's virtual memory size in bytes (Linux), or 0 where unknown."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run_inline(exercise, fn, cases, compare, fallback_name, time_limit) -> tuple[CheckResult, str]:
    """Judge in this process; a timer raises CheckTimeout (a BaseException) where signals allow."""
    can_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    current = [0]
    captured = _CappedText(PRINT_LIMIT)

    def report(i):
        current[0] = i
        if can_alarm:
            signal.setitimer(signal.ITIMER_REAL, time_limit)

    def on_alarm(signum, frame):
        raise CheckTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm) if can_alarm else None
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            return _judge(exercise, fn, cases, compare, fallback_name, report), captured.getvalue()
    except CheckTimeout:
        return _timeout_result(exercise, cases[current[0]], time_limit), captured.getvalue()
    finally:
        if can_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def run_exercise(
    exercise: str,
    fn: Callable,
    cases: list[Case],
    reference: Callable,
    compare: Callable[[Any, Case], str | None],
    fallback: str,
    time_limit: float | None = None,
    fallback_fn: Callable | None = None,
    isolate: bool | None = None,
) -> CheckResult:
    """Run ``fn`` on every case and judge it with ``compare(got, case)`` (Chapter 1, §1.2).

    ``compare`` returns ``None`` when the answer is right, else a sentence saying what is
    wrong (it can use ``case.expected``, which is ``reference(**case.kwargs)``). ``fallback``
    names the reference implementation the chapter uses if the exercise is not solved, and
    ``fallback_fn`` is that implementation with the exercise's signature (default: ``reference``).
    ``time_limit`` (seconds, default :data:`TIME_LIMIT`) applies to each case. ``isolate`` runs the
    cases in a forked child process (default: wherever the system can fork).
    """
    if not cases:
        raise ValueError("run_exercise needs at least one case")
    fallback_fn = reference if fallback_fn is None else fallback_fn
    time_limit = TIME_LIMIT if time_limit is None else time_limit

    def finish(result: CheckResult, printed: str = "") -> CheckResult:
        result.function, result.fallback, result.fallback_name = fn, fallback_fn, fallback
        if printed.strip():
            result.details.append(f"your function printed:\n{printed}")
        return result

    if not callable(fn):
        return finish(CheckResult(exercise, ERROR, f"expected a function, got {describe(fn)}"))
    names = list(cases[0].kwargs)
    try:
        inspect.signature(fn).bind(**{name: None for name in names})
    except TypeError:
        return finish(CheckResult(exercise, ERROR, f"your function must take the arguments ({', '.join(names)}), "
                                  f"by these names; it has the signature {fn.__name__}{inspect.signature(fn)}"))
    except ValueError:  # builtins without a signature: let the call itself decide
        pass
    for case in cases:
        case.expected = reference(**_copy_inputs(case.kwargs))
    isolate = can_fork() if isolate is None else isolate
    runner = _run_forked if isolate else _run_inline
    return finish(*runner(exercise, fn, cases, compare, fallback, time_limit))


def array_problem(got, expected: np.ndarray, atol: float, name: str = "the result", rtol: float = 0.0) -> str | None:
    """Say what is wrong with ``got`` as an approximation of ``expected``, or return ``None`` (Chapter 1, §1.2).

    Checks, in order: array-like, numeric dtype, shape, NaN/inf, then every entry within
    ``atol + rtol * |expected|``.
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
    expected = np.asarray(expected, dtype=np.float64)
    err = np.abs(arr.astype(np.float64) - expected)
    allowed = atol + rtol * np.abs(expected)
    if np.any(err > allowed):
        i = np.unravel_index(int(np.argmax(err - allowed)), err.shape) if err.ndim else ()
        where = f" at index {tuple(int(k) for k in i)}" if i else ""
        tolerance = f"{atol:g}" if rtol == 0 else f"{atol:g} + {rtol:g}·|expected|"
        return (f"{name}{where} is {arr[i].item()!r}, expected {expected[i].item()!r} "
                f"(difference {err[i]:.3g} > tolerance {tolerance})")
    return None


def loss_gradient(got, wrt, wrt_name: str, held_fixed=None,
                  fixed_name: str = "") -> tuple[str | None, np.ndarray | None]:
    """Judge a reader's loss tensor: ``(problem, d loss / d wrt)`` (Chapter 7, §7.1; Chapter 8, §8.5).

    The loss must be a scalar torch tensor that depends on ``wrt`` and, if ``held_fixed`` carries gradient,
    sends none into it (the reader should have detached it). The gradient comes back as float64 numpy.
    """
    import torch

    if not isinstance(got, torch.Tensor):
        return f"the loss must be a torch tensor (so that .backward() works), got {type(got).__name__}", None
    if got.numel() != 1:
        return f"the loss must be a scalar (one number), got a tensor of shape {tuple(got.shape)}", None
    if not got.requires_grad:
        return (f"the loss carries no gradient: build it from {wrt_name} with torch operations (no .detach(), "
                f".item() or numpy on {wrt_name})"), None
    if held_fixed is not None and held_fixed.requires_grad:
        leak = torch.autograd.grad(got.sum(), held_fixed, retain_graph=True, allow_unused=True)[0]
        if leak is not None and bool(torch.any(leak != 0)):
            return f"gradient flows into the {fixed_name}: use {fixed_name}.detach() in the loss", None
    grad = torch.autograd.grad(got.sum(), wrt, allow_unused=True)[0]
    if grad is None:
        return f"the loss does not depend on {wrt_name}", None
    return None, grad.detach().numpy().astype(np.float64)
