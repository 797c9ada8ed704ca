"""Plots for pytorch_basics.py: the four-step loop's losses, DataLoader minibatches, and fit_cubic against x^3.

Torch objects stay in the worker: the probes (``probes.py``) build the models from injected weights and send back
plain numbers. The plotted runs have fixed inputs (``checks.PLOT_FOUR_STEPS``, ``checks.PLOT_LOADER``: data,
initial weights w = 0, the minibatches), so their expected curves are recorded values (``checks.EXPECTED``: the
oracle's exact trajectories in the kit, numbers in the student bundle); nothing here computes a training run.
``fit_cubic`` trains for about a second, so its plot reuses the predictions its check already asked for (the
model's own output, read by the probe ``cubic_model_facts``).
"""
from __future__ import annotations

import numpy as np

from assignments.pytorch_basics.checks import (ASSIGNMENT, EXPECTED, HELD_OUT_RANGE, PLOT_FOUR_STEPS, PLOT_LOADER,
                                               as_column, best_line, least_squares, r2)
from autograder import config
from autograder.feedback import Context, FeedbackProblem, Gatherer, Plot, curve, level, numbers

REUSE_PROBES = ("cubic_model_facts",)
#: Points of fit_cubic's plot when its check did not run (or failed before predicting).
CUBIC_GRID = 161


def _losses(result: dict, what: str) -> np.ndarray:
    if not isinstance(result, dict) or "losses" not in result:
        raise FeedbackProblem(f"{what} did not return the (model, losses) pair")
    return numbers(result["losses"], f"the losses of {what}")


def four_steps(ctx: Context) -> Plot:
    X, y, w0, b0, lr, epochs = PLOT_FOUR_STEPS.full_batch()
    result = ctx.student.probe("train_linear_from", X, as_column(y), w0, b0, lr, epochs)
    if not result.get("pair", True):
        raise FeedbackProblem(f"train_linear_model returned a {result.get('returned')}, not (model, losses)")
    losses = _losses(result, "train_linear_model")
    params = least_squares(X, y)
    optimum = float(np.mean((X @ params[:-1] + params[-1] - y) ** 2))
    axes = {"kind": "curves", "xlabel": "epoch", "ylabel": "nn.MSELoss", "logy": True, "clip_factor": 1e3,
            "series": [curve("expected", EXPECTED["plot_four_steps"], style="expected"),
                       curve("your train_linear_model", losses), level(f"least squares ({optimum:.3g})", optimum)]}
    return Plot([axes], summary=f"{len(losses)} losses, from {losses[0]:.3g} to {losses[-1]:.3g}.")


def loader_training(ctx: Context) -> Plot:
    X, y, w0, b0, passes, lr = PLOT_LOADER.minibatches()
    result = ctx.student.probe("train_with_given_batches", X, as_column(y), w0, b0, passes, lr, PLOT_LOADER.epochs)
    losses = _losses(result, "train_with_loader")
    series = [curve("full batch, same lr (for comparison)", EXPECTED["plot_loader_full_batch"], style="context",
                    color=3),
              curve(f"your train_with_loader (batch_size {PLOT_LOADER.batch_size})", losses, color=0)]
    if len(result.get("passes") or []) == PLOT_LOADER.epochs:
        series.append(curve("expected on the same minibatches", EXPECTED["plot_loader"], style="expected"))
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
        seed = 0
        x = np.linspace(-HELD_OUT_RANGE, HELD_OUT_RANGE, CUBIC_GRID, dtype=np.float32).reshape(-1, 1)
        facts = ctx.student.probe("cubic_model_facts", ctx.student.call_kept("fit_cubic", seed=seed), x, seed=seed)
    if not facts.get("callable"):
        raise FeedbackProblem(f"fit_cubic returned a {facts.get('type')}, not a model")
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    pred = numbers((facts.get("pred") or {}).get("values"), "model(x)", size=x.size)
    order = np.argsort(x)
    x, pred = x[order], pred[order]
    target = x ** 3
    line = best_line(x, target)
    bar = config.load().assignments[ASSIGNMENT].thresholds["cubic_r2_min"]
    axes = {"kind": "curves", "xlabel": "x", "ylabel": "y", "legend": "upper left", "series": [
        curve("best straight line", line, x=x, style="context", color=4),
        curve(f"your fit_cubic(seed={seed}) model", pred, x=x, color=0),
        curve("y = x^3", target, x=x, style="expected")]}
    return Plot([axes], summary=f"R^2 = {r2(pred, target):.3f} on {x.size} points of [{x[0]:.2g}, {x[-1]:.2g}] "
                                f"(the check asks for {bar:g}; a straight line gets {r2(line, target):.2f}).")


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
