"""Helpers every check uses: failing with a message a student can act on, comparing with an oracle, gradients.

A failed check raises :class:`CheckFailure` with three parts: what was expected, what the student's code gave,
and a hint in the chapter's words. Hidden checks show the student only the last two.
Checks never use bare ``assert`` (pytest would print the check's source).
"""
from __future__ import annotations

from typing import Any, Callable, NoReturn, Sequence

import numpy as np

from autograder.remote import RemoteObject
from autograder.sandbox import StudentError


class CheckFailure(Exception):
    """A check's verdict against the student's code: what was expected, what was seen, a hint, and optionally the
    known mistake that reproduces what was seen and the handout convention the check enforces."""

    def __init__(self, expected: str, seen: str, hint: str, *, mistake: str = "", convention: Any = "") -> None:
        self.expected, self.seen, self.hint = expected, seen, hint
        self.mistake, self.convention = mistake, str(convention) if convention else ""
        super().__init__(f"expected {expected}; seen {seen}")


def fail(expected: str, seen: str, hint: str, *, mistake: str = "", convention: Any = "") -> NoReturn:
    """End the check as failed. ``mistake`` names the known mistake that reproduces what was seen (see
    :mod:`autograder.mistakes`); ``convention`` is the handout rule the check enforces (a
    :class:`~autograder.mistakes.Convention` or its text)."""
    raise CheckFailure(expected, seen, hint, mistake=mistake, convention=convention)


def expect(condition: bool, *, expected: str, seen: str, hint: str) -> None:
    """Fail unless ``condition`` holds."""
    if not condition:
        fail(expected, seen, hint)


def f32(values: Any) -> np.ndarray:
    """Values exactly representable in float32, as float64: a student computing in float32 starts from the very
    numbers the oracle uses."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def close(seen: Any, expected: Any, *, rtol: float, atol: float, shape: bool = True) -> bool:
    """Whether ``seen`` equals ``expected`` within ``rtol``/``atol``, elementwise, in float64: with the same shape, or
    (``shape=False``) only the same number of values. What is not numbers is not close."""
    try:
        seen = np.asarray(seen, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if seen.shape != expected.shape:
        if shape or seen.size != expected.size:
            return False
        seen = seen.reshape(expected.shape)
    return bool(np.allclose(seen, expected, rtol=rtol, atol=atol))


def closeness(rtol: float, atol: float, *, shape: bool = True) -> Callable[[Any, Any], bool]:
    """:func:`close` with these tolerances, as a function of (seen, expected): e.g. for
    :func:`autograder.mistakes.recognise`."""
    return lambda seen, expected: close(seen, expected, rtol=rtol, atol=atol, shape=shape)


def as_tuple(value: Any, length: int, *, expected: str, hint: str) -> Sequence[Any]:
    """A returned tuple (or list) of ``length`` items, to unpack; else fail with ``expected`` and ``hint``."""
    if not isinstance(value, (tuple, list)) or len(value) != length:
        fail(expected, fmt(value), hint)
    return value


def fmt(value: Any, digits: int = 6) -> str:
    """A short, readable rendering of a number, an array or a returned object for a message."""
    if isinstance(value, RemoteObject):
        return f"an object of type {value.type_name}"
    if isinstance(value, (bool, np.bool_)) or value is None:
        return repr(value)
    if isinstance(value, (int, float, np.number)):
        return f"{float(value):.{digits}g}"
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=4, threshold=12, edgeitems=3, suppress=False):
            return f"array of shape {value.shape}: {np.array2string(value, separator=', ')}"
    if isinstance(value, (list, tuple)):
        kind = type(value).__name__
        if len(value) > 6:
            return f"{kind} of length {len(value)}: [{', '.join(fmt(v, 4) for v in value[:3])}, ..., {fmt(value[-1], 4)}]"
        return f"{kind} of length {len(value)}: [{', '.join(fmt(v, 4) for v in value)}]"
    return f"{type(value).__name__} {str(value)[:80]}"


def as_float(value: Any, what: str, hint: str = "") -> float:
    """A returned scalar as a float; accepts Python and NumPy numbers and size-1 arrays (e.g. a float32 result)."""
    if isinstance(value, (bool, np.bool_)):
        fail(f"{what} as a number", fmt(value), hint or f"return {what} as a float")
    if isinstance(value, (int, float, np.number)):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    fail(f"{what} as a single number (a float)", fmt(value),
         hint or f"{what} should be one number: did you return an array, e.g. forget a mean or a sum?")


def as_array(value: Any, what: str, shape: Sequence[int] | None = None, hint: str = "") -> np.ndarray:
    """A returned array-like as a float64 NumPy array, failing with a clear message on the wrong type or shape."""
    if isinstance(value, RemoteObject) or value is None or isinstance(value, (str, dict)):
        fail(f"{what} as a NumPy array" + (f" of shape {tuple(shape)}" if shape is not None else ""), fmt(value),
             hint or f"return {what} as a NumPy array")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} as a numeric array", fmt(value), hint or f"{what} must hold numbers only")
    if shape is not None and arr.shape != tuple(shape):
        fail(f"{what} of shape {tuple(shape)}", f"shape {arr.shape}",
             hint or f"check the shape of {what}: watch for (n,) versus (n, 1) and for missing transposes")
    return arr


def expect_finite(value: Any, what: str, hint: str) -> None:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        fail(f"finite values in {what}", f"{fmt(arr)} (contains NaN or inf)", hint)


def expect_close(seen: Any, expected: Any, *, what: str, hint: str, rtol: float = 1e-7, atol: float = 1e-9,
                 shape: bool = True) -> np.ndarray:
    """Fail unless ``seen`` equals ``expected`` within ``rtol``/``atol`` (elementwise); returns seen as an array.

    ``shape=True`` demands the exact shape of ``expected``; ``False`` only the same number of elements.
    """
    exp = np.asarray(expected, dtype=np.float64)
    got = as_array(seen, what, exp.shape if shape else None, hint if shape else "")
    if not shape:
        if got.size != exp.size:
            fail(f"{what} with {exp.size} values", f"{got.size} values ({fmt(got)})", hint)
        got = got.reshape(exp.shape)
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(exp)):
        fail(f"{what} = {fmt(exp)}", f"{fmt(got)} (contains NaN or inf)", hint)
    if not np.allclose(got, exp, rtol=rtol, atol=atol):
        worst = np.unravel_index(np.argmax(np.abs(got - exp)), exp.shape) if exp.ndim else ()
        where = f" (largest difference at index {tuple(int(i) for i in worst)})" if exp.ndim else ""
        fail(f"{what} = {fmt(exp)}", f"{fmt(got)}{where}", hint)
    return got


def expect_raises(exc_type: str, call: Callable[[], Any], *, doing: str, hint: str) -> StudentError:
    """Fail unless the student's ``call`` raises ``exc_type`` (a class name such as ``"ValueError"``).

    Only the class name crosses the process boundary, so a subclass of ValueError with another name fails.
    """
    try:
        value = call()
    except StudentError as err:
        if err.exc_type == "NotImplementedError":  # a stub: "not implemented yet" says more than a mismatch
            raise
        if err.exc_type != exc_type:
            fail(f"{exc_type} when {doing}", f"{err.exc_type}: {err.message}", hint)
        return err
    fail(f"{exc_type} when {doing}", f"no exception (returned {fmt(value)})", hint)


def rel_error(a: Any, b: Any) -> float:
    """CS231n's relative error max|a - b| / max(1e-8, |a| + |b|), elementwise then the worst."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences (f(x + h e_i) - f(x - h e_i)) / 2h for every entry of ``x``, in float64."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad
