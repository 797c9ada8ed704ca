"""Training single-layer networks: the perceptron, the normal equation and the gradient-descent path, gradient
checking and the chain rule, Adaline in on-line / minibatch / batch mode, counting parameters and shapes, random
search (the lecture behind the chapter, exercises 1 to 6).

Conventions used everywhere in this file (see the handout, assignments/perceptron_adaline/README.md):

- class labels are 0 and 1; the threshold function is sigma(z) = 1 if z > 0 else 0 (so z = 0 predicts 0).
- X has shape (n, m), one row per example; y has shape (n,).
- "on-line" means one update per example; an EPOCH is one pass over all n examples (unlike linear_neuron.py,
  where an epoch is one update).
- random orders come from ONE generator per call, rng = np.random.default_rng(seed), with a new
  rng.permutation(n) at the start of every epoch.

Run `make grade ASSIGNMENT=perceptron_adaline` to check your work.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


# --- Exercise 1: the perceptron rule ----------------------------------------------------------------------------

class Perceptron:
    """Rosenblatt's perceptron: y_hat = sigma(x . w + b), trained on-line with the perceptron rule."""

    def __init__(self, num_features: int) -> None:
        """w starts as zeros of shape (num_features,) (floats) and b as the float 0.0."""
        # TODO: np.zeros gives floats; b is a plain Python float.
        self.num_features = num_features
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The predictions sigma(X @ w + b) for X of shape (n, m): an int array of 0s and 1s, shape (n,)."""
        # TODO: one vectorised line; sigma(0) is 0 (the comparison is strict: z > 0).
        # YOUR CODE HERE
        raise NotImplementedError()

    def train(self, X: np.ndarray, y: np.ndarray, epochs: int = 10, shuffle: bool = False,
              seed: int = 0) -> list[int]:
        """Run `epochs` passes of the perceptron rule over (X, y), continuing from the current w and b.

        Every epoch visits all n examples, in order 0..n-1, or with shuffle=True in the order of a new
        rng.permutation(n) drawn at the start of the epoch (rng = np.random.default_rng(seed), created once per
        call). For each example i: predict y_hat_i, err = y_i - y_hat_i, then w += err * x_i and b += err.

        Returns:
            errors: one Python int per epoch, the number of examples of that pass with err != 0.
        """
        # TODO: the update uses the weights as they are at example i (earlier examples of the same epoch have
        # already changed them); err is -1, 0 or +1, so a correct prediction changes nothing.
        # YOUR CODE HERE
        raise NotImplementedError()

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> float:
        """The accuracy of forward(X) against y: a Python float in [0, 1]."""
        # YOUR CODE HERE
        raise NotImplementedError()


# --- Exercise 2: the normal equation and the gradient-descent path --------------------------------------------

def normal_equation(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The least-squares coefficients beta (shape (m,)) of y ~ X beta, no intercept: (X^T X) beta = X^T y."""
    # TODO: solve the linear system with np.linalg.solve (or np.linalg.lstsq) rather than forming the inverse:
    # it is faster, more accurate, and does not fail where X^T X is nearly singular.
    # YOUR CODE HERE
    raise NotImplementedError()


def gradient_descent_path(X: np.ndarray, y: np.ndarray, lr: float = 0.1, steps: int = 50) -> np.ndarray:
    """Gradient descent on l(beta) = 1/2 mean((X beta - y)^2) from beta = 0.

    Returns:
        path: shape (steps + 1, m); row 0 is the start (zeros), row k the parameters after k steps, each step
        beta <- beta - lr * X^T (X beta - y) / n.
    """
    # TODO: keep a copy of beta at every step (appending the same array object would record its last value
    # steps + 1 times).
    # YOUR CODE HERE
    raise NotImplementedError()


# --- Exercise 3: gradient checking and the chain rule ---------------------------------------------------------

def numerical_gradient(f: Callable[[np.ndarray], float], w: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences (f(w + h e_i) - f(w - h e_i)) / (2 h) for every entry i of w (any shape).

    Returns:
        g: an array of w's shape. w itself is unchanged afterwards.
    """
    # TODO: loop over every index of w (np.ndindex(w.shape) walks all of them, whatever the shape), nudge one
    # entry of a float COPY of w up and down by h, and put it back before the next entry. Central differences
    # are accurate to O(h^2); the forward difference (f(w + h e_i) - f(w)) / h only to O(h).
    # YOUR CODE HERE
    raise NotImplementedError()


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max over entries of |a - b| / max(1e-8, |a| + |b|), as a Python float."""
    # YOUR CODE HERE
    raise NotImplementedError()


def chain_rule_example(x: float, y: float) -> tuple[float, float]:
    """The gradient (df/dx, df/dy) of f(x, y) = x^2 y + y, as two Python floats."""
    # TODO: differentiate by hand (the product rule for x^2 y), then check your answer with numerical_gradient.
    # YOUR CODE HERE
    raise NotImplementedError()


# --- Exercise 4: Adaline in on-line, minibatch and batch mode -------------------------------------------------

class Adaline:
    """ADAptive LInear NEuron (Widrow and Hoff, 1960): a linear activation to train, a threshold to predict."""

    def __init__(self, num_features: int) -> None:
        """w starts as zeros of shape (num_features,) (floats) and b as the float 0.0."""
        self.num_features = num_features
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The linear activation X @ w + b, a float array of shape (n,)."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels: an int array of shape (n,), 1 where forward(X) > 0.5 else 0."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def train(self, X: np.ndarray, y: np.ndarray, lr: float = 0.01, epochs: int = 20, batch_size: int = 1,
              seed: int = 0) -> list[float]:
        """Minibatch gradient descent on the MSE L = mean((forward(X_B) - y_B)^2) of each minibatch B.

        One generator rng = np.random.default_rng(seed) per call. Every epoch: order = rng.permutation(n), then
        the consecutive minibatches order[0:batch_size], order[batch_size:2 * batch_size], ... (the last one may
        be smaller), one update per minibatch:
            w <- w - lr * 2 X_B^T (y_hat - y_B) / |B|,    b <- b - lr * 2 mean(y_hat - y_B).
        batch_size=1 is on-line mode and batch_size=n batch mode.

        Returns:
            losses: one Python float per epoch, the MSE on the whole (X, y) after that epoch's updates.

        Raises:
            ValueError: batch_size outside 1..n (before any update).
        """
        # TODO: L has no 1/2 in front, so its gradient carries a factor 2. Keep the last, smaller minibatch: an
        # epoch must see every example exactly once.
        # YOUR CODE HERE
        raise NotImplementedError()


# --- Exercise 5: counting parameters, reasoning about shapes --------------------------------------------------

def count_parameters(layer_sizes: list[int]) -> int:
    """Weights and biases of a fully connected network with these layer widths, e.g. [2, 3, 1] -> 13."""
    # TODO: between consecutive layers of widths a and b there are a * b weights and b biases.
    # YOUR CODE HERE
    raise NotImplementedError()


def mnist_batch_shapes(batch_size: int = 64) -> dict[str, tuple[int, ...]]:
    """The shapes met by a batch of MNIST images on its way through a linear classifier with 10 outputs.

    Returns:
        {"input": the 3-order tensor of the batch of 28 x 28 images, "flattened": the batch with each image as
        one row of pixels, "logits": the output for 10 classes}, each a tuple of ints.
    """
    # TODO: build the arrays (zeros are enough) and read their .shape, or reason it out; either way return plain
    # tuples of Python ints.
    # YOUR CODE HERE
    raise NotImplementedError()


# --- Exercise 6: random search, the brute force that gradient descent replaces -------------------------------

def random_search(X: np.ndarray, y: np.ndarray, n_trials: int = 1000, scale: float = 1.0,
                  seed: int = 0) -> tuple[np.ndarray, float, list[float]]:
    """Fit y ~ X w + b by trying random parameters and keeping the best.

    Start from w = 0 (shape (m,)), b = 0.0. One rng = np.random.default_rng(seed); each trial draws
    w' = rng.normal(0.0, scale, size=m) and then b' = float(rng.normal(0.0, scale)), and keeps (w', b') when its
    MSE mean((X w' + b' - y)^2) is lower than the best so far.

    Returns:
        (w, b, losses): the best parameters found and, for every trial, the best MSE so far (n_trials Python
        floats, never increasing).
    """
    # TODO: draw w' before b' in every trial, even when the candidate is rejected (the order of the draws fixes
    # which candidates you see).
    # YOUR CODE HERE
    raise NotImplementedError()
