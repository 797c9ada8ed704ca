"""The leak scan's cases for backprop (kit only; see autograder/release/leakprobe.py): each exercise on fixed
inputs with the reference's results on them, or in NOT_PROBED with the reason there is nothing to copy; ACCEPTED
names shipped oracles that compute an answer by a method the exercise does not teach (issue 17 allows them)."""
from __future__ import annotations

from types import ModuleType

import numpy as np

from autograder.release.leakprobe import Builder, Case, call


def cases(ref: ModuleType) -> list[Case]:
    b = Builder("backprop")
    rng = np.random.default_rng(23)
    z = np.concatenate([rng.normal(0.0, 3.0, size=9), [-40.0, 35.0, 0.3]]).reshape(3, 4)
    for name in ("sigmoid", "tanh", "tanh_derivative", "relu"):
        b.add(name, {"z": z, "x": z}, ("z",), {"values": [call(getattr(ref, name), z)]})
    act = rng.uniform(0.05, 0.95, size=(3, 4))
    b.add("sigmoid_derivative", {"a": act, "s": act}, ("a",), {"values": [call(ref.sigmoid_derivative, act)]})
    y_true = (rng.random((6, 1)) > 0.5).astype(float)
    y_pred = rng.uniform(0.05, 0.95, size=(6, 1))
    losses = {"y_true": y_true, "y_pred": y_pred, "y": y_true, "p": y_pred, "pred": y_pred, "a": y_pred}
    for name in ("mse_loss", "bce_loss"):
        b.add(name, losses, ("y_true", "y_pred"), {"loss": [call(getattr(ref, name), y_true, y_pred)]})

    X = rng.normal(size=(5, 3))
    W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=(1, 4))
    W2, b2 = rng.normal(size=(4, 2)), rng.normal(size=(1, 2))
    a2, cache = call(ref.forward_pass, X, W1, b1, W2, b2)
    params2 = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    b.add("forward_pass", {"X": X, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "params": params2},
          ("X", "W1", "b1", "W2", "b2"), {"output": [a2], "cache": [cache["z1"], cache["a1"], cache["z2"]]})

    gate_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    gate_y = np.array([[0.0], [0.0], [0.0], [1.0]])
    w, bias, history = call(ref.train_single_neuron, gate_X, gate_y, lr=1.5, epochs=6, seed=5)
    b.add("train_single_neuron", {"X": gate_X, "y": gate_y, "lr": 1.5, "epochs": 6, "seed": 5},
          ("X", "y", "lr", "epochs", "seed"), {"weights": [w, bias], "losses": [np.array(history)]})

    sizes = [3, 4, 2]
    net = call(ref.NeuralNetworkScratch, sizes, seed=7)
    b.add("NeuralNetworkScratch.__init__", {"layer_sizes": sizes, "sizes": sizes, "seed": 7},
          ("layer_sizes", "seed"), {"parameters": list(net.params.values())})
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    y = rng.uniform(0.1, 0.9, size=(5, 2))

    def network(cls: str = "NeuralNetworkScratch") -> Any:
        net = getattr(ref, cls)(sizes, seed=0)
        net.params = {k: np.array(v) for k, v in params.items()}
        return net

    def forward() -> tuple:
        net = network()
        return net.forward(X), dict(net.cache)

    out, cache = call(forward)
    state = {"X": X, "params": params, "layer_sizes": sizes, "sizes": sizes}
    b.add("NeuralNetworkScratch.forward", state, ("params", "X"), {"output": [out]})
    b.add("NeuralNetworkScratch.predict", state, ("params", "X"), {"output": [out]})

    def backward() -> dict:
        net = network()
        net.forward(X)
        return net.backward(X, y)

    grads = call(backward)
    b.add("NeuralNetworkScratch.backward", {**state, "y": y, "cache": cache}, ("params", "X", "y"),
          {"gradients": [grads[k] for k in sorted(grads)]})

    def train(method: str = "train", **extra: Any) -> tuple:
        net = network("NeuralNetworkMiniBatch")
        history = getattr(net, method)(X, y, epochs=3, lr=0.7, **extra)
        return np.array(history), [net.params[k] for k in sorted(net.params)]

    history, trained = call(train)
    training = {**state, "y": y, "epochs": 3, "lr": 0.7, "steps": 3}
    b.add("NeuralNetworkScratch.train", training, ("params", "X", "y", "lr", "epochs"),
          {"losses": [history], "parameters": trained})
    history, trained = call(train, "train_minibatch", batch_size=len(X))
    b.add("NeuralNetworkMiniBatch.train_minibatch", {**training, "batch_size": len(X)},
          ("params", "X", "y", "lr", "epochs", "batch_size"), {"losses": [history], "parameters": trained})
    return b.cases


#: Exercises with nothing a student could copy as a value, and why.
NOT_PROBED = {
    "relu_derivative": "0s and 1s: nothing that is not a comparison of the input with 0",
}

#: Shipped oracles accepted although the probe finds them: {module.function: why}.
_TORCH_AUTOGRAD = ("torch autograd, the oracle issue 17 names for the visible backward checks: torch evaluates and "
                   "differentiates the network, where the exercise asks for NumPy's forward pass and the delta "
                   "recursion")
ACCEPTED = {
    "assignments.backprop.checks.Autograd.forward": _TORCH_AUTOGRAD,
    "assignments.backprop.checks.Autograd.gradients": _TORCH_AUTOGRAD,
}
