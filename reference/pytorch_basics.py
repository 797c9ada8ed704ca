"""PyTorch basics: tensors, nn.Linear and the four-step loop, DataLoader, stacking and non-linearity, an MLP for y = x^3.

Fill in every `# YOUR CODE HERE` and remove the `raise NotImplementedError()` below it. Grade your work with
`make grade ASSIGNMENT=pytorch_basics`; the handout is assignments/pytorch_basics/README.md.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


# --- Exercise 1: from NumPy to tensors ------------------------------------------------------------------------

def to_tensors(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Convert a data set to float32 tensors ready for ``nn.Linear(m, 1)``.

    Args:
        X: inputs, a NumPy array of shape (n, m), one row per example.
        y: targets, a NumPy array of shape (n,).

    Returns:
        ``(X_t, y_t)``: float32 tensors of shapes (n, m) and (n, 1), holding the same values as X and y.
    """
    # TODO: torch.tensor(..., dtype=torch.float32) (NumPy arrays are float64, nn.Linear's weights float32), and
    # y.view(-1, 1) so that y_t has the (n, 1) shape of the model's output: an (n,) target would broadcast
    # against (n, 1) predictions to an (n, n) difference inside nn.MSELoss.
    ### BEGIN SOLUTION
    X_t = torch.tensor(X, dtype=torch.float32)
    y_t = torch.tensor(y, dtype=torch.float32).view(-1, 1)
    return X_t, y_t
    ### END SOLUTION


# --- Exercise 2: a linear neuron in PyTorch, the four steps ---------------------------------------------------

def train_linear_model(X_t: torch.Tensor, y_t: torch.Tensor, lr: float = 0.1, epochs: int = 100,
                       model: nn.Module | None = None) -> tuple[nn.Module, list[float]]:
    """Train a linear neuron by full-batch gradient descent on the mean squared error.

    Args:
        X_t: float32 tensor (n, m); y_t: float32 tensor (n, 1).
        lr: learning rate of ``torch.optim.SGD``.
        epochs: number of updates (one per epoch, on all n examples).
        model: the model to train; when None, a new ``nn.Linear(m, 1)``.

    Returns:
        ``(model, losses)``: the trained model and one Python float per epoch, the MSE before that epoch's step.
    """
    # TODO: nn.MSELoss() and torch.optim.SGD(model.parameters(), lr=lr), then every epoch the four steps:
    #   1. optimizer.zero_grad()      (otherwise loss.backward() adds to the previous epoch's gradients)
    #   2. forward pass and loss
    #   3. loss.backward()
    #   4. optimizer.step()
    # and record loss.item() (a Python float, not a tensor).
    ### BEGIN SOLUTION
    if model is None:
        model = nn.Linear(X_t.shape[1], 1)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()               # 1. forget last epoch's gradients
        loss = criterion(model(X_t), y_t)   # 2. forward pass and loss on all n examples
        loss.backward()                     # 3. d loss / d parameters
        optimizer.step()                    # 4. one gradient-descent update
        losses.append(loss.item())
    return model, losses
    ### END SOLUTION


# --- Exercise 3: minibatches with DataLoader ------------------------------------------------------------------

def make_loader(X_t: torch.Tensor, y_t: torch.Tensor, batch_size: int = 32, shuffle: bool = True) -> DataLoader:
    """A DataLoader over ``TensorDataset(X_t, y_t)`` yielding ``(xb, yb)`` minibatches of ``batch_size`` rows.

    Every example appears once per epoch; the last minibatch is smaller when batch_size does not divide n.
    With ``shuffle=True`` the order is drawn anew at every epoch.
    """
    ### BEGIN SOLUTION
    return DataLoader(TensorDataset(X_t, y_t), batch_size=batch_size, shuffle=shuffle)
    ### END SOLUTION


def train_with_loader(model: nn.Module, loader: DataLoader, lr: float = 0.1, epochs: int = 10) -> list[float]:
    """Train ``model`` with SGD on the MSE, one update per minibatch of ``loader``.

    Returns:
        One Python float per epoch: the mean of that epoch's minibatch losses (each taken before its update).
    """
    # TODO: the same four steps as in train_linear_model, now inside `for xb, yb in loader:`.
    ### BEGIN SOLUTION
    criterion = nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    epoch_losses = []
    for _ in range(epochs):
        batch_losses = []
        for xb, yb in loader:
            opt.zero_grad()
            batch_loss = criterion(model(xb), yb)
            batch_loss.backward()
            opt.step()
            batch_losses.append(batch_loss.item())
        epoch_losses.append(sum(batch_losses) / len(batch_losses))
    return epoch_losses
    ### END SOLUTION


# --- Exercise 4: two linear layers are one linear layer -------------------------------------------------------

def collapse_linear_stack(layer1: nn.Linear, layer2: nn.Linear) -> nn.Linear:
    """One ``nn.Linear`` computing ``layer2(layer1(x))`` (both layers have biases).

    With the chapter's row convention, (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2). Careful: PyTorch stores
    ``layer.weight`` with shape (out_features, in_features), the transpose of the chapter's W, and computes
    ``x @ weight.T + bias``.
    """
    # TODO: create nn.Linear(layer1.in_features, layer2.out_features) and set its weight and bias inside
    # `with torch.no_grad():` (e.g. merged.weight.copy_(...)). Do not change layer1 or layer2.
    ### BEGIN SOLUTION
    W1, b1 = layer1.weight, layer1.bias     # (hidden, in), (hidden,)
    W2, b2 = layer2.weight, layer2.bias     # (out, hidden), (out,)
    merged = nn.Linear(layer1.in_features, layer2.out_features)
    with torch.no_grad():
        merged.weight.copy_(W2 @ W1)
        merged.bias.copy_(W2 @ b1 + b2)
    return merged
    ### END SOLUTION


# --- Exercise 5: a non-linearity, and an MLP that fits y = x^3 ------------------------------------------------

def make_mlp(in_features: int, hidden: int = 16, out_features: int = 1) -> nn.Sequential:
    """``nn.Sequential(Linear(in_features, hidden), ReLU(), Linear(hidden, out_features))``."""
    ### BEGIN SOLUTION
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features))
    ### END SOLUTION


def make_cubic_data(n: int = 1000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Given (not an exercise): n points x ~ N(0, 1) and y = x^3, as float32 tensors of shape (n, 1)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, generator=generator)
    return x, x ** 3


def fit_cubic(seed: int = 0) -> nn.Module:
    """Train a network of your design on ``make_cubic_data(1000, seed)`` and return it.

    The grader measures R^2 of the returned model on its own points drawn uniformly from [-2, 2] (inputs of
    shape (n, 1), float32) and requires at least 0.98; training must finish within 30 s on one CPU core.
    A linear model cannot get there: y = x^3 bends. Return the network you trained: standard torch.nn layers
    (make_mlp's, or a CubicNet of exercise 6) whose parameters moved from their initial values.
    """
    x, y = make_cubic_data(1000, seed)
    torch.manual_seed(seed)  # the same initial weights at every run
    # TODO: a model from make_mlp or CubicNet (how many hidden units?), a loss, an optimiser (SGD, or
    # torch.optim.Adam, which copes better with targets as large as x^3), and the four steps for a few hundred to a
    # few thousand epochs.
    # Training data are sparse near |x| = 2: look at your fit there before you submit (see the handout).
    ### BEGIN SOLUTION
    model = make_mlp(1, hidden=64)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(500):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    return model
    ### END SOLUTION


# --- Exercise 6: the MLP as a subclass of nn.Module --------------------------------------------------------------

class CubicNet(nn.Module):
    """The MLP for y = x^3 written as the notebook writes it: a subclass of ``nn.Module`` whose ``__init__``
    registers Linear(1, hidden), a non-linearity and Linear(hidden, 1) as attributes, and whose ``forward`` applies
    them in that order. It has 3 * hidden + 1 parameters (hidden weights and hidden biases into the hidden layer,
    hidden weights and one bias into the output)."""

    def __init__(self, hidden: int = 64) -> None:
        """Create the three layers and register them: assign each module to an attribute of ``self``."""
        super().__init__()  # first: nn.Module's bookkeeping must exist before a layer is assigned to self
        # TODO: three attributes holding modules: the first Linear, the non-linearity (a module such as nn.ReLU,
        # not the function torch.relu: a function is not registered), the second Linear. Use the hidden argument.
        ### BEGIN SOLUTION
        self.fc1 = nn.Linear(1, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, 1)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x of shape (n, 1), float32 -> predictions of shape (n, 1): the registered layers, in order."""
        # TODO: one line; call the modules (self.layer(x)), never their .forward directly.
        ### BEGIN SOLUTION
        return self.fc2(self.relu(self.fc1(x)))
        ### END SOLUTION
