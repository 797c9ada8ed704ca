"""The leak scan's cases for linear_neuron (kit only; see autograder/release/leakprobe.py): each exercise on fixed
inputs with the reference's results on them, or in NOT_PROBED with the reason there is nothing to copy; ACCEPTED
names shipped oracles that compute an answer by a method the exercise does not teach (issue 17 allows them)."""
from __future__ import annotations

from types import ModuleType

import numpy as np

from autograder.release.leakprobe import Builder, Case, call


def cases(ref: ModuleType) -> list[Case]:
    b = Builder("linear_neuron")
    rng = np.random.default_rng(17)
    x = rng.normal(0.6, 1.3, size=9)
    y = 1.7 * x - 0.8 + 0.4 * rng.normal(size=9)
    a0, b0, lr = 0.37, -0.52, 0.11
    one = dict(x=x, y=y, a=a0, b=b0)
    b.add("gradient_1d", one, ("x", "y", "a", "b"), {"gradients": call(ref.gradient_1d, x, y, a0, b0)})

    def neuron_1d(a: float, b_: float) -> Any:
        neuron = ref.LinearNeuron1D()
        neuron.a, neuron.b = a, b_
        return neuron

    forward = call(lambda: neuron_1d(a0, b0).forward(x))
    b.add("LinearNeuron1D.forward", one, ("x", "a", "b"), {"predictions": [forward]})
    for epochs in (1, 4):
        def fit_1d(epochs: int = epochs) -> tuple:
            neuron = neuron_1d(a0, b0)
            history = neuron.fit(x, y, lr=lr, epochs=epochs, mode="batch")
            return neuron.a, neuron.b, np.array(history)
        a1, b1, history = call(fit_1d)
        results = {"parameters": [a1, b1]}
        if epochs > 1:
            results["history"] = [history]
        b.add("LinearNeuron1D.fit", {**one, "lr": lr, "epochs": epochs, "steps": epochs, "n_steps": epochs,
                                     "iterations": epochs, "mode": "batch"},
              ("x", "y", "a", "b", "lr", "epochs"), results)
    b.add("critical_learning_rate", {"x": x}, ("x",), {"rate": [call(ref.critical_learning_rate, x)]})

    X = rng.normal(size=(11, 3)) + np.array([0.5, -1.0, 2.0])
    yX = X @ np.array([1.5, -2.0, 0.7]) + 0.3 + 0.2 * rng.normal(size=11)
    w0, bw = np.array([0.2, 0.4, -0.1]), 0.15

    def neuron(w: np.ndarray, b_: float) -> Any:
        model = ref.LinearNeuron()
        model.w, model.b = np.array(w, dtype=float), b_
        return model

    multi = dict(X=X, y=yX, w=w0, b=bw)
    b.add("LinearNeuron.forward", multi, ("X", "w", "b"), {"predictions": [call(lambda: neuron(w0, bw).forward(X))]})
    for epochs in (1, 4):
        def fit(epochs: int = epochs) -> tuple:
            model = neuron(w0, bw)
            history = model.fit(X, yX, lr=lr, epochs=epochs, mode="batch")
            return model.w, model.b, np.array(history)
        w1, b1, history = call(fit)
        results = {"parameters": [w1, b1]}
        if epochs > 1:
            results["history"] = [history]
        b.add("LinearNeuron.fit", {**multi, "lr": lr, "epochs": epochs, "steps": epochs, "n_steps": epochs,
                                   "iterations": epochs, "mode": "batch"},
              ("X", "y", "w", "b", "lr", "epochs"), results)

    X_test = rng.normal(size=(5, 3)) * 2.0 + 1.0
    train_s, test_s, _ = call(ref.standardize, X, X_test)
    b.add("standardize", {"X_train": X, "X_test": X_test, "X": X, "train": X, "test": X_test},
          ("X_train", "X_test"), {"standardised": [train_s, test_s]})
    candidates = np.array([0.003, 0.03, 0.3, 3.0, 30.0])
    b.add("largest_stable_lr", {"X": X, "y": yX, "candidates": candidates, "epochs": 20, "rates": candidates,
                                "lrs": candidates}, ("X", "y", "candidates", "epochs"),
          {"rate": [call(ref.largest_stable_lr, X, yX, candidates, epochs=20)]})
    Xh = rng.normal(size=(40, 3)) * np.array([300.0, 1.0, 20.0]) + np.array([2000.0, 3.0, 1970.0])
    yh = Xh @ np.array([150.0, 9000.0, -500.0]) + 2e5 + 1e3 * rng.normal(size=40)
    Xh_test = rng.normal(size=(9, 3)) * np.array([300.0, 1.0, 20.0]) + np.array([2000.0, 3.0, 1970.0])
    yh_test = Xh_test @ np.array([150.0, 9000.0, -500.0]) + 2e5
    model, mae = call(ref.train_house_model, Xh, yh, Xh_test, yh_test, lr=0.05, epochs=30)
    b.add("train_house_model", {"X_train": Xh, "y_train": yh, "X_test": Xh_test, "y_test": yh_test, "lr": 0.05,
                                "epochs": 30}, ("X_train", "y_train", "X_test", "y_test", "lr", "epochs"),
          {"test_mae": [mae], "weights": [model.w, model.b]})
    return b.cases


#: Exercises with nothing a student could copy as a value, and why.
NOT_PROBED = {
    "check_mode": "raises a ValueError or returns None: no value to copy",
    "largest_stable_lr": "returns one of its own candidates: the answer is an input",
    "select_indices": "integer indices (arange, or random draws): nothing that is not an input or a count",
    "LinearNeuron1D.__init__": "two random draws",
    "LinearNeuron.__init__": "one random draw",
}

#: Shipped oracles accepted although the probe finds them: {module.function: why}.
ACCEPTED: dict[str, str] = {}
