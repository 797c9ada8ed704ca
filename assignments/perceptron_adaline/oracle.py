"""The expected-value maths of perceptron_adaline, written from the contract's formulas: the perceptron rule
(on-line, in the contract's order of random draws), least squares and the gradient-descent path, the relative
error and the chain-rule example, Adaline in every mode, parameter counts, random search; each with the known
mistakes of :mod:`mistakes` replayed where they need the exercise itself.

It implements the exercises, so it never leaves the instructor's kit and the autograders built from it (Gradescope,
nbgrader): the hidden checks call it directly; the visible checks read what it computes for their fixed inputs
through :class:`autograder.recorded.Recorded`, recorded into the student bundle by ``make release``.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from assignments.perceptron_adaline import mistakes
from autograder.mistakes import Mistake


def _name(mistake: Mistake | None) -> str:
    return mistake.name if mistake is not None else ""


def with_mistakes(compute, catalogue: Mapping[str, Mistake]) -> dict:
    """{"value": compute(None), "mistakes": {name: compute(mistake)}}: what is recorded for a visible check."""
    with np.errstate(all="ignore"):
        return {"value": compute(None), "mistakes": {name: compute(m) for name, m in catalogue.items()}}


# --- ex1: the perceptron ----------------------------------------------------------------------------------------

def _orders(n: int, epochs: int, shuffle: bool, seed: int, mistake: str) -> list[np.ndarray]:
    """The order of the examples in each epoch: 0..n-1, or a new permutation per epoch from one generator."""
    if not shuffle or mistake == "no_shuffle":
        return [np.arange(n)] * epochs
    rng = np.random.default_rng(seed)
    if mistake == "same_order_every_epoch":
        return [rng.permutation(n)] * epochs
    return [rng.permutation(n) for _ in range(epochs)]


def _threshold(z: float, mistake: str) -> int:
    return int(z >= 0) if mistake == "ge_threshold" else int(z > 0)


def perceptron_predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """sigma(X @ w + b) with sigma(z) = 1 for z > 0, else 0."""
    return (np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64) + b > 0).astype(int)


def perceptron_run(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, calls: Iterable[int],
                   shuffle: bool = False, seed: int = 0, mistake: Mistake | None = None) -> dict:
    """The perceptron rule from (w, b), over consecutive ``train`` calls of ``calls`` epochs each (every call its
    own generator default_rng(seed)). Returns {"errors": the errors of every epoch of every call, "w", "b"}."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y).astype(int)
    w, b = np.array(w, dtype=np.float64), float(b)
    which = _name(mistake)
    errors: list[int] = []
    total = 0
    for epochs in calls:
        if which == "restarts_from_zero":
            w, b = np.zeros_like(w), 0.0
        for order in _orders(len(y), epochs, shuffle, seed, which):
            count = 0
            dw, db = np.zeros_like(w), 0.0
            for i in order:
                err = int(y[i]) - _threshold(float(X[i] @ w + b), which)
                if which == "sign":
                    err = -err
                if which == "positive_errors_only" and err < 0 or which == "negative_errors_only" and err > 0:
                    continue  # the other class's errors neither move w nor count
                if err != 0:
                    count += 1
                if which == "batch_rule":
                    dw, db = dw + err * X[i], db + err
                    continue
                w = w + err * X[i]
                if which != "bias_not_updated":
                    b = b + err
            if which == "batch_rule":
                w, b = w + dw, b + db
            if which == "errors_after_epoch":
                count = int(np.sum(perceptron_predict(X, w, b) != y))
            total += count
            errors.append(total if which == "errors_cumulative" else count)
    return {"errors": errors, "w": w, "b": b}


def accuracy(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    return float(np.mean(perceptron_predict(X, w, b) == np.asarray(y)))


# --- ex2: least squares and the gradient-descent path -----------------------------------------------------------

def normal_equation(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The least-squares coefficients of y ~ X beta (no intercept), by np.linalg.lstsq on X itself."""
    return np.linalg.lstsq(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64), rcond=None)[0]


class PathGradient:
    """The exact gradient of l(beta) = 1/2 mean((X beta - y)^2): X^T (X beta - y) / n (a :class:`mistakes.PathModel`)."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        self.n = len(self.y)

    def gradient(self, beta: np.ndarray) -> np.ndarray:
        return self.X.T @ (self.X @ beta - self.y) / self.n


def path_step(model: mistakes.PathModel, beta: np.ndarray, lr: float, mistake: Mistake | None = None) -> np.ndarray:
    beta = np.asarray(beta, dtype=np.float64)
    return beta - lr * model.gradient(beta) if mistake is None else mistake.replay(model, beta, lr)


def gradient_path(X: np.ndarray, y: np.ndarray, lr: float, steps: int, mistake: Mistake | None = None) -> np.ndarray:
    """Gradient descent on l from beta = 0: shape (steps + 1, m), row k after k steps."""
    model = PathGradient(X, y)
    path = [np.zeros(model.X.shape[1])]
    for _ in range(steps):
        path.append(path_step(model, path[-1], lr, mistake))
    return np.array(path)


# --- ex3: relative error and the chain rule ---------------------------------------------------------------------

def relative_error(a: Any, b: Any, mistake: Mistake | None = None) -> float:
    """max over entries of |a - b| / max(1e-8, |a| + |b|); ``mistake`` from :data:`mistakes.RELATIVE`."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    which = _name(mistake)
    with np.errstate(all="ignore"):
        denominator = {"no_floor": np.abs(a) + np.abs(b),
                       "max_denominator": np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b))),
                       "abs_of_sum": np.maximum(1e-8, np.abs(a + b))}.get(which, np.maximum(1e-8, np.abs(a) + np.abs(b)))
        ratios = np.abs(a - b) / denominator
        return float(np.mean(ratios) if which == "mean_not_max" else np.max(ratios))


def chain_rule(x: float, y: float) -> tuple[float, float]:
    """The gradient of f(x, y) = x^2 y + y: (2 x y, x^2 + 1)."""
    return 2.0 * x * y, x * x + 1.0


# --- ex4: Adaline -----------------------------------------------------------------------------------------------

def adaline_run(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float, epochs: int, batch_size: int,
                seed: int = 0, mistake: Mistake | None = None) -> dict:
    """Minibatch gradient descent on L = mean((X_B w + b - y_B)^2) from (w, b), in the contract's order (one
    generator per call, a new permutation per epoch, consecutive minibatches including the last partial one).
    Returns {"losses": the MSE on all of (X, y) after each epoch, "w", "b"}."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w, b = np.array(w, dtype=np.float64), float(b)
    which = _name(mistake)
    n = len(y)
    factor = {"no_factor_2": 1.0, "double_factor_2": 4.0}.get(which, 2.0)
    losses: list[float] = []
    for order in _orders(n, epochs, which != "no_shuffle", seed, which):
        before = float(np.mean((X @ w + b - y) ** 2))
        batch_losses = []
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            if which == "drop_last" and len(batch) < batch_size:
                break
            residual = X[batch] @ w + b - y[batch]
            batch_losses.append(float(np.mean(residual ** 2)))
            size = 1.0 if which == "sum_not_mean" else len(batch)
            direction = -1.0 if which == "sign" else 1.0
            w = w - direction * lr * factor * (X[batch].T @ residual) / size
            if which == "sequential":
                residual = X[batch] @ w + b - y[batch]
            b = b - direction * lr * factor * float(np.sum(residual)) / size
        after = float(np.mean((X @ w + b - y) ** 2))
        losses.append({"loss_before_epoch": before, "mean_batch_loss": float(np.mean(batch_losses))}.get(which, after))
    return {"losses": losses, "w": w, "b": b}


def adaline_predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return (np.asarray(X, dtype=np.float64) @ w + b > 0.5).astype(int)


# --- ex5: parameters and shapes -----------------------------------------------------------------------------------

def count_parameters(layer_sizes: list[int], mistake: Mistake | None = None) -> int:
    """Weights and biases of a fully connected network with these widths."""
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    weights = sum(a * b for a, b in pairs)
    biases = sum(layer_sizes[1:])
    which = _name(mistake)
    if which == "no_biases":
        return int(weights)
    if which == "input_biases":
        return int(weights + sum(layer_sizes))
    return int(weights + biases)


def mnist_shapes(batch_size: int) -> dict[str, tuple[int, ...]]:
    return {"input": (batch_size, 28, 28), "flattened": (batch_size, 28 * 28), "logits": (batch_size, 10)}


# --- ex6: random search -------------------------------------------------------------------------------------------

def random_search(X: np.ndarray, y: np.ndarray, n_trials: int, scale: float, seed: int,
                  mistake: Mistake | None = None) -> dict:
    """Random search from w = 0, b = 0: {"w", "b", "losses"} (the best MSE after each trial)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    which = _name(mistake)
    m = X.shape[1]
    spread = 1.0 if which == "scale_ignored" else scale
    def mse(w: np.ndarray, b: float) -> float:
        return float(np.mean((X @ w + b - y) ** 2))

    rng = np.random.default_rng(seed)
    w, b = np.zeros(m), 0.0
    best = mse(w, b)  # the start, w = 0 and b = 0, is the first best
    losses: list[float] = []
    for _trial in range(n_trials):
        if which == "same_candidate":
            rng = np.random.default_rng(seed)
        if which == "b_before_w":
            b_new = float(rng.normal(0.0, spread))
            w_new = rng.normal(0.0, spread, size=m)
        else:
            w_new = rng.normal(0.0, spread, size=m)
            b_new = float(rng.normal(0.0, spread))
        loss = mse(w_new, b_new)
        if loss < best or which == "keeps_every_candidate":
            w, b, best = w_new, b_new, loss
        losses.append(loss if which == "current_loss" else best)
    return {"w": w, "b": b, "losses": losses}
