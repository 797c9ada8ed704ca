"""The expected-value maths of backprop, in one place: the logistic function, the two losses, the forward pass of
a sigmoid network with its cache, the exact gradient of its MSE by backpropagation, and central differences of
that MSE.

It implements the exercises, so it never leaves the instructor's kit and the autograders built from it (Gradescope,
nbgrader). The hidden checks call it directly; the visible checks and the plots read what it computes for their
fixed inputs through :class:`autograder.recorded.Recorded` (``checks.EXPECTED``), recorded into the student bundle
by ``make release``. Everything else the visible checks need they compute with oracles that are not an exercise:
torch autograd (``checks.AUTOGRAD``, which has the same ``forward``, ``loss`` and ``gradients`` as this module,
so a check takes either), closed forms, properties. Gradient-descent trajectories are the checks' own loops over
``gradients`` of either. tests/test_backprop_mistakes.py holds the two paths to each other.
"""
from __future__ import annotations

import numpy as np

Params = dict[str, np.ndarray]


def sigmoid(z) -> np.ndarray:
    """The logistic function exp(-log(1 + exp(-z))): no overflow, full relative precision on both tails."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


def mse(y: np.ndarray, p: np.ndarray) -> float:
    """mse_loss(y_true, y_pred): the mean over all entries of (y_pred - y_true)^2."""
    return float(np.mean((np.asarray(p, dtype=np.float64) - y) ** 2))


def bce(y: np.ndarray, p: np.ndarray, eps: float = 1e-12) -> float:
    """bce_loss(y_true, y_pred, eps): -mean(y log p + (1 - y) log(1 - p)), p clipped to [eps, 1 - eps]."""
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def layers(params: Params) -> int:
    return sum(1 for name in params if name.startswith("W"))


def forward(params: Params, X: np.ndarray) -> Params:
    """The cache {"a0": X, "z1": .., "a1": .., ...} of a network with a sigmoid at every layer."""
    cache = {"a0": X}
    a = X
    for l in range(1, layers(params) + 1):
        z = a @ params[f"W{l}"] + params[f"b{l}"]
        a = sigmoid(z)
        cache[f"z{l}"], cache[f"a{l}"] = z, a
    return cache


def loss(params: Params, X: np.ndarray, y: np.ndarray) -> float:
    """mse_loss(y, forward(X))."""
    return mse(y, forward(params, X)[f"a{layers(params)}"])


def gradients(params: Params, X: np.ndarray, y: np.ndarray) -> Params:
    """The exact gradient {"dW1": .., "db1": .., ...} of mean((a_L - y)^2), by backpropagation."""
    L = layers(params)
    cache = forward(params, X)
    out = cache[f"a{L}"]
    delta = 2.0 * (out - y) / out.size * out * (1 - out)
    grads = {}
    for l in range(L, 0, -1):
        grads[f"dW{l}"] = cache[f"a{l - 1}"].T @ delta
        grads[f"db{l}"] = np.sum(delta, axis=0, keepdims=True)
        if l > 1:
            a = cache[f"a{l - 1}"]
            delta = (delta @ params[f"W{l}"].T) * a * (1 - a)
    return grads


def central_differences(params: Params, X: np.ndarray, y: np.ndarray, h: float) -> Params:
    """Fourth-order central differences (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h of :func:`loss`, in float64.

    With h = 1e-3 the truncation error (~h^4) and the round-off (~1e-16 / h) are both far below the 1e-6 of the
    relative-error test, even for small gradient entries of deeper networks where the 2-point formula is not.
    """
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            f = []
            for step in (-2, -1, 1, 2):
                moved = dict(params)
                moved[name] = value.copy()
                moved[name][i] += step * h
                f.append(loss(moved, X, y))
            grad[i] = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h)
        grads[f"d{name}"] = grad
    return grads
