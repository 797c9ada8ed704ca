"""The linear neuron, trained by gradient descent (chapter part 1, exercises 1 to 6).

Conventions used everywhere in this file (see the handout, assignments/linear_neuron/README.md):

- one input:   u = a x + b;   several inputs: u = X @ w + b with X of shape (n, m), one row per example.
- per-example loss E_i = 1/2 (y_i - u_i)^2; the gradient over an index set idx is the AVERAGE over idx:
      dE/da = mean((u - y) x),   dE/db = mean(u - y),   dE/dw = X.T @ (u - y) / len(idx)
- both parameters are updated together, from the same point:  a <- a - lr dE/da,  b <- b - lr dE/db
- `history` gets one value per iteration: the MSE mean((y - u)^2) on idx, computed BEFORE the update.

Run `make grade ASSIGNMENT=linear_neuron` to check your work.
"""
from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler

MODES = ("batch", "sgd", "minibatch")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: the batch gradients of the 1-D neuron
# ---------------------------------------------------------------------------------------------------------------
def gradient_1d(x: np.ndarray, y: np.ndarray, a: float, b: float) -> tuple[float, float]:
    """The batch gradients (dE/da, dE/db) of E = mean of 1/2 (y_i - u_i)^2 for u = a x + b.

    x and y are 1-D arrays of the same length n. Returns two floats:
    dE/da = mean((u - y) x) and dE/db = mean(u - y).
    """
    # TODO: compute u, then the error u - y, then average. Watch the sign: (u - y), not (y - u).
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4 (used by exercises 2 and 5): which examples one iteration uses
# ---------------------------------------------------------------------------------------------------------------
def check_mode(mode: str, batch_size: int, n: int) -> None:
    """Raise ValueError for a mode other than "batch", "sgd", "minibatch", or (in minibatch mode) a
    batch_size outside 1..n. Call it at the start of fit, before any update."""
    # TODO: two checks, each raising ValueError with a message that says what is wrong.
    # YOUR CODE HERE
    raise NotImplementedError()


def select_indices(n: int, mode: str, batch_size: int) -> np.ndarray:
    """The index set idx of one iteration, as an integer array.

    "batch": all n examples; "sgd": one index drawn uniformly at random; "minibatch": batch_size DISTINCT
    indices drawn at random (without replacement). Any random source is fine (np.random, a Generator).
    """
    # TODO: np.arange, np.random.randint and np.random.choice(..., replace=False) are all you need.
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------------------------------------------------------
# Exercises 2, 3 and 4: the 1-D neuron from scratch, its loss history, its three modes
# ---------------------------------------------------------------------------------------------------------------
class LinearNeuron1D:
    """u = a x + b, trained by gradient descent on E = mean of 1/2 (y - u)^2."""

    def __init__(self) -> None:
        """a and b start as random floats from U[0, 1); history starts empty."""
        # TODO: two random floats (np.random.rand() gives one float; np.random.rand(1) an array!)
        # YOUR CODE HERE
        raise NotImplementedError()
        self.history: list[float] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        """a * x + b for an array x of any shape, without a Python loop."""
        # TODO: one line; NumPy applies a * x + b to every element at once (no for loop, no np.vectorize).
        # YOUR CODE HERE
        raise NotImplementedError()

    def fit(self, x: np.ndarray, y: np.ndarray, lr: float = 0.1, epochs: int = 10, mode: str = "batch",
            batch_size: int = 32) -> list[float]:
        """Run `epochs` iterations of gradient descent on (x, y) and return self.history (the list itself).

        Each iteration: pick idx (see select_indices), u = forward(x[idx]), both gradients on idx at the
        current (a, b), append the MSE on idx (before the update), then update a and b together.
        A second call continues from the current a, b and appends to the same history.
        """
        # TODO: check_mode first (no update may happen before a ValueError), then the loop.
        # Compute BOTH gradients before changing a or b.
        # YOUR CODE HERE
        raise NotImplementedError()


def critical_learning_rate(x: np.ndarray) -> float:
    """The learning rate above which batch gradient descent on inputs x diverges: 2 / lambda_max, where
    lambda_max is the largest eigenvalue of H = [[mean(x^2), mean(x)], [mean(x), 1]]."""
    # TODO: build H as a 2 x 2 array; np.linalg.eigvalsh returns the eigenvalues of a symmetric matrix.
    # YOUR CODE HERE
    raise NotImplementedError()


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: the multi-input neuron
# ---------------------------------------------------------------------------------------------------------------
class LinearNeuron:
    """u = X @ w + b for X of shape (n, m); w has shape (m,) once fit has seen the data."""

    def __init__(self) -> None:
        """w is None until the first fit (m is not known yet); b is a random float from U[0, 1)."""
        self.w: np.ndarray | None = None
        # TODO: b, a random float from U[0, 1)
        # YOUR CODE HERE
        raise NotImplementedError()
        self.history: list[float] = []

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X @ w + b, shape (n,)."""
        # TODO: one line, no loop.
        # YOUR CODE HERE
        raise NotImplementedError()

    def fit(self, X: np.ndarray, y: np.ndarray, lr: float = 0.1, epochs: int = 10, mode: str = "batch",
            batch_size: int = 32) -> list[float]:
        """Like LinearNeuron1D.fit with grad_w = Xb.T @ (u - yb) / len(idx); returns self.history.

        If w is None it is first set to random values from U[0, 1) of shape (m,); a second call continues
        from the current w. y must have shape (n,): a y of shape (n, 1) is flattened (or rejected with a
        ValueError), never allowed to broadcast (u - y would silently become an (n, n) matrix).
        """
        # TODO: make y 1-D (or raise), check_mode, set w only if it is None, then the same loop as
        # LinearNeuron1D.fit. The trap: X @ (u - y) instead of X.T @ (u - y).
        # YOUR CODE HERE
        raise NotImplementedError()


# ---------------------------------------------------------------------------------------------------------------
# Exercise 6: normalisation without leakage
# ---------------------------------------------------------------------------------------------------------------
def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray, StandardScaler]:
    """(X_train_s, X_test_s, scaler): a StandardScaler fitted on X_train ONLY, applied to both sets."""
    # TODO: fitting on train + test (or on the test set) leaks test statistics into training.
    # YOUR CODE HERE
    raise NotImplementedError()


def largest_stable_lr(X: np.ndarray, y: np.ndarray, candidates, epochs: int = 50) -> float:
    """The largest learning rate in `candidates` for which batch-mode LinearNeuron training on (X, y) for
    `epochs` iterations gives a history that is all finite and whose last value is no larger than its first.
    Raises ValueError if no candidate qualifies."""
    # TODO: one fresh LinearNeuron per candidate. Overflow warnings are expected for the large ones
    # (np.errstate(over="ignore", invalid="ignore") silences them).
    # YOUR CODE HERE
    raise NotImplementedError()


def train_house_model(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                      lr: float = 0.01, epochs: int = 500) -> tuple[LinearNeuron, float]:
    """Standardise the features (train statistics only), train a LinearNeuron in minibatch mode
    (batch_size 32, `epochs` iterations) and return (model, MAE on the test set in dollars).

    Scaling the target too is allowed; the MAE must then be computed after undoing that scaling.
    """
    # TODO: standardize, then fit, then the mean absolute error of the test predictions.
    # YOUR CODE HERE
    raise NotImplementedError()
