"""The leak scan's cases for perceptron_adaline (kit only; see autograder/release/leakprobe.py): each exercise on
fixed inputs with the reference's results on them, or in NOT_PROBED with the reason there is nothing to copy;
ACCEPTED names shipped oracles that compute an answer by a method the exercise does not teach, or that the engine
ships for every assignment (issue 17 allows them)."""
from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from autograder.release.leakprobe import Builder, Case, call


def cases(ref: ModuleType) -> list[Case]:
    b = Builder("perceptron_adaline")
    rng = np.random.default_rng(14)
    # Off-grid features, so that the perceptron's w (a sum of examples) is not integer-valued.
    X = rng.normal(0.3, 1.1, size=(13, 3))
    labels = (X @ np.array([1.0, -0.7, 0.4]) + 0.2 * rng.normal(size=13) > 0.3).astype(int)
    w0, b0 = np.array([0.15, -0.35, 0.05]), 0.2

    def perceptron(w: np.ndarray, b_: float) -> Any:
        model = ref.Perceptron(3)
        model.w, model.b = np.array(w, dtype=float), float(b_)
        return model

    state = dict(X=X, y=labels, w=w0, b=b0)
    for shuffle in (False, True):
        def train(shuffle: bool = shuffle) -> tuple:
            model = perceptron(w0, b0)
            errors = model.train(X, labels, epochs=3, shuffle=shuffle, seed=5)
            return model.w, model.b, errors
        w1, b1, _ = call(train)
        b.add("Perceptron.train", {**state, "epochs": 3, "shuffle": shuffle, "seed": 5},
              ("w", "b", "X", "y", "epochs", "shuffle", "seed"), {"parameters": [w1, b1]})
    b.add("Perceptron.evaluate", state, ("w", "b", "X", "y"),
          {"accuracy": [call(lambda: perceptron(w0, b0).evaluate(X, labels))]})

    targets = X @ np.array([1.5, -2.0, 0.7]) + 0.3 * rng.normal(size=13)
    regression = dict(X=X, y=targets)
    b.add("normal_equation", regression, ("X", "y"), {"beta": [call(ref.normal_equation, X, targets)]})
    b.add("gradient_descent_path", {**regression, "lr": 0.15, "steps": 4}, ("X", "y", "lr", "steps"),
          {"path": [call(ref.gradient_descent_path, X, targets, lr=0.15, steps=4)[1:]]})

    point = np.array([[0.7, -1.3], [0.4, 2.1]])
    # np.linalg.norm: a scalar function that crosses the probe's process boundary (pickled by reference)
    b.add("numerical_gradient", {"f": np.linalg.norm, "w": point, "x": point, "h": 1e-4}, ("f", "w", "h"),
          {"gradient": [call(ref.numerical_gradient, np.linalg.norm, point, h=1e-4)]})
    # b close to a (opposite signs would give exactly 1, an integer the probe cannot tell from a count)
    a_ = rng.normal(size=(2, 5))
    b_ = a_ * (1.0 + 0.1 * rng.normal(size=(2, 5)))
    b.add("relative_error", {"a": a_, "b": b_, "x": a_, "y": b_}, ("a", "b"),
          {"error": [call(ref.relative_error, a_, b_)]})
    b.add("chain_rule_example", {"x": 0.3, "y": -1.7}, ("x", "y"), {"gradient": [call(ref.chain_rule_example, 0.3, -1.7)]})

    def adaline(w: np.ndarray, b_: float) -> Any:
        model = ref.Adaline(3)
        model.w, model.b = np.array(w, dtype=float), float(b_)
        return model

    b.add("Adaline.forward", state, ("w", "b", "X"), {"activation": [call(lambda: adaline(w0, b0).forward(X))]})
    y01 = labels.astype(float)
    for batch_size in (1, 5):
        def train_adaline(batch_size: int = batch_size) -> tuple:
            model = adaline(w0, b0)
            losses = model.train(X, y01, lr=0.05, epochs=3, batch_size=batch_size, seed=2)
            return model.w, model.b, np.array(losses)
        w1, b1, losses = call(train_adaline)
        b.add("Adaline.train", {**state, "y": y01, "lr": 0.05, "epochs": 3, "batch_size": batch_size, "seed": 2},
              ("w", "b", "X", "y", "lr", "epochs", "batch_size", "seed"), {"parameters": [w1, b1], "losses": [losses]})

    w_s, b_s, losses = call(ref.random_search, X, targets, n_trials=20, scale=0.8, seed=3)
    b.add("random_search", {**regression, "n_trials": 20, "scale": 0.8, "seed": 3},
          ("X", "y", "n_trials", "scale", "seed"), {"parameters": [w_s, b_s], "losses": [np.array(losses)]})
    return b.cases


#: Exercises with nothing a student could copy as a value, and why.
NOT_PROBED = {
    "Perceptron.__init__": "zeros and 0.0",
    "Adaline.__init__": "zeros and 0.0",
    "Perceptron.forward": "0s and 1s: a comparison of X @ w + b with 0",
    "Adaline.predict": "0s and 1s: a comparison of X @ w + b with 0.5",
    "count_parameters": "an integer (the sum of a * b + b over consecutive widths): nothing a probe can tell from a "
                        "count",
    "mnist_batch_shapes": "tuples of the batch size, 28, 784 and 10: integers the handout states",
}

#: Shipped oracles accepted although the probe finds them: {module.function: why}.
ACCEPTED = {
    "autograder.checking.numerical_gradient": (
        "the engine's central differences, the oracle issue 17 names for every visible gradient check of the kit "
        "(it ships with every bundle); exercise 3 asks students to write the same method, and the handout states "
        "it in full"),
    "autograder.checking.rel_error": (
        "the engine's CS231n relative error, shared by the checks of every assignment (STYLE.md); exercise 3's "
        "relative_error is the formula the handout states in full"),
}
