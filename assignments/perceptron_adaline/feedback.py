"""Plots for perceptron_adaline.py: the perceptron on a separable and a non-separable pair of iris species, the
gradient-descent path in the (beta_1, beta_2) plane, Adaline's three modes, random search against gradient descent.

Every curve of the student's comes from their own code, run on fixed data (iris from scikit-learn, the lecture's
``make_regression`` set with its seed 42). What they are compared with is computed here, in plain NumPy, from the
handout's closed forms on those fixed data, or recorded from the oracle, never the reference: the least-squares
solution (``np.linalg.lstsq``, the trusted counterpart of the student's ``normal_equation``), the loss contours of
``1/2 mean((X beta - y)^2)`` around it, and batch gradient descent on the MSE with an intercept (recorded from the
oracle: it is Adaline's batch mode, an exercise's answer), which is both the expected batch-mode curve of Adaline and
random search's competitor.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from autograder import datasets
from autograder.feedback import (Context, FeedbackProblem, Gatherer, Plot, curve, describe_final, diverged, level, number,
                                 numbers, points)
from autograder.recorded import Recorded
from autograder.sandbox import StudentError

GRID = 70                      # grid points per side of the decision-region plot: 4,900 predictions in one call
PERCEPTRON_EPOCHS, PERCEPTRON_SEED = 15, 0   # shuffled passes: setosa/versicolor is error-free from epoch 2 on,
                                             # versicolor/virginica never is (20 to 50 errors per pass)
REGRESSION_SEED = 42           # the lecture notebook's make_regression(random_state=42)
PATH_LR, PATH_STEPS = 0.1, 50  # the contract's defaults, the notebook's run: 0.9^50 of the distance is left
CONTOUR_FRACTIONS = (1.0, 1 / 4, 1 / 16, 1 / 64)   # loss contours at these fractions of the excess loss at beta = 0
ADALINE_SPLIT_SEED = 1         # the 70/30 split of versicolor/virginica (seed 0 puts an unluckily hard test set aside)
ADALINE_TRAIN = 70
#: Adaline's modes and random search's competitor: lr 0.1 is well below the critical rate of about 0.65 of batch
#: mode on these standardised rows, and on-line mode still jitters visibly at it.
DESCENT_LR = 0.1
MODES_EPOCHS = 30
MINIBATCH = 10
SEARCH_TRIALS, SEARCH_SCALE, SEARCH_SEED = 300, 1.0, 0
CROSS = 0.03                   # half-width of a solution's "+" mark, as a fraction of the axis range


# --- data and trusted closed forms (fixed inputs only) ----------------------------------------------------------

@lru_cache(maxsize=None)
def _iris() -> tuple[np.ndarray, np.ndarray]:
    return datasets.load_iris()


@lru_cache(maxsize=None)
def _setosa_versicolor() -> tuple[np.ndarray, np.ndarray]:
    """Setosa (0) and versicolor (1), sepal length and petal length in cm: linearly separable."""
    X, target = _iris()
    keep = target < 2
    return X[keep][:, [0, 2]], target[keep]


@lru_cache(maxsize=None)
def _versicolor_virginica_raw() -> tuple[np.ndarray, np.ndarray]:
    """Versicolor (0) and virginica (1), the same two features: they overlap."""
    X, target = _iris()
    keep = target > 0
    return X[keep][:, [0, 2]], target[keep] - 1


@lru_cache(maxsize=None)
def _adaline_rows() -> tuple[np.ndarray, np.ndarray]:
    """Versicolor (0) and virginica (1), sepal width and petal length, the 70 training rows of a seeded 70/30 split,
    standardised with their own mean and standard deviation (the lecture's setup)."""
    X, target = _iris()
    keep = target > 0
    X, y = X[keep][:, [1, 2]], (target[keep] - 1).astype(np.float64)
    train = np.random.default_rng(ADALINE_SPLIT_SEED).permutation(len(y))[:ADALINE_TRAIN]
    X_train = X[train]
    return (X_train - X_train.mean(axis=0)) / X_train.std(axis=0), y[train]


@lru_cache(maxsize=None)
def _regression() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return datasets.make_regression(1000, 2, noise=10, seed=REGRESSION_SEED)


@lru_cache(maxsize=None)
def _least_squares_path_plane() -> dict:
    """The regression set's least-squares solution and the ellipses where 1/2 mean((X beta - y)^2) is constant."""
    X, y, _ = _regression()
    best = np.linalg.lstsq(X, y, rcond=None)[0]
    lowest = 0.5 * float(np.mean((X @ best - y) ** 2))
    # l(beta) = lowest + 1/2 (beta - best)^T H (beta - best), H = X^T X / n: level sets are ellipses.
    eigenvalues, vectors = np.linalg.eigh(X.T @ X / len(y))
    excess = 0.5 * float(np.mean(y ** 2)) - lowest
    angle = np.linspace(0.0, 2.0 * np.pi, 181)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    ellipses = [best[:, None] + vectors @ (np.sqrt(2.0 * fraction * excess / eigenvalues)[:, None] * circle)
                for fraction in CONTOUR_FRACTIONS]
    return {"best": best, "lowest": lowest, "ellipses": ellipses}


#: Batch gradient descent on the Adaline rows from w = 0, b = 0 at DESCENT_LR: the expected batch-mode curve and
#: random search's competitor. It is Adaline's batch mode, ex4's answer, so it ships as recorded numbers only.
PLOTS = Recorded("perceptron_adaline", {
    "plot_batch_descent": lambda oracle: oracle.adaline_run(
        *_adaline_rows(), np.zeros(_adaline_rows()[0].shape[1]), 0.0, DESCENT_LR,
        epochs=max(SEARCH_TRIALS, MODES_EPOCHS), batch_size=len(_adaline_rows()[1]), seed=0)["losses"],
})


def _descent_on_adaline_rows() -> tuple[np.ndarray, float]:
    """The MSE after each step of batch gradient descent (recorded), and the least-squares MSE (closed form)."""
    X, y = _adaline_rows()
    X1 = np.column_stack([X, np.ones(len(y))])
    optimum = float(np.mean((X1 @ np.linalg.lstsq(X1, y, rcond=None)[0] - y) ** 2))
    return np.asarray(PLOTS["plot_batch_descent"], dtype=np.float64), optimum


def _cross(label: str, centre: np.ndarray, half: tuple[float, float], **style) -> dict:
    """A "+" mark at ``centre`` drawn as one curve (its two strokes separated by NaN)."""
    cx, cy = float(centre[0]), float(centre[1])
    return curve(label, [cy, cy, np.nan, cy - half[1], cy + half[1]],
                 x=[cx - half[0], cx + half[0], np.nan, cx, cx], **style)


def _not_written(exc: StudentError, what: str) -> str:
    if exc.exc_type == "NotImplementedError":
        return f"{what} is not implemented yet."
    return f"{what} raised {exc.exc_type}: {exc.message[:120]}"


# --- gatherers (student side through the proxy) ------------------------------------------------------------------

def perceptron(ctx: Context) -> Plot:
    X, y = _setosa_versicolor()
    model = ctx.student.Perceptron(2)
    errors = numbers(model.train(X, y, epochs=PERCEPTRON_EPOCHS, shuffle=True, seed=PERCEPTRON_SEED),
                     "the errors returned by train", size=PERCEPTRON_EPOCHS)
    w = numbers(model.w, "w after train", size=2)
    b = number(model.b, "b after train")
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, GRID)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, GRID)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    regions = numbers(model.forward(grid), "forward(X) on a grid", size=len(grid))
    notes = []
    try:
        accuracy = f"evaluate gives {number(model.evaluate(X, y), 'evaluate(X, y)'):.2f}"
    except StudentError as exc:
        accuracy = ""
        notes.append(_not_written(exc, "evaluate"))
    except FeedbackProblem as exc:
        accuracy = ""
        notes.append(str(exc))
    Xn, yn = _versicolor_virginica_raw()
    other = ctx.student.Perceptron(2)
    overlap = numbers(other.train(Xn, yn, epochs=PERCEPTRON_EPOCHS, shuffle=True, seed=PERCEPTRON_SEED),
                      "the errors returned by train", size=PERCEPTRON_EPOCHS)
    epochs = np.arange(1, PERCEPTRON_EPOCHS + 1, dtype=np.float64)
    errors_axes = {"kind": "curves", "title": "errors per epoch (shuffled passes)", "xlabel": "epoch",
                   "ylabel": "examples with err != 0", "series": [
                       curve("setosa vs versicolor (separable)", errors, x=epochs, color=0),
                       curve("versicolor vs virginica (overlapping)", overlap, x=epochs, color=1),
                       level("no error: the rule has converged", 0.0)]}
    boundary_axes = {"kind": "boundary", "title": "your perceptron's decision regions", "xs": xs, "ys": ys,
                     "prob": regions.reshape(GRID, GRID), "X": X, "labels": y, "xlabel": "sepal length (cm)",
                     "ylabel": "petal length (cm)", "point_size": 14}
    clean = np.flatnonzero(errors == 0)
    said = (f"no error from epoch {int(clean[0]) + 1} on" if clean.size and np.all(errors[clean[0]:] == 0)
            else f"{int(errors[-1])} errors in the last epoch")
    summary = (f"Setosa vs versicolor: {said}; w = ({w[0]:.3g}, {w[1]:.3g}), b = {b:.3g}"
               f"{'; ' + accuracy if accuracy else ''}. Versicolor vs virginica: {int(overlap[-1])} errors in "
               f"the last epoch, at least {int(overlap.min())} in every epoch.")
    return Plot([boundary_axes, errors_axes], summary=summary, notes=notes)


def descent_path(ctx: Context) -> Plot:
    X, y, coef = _regression()
    plane = _least_squares_path_plane()
    best = plane["best"]
    path = numbers(ctx.student.gradient_descent_path(X, y, lr=PATH_LR, steps=PATH_STEPS),
                   "the path returned by gradient_descent_path", size=2 * (PATH_STEPS + 1)).reshape(-1, 2)
    notes, theirs = [], None
    try:
        theirs = numbers(ctx.student.normal_equation(X, y), "normal_equation(X, y)", size=2)
    except StudentError as exc:
        notes.append(_not_written(exc, "normal_equation"))
    except FeedbackProblem as exc:
        notes.append(str(exc))
    outer = plane["ellipses"][0]
    half = (CROSS * float(np.ptp(outer[0])), CROSS * float(np.ptp(outer[1])))
    series = [curve("loss contours" if i == 0 else "", ellipse[1], x=ellipse[0], style="context", color=5)
              for i, ellipse in enumerate(plane["ellipses"])]
    series += [points("", path[:, 0], path[:, 1]),
               curve("your gradient-descent path", path[:, 1], x=path[:, 0], color=0)]
    if theirs is not None:
        series.append(_cross("your normal_equation", theirs, half, color=1))
    series.append(_cross("least squares (np.linalg.lstsq)", best, half, style="expected"))
    plane_axes = {"kind": "curves", "title": "the path in the (beta_1, beta_2) plane", "xlabel": "beta_1",
                  "ylabel": "beta_2", "series": series}
    with np.errstate(over="ignore", invalid="ignore"):
        excess = 0.5 * np.mean((X @ path.T - y[:, None]) ** 2, axis=0) - plane["lowest"]
    loss_axes = {"kind": "curves", "title": "the loss along your path, above its minimum", "xlabel": "step",
                 "ylabel": "l(beta_k) - l(least squares)", "logy": True, "clip_factor": 1e3, "series": [
                     curve("your path", excess, color=0)]}
    end = path[-1]
    summary = (f"After {PATH_STEPS} steps at lr = {PATH_LR:g} your path ends at ({end[0]:.4g}, {end[1]:.4g}); "
               f"least squares is ({best[0]:.4g}, {best[1]:.4g})")
    if theirs is not None:
        summary += f", your normal_equation gives ({theirs[0]:.4g}, {theirs[1]:.4g})"
    summary += (f". The coefficients make_regression drew: ({coef[0]:.4g}, {coef[1]:.4g}); the noise keeps least "
                "squares a little away from them.")
    return Plot([plane_axes, loss_axes], summary=summary, notes=notes)


def adaline_modes(ctx: Context) -> Plot:
    X, y = _adaline_rows()
    descent, optimum = _descent_on_adaline_rows()
    modes = (("on-line (batch_size 1)", 1), (f"minibatch (batch_size {MINIBATCH})", MINIBATCH),
             (f"batch (batch_size {len(y)})", len(y)))
    epochs = np.arange(1, MODES_EPOCHS + 1, dtype=np.float64)
    series, said = [], []
    for i, (label, batch_size) in enumerate(modes):
        model = ctx.student.Adaline(X.shape[1])
        losses = numbers(model.train(X, y, lr=DESCENT_LR, epochs=MODES_EPOCHS, batch_size=batch_size, seed=0),
                         f"the losses returned by train(..., batch_size={batch_size})", size=MODES_EPOCHS)
        series.append(curve(label, losses, x=epochs, color=i))
        tail = losses[MODES_EPOCHS // 2:]
        if diverged(losses):
            said.append(f"{label.split(' (')[0]}: diverges (ends at {describe_final(losses)})")
        else:
            said.append(f"{label.split(' (')[0]}: the last {len(tail)} epochs between {np.min(tail):.3g} and "
                        f"{np.max(tail):.3g}")
    series.append(curve("batch, expected", descent[:MODES_EPOCHS], x=epochs, style="expected", color=2))
    series.append(level(f"least squares ({optimum:.3g})", optimum))
    axes = {"kind": "curves", "xlabel": "epoch (one pass over the 70 training rows)",
            "ylabel": "MSE on all rows after the epoch", "logy": True, "clip_factor": 1e3,
            "ylim": [optimum * 0.9, None], "series": series}
    return Plot([axes], summary="; ".join(said) + ".")


def random_versus_descent(ctx: Context) -> Plot:
    X, y = _adaline_rows()
    descent, optimum = _descent_on_adaline_rows()
    w, b, losses = ctx.student.random_search(X, y, n_trials=SEARCH_TRIALS, scale=SEARCH_SCALE, seed=SEARCH_SEED)
    losses = numbers(losses, "the losses returned by random_search", size=SEARCH_TRIALS)
    w = numbers(w, "w returned by random_search", size=X.shape[1])
    b = number(b, "b returned by random_search")
    evaluations = np.arange(1, SEARCH_TRIALS + 1, dtype=np.float64)
    axes = {"kind": "curves", "xlabel": "loss evaluations (random trials, or gradient steps)",
            "ylabel": "best MSE so far", "series": [
                curve(f"your random search (scale {SEARCH_SCALE:g})", losses, x=evaluations, color=1),
                curve(f"batch gradient descent (lr {DESCENT_LR:g})", descent[:SEARCH_TRIALS], x=evaluations,
                      style="context", color=0),
                level(f"least squares ({optimum:.3g})", optimum)]}
    with np.errstate(invalid="ignore"):
        rises = int(np.sum(np.diff(losses) > 0))
    reached = int(np.argmax(descent <= losses[-1])) + 1 if np.any(descent <= losses[-1]) else None
    summary = (f"Your random search: best MSE {losses[-1]:.3g} after {SEARCH_TRIALS} trials, at w = ({w[0]:.3g}, "
               f"{w[1]:.3g}), b = {b:.3g}")
    summary += f" (the curve rises {rises} times: it should never increase)" if rises else ""
    summary += (f". Gradient descent is below that after {reached} steps" if reached else "")
    summary += f" and ends at {descent[SEARCH_TRIALS - 1]:.3g}; least squares: {optimum:.3g}."
    return Plot([axes], summary=summary)


GATHERERS = [
    Gatherer("ex1", "perceptron", "The perceptron on two pairs of iris species",
             "Setosa and versicolor are linearly separable: after a few updates a whole epoch passes without an "
             "error, the weights stop, and the boundary (the black line) puts each colour on its own side. "
             "Versicolor and virginica overlap: the errors never reach 0 and keep jumping from epoch to epoch.",
             perceptron),
    Gatherer("ex2", "path", "Gradient descent in the (beta_1, beta_2) plane (make_regression, seed 42)",
             "From beta = 0 the path heads straight down the loss, perpendicular to the contours, with steps that "
             "shrink as it nears the least-squares solution (dashed +), where your normal_equation's + should sit. "
             "Above its minimum, the loss along the path falls geometrically: a straight line on the log scale.", descent_path),
    Gatherer("ex4", "modes", "Adaline on-line, in minibatches and in batch (iris versicolor vs virginica, lr 0.1)",
             "Batch mode descends smoothly and lies on the dashed curve; minibatches wobble slightly above the "
             "least-squares level; on-line mode, one example per update, jumps the most from epoch to epoch.",
             adaline_modes),
    Gatherer("ex6", "random_search", "Random search against gradient descent, same number of loss evaluations",
             "Random search improves in rare steps and stays far above the least-squares level; gradient descent "
             "(dash-dotted) reaches it within a few dozen steps.", random_versus_descent),
]
