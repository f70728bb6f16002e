"""Input validation shared by every public function of rlcore (the book's conventions, Appendix A).

Each rule raises ``ValueError`` (``TypeError`` for a value of the wrong kind) with a message that
names the argument, says what it got and what was expected, so a reader's mistake is reported
where it was made and never turns into a silent wrong answer or a stack trace from deep inside
numpy or torch. numpy only: the tabular layer and the estimators use it without loading torch.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

#: Largest deviation from 1 that a probability vector may have. Toy-text environments store
#: probabilities such as 1/3 whose sums are off by ~1e-16; 1e-8 admits those and any hand-written
#: table rounded to eight digits, and rejects tables that were never normalised.
PROB_ATOL = 1e-8


def _index(flat_position: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat_position, shape)) if shape else ()


def _show(x) -> str:
    """``repr`` of ``x``, with numpy scalars shown as plain numbers."""
    return repr(x.item() if isinstance(x, np.generic) else x)


def _got(x) -> str:
    arr = np.asarray(x) if isinstance(x, (np.ndarray, list, tuple)) else None
    if arr is not None and arr.dtype != object:
        return f"an array of shape {arr.shape} and dtype {arr.dtype}"
    return f"{type(x).__name__} {x!r}" if len(repr(x)) < 60 else type(x).__name__


def array(x, name: str, *, ndim: int | tuple[int, ...] | None = None, shape: tuple | None = None,
          dtype=np.float64, finite: bool = True, copy: bool = False) -> np.ndarray:
    """``x`` as a numeric array of ``dtype``, after checking its dimensions, shape and values (Appendix A).

    ``shape`` may hold ``None`` for a free dimension. ``finite`` rejects NaN and inf (the first
    offending index is named). Booleans count as numbers only when ``dtype`` is ``bool``.
    """
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__} ({exc})") from None
    if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got {_got(x)}")
    out = np.array(raw, dtype=dtype, copy=True) if copy else raw.astype(dtype, copy=False)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if dims is not None and out.ndim not in dims:
        expected = " or ".join(f"{d}-D" for d in dims)
        raise ValueError(f"{name} must be a {expected} array, got shape {out.shape}")
    if shape is not None and (len(shape) != out.ndim
                              or any(e is not None and e != g for e, g in zip(shape, out.shape))):
        dims_text = ", ".join("any" if e is None else str(e) for e in shape)
        expected = f"({dims_text}{',' if len(shape) == 1 else ''})"
        raise ValueError(f"{name} must have shape {expected}, got {out.shape}")
    if finite and out.dtype != bool and not np.all(np.isfinite(out)):
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(f"{name} contains NaN or inf (first at index {_index(bad, out.shape)}); "
                         "expected finite numbers")
    return out


def integer_array(x, name: str, *, low: int | None = None, high: int | None = None, shape: tuple | None = None,
                  ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as an int64 array of whole numbers in ``[low, high)``: states, actions, policies (Appendix A).

    Floats are accepted only when every value is a whole number (``np.zeros(S)`` is a fine
    policy); ``[0.9, 1.7, 0.2]`` is rejected rather than truncated. Booleans are rejected.
    """
    raw = np.asarray(x)
    if raw.dtype == bool or raw.dtype == object or not np.issubdtype(raw.dtype, np.number):
        raise TypeError(f"{name} must hold integers, got {_got(x)}")
    if np.issubdtype(raw.dtype, np.floating) or np.issubdtype(raw.dtype, np.complexfloating):
        if not np.all(np.isfinite(raw)):
            bad = int(np.flatnonzero(~np.isfinite(raw))[0])
            raise ValueError(f"{name} contains NaN or inf at index {_index(bad, raw.shape)}; expected integers")
        frac = raw != np.round(raw)
        if np.any(frac):
            bad = int(np.flatnonzero(frac)[0])
            raise ValueError(f"{name} must hold whole numbers, got {raw.flat[bad].item()!r} "
                             f"at index {_index(bad, raw.shape)}")
    out = array(raw, name, ndim=ndim, shape=shape, dtype=np.int64)
    if out.size and low is not None and out.min() < low:
        bad = int(np.argmin(out))
        raise ValueError(f"{name} must be >= {low}, got {out.flat[bad]} at index {_index(bad, out.shape)}")
    if out.size and high is not None and out.max() >= high:
        bad = int(np.argmax(out))
        raise ValueError(f"{name} must be < {high}, got {out.flat[bad]} at index {_index(bad, out.shape)}")
    return out


def probability_rows(x: np.ndarray, name: str, axis: int = -1) -> np.ndarray:
    """Raise unless every slice of ``x`` along ``axis`` is a probability vector; return ``x`` (Appendix A)."""
    if np.any(x < 0):
        bad = int(np.flatnonzero(x < 0)[0])
        raise ValueError(f"{name} has a negative probability {float(x.flat[bad]):.3g} at index "
                         f"{_index(bad, x.shape)}; expected entries >= 0")
    sums = x.sum(axis=axis)
    err = np.abs(sums - 1.0)
    if np.any(err > PROB_ATOL):
        bad = int(np.argmax(err))
        raise ValueError(f"{name} (shape {x.shape}) must sum to 1 along axis {axis} within {PROB_ATOL:g}; "
                         f"the sum at index {_index(bad, np.shape(sums))} is {float(np.ravel(sums)[bad]):.10g}")
    return x


def real(x, name: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
         high_open: bool = False) -> float:
    """``x`` as a finite float in the interval given by ``low``/``high`` (closed unless ``*_open``) (Appendix A)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.ndarray)) or np.ndim(x) != 0:
        raise TypeError(f"{name} must be a real number, got {_got(x)}")
    value = float(x)
    lo_ok = low is None or (value > low if low_open else value >= low)
    hi_ok = high is None or (value < high if high_open else value <= high)
    if not (math.isfinite(value) and lo_ok and hi_ok):
        interval = (("(" if low_open else "[") + ("-inf" if low is None else f"{low:g}") + ", "
                    + ("inf" if high is None else f"{high:g}") + (")" if high_open or high is None else "]"))
        raise ValueError(f"{name} must be a finite number in {interval}, got {_show(x)}")
    return value


def integer(x, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``x`` as a Python int in ``[low, high]`` (booleans and floats such as 3.5 rejected) (Appendix A)."""
    whole_float = isinstance(x, (float, np.floating)) and math.isfinite(x) and float(x).is_integer()
    if isinstance(x, (bool, np.bool_)) or not (isinstance(x, (numbers.Integral, np.integer)) or whole_float):
        raise TypeError(f"{name} must be an integer, got {_got(x)}")
    value = int(x)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else (f"<= {high}" if low is None else f"in [{low}, {high}]")
        raise ValueError(f"{name} must be an integer {bounds}, got {_show(x)}")
    return value


def discount(gamma, name: str = "gamma") -> float:
    """A discount factor in ``[0, 1]`` (Appendix A)."""
    return real(gamma, name, low=0.0, high=1.0)


def symmetric_matrix(x, name: str, n: int | None = None, rtol: float = 1e-9, atol: float = 1e-12) -> np.ndarray:
    """``x`` as a finite square float64 matrix (``n x n`` if given), symmetric to ``rtol``/``atol`` (Appendix A)."""
    x = array(x, name, ndim=2)
    if x.shape[0] != x.shape[1] or (n is not None and x.shape[0] != n):
        expected = f"({n}, {n})" if n is not None else "(n, n)"
        raise ValueError(f"{name} must be a square matrix of shape {expected}, got {x.shape}")
    if not np.allclose(x, x.T, rtol=rtol, atol=atol):
        raise ValueError(f"{name} must be symmetric, got a matrix whose largest asymmetry is "
                         f"{np.max(np.abs(x - x.T)):.3g}")
    return x


def one_of(x, name: str, choices) -> object:
    """``x`` unchanged if it is one of ``choices`` (Appendix A)."""
    if x not in choices:
        raise ValueError(f"{name} must be one of {', '.join(sorted(map(repr, choices)))}, got {_show(x)}")
    return x


def generator(rng, name: str = "rng"):
    """``rng`` unchanged if it is a ``numpy.random.Generator`` (Appendix A)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng
