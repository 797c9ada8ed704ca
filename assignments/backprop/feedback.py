"""Plots for backprop.py: decision boundaries of the student's networks on XOR, AND and the two spirals.

The expected behaviour is the data itself: each point is coloured by its true class, so a good boundary (the
black 0.5 contour) separates the colours. Every number on a plot comes from the student's own code (its neuron's
outputs through its own ``sigmoid``, its networks' ``predict``), except the XOR plot's expected loss curve: exact
gradient descent from the parameters we put into the student's network, recorded with the checks' expected values
(``checks.EXPECTED``). The settings the checks grade with (XOR's learning rate and epochs, the spirals) are
grading.yml's; nothing here computes an exercise.
"""
from __future__ import annotations

import numpy as np

from assignments.backprop.checks import (EXPECTED, XOR_SIZES, correctly_classified, grading_thresholds,
                                         standardised_spirals, xor_start)
from autograder import datasets
from autograder.feedback import Context, FeedbackProblem, Gatherer, Plot, curve, level, numbers

GRID = 70                      # grid points per side: 4,900 predictions, a smooth boundary at little cost
SINGLE_LR, SINGLE_EPOCHS = 1.0, 1000        # the contract's defaults for train_single_neuron
#: Brief minibatch training on the standardised spirals: 82-92 % training accuracy in about 0.3 s on an idle
#: core, enough to see the boundary follow the arms (lr 10 often sits at a loss of 0.5 for 30 epochs first).
SPIRAL_SIZES, SPIRAL_LR, SPIRAL_EPOCHS, SPIRAL_BATCH = [2, 24, 24, 1], 8.0, 300, 20
SEED = 0


def _grid(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    axis = np.linspace(lo, hi, GRID)
    gx, gy = np.meshgrid(axis, axis)
    return axis, axis, np.column_stack([gx.ravel(), gy.ravel()])


def _boundary(title: str, X: np.ndarray, y: np.ndarray, prob: np.ndarray, xs: np.ndarray, ys: np.ndarray,
              **extra) -> dict:
    return {"kind": "boundary", "title": title, "xs": xs, "ys": ys, "prob": prob.reshape(len(ys), len(xs)),
            "X": X, "labels": y.reshape(-1), "xlabel": "x1", "ylabel": "x2", **extra}


def _accuracy(prob: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(correctly_classified(prob, y)))


def single_neuron(ctx: Context) -> Plot:
    xs, ys, grid = _grid(-0.5, 1.5)
    axes, said = [], []
    for name, (X, y) in (("AND", datasets.make_and()), ("XOR", datasets.make_xor())):
        w, b, losses = ctx.student.train_single_neuron(X, y, lr=SINGLE_LR, epochs=SINGLE_EPOCHS, seed=SEED)
        w = numbers(w, f"w from train_single_neuron on {name}", size=2).reshape(2, 1)
        b = numbers(b, f"b from train_single_neuron on {name}", size=1)[0]
        # The neuron's outputs through the student's own sigmoid (the 0.5 contour is the line X @ w + b = 0).
        prob = numbers(ctx.student.sigmoid(grid @ w + b), "sigmoid on the grid", size=len(grid))
        on_data = numbers(ctx.student.sigmoid(X @ w + b), "sigmoid on the four inputs", size=4)
        axes.append(_boundary(f"one sigmoid neuron on {name}", X, y, prob, xs, ys, point_size=70))
        said.append(f"{name}: outputs {', '.join(f'{p:.2f}' for p in on_data)} on (0,0), (0,1), (1,0), "
                    f"(1,1); final loss {numbers(losses, 'losses')[-1]:.3g}")
    return Plot(axes, summary="; ".join(said) + ".")


def xor_network(ctx: Context) -> Plot:
    thresholds = grading_thresholds()
    lr, epochs = thresholds["xor_lr"], int(thresholds["xor_epochs"])
    X, y = datasets.make_xor()
    xs, ys, grid = _grid(-0.5, 1.5)
    net = ctx.student.NeuralNetworkScratch(XOR_SIZES, seed=SEED)
    problem = ctx.student.probe("set_params", net, xor_start())
    if problem:
        raise FeedbackProblem(f"the grader could not set the network's parameters: {problem}")
    losses = numbers(net.train(X, y, epochs=epochs, lr=lr), "the losses returned by train")
    prob = numbers(net.predict(grid), "predict(grid)", size=len(grid))
    on_data = numbers(net.predict(X), "predict(X)", size=4)
    loss_axes = {"kind": "curves", "title": "training loss", "xlabel": "epoch", "ylabel": "loss (MSE)",
                 "logy": True, "clip_factor": 1e3,
                 "series": [curve("your network", losses),
                            curve("gradient descent from the same start", EXPECTED["xor_losses"], style="expected"),
                            level("a constant 0.5 (0.25)", 0.25)]}
    return Plot([_boundary(f"{XOR_SIZES} network on XOR", X, y, prob, xs, ys, point_size=70), loss_axes],
                summary=f"Outputs {', '.join(f'{p:.2f}' for p in on_data)} on (0,0), (0,1), (1,0), (1,1) after "
                        f"{epochs} epochs at lr = {lr:g}; accuracy {_accuracy(on_data, y):.0%}.")


def spiral_network(ctx: Context) -> Plot:
    X, y = standardised_spirals(int(grading_thresholds()["spiral_points"]))
    xs, ys, grid = _grid(-2.2, 2.2)
    net = ctx.student.NeuralNetworkMiniBatch(SPIRAL_SIZES, seed=SEED)
    losses = numbers(net.train_minibatch(X, y, epochs=SPIRAL_EPOCHS, lr=SPIRAL_LR, batch_size=SPIRAL_BATCH),
                     "the losses returned by train_minibatch")
    prob = numbers(net.predict(grid), "predict(grid)", size=len(grid))
    on_data = numbers(net.predict(X), "predict(X)", size=len(X))
    if not np.all(np.isfinite(on_data)):
        raise FeedbackProblem("predict(X) returned NaN or inf after training: did the training diverge?")
    loss_axes = {"kind": "curves", "title": "training loss (mean over each epoch's minibatches)",
                 "xlabel": "epoch", "ylabel": "loss (MSE)", "logy": True, "clip_factor": 1e3,
                 "series": [curve("your network", losses), level("a constant 0.5 (0.25)", 0.25)]}
    return Plot([_boundary(f"{SPIRAL_SIZES} network on the spirals", X, y, prob, xs, ys, point_size=12),
                 loss_axes],
                summary=f"Training accuracy {_accuracy(on_data, y):.0%} after {SPIRAL_EPOCHS} epochs of minibatches "
                        f"of {SPIRAL_BATCH} at lr = {SPIRAL_LR:g}; final loss {losses[-1]:.3g}.")


GATHERERS = [
    Gatherer("ex4", "single_neuron", "One sigmoid neuron: AND versus XOR",
             "AND is linearly separable: the 0.5 line cuts (1, 1) off from the rest. XOR is not: no line works, "
             "so the neuron's outputs stay near 0.5 on all four points and the loss stalls near 0.25.",
             single_neuron),
    Gatherer("ex6", "xor_network", "A [2, 4, 1] network trained on XOR",
             "The hidden layer builds a new representation in which XOR is separable: the boundary bends around "
             "the diagonal, (0,1) and (1,0) land on the red side, and the loss falls towards 0. Trained from "
             "parameters the grader sets, a correct network's loss lies on the dashed curve of exact gradient "
             "descent.", xor_network),
    Gatherer("ex7", "spirals", "A deeper network, minibatch training, on the two spirals",
             "A brief minibatch training already bends the boundary along the arms (most points on their colour's "
             "side) while the loss decreases, noisily.", spiral_network, budget=6.0),
]
