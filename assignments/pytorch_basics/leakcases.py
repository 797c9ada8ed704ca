"""The leak scan's cases for pytorch_basics (kit only; see autograder/release/leakprobe.py): each exercise on fixed
inputs with the reference's results on them, or in NOT_PROBED with the reason there is nothing to copy; ACCEPTED
names shipped oracles that compute an answer by a method the exercise does not teach (issue 17 allows them)."""
from __future__ import annotations

from types import ModuleType

import numpy as np

from autograder.release.leakprobe import Builder, Case, call


def cases(ref: ModuleType) -> list[Case]:
    import torch
    from torch import nn

    b = Builder("pytorch_basics")
    rng = np.random.default_rng(31)
    X = rng.normal(size=(8, 3))
    y = X @ np.array([0.8, -1.1, 0.4]) + 0.2 + 0.1 * rng.normal(size=8)
    X_t = torch.tensor(X, dtype=torch.float32)
    y_t = torch.tensor(y, dtype=torch.float32).view(-1, 1)
    w0, b0 = np.array([0.3, -0.2, 0.1]), 0.05

    def linear() -> nn.Linear:
        model = nn.Linear(3, 1)
        with torch.no_grad():
            model.weight.copy_(torch.tensor(w0[None, :], dtype=torch.float32))
            model.bias.fill_(b0)
        return model

    data = {"X_t": X_t, "y_t": y_t, "X": X, "y": y, "w": w0, "b": b0, "W": w0[None, :], "lr": 0.1, "epochs": 4,
            "model": linear(), "steps": 4}

    def train_linear() -> tuple:
        model, losses = ref.train_linear_model(X_t, y_t, lr=0.1, epochs=4, model=linear())
        return np.array(losses), [p.detach().numpy().copy() for p in model.parameters()]

    losses, trained = call(train_linear)
    f32 = dict(rtol=1e-4, atol=1e-6)
    b.add("train_linear_model", data, ("X_t", "y_t", "lr", "epochs", "model"),
          {"losses": [losses], "parameters": trained}, **f32)

    def loader_training() -> np.ndarray:
        loader = ref.make_loader(X_t, y_t, batch_size=3, shuffle=False)
        return np.array(ref.train_with_loader(linear(), loader, lr=0.1, epochs=3))

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_t, y_t), batch_size=3, shuffle=False)
    b.add("train_with_loader", {**data, "loader": loader, "epochs": 3, "steps": 3, "batch_size": 3},
          ("model", "loader", "lr", "epochs"), {"losses": [call(loader_training)]}, **f32)

    torch.manual_seed(3)
    layer1, layer2 = nn.Linear(3, 5), nn.Linear(5, 2)
    W1, bb1 = layer1.weight.detach().numpy().copy(), layer1.bias.detach().numpy().copy()
    W2, bb2 = layer2.weight.detach().numpy().copy(), layer2.bias.detach().numpy().copy()
    merged = call(ref.collapse_linear_stack, layer1, layer2)
    b.add("collapse_linear_stack", {"layer1": layer1, "layer2": layer2, "W1": W1, "b1": bb1, "W2": W2, "b2": bb2},
          ("layer1", "layer2"), {"merged": [p.detach().numpy() for p in merged.parameters()]}, **f32)
    return b.cases


#: Exercises with nothing a student could copy as a value, and why.
NOT_PROBED = {
    "to_tensors": "the inputs themselves, as float32 tensors",
    "make_loader": "a DataLoader: its batches are the inputs' rows",
    "make_mlp": "a model design with torch's random initial weights",
    "fit_cubic": "a trained model of the student's own design (judged by R^2, not by a value)",
    "CubicNet.__init__": "a model design with torch's random initial weights",
    "CubicNet.forward": "the network's own layers applied to the input: nothing but the layers' weights to copy",
}

#: Shipped oracles accepted although the probe finds them: {module.function: why}.
ACCEPTED: dict[str, str] = {}
