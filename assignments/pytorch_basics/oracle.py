"""The expected-value maths of pytorch_basics, in float64 NumPy: what each exercise should give, and what each
known mistake of the catalogue (``mistakes.py``) gives instead.

This module implements the exercises (gradient descent on the MSE, minibatch training, the collapse of two linear
layers, the MLP's forward pass), so it never reaches students: hidden checks call it directly, and visible checks
and the report's plots read its values through :data:`checks.EXPECTED` (computed here in the kit, recorded into
the student bundle's ``expected.json`` by ``make release`` for their fixed inputs).

Conventions are PyTorch's: ``nn.MSELoss()`` is mean((u - y)^2) with no 1/2, so its gradient is 2/n X^T (u - y);
``layer.weight`` is (out_features, in_features) and a layer computes ``x @ weight.T + bias``.

The ``*_outcomes`` functions return ``{<what the check compares>: value, "mistakes": [candidate, ...]}``, where a
candidate is ``{"name": <a mistake of the catalogue>, "details": {...}, <what it changes>: value}``, most likely
first. A candidate that gives the same value as the correct answer on the given inputs (minibatch mistakes when an
epoch is one minibatch) is left out: on those inputs it is not a mistake.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

#: Two values closer than this are the same (float64 round-off): the mistake does not show on these inputs.
SAME_RTOL = 1e-12


def _differs(a: Any, b: Any) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape != b.shape or not np.allclose(a, b, rtol=SAME_RTOL, atol=SAME_RTOL)


def _candidates(correct: dict, mistakes: list[dict]) -> list[dict]:
    """The candidates that differ from the correct answer in what they change."""
    return [m for m in mistakes
            if any(_differs(value, correct[key]) for key, value in m.items() if key not in ("name", "details"))]


# --- ex2: full-batch gradient descent with nn.MSELoss and SGD ---------------------------------------------------

def mse_gradient(X: np.ndarray, y: np.ndarray, params: np.ndarray) -> tuple[float, np.ndarray]:
    """(mean((u - y)^2), its gradient with respect to [w..., b]) at params = [w..., b], u = X w + b."""
    err = X @ params[:-1] + params[-1] - y
    return float(np.mean(err ** 2)), np.append(2.0 / len(y) * X.T @ err, 2.0 * np.mean(err))


def gradient_descent(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float, epochs: int, *,
                     accumulate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent on the MSE from (w, b): (parameters [w..., b] after ``epochs`` updates, losses),
    losses[k] the MSE before update k and losses[epochs] after the last one. ``accumulate``: each gradient is
    added to the previous ones before the step (what a missing zero_grad does)."""
    params = np.append(np.asarray(w, dtype=np.float64), float(b))
    total = np.zeros_like(params)
    losses = []
    for _ in range(epochs):
        loss, grad = mse_gradient(X, y, params)
        losses.append(loss)
        if accumulate:
            total = total + grad
            grad = total
        params = params - lr * grad
    losses.append(mse_gradient(X, y, params)[0])
    return params, np.array(losses)


def train_linear_outcomes(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float, epochs: int,
                          other_lrs: Sequence[float]) -> dict:
    """train_linear_model from (w, b): the parameters and the losses before each step, and the known mistakes.
    ``other_lrs``: learning rates a student might have written instead of the argument."""
    params, losses = gradient_descent(X, y, w, b, lr, epochs)
    correct = {"params": params, "losses": losses[:epochs]}
    acc_params, acc_losses = gradient_descent(X, y, w, b, lr, epochs, accumulate=True)
    mistakes = [
        {"name": "loss_after_step", "losses": losses[1:]},
        {"name": "half_mse", "losses": losses[:epochs] / 2},
        {"name": "parameters_never_change", "params": np.append(w, b), "losses": np.full(epochs, losses[0])},
        {"name": "missing_zero_grad", "params": acc_params, "losses": acc_losses[:epochs]},
    ]
    for other in other_lrs:
        if other != lr:
            other_params, other_losses = gradient_descent(X, y, w, b, other, epochs)
            mistakes.append({"name": "ignores_lr", "details": {"used": other, "given": lr},
                             "params": other_params, "losses": other_losses[:epochs]})
    # The chapter's 1/2 kept in the loss (0.5 * nn.MSELoss()): halved gradients, so the parameters of lr / 2, and
    # halved losses. After ignores_lr: where lr / 2 is one of other_lrs the parameters alone cannot tell the two.
    half_params, half_losses = gradient_descent(X, y, w, b, lr / 2, epochs)
    mistakes.append({"name": "half_mse", "params": half_params, "losses": half_losses[:epochs] / 2})
    return {**correct, "mistakes": _candidates(correct, mistakes)}


# --- ex3: one SGD update per minibatch ------------------------------------------------------------------------

def minibatch_descent(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, passes: Sequence[Sequence[Sequence[int]]],
                      lr: float, *, accumulate: bool = False, step_per_epoch: bool = False
                      ) -> tuple[np.ndarray, list[list[float]]]:
    """SGD on the MSE over the given minibatches (``passes[epoch][batch]`` = row indices): (parameters [w..., b]
    at the end, each epoch's minibatch losses, each taken before its update). ``accumulate``: gradients add up
    across minibatches (no zero_grad); ``step_per_epoch``: one update per epoch, with the gradient of the epoch's
    last minibatch (the step outside the minibatch loop)."""
    params = np.append(np.asarray(w, dtype=np.float64), float(b))
    total = np.zeros_like(params)
    per_epoch = []
    for batches in passes:
        losses, grad = [], np.zeros_like(params)
        for idx in batches:
            idx = np.asarray(idx, dtype=int)
            loss, grad = mse_gradient(X[idx], y[idx], params)
            losses.append(loss)
            if accumulate:
                total = total + grad
                grad = total
            if not step_per_epoch:
                params = params - lr * grad
        if step_per_epoch and batches:
            params = params - lr * grad
        per_epoch.append(losses)
    return params, per_epoch


def loader_outcomes(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float,
                    passes: Sequence[Sequence[Sequence[int]]], lr: float) -> dict:
    """train_with_loader from (w, b) on the given minibatches: the parameters, each epoch's loss (the plain mean
    of its minibatch losses), and the known mistakes."""
    def run(rate: float = lr, **mistake: bool) -> tuple[dict, list[list[float]]]:
        params, per_epoch = minibatch_descent(X, y, w, b, passes, rate, **mistake)
        return {"params": params, "losses": np.array([np.mean(losses) for losses in per_epoch])}, per_epoch

    correct, per_epoch = run()
    sizes = [[len(idx) for idx in batches] for batches in passes]
    mistakes = [
        {"name": "loader_never_steps", **run(0.0)[0]},
        {"name": "loader_missing_zero_grad", **run(accumulate=True)[0]},
        {"name": "one_update_per_epoch", **run(step_per_epoch=True)[0]},
        {"name": "epoch_loss_is_a_sum", "losses": np.array([np.sum(losses) for losses in per_epoch])},
        {"name": "epoch_loss_weighted_by_size",
         "losses": np.array([np.average(losses, weights=s) for losses, s in zip(per_epoch, sizes)])},
        {"name": "epoch_loss_is_the_last_batch", "losses": np.array([losses[-1] for losses in per_epoch])},
    ]
    return {**correct, "mistakes": _candidates(correct, mistakes)}


# --- ex4: two stacked linear layers are one ---------------------------------------------------------------------

def collapse(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one layer (weight (out, in), bias (out,)) equal to layer2(layer1(x)), in PyTorch's layout: the chapter's
    (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2) with every W transposed."""
    return W2 @ W1, W2 @ b1 + b2


def collapse_outcomes(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, X: np.ndarray) -> dict:
    """The collapsed layer's output on X, and what the known mistakes output instead."""
    W, b = collapse(W1, b1, W2, b2)
    correct = {"out": X @ W.T + b}
    mistakes = []
    if W1.shape == W2.shape:  # the product in the other order fits only when every size is the same
        mistakes.append({"name": "product_wrong_order", "out": X @ (W1 @ W2).T + b})
    mistakes.append({"name": "bias_without_b1_w2", "out": X @ W.T + b2})
    return {**correct, "mistakes": _candidates(correct, mistakes)}


# --- ex5: the MLP --------------------------------------------------------------------------------------------

def mlp_forward(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Linear, ReLU, Linear on X (n, in): ReLU(X W1^T + b1) W2^T + b2, weights in PyTorch's (out, in) layout."""
    return np.maximum(X @ W1.T + b1, 0.0) @ W2.T + b2
