"""Plots for linear_neuron.py: the student's fitted line and loss histories beside the expected behaviour.

The student's neurons start from injected parameters (a = b = 0, w = 0), so a correct submission's curve lies
exactly on the dashed one. The expected curves, the critical rate and the least-squares optimum (dotted) are the
oracle's, for these fixed data sets: read through ``PLOTS`` (computed in the kit, recorded in the student bundle).
Learning rates and epochs that the checks also use are read from grading.yml.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from autograder import config, datasets
from autograder.feedback import (Context, FeedbackProblem, Gatherer, Plot, curve, describe_final, diverged, level,
                                 number, numbers, points)
from autograder.recorded import Recorded
from autograder.sandbox import StudentError

EPOCH = "epoch"
MSE = "loss (MSE)"
#: Fractions of the critical rate 2 / lambda_max: two safe, one just below the edge, one above it.
SWEEP_FRACTIONS = (0.1, 0.5, 0.95, 1.1)
SWEEP_EPOCHS = 40
MODES_LR, MODES_EPOCHS, MODES_BATCH = 0.5, 100, 32
#: Raw house features: 2 / lambda_max = 1.9e-10; standardised: 0.38.
HOUSE_RAW_SAFE, HOUSE_RAW_UNSAFE, HOUSE_STD_LR, HOUSE_EPOCHS = 1e-10, 3e-10, 0.1, 50
HOUSE_ROWS = 400               # of the 1,088 training rows: 2 / lambda_max stays 1.9e-10 (raw) and 0.38
SCATTER_POINTS = 300


# --- data (trusted side) ------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _grading() -> tuple[tuple[float, int], tuple[float, int]]:
    """(lr, epochs) of the abalone checks, 1-D and multi-input, from grading.yml."""
    thresholds = config.load().assignments["linear_neuron"].thresholds
    return ((thresholds["abalone_1d_lr"], int(thresholds["abalone_1d_epochs"])),
            (thresholds["abalone_multi_lr"], int(thresholds["abalone_multi_epochs"])))


@lru_cache(maxsize=None)
def _abalone_1d() -> tuple[np.ndarray, np.ndarray]:
    table = datasets.abalone_columns()
    return table["length"], table["rings"]


@lru_cache(maxsize=None)
def _abalone() -> tuple[np.ndarray, np.ndarray]:
    """All 10 abalone features (sex one-hot) and rings."""
    X, y, _ = datasets.abalone_features()
    return X, y


@lru_cache(maxsize=None)
def _house_train() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sample of the training rows (the curves look the same; each call ships the features to the worker)."""
    X, y, _ = datasets.house_features()
    train, test = datasets.train_test_split_indices(len(X), seed=0)
    train = np.sort(np.random.default_rng(0).choice(train, size=HOUSE_ROWS, replace=False))
    return X[train], y[train], X[test[:HOUSE_ROWS // 4]]


def _sweep_rates(critical: float) -> list[float]:
    """The learning rates of the sweep: SWEEP_FRACTIONS of the critical rate, rounded to 2 digits."""
    return [float(f"{fraction * critical:.2g}") for fraction in SWEEP_FRACTIONS]


def _standardised(X: np.ndarray, stats: dict) -> np.ndarray:
    return (X - stats["mean"]) / stats["scale"]


# What the oracle says about these data sets. Least squares with an intercept is the same fit on standardised
# features as on raw ones, so the optimum levels are computed on the raw features.
PLOTS = Recorded("linear_neuron", {
    "plot_abalone_line": lambda oracle: oracle.least_squares(*_abalone_1d()),
    "plot_abalone_optimum": lambda oracle: oracle.least_squares_errors(*_abalone_1d())["mse"],
    "plot_critical_rate": lambda oracle: oracle.critical_rate(_abalone_1d()[0]),
    "plot_sweep": lambda oracle: [oracle.losses(*_abalone_1d(), 0.0, 0.0, lr, SWEEP_EPOCHS)
                                  for lr in _sweep_rates(oracle.critical_rate(_abalone_1d()[0]))],
    "plot_modes_batch": lambda oracle: oracle.losses(*_abalone_1d(), 0.0, 0.0, MODES_LR, MODES_EPOCHS),
    "plot_multi": lambda oracle: {**oracle.scaling(_abalone()[0]),
                                  "curve": oracle.losses(oracle.standardised(_abalone()[0])[0], _abalone()[1],
                                                         np.zeros(_abalone()[0].shape[1]), 0.0, *_grading()[1]),
                                  "optimum": oracle.least_squares_errors(*_abalone())["mse"]},
    "plot_house": lambda oracle: {**oracle.scaling(_house_train()[0]),
                                  "curve": oracle.losses(oracle.standardised(_house_train()[0])[0], _house_train()[1],
                                                         np.zeros(_house_train()[0].shape[1]), 0.0, HOUSE_STD_LR,
                                                         HOUSE_EPOCHS),
                                  "optimum": oracle.least_squares_errors(*_house_train()[:2])["mse"]},
})


def _subsample(n: int, k: int) -> np.ndarray:
    return np.sort(np.random.default_rng(0).choice(n, size=min(n, k), replace=False))


# --- gatherers (student side through the proxy) ---------------------------------------------------------------

def _neuron_1d(ctx: Context, x: np.ndarray, y: np.ndarray, lr: float, epochs: int, mode: str = "batch",
               batch_size: int = 32) -> tuple[object, np.ndarray]:
    """A fresh LinearNeuron1D started at a = b = 0, trained; returns it and its history."""
    neuron = ctx.student.LinearNeuron1D()
    neuron.a, neuron.b = 0.0, 0.0
    neuron.fit(x, y, lr=lr, epochs=epochs, mode=mode, batch_size=batch_size)
    return neuron, numbers(neuron.history, f"history after fit(..., mode={mode!r})")


def fitted_line(ctx: Context) -> Plot:
    x, y = _abalone_1d()
    lr, epochs = _grading()[0]
    neuron, _ = _neuron_1d(ctx, x, y, lr, epochs)
    grid = np.linspace(x.min(), x.max(), 50)
    line = numbers(neuron.forward(grid), "forward(x) on 50 lengths", size=grid.size)
    a, b = number(neuron.a, "a"), number(neuron.b, "b")
    (slope,), intercept = PLOTS["plot_abalone_line"]
    keep = _subsample(len(x), SCATTER_POINTS)
    axes = {"kind": "curves", "xlabel": "length", "ylabel": "rings", "series": [
        points("abalone (a sample)", x[keep], y[keep]),
        curve("least squares", slope * grid + intercept, x=grid, style="expected"),
        curve("your neuron", line, x=grid, color=0)]}
    return Plot([axes], summary=f"Your neuron after {epochs} epochs at lr = {lr:g}: rings = {a:.3g} length "
                                f"+ {b:.3g}. Least squares: rings = {slope:.3g} length + {intercept:.3g}.")


def learning_rate_sweep(ctx: Context) -> Plot:
    x, y = _abalone_1d()
    critical = PLOTS["plot_critical_rate"]
    series, said = [], []
    for i, (lr, expected) in enumerate(zip(_sweep_rates(critical), PLOTS["plot_sweep"])):
        _, history = _neuron_1d(ctx, x, y, lr, SWEEP_EPOCHS)
        label = f"lr = {lr:g} ({'above' if lr > critical else 'below'} the critical rate)"
        series.append(curve(label, history, color=i))
        series.append(curve("", expected, style="expected", color=i))
        said.append(f"lr = {lr:g}: {'diverges' if diverged(history) else 'ends at'} {describe_final(history)}")
    notes = []
    try:
        theirs = number(ctx.student.critical_learning_rate(x), "critical_learning_rate(x)")
        notes.append(f"Your critical_learning_rate(x) on these lengths: {theirs:.4g} (2 / lambda_max = "
                     f"{critical:.4g}).")
    except StudentError as exc:
        notes.append(f"critical_learning_rate: {'not implemented yet' if exc.exc_type == 'NotImplementedError' else exc.exc_type}.")
    except FeedbackProblem as exc:
        notes.append(str(exc))
    axes = {"kind": "curves", "xlabel": EPOCH, "ylabel": MSE, "logy": True, "clip_factor": 1e3, "series": series}
    return Plot([axes], summary="; ".join(said) + ".", notes=notes)


def three_modes(ctx: Context) -> Plot:
    x, y = _abalone_1d()
    series, said = [], []
    for i, mode in enumerate(("batch", "minibatch", "sgd")):
        _, history = _neuron_1d(ctx, x, y, MODES_LR, MODES_EPOCHS, mode=mode, batch_size=MODES_BATCH)
        label = f"{mode} (batch_size {MODES_BATCH})" if mode == "minibatch" else mode
        series.append(curve(label, history, color=i))
        tail = history[-MODES_EPOCHS // 2:]
        said.append(f"{mode}: last {len(tail)} epochs between {np.min(tail):.3g} and {np.max(tail):.3g}")
    series.insert(0, curve("batch, expected", PLOTS["plot_modes_batch"], style="expected"))
    optimum = PLOTS["plot_abalone_optimum"]
    series.append(level(f"least squares ({optimum:.3g})", optimum))
    axes = {"kind": "curves", "xlabel": EPOCH, "ylabel": "loss on the epoch's examples (MSE)", "logy": True,
            "ylim": [optimum / 20, None], "clip_factor": 1e3, "series": series}
    return Plot([axes], summary="; ".join(said) + ".")


def multi_input(ctx: Context) -> Plot:
    X, y = _abalone()
    expected = PLOTS["plot_multi"]
    X = _standardised(X, expected)
    lr, epochs = _grading()[1]
    neuron = ctx.student.LinearNeuron()
    neuron.w = np.zeros(X.shape[1])
    neuron.b = 0.0
    neuron.fit(X, y, lr=lr, epochs=epochs)
    history = numbers(neuron.history, "history")
    optimum = expected["optimum"]
    axes = {"kind": "curves", "xlabel": EPOCH, "ylabel": MSE, "logy": True, "clip_factor": 1e3, "series": [
        curve("expected", expected["curve"], style="expected"),
        curve("your LinearNeuron", history),
        level(f"least squares ({optimum:.3g})", optimum)]}
    return Plot([axes], summary=f"Final MSE {describe_final(history)} after {epochs} epochs at lr = {lr:g}; least "
                                f"squares reaches {optimum:.3g}.")


def raw_versus_standardised(ctx: Context) -> Plot:
    X, y, X_test = _house_train()
    expected = PLOTS["plot_house"]
    notes = []
    try:
        X_std = numbers(ctx.student.standardize(X, X_test)[0], "standardize(...)[0]", size=X.size).reshape(X.shape)
    except StudentError as exc:
        if exc.exc_type != "NotImplementedError":
            raise
        X_std = _standardised(X, expected)
        notes.append("standardize is not implemented yet: the grader standardised the features itself here.")
    runs = [("raw features", X, HOUSE_RAW_SAFE), ("raw features", X, HOUSE_RAW_UNSAFE),
            ("standardised", X_std, HOUSE_STD_LR)]
    series, said = [], []
    for i, (name, features, lr) in enumerate(runs):
        neuron = ctx.student.LinearNeuron()
        neuron.w = np.zeros(features.shape[1])
        neuron.b = 0.0
        neuron.fit(features, y, lr=lr, epochs=HOUSE_EPOCHS)
        history = numbers(neuron.history, "history")
        series.append(curve(f"{name}, lr = {lr:g}", history, color=i))
        said.append(f"{name} at lr = {lr:g}: {'diverges' if diverged(history) else 'ends at'} "
                    f"{describe_final(history)}")
    series.insert(2, curve("", expected["curve"], style="expected", color=2))
    optimum = expected["optimum"]
    series.append(level(f"least squares ({optimum:.3g})", optimum))
    axes = {"kind": "curves", "xlabel": EPOCH, "ylabel": "loss (MSE, dollars squared)", "logy": True,
            "clip_factor": 1e3, "series": series}
    return Plot([axes], summary="; ".join(said) + ".", notes=notes)


GATHERERS = [
    Gatherer("ex2", "fitted_line", "Your LinearNeuron1D on abalone: length -> rings",
             "Trained as the abalone check trains it (batch mode, from a = b = 0), your line lies on the "
             "least-squares line (dashed).", fitted_line),
    Gatherer("ex3", "lr_sweep", "Loss history for four learning rates (batch mode, from a = b = 0)",
             "Below the critical rate 2 / lambda_max the loss falls smoothly (faster for larger lr); above it, it "
             "grows epoch after epoch. Each solid curve should lie on the dashed one of its colour.",
             learning_rate_sweep),
    Gatherer("ex4", "modes", "Batch, minibatch and SGD on the same data (lr = 0.5)",
             "Batch descends smoothly (on the dashed curve); minibatch is noisy around it; SGD, one example per "
             "step, jumps the most. All three hover above the least-squares level.", three_modes),
    Gatherer("ex5", "multi_input", "The multi-input LinearNeuron on standardised abalone (all 10 features)",
             "Your loss follows the dashed curve down to the least-squares level (sklearn's LinearRegression).",
             multi_input),
    Gatherer("ex6", "house", "House prices: raw features versus standardised ones",
             "Raw features (square feet, zip codes) only tolerate lr around 1e-10 and barely move; a bit more "
             "diverges. After standardisation, lr = 0.1 converges in a few dozen epochs (dashed: expected).",
             raw_versus_standardised),
]
