"""The expected-value maths of linear_neuron, in one place: the gradients and the update rule, trajectories
replayed from given parameters (with and without the known mistakes), the loss history along them, the critical
learning rate, least squares, the scaler's statistics.

It implements the exercises, so it never leaves the instructor's kit and the autograders built from it (Gradescope,
nbgrader): the hidden checks call it directly; the visible checks and the plots read what it computes for their
fixed inputs through :class:`autograder.recorded.Recorded`, recorded into the student bundle by ``make release``.
"""
from __future__ import annotations

import numpy as np

from assignments.linear_neuron import mistakes
from assignments.linear_neuron.mistakes import Mistake

# --- gradients and the update rule --------------------------------------------------------------------------------


def _design(X: np.ndarray, n: int) -> np.ndarray:
    """X as an (n, m) float64 array (a 1-D x is one feature)."""
    return np.asarray(X, dtype=np.float64).reshape(n, -1)


def _theta(w: np.ndarray | float, b: float) -> np.ndarray:
    return np.append(np.asarray(w, dtype=np.float64).reshape(-1), float(b))


class Exact:
    """The exact gradients of one step's batch loss E = mean of 1/2 (y - u)^2 with u = X @ w + b (a
    :class:`mistakes.GradientModel`): dE/dw = X.T @ (u - y) / n, dE/db = mean(u - y), dE/du = (u - y) / n."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.y = np.asarray(y, dtype=np.float64).reshape(-1)
        self.X = _design(X, len(self.y))

    def residual(self, theta: np.ndarray) -> np.ndarray:
        return self.X @ theta[:-1] + theta[-1] - self.y

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        err = self.residual(theta)
        return np.append(self.X.T @ err / len(err), np.mean(err))

    def output_gradient(self, theta: np.ndarray) -> np.ndarray:
        err = self.residual(theta)
        return err / len(err)


def gradient_1d(x: np.ndarray, y: np.ndarray, a: float, b: float) -> tuple[float, float]:
    """(dE/da, dE/db) of the 1-D neuron: mean((u - y) x) and mean(u - y)."""
    grad_a, grad_b = Exact(x, y).gradient(_theta(a, b))
    return float(grad_a), float(grad_b)


def trajectory(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float, steps: int,
               mistake: Mistake | None = None) -> np.ndarray:
    """Batch gradient descent from (w, b): row k holds [w..., b] after k steps (row 0 the start), shape
    (steps + 1, m + 1); ``mistake`` (from :data:`mistakes.STEP`) replays a known wrong update instead."""
    return mistakes.descend(Exact(X, y), _theta(w, b), lr, steps, mistake)


def trajectory_1d(x: np.ndarray, y: np.ndarray, a: float, b: float, lr: float, steps: int,
                  mistake: Mistake | None = None) -> np.ndarray:
    """The same for the 1-D neuron: row k holds [a, b] after k steps (``mistake`` from :data:`mistakes.STEP_1D`)."""
    return trajectory(x, y, np.array([a]), b, lr, steps, mistake)


def mse(X: np.ndarray, y: np.ndarray, theta: np.ndarray) -> float:
    """mean((y - u)^2) at the parameters theta = [w..., b]."""
    return float(np.mean(Exact(X, y).residual(np.asarray(theta, dtype=np.float64)) ** 2))


def losses(X: np.ndarray, y: np.ndarray, w: np.ndarray | float, b: float, lr: float, epochs: int) -> np.ndarray:
    """The history of batch-mode fit from (w, b): the MSE before each of ``epochs`` updates (inf or NaN once
    it diverges)."""
    with np.errstate(over="ignore", invalid="ignore"):
        path = trajectory(X, y, np.asarray(w, dtype=np.float64).reshape(-1), b, lr, epochs)
        return np.array([mse(X, y, theta) for theta in path[:-1]])


# --- the critical learning rate -----------------------------------------------------------------------------------

def hessian_1d(x: np.ndarray) -> np.ndarray:
    """H = [[mean(x^2), mean(x)], [mean(x), 1]], the Hessian of the 1-D neuron's cost."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.array([[np.mean(x ** 2), np.mean(x)], [np.mean(x), 1.0]])


def critical_rate(x: np.ndarray, mistake: Mistake | None = None) -> float:
    """2 / lambda_max of the 1-D neuron's Hessian; ``mistake`` (from :data:`mistakes.CRITICAL`) replays a known
    wrong version."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    hessian = hessian_1d(x)
    lam = np.linalg.eigvalsh(hessian)
    if mistake is None:
        return float(2.0 / lam[-1])
    second_moment = float(np.mean(x ** 2))
    wrong = {
        "factor_2": lambda: 1.0 / lam[-1],
        "mean_x2_only": lambda: 2.0 / second_moment,
        "one_over_mean_x2": lambda: 1.0 / second_moment,
        "smallest_eigenvalue": lambda: 2.0 / lam[0],
        "trace": lambda: 2.0 / (second_moment + 1.0),
        "variance": lambda: 2.0 / np.linalg.eigvalsh(hessian - np.diag([np.mean(x) ** 2, 0.0]))[-1],
    }
    return float(wrong[mistake.name]())


def critical_rate_multi(X: np.ndarray) -> float:
    """2 / lambda_max of the multi-input neuron's Hessian (the features and a column of ones for b)."""
    X = np.asarray(X, dtype=np.float64)
    design = np.column_stack([X, np.ones(len(X))])
    return float(2.0 / np.linalg.eigvalsh(design.T @ design / len(X))[-1])


# --- least squares ------------------------------------------------------------------------------------------------

def least_squares(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """(w, b) minimising the MSE, by np.linalg.lstsq: where batch gradient descent converges to."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    design = np.column_stack([_design(X, len(y)), np.ones(len(y))])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return coef[:-1], float(coef[-1])


def least_squares_errors(X: np.ndarray, y: np.ndarray, X_eval: np.ndarray | None = None,
                         y_eval: np.ndarray | None = None) -> dict[str, float]:
    """The MSE and the MAE of the least-squares fit on (X, y), evaluated on (X_eval, y_eval) (default: (X, y))."""
    w, b = least_squares(X, y)
    X_eval, y_eval = (X, y) if X_eval is None else (X_eval, y_eval)
    y_eval = np.asarray(y_eval, dtype=np.float64).reshape(-1)
    err = _design(X_eval, len(y_eval)) @ w + b - y_eval
    return {"mse": float(np.mean(err ** 2)), "mae": float(np.mean(np.abs(err)))}


# --- the scaler ---------------------------------------------------------------------------------------------------

def scaling(X: np.ndarray) -> dict[str, np.ndarray]:
    """What a StandardScaler fitted on X holds: the column means and standard deviations (ddof 0)."""
    X = np.asarray(X, dtype=np.float64)
    return {"mean": X.mean(axis=0), "scale": X.std(axis=0)}


def standardised(X_fit: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """X_fit and each of ``others`` standardised with X_fit's statistics."""
    stats = scaling(X_fit)
    return [(np.asarray(X, dtype=np.float64) - stats["mean"]) / stats["scale"] for X in (X_fit, *others)]


def standardize_expected(X_train: np.ndarray, X_test: np.ndarray) -> dict:
    """What ``standardize(X_train, X_test)`` must give: the training set's statistics ("mean", "scale"), both sets
    transformed with them ("X_train_s", "X_test_s"); and, under "mistakes", the statistics of a scaler fitted as
    each mistake of :data:`mistakes.SCALER` fits it."""
    X_train_s, X_test_s = standardised(X_train, X_test)
    return {**scaling(X_train), "X_train_s": X_train_s, "X_test_s": X_test_s,
            "mistakes": {name: scaling(m.replay(X_train, X_test)) for name, m in mistakes.SCALER.items()}}
