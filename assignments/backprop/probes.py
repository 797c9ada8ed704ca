"""Probes for backprop.py: they run in the worker, next to the student's module.

Only what needs the live objects happens here: calling ``sigmoid`` with NumPy's floating-point errors turned into
exceptions (an error state cannot cross the process boundary), putting our own parameters into a network's
``params`` dict (a dict read through the proxy is a copy), and watching which rows of X reach ``forward`` and
``backward`` while ``train_minibatch`` runs. Probes only collect plain data; the checks judge it. They import
nothing from the kit (see docs/writing-checks.md).
"""
from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any

import numpy as np


def _plain_array(value: Any) -> Any:
    """``value`` as a float64 array when it is numeric, else a short description (the check reports it)."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return f"a {type(value).__name__}: {str(value)[:80]}"


def sigmoid_strictly(module: ModuleType, z: Any) -> dict:
    """``module.sigmoid(z)`` with overflow, invalid operations and division by zero raising, every warning recorded.

    Underflow stays allowed (exp(-1000) rounding to 0 is fine). Returns the value (None when it raised), the
    floating-point problem if any, and the warnings issued.
    """
    problem, value = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            try:
                value = module.sigmoid(z)
            except (FloatingPointError, OverflowError) as exc:  # OverflowError: math.exp on a Python float
                problem = f"{type(exc).__name__}: {exc}"
    return {"value": None if value is None else _plain_array(value), "problem": problem,
            "warnings": [f"{w.category.__name__}: {w.message}" for w in caught][:5]}


def set_params(module: ModuleType, net: Any, params: dict) -> str | None:
    """Put float64 copies of ``params`` into ``net.params`` (the dict the network already holds).

    Returns None, or what made it impossible (the check turns that into a message).
    """
    target = getattr(net, "params", None)
    if not isinstance(target, dict):
        return f"net.params is {'missing' if target is None else 'a ' + type(target).__name__}, not a dict"
    for name, value in params.items():
        target[name] = np.array(value, dtype=np.float64)
    return None


def record_minibatch_training(module: ModuleType, net: Any, X: np.ndarray, y: np.ndarray, **kwargs: Any) -> dict:
    """Run ``net.train_minibatch(X, y, **kwargs)`` while recording, for every call of ``net.forward`` and
    ``net.backward``, which rows of X it received (their indices in X; -1 for a row that is not one of X's).

    X must have distinct rows. Returns the history, the events [(kind, indices)], and the parameters afterwards.
    """
    X = np.asarray(X, dtype=np.float64)
    where = {row.tobytes(): i for i, row in enumerate(X)}
    events: list[list] = []

    def rows(args: tuple, kwargs: dict) -> list[int] | None:
        data = args[0] if args else next(iter(kwargs.values()), None)
        try:
            data = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        if data.ndim != 2 or data.shape[1] != X.shape[1]:
            return None
        return [where.get(np.ascontiguousarray(row).tobytes(), -1) for row in data]

    forward, backward = net.forward, net.backward

    def watched_forward(*args: Any, **kw: Any) -> Any:
        events.append(["forward", rows(args, kw)])
        return forward(*args, **kw)

    def watched_backward(*args: Any, **kw: Any) -> Any:
        events.append(["backward", rows(args, kw)])
        return backward(*args, **kw)

    net.forward, net.backward = watched_forward, watched_backward
    try:
        history = net.train_minibatch(X, y, **kwargs)
    finally:
        for name in ("forward", "backward"):
            net.__dict__.pop(name, None)
    params = getattr(net, "params", None)
    return {"history": _plain_array(history) if history is not None else None,
            "events": events,
            "params": {k: _plain_array(v) for k, v in params.items()} if isinstance(params, dict) else None}
