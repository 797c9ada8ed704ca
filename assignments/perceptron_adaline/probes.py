"""Probes for perceptron_adaline.py: they run in the worker, next to the student's module.

Only what needs the student's process happens here: the Python types of what a function returns (a NumPy int
arrives in the grader as a plain int, so ``int`` versus ``numpy.int64`` can only be seen here), and calling
``numerical_gradient`` with a function of the grader's choosing (a function cannot cross the process boundary).
Probes only collect plain data, and everything they report comes from the student's own process: the checks judge
it. They import nothing from the kit (see docs/writing-checks.md).
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

#: Items of a list or tuple described (a longer one is described by its first items and its length).
MAX_ITEMS = 64


def describe(value: Any, depth: int = 0) -> dict:
    """The Python types of ``value``: {"type": its type's name} and, for containers, their items' descriptions
    ("items"; for a dict also "keys", as their reprs), for arrays "dtype" and "shape"."""
    out: dict[str, Any] = {"type": type(value).__name__}
    if isinstance(value, np.ndarray):
        out.update(dtype=str(value.dtype), shape=[int(d) for d in value.shape])
    elif isinstance(value, (list, tuple)) and depth < 3:
        out.update(length=len(value), items=[describe(v, depth + 1) for v in value[:MAX_ITEMS]])
    elif isinstance(value, dict) and depth < 3:
        out.update(keys=[repr(k) for k in value],
                   items={repr(k): describe(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]})
    return out


def returned_types(module: ModuleType, name: str, *args: Any, **kwargs: Any) -> dict:
    """The types of what ``module.name(*args, **kwargs)`` returns."""
    return describe(getattr(module, name)(*args, **kwargs))


def perceptron_types(module: ModuleType, X: np.ndarray, y: np.ndarray, epochs: int) -> dict:
    """The types of what a fresh Perceptron's ``train`` and ``evaluate`` return."""
    perceptron = module.Perceptron(X.shape[1])
    errors = perceptron.train(X, y, epochs=epochs)
    accuracy = perceptron.evaluate(X, y)
    return {"errors": describe(errors), "evaluate": describe(accuracy)}


def adaline_types(module: ModuleType, X: np.ndarray, y: np.ndarray, **kwargs: Any) -> dict:
    """The types of what a fresh Adaline's ``train`` returns."""
    adaline = module.Adaline(X.shape[1])
    return describe(adaline.train(X, y, **kwargs))


# --- numerical_gradient on the grader's own functions ----------------------------------------------------------

def polynomial_value(spec: dict, w: Any) -> float:
    """The grader's test function: sum(a v^3) + 1/2 v^T Q v + c^T v, v the entries of w in order (any shape)."""
    v = np.asarray(w, dtype=np.float64).reshape(-1)
    a, q, c = (np.asarray(spec[k], dtype=np.float64) for k in ("a", "q", "c"))
    return float(np.sum(a * v ** 3) + 0.5 * v @ q @ v + c @ v)


def numerical_gradient_of(module: ModuleType, spec: dict, w: Any, shape: list, h: float | None = None) -> dict:
    """``module.numerical_gradient(f, w[, h=h])`` for the test polynomial ``spec`` and w of ``shape``: what it
    returned (its entries in order, and its shape), and the entries of w afterwards (the very array passed in).

    Shapes travel separately: the wire sends a 0-d array as an array of shape (1,)."""
    point = np.array(w, dtype=np.float64).reshape(shape)
    f = lambda values: polynomial_value(spec, values)  # noqa: E731 - the function handed to the student
    g = module.numerical_gradient(f, point) if h is None else module.numerical_gradient(f, point, h=h)
    try:
        entries, g_shape = np.asarray(g, dtype=np.float64).reshape(-1), [int(d) for d in np.shape(g)]
    except (TypeError, ValueError):
        entries, g_shape = None, None
    return {"g": entries, "g_shape": g_shape, "g_type": type(g).__name__, "w_after": point.reshape(-1)}
