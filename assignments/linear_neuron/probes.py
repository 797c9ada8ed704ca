"""Probes for linear_neuron.py: they run in the worker, next to the student's module.

Only what needs the live objects happens here: many short fits in a row (one request instead of hundreds) and the
identity of the list ``fit`` returns. Probes only collect plain data, and everything they
report comes from the student's own process: the checks judge it, and never take a time, a verdict or a claim
about which data were used from here. They import nothing from the kit but this file (see
docs/writing-checks.md).
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

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
