"""Plots for pytorch_basics.py: the four-step loop's losses, DataLoader minibatches, and fit_cubic against x^3.

Torch objects stay in the worker: the probes of ``autograder/probes/pytorch_basics.py`` build the models from
injected weights and send back plain numbers. The expected curves are exact gradient-descent trajectories in
float64 NumPy from the same weights (for DataLoader training, on the very minibatches the loader handed out).
``fit_cubic`` trains for about a second, so its plot reuses the predictions its check already asked for (the
model's own output, read by the probe ``cubic_model_facts``).
"""
from __future__ import annotations

import numpy as np

from autograder import datasets
from autograder.feedback import Context, FeedbackProblem, Gatherer, Plot, curve, level, numbers

REUSE_PROBES = ("cubic_model_facts",)
LINEAR_N, LINEAR_M, LINEAR_LR, LINEAR_EPOCHS = 100, 3, 0.1, 40
LOADER_BATCH, LOADER_LR, LOADER_EPOCHS = 16, 0.05, 20
CUBIC_RANGE = 2.0              # the check's held-out range [-2, 2]; training data x ~ N(0, 1) thin out there


def _linear_data() -> tuple[np.ndarray, np.ndarray]:
    X, y, _, _ = datasets.make_linear(n=LINEAR_N, m=LINEAR_M, noise=0.3, seed=3)
    return X, y


def mse_trajectory(X: np.ndarray, y: np.ndarray, batches: list[list[list[int]]] | None, lr: float,
                   epochs: int) -> np.ndarray:
    """nn.MSELoss + SGD from w = 0, b = 0, in float64: per epoch the loss before the step (full batch), or the
    mean of the minibatch losses when ``batches`` gives each epoch's minibatches."""
    w, b = np.zeros(X.shape[1]), 0.0
    out = []
    for epoch in range(epochs):
        losses = []
        for idx in (batches[epoch] if batches is not None else [list(range(len(y)))]):
            Xb, yb = X[idx], y[idx]
            err = Xb @ w + b - yb
            losses.append(np.mean(err ** 2))
            w, b = w - lr * 2 * Xb.T @ err / len(idx), b - lr * 2 * np.mean(err)
        out.append(np.mean(losses))
    return np.array(out)


def _losses(result: dict, what: str) -> np.ndarray:
    if not isinstance(result, dict) or "losses" not in result:
        raise FeedbackProblem(f"{what} did not return the (model, losses) pair")
    return numbers(result["losses"], f"the losses of {what}")


def four_steps(ctx: Context) -> Plot:
    X, y = _linear_data()
    result = ctx.student.probe("train_linear_from", X, y, np.zeros(LINEAR_M), 0.0, LINEAR_LR, LINEAR_EPOCHS)
    if not result.get("pair", True):
        raise FeedbackProblem(f"train_linear_model returned a {result.get('returned')}, not (model, losses)")
    losses = _losses(result, "train_linear_model")
    design = np.column_stack([X, np.ones(len(y))])
    optimum = float(np.mean((design @ np.linalg.lstsq(design, y, rcond=None)[0] - y) ** 2))
    axes = {"kind": "curves", "xlabel": "epoch", "ylabel": "nn.MSELoss", "logy": True, "clip_factor": 1e3,
            "series": [curve("expected", mse_trajectory(X, y, None, LINEAR_LR, LINEAR_EPOCHS), style="expected"),
                       curve("your train_linear_model", losses), level(f"least squares ({optimum:.3g})", optimum)]}
    return Plot([axes], summary=f"{len(losses)} losses, from {losses[0]:.3g} to {losses[-1]:.3g}.")


def loader_training(ctx: Context) -> Plot:
    X, y = _linear_data()
    result = ctx.student.probe("train_with_recorded_loader", X, y, np.zeros(LINEAR_M), 0.0, LOADER_BATCH, True,
                               LOADER_LR, LOADER_EPOCHS)
    losses = _losses(result, "train_with_loader")
    passes = result.get("passes") or []
    series = [curve("full batch, same lr (for comparison)", mse_trajectory(X, y, None, LOADER_LR, LOADER_EPOCHS),
                    style="context", color=3)]
    if len(passes) >= LOADER_EPOCHS:
        series.append(curve("expected on the same minibatches",
                            mse_trajectory(X, y, passes, LOADER_LR, LOADER_EPOCHS), style="expected"))
    series.insert(1, curve(f"your train_with_loader (batch_size {LOADER_BATCH})", losses, color=0))
    axes = {"kind": "curves", "xlabel": "epoch", "ylabel": "mean minibatch loss (MSE)", "logy": True,
            "clip_factor": 1e3, "series": series}
    return Plot([axes], summary=f"{len(losses)} epoch losses, from {losses[0]:.3g} to {losses[-1]:.3g}.")


def cubic_fit(ctx: Context) -> Plot:
    calls = [(args, kwargs, value) for args, kwargs, value in ctx.reused("cubic_model_facts")
             if isinstance(value, dict) and value.get("pred") is not None]
    if calls:
        args, kwargs, facts = calls[0]
        x, seed = args[1], kwargs.get("seed", 0)
    else:  # the check did not run here (or failed before predicting): train once, within this plot's budget
        seed, x = 0, np.linspace(-CUBIC_RANGE, CUBIC_RANGE, 161, dtype=np.float32).reshape(-1, 1)
        facts = ctx.student.probe("cubic_model_facts", ctx.student.call_kept("fit_cubic", seed=seed), x, seed=seed)
    if not facts.get("callable"):
        raise FeedbackProblem(f"fit_cubic returned a {facts.get('type')}, not a model")
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    pred = numbers((facts.get("pred") or {}).get("values"), "model(x)", size=x.size)
    order = np.argsort(x)
    x, pred = x[order], pred[order]
    target = x ** 3
    r2 = 1.0 - np.sum((pred - target) ** 2) / np.sum((target - target.mean()) ** 2)
    line = np.polyval(np.polyfit(x, target, 1), x)
    axes = {"kind": "curves", "xlabel": "x", "ylabel": "y", "legend": "upper left", "series": [
        curve("best straight line", line, x=x, style="context", color=4),
        curve(f"your fit_cubic(seed={seed}) model", pred, x=x, color=0),
        curve("y = x^3", target, x=x, style="expected")]}
    return Plot([axes], summary=f"R^2 = {r2:.3f} on {x.size} points of [{x[0]:.2g}, {x[-1]:.2g}] (a straight line "
                                f"gets {1 - np.sum((line - target) ** 2) / np.sum((target - target.mean()) ** 2):.2f}).")


GATHERERS = [
    Gatherer("ex2", "four_steps", "nn.Linear trained with the four steps (full batch, from w = 0)",
             "The loss falls smoothly to the least-squares level, on the dashed curve: one SGD step per epoch, "
             "gradients zeroed every time.", four_steps),
    Gatherer("ex3", "loader", "DataLoader minibatches versus full batch (same lr, from w = 0)",
             "With several updates per epoch, minibatch training gets lower faster per epoch than full batch. "
             "Your curve follows the dashed one, computed on the same minibatches.", loader_training),
    Gatherer("ex5", "cubic", "fit_cubic's model against y = x^3 on [-2, 2]",
             "The network's curve bends with x^3 (dashed) across [-2, 2], ends included, where a straight line "
             "cannot.", cubic_fit, budget=8.0),
]
