"""Probes for linear_neuron.py: they run in the worker, next to the student's module.

Only what needs the live objects happens here: timing ``forward`` on a large array (10^6 points cannot cross the
process boundary cheaply), many short fits in a row (one request instead of hundreds), the identity of the list
``fit`` returns, and watching which rows reach a scaler's ``fit`` while ``train_house_model`` runs. Probes only
collect plain data; the checks judge it. They import nothing from the kit but this file (see
docs/writing-checks.md).
"""
from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import numpy as np

# --- vectorisation ----------------------------------------------------------------------------------------------


def time_forward_1d(module: ModuleType, n_points: int, a: float, b: float, baseline_repeats: int = 3) -> dict:
    """Seconds the student's ``LinearNeuron1D.forward`` takes on ``n_points`` inputs, next to NumPy's own
    ``a * x + b`` (best of ``baseline_repeats``) measured at the same moment, and the worst error of the output."""
    x = np.random.default_rng(0).random(n_points)
    neuron = module.LinearNeuron1D()
    neuron.a, neuron.b = a, b
    neuron.forward(x[:8])  # warm-up: first-call costs (imports, caches) are not what we measure
    start = time.perf_counter()
    out = neuron.forward(x)
    student = time.perf_counter() - start
    numpy_seconds = []
    for _ in range(baseline_repeats):
        start = time.perf_counter()
        expected = a * x + b
        numpy_seconds.append(time.perf_counter() - start)
    try:
        out = np.asarray(out, dtype=np.float64)
        error = float(np.max(np.abs(out - expected))) if out.shape == expected.shape else None
        shape = list(out.shape)
    except (TypeError, ValueError):
        error, shape = None, None
    return {"student": student, "numpy": min(numpy_seconds), "max_error": error, "shape": shape}


# --- many short fits --------------------------------------------------------------------------------------------


def fits_from_one_start(module: ModuleType, class_name: str, x: np.ndarray, y: np.ndarray, start: dict,
                        runs: int, **fit_kwargs: Any) -> dict:
    """``runs`` fits of one neuron, each from the same injected parameters ``start`` (e.g. {"a": .., "b": ..}
    or {"w": .., "b": ..}) with an empty history. Returns the parameters after each fit and each history.

    One neuron object is reused, so a random generator the student keeps on the instance (or in the module)
    carries on from run to run, as it would in a notebook.
    """
    neuron = getattr(module, class_name)()
    params: dict[str, list] = {name: [] for name in start}
    histories = []
    for _ in range(runs):
        for name, value in start.items():
            setattr(neuron, name, np.array(value, dtype=np.float64) if np.ndim(value) else float(value))
        neuron.history = []
        neuron.fit(x, y, **fit_kwargs)
        for name in start:
            params[name].append(np.asarray(getattr(neuron, name), dtype=np.float64))
        histories.append([float(np.asarray(v, dtype=np.float64).reshape(-1)[0]) if np.size(v) == 1 else float("nan")
                          for v in neuron.history])
    return {"params": {name: np.array(values) if len({v.shape for v in values}) == 1 else values
                       for name, values in params.items()},
            "histories": histories}


# --- the history list -------------------------------------------------------------------------------------------


def fit_returns_history(module: ModuleType, class_name: str, x: np.ndarray, y: np.ndarray, epochs: tuple) -> dict:
    """Whether each of two consecutive ``fit`` calls returns the very list ``self.history`` (not a copy)."""
    neuron = getattr(module, class_name)()
    history_before = neuron.history
    first = neuron.fit(x, y, lr=0.01, epochs=epochs[0])
    after_first = neuron.history
    second = neuron.fit(x, y, lr=0.01, epochs=epochs[1])
    return {
        "returned_type": type(first).__name__,
        "first_is_history": first is neuron.history,
        "second_is_history": second is neuron.history,
        "same_list_throughout": history_before is after_first is neuron.history,
        "lengths": [len(first) if hasattr(first, "__len__") else None,
                    len(second) if hasattr(second, "__len__") else None],
    }


# --- watching the scalers ---------------------------------------------------------------------------------------

_WATCHED_METHODS = ("fit", "partial_fit", "fit_transform")


def _scaler_classes() -> list[type]:
    from sklearn import preprocessing
    return [preprocessing.StandardScaler, preprocessing.MinMaxScaler, preprocessing.RobustScaler,
            preprocessing.MaxAbsScaler]


def watch_scaler_fits(module: ModuleType, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray,
                      y_test: np.ndarray, **kwargs: Any) -> dict:
    """Run ``train_house_model`` while recording the data every scaler's fit / partial_fit / fit_transform sees.

    The scaler classes are patched only for the duration of the call and restored afterwards, whatever happens.
    Returns the recorded arrays (with the class and method that saw them) and whatever train_house_model returned.
    """
    seen: list[dict] = []
    originals: list[tuple[type, str, Any, bool]] = []

    def watcher(cls: type, name: str, original: Any):
        def watched(self, X, *args, **kw):
            try:
                rows = np.array(X, dtype=np.float64, copy=True)
            except (TypeError, ValueError):
                rows = None
            if rows is not None:
                seen.append({"scaler": type(self).__name__, "method": name, "rows": rows})
            return original(self, X, *args, **kw)
        return watched

    for cls in _scaler_classes():
        for name in _WATCHED_METHODS:
            if not hasattr(cls, name):
                continue
            own = name in cls.__dict__
            original = cls.__dict__[name] if own else getattr(cls, name)
            originals.append((cls, name, original, own))
            setattr(cls, name, watcher(cls, name, getattr(cls, name)))
    try:
        result = module.train_house_model(X_train, y_train, X_test, y_test, **kwargs)
    finally:
        for cls, name, original, own in reversed(originals):
            if own:
                setattr(cls, name, original)
            else:
                delattr(cls, name)
    return {"fits": seen, "result": result}
