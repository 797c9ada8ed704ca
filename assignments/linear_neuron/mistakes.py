"""The mistake catalogue of linear_neuron: the known wrong versions of each exercise, as data.

Each :class:`~autograder.mistakes.Mistake` has a name (its id), what the grader saw, said in the chapter's words,
the section of the handout that states the rule it breaks, a title (shown as "Mistake:") and a replay. Every check
diagnoses the same way (:func:`autograder.mistakes.recognise`): which known mistake, replayed, reproduces what was
seen? The replays here rebuild a wrong answer from correct ingredients the caller supplies, never from the exercise
itself: the correct gradient (exact in the hidden checks, central differences in the visible ones), a step's
gradients at any point (:class:`GradientModel`), the residuals before and after a step, the rows a scaler was
fitted on. Only the critical learning rate's mistakes need the exercise's own maths to replay: the oracle replays
those (kit only), and the visible check reads values recorded for its fixed inputs.

This file ships to students: nothing in it computes an exercise's answer.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from autograder.mistakes import Convention, Mistake, catalogue

# --- the handout's sections, as a hint names them ----------------------------------------------------------------

LOSS = "Conventions, 'Loss of one example'"
AVERAGES = "Conventions, 'Gradients are averages'"
TOGETHER = "Conventions, 'One update moves both parameters, from the same point'"
HISTORY = "Conventions, 'History'"
SHAPES = "Conventions, 'Shapes'"
EXERCISE_1 = "Exercise 1"
EXERCISE_3 = "Exercise 3"
EXERCISE_4 = "Exercise 4"
EXERCISE_5 = "Exercise 5, the chapter's trap"
EXERCISE_6 = "Exercise 6"

# --- the rules the checks enforce (shown as "Rule:"), in the handout's words --------------------------------------

RULE_GRADIENTS = Convention("gradients", "the batch gradients are averages over the examples of the index set, of "
                            "the error u - y", AVERAGES, stated="dE/da = mean((u - y) x), dE/db = mean(u - y)")
RULE_UPDATE = Convention("update", "both gradients are taken at the current parameters, averaged over the index "
                         "set, and both parameters then move together against them", TOGETHER,
                         stated="compute both gradients first, then")
RULE_HISTORY = Convention("history", "one history value per iteration: the MSE on the index set, computed before "
                          "the update", HISTORY, stated="append the MSE mean((y - u)^2) on idx (no 1/2)")
RULE_HISTORY_LIST = Convention("history_list", "fit returns self.history, the list itself, and a second call "
                               "appends to it", HISTORY, stated="fit returns self.history, the list itself, and a "
                               "second call of fit keeps appending to it")
RULE_EPOCH = Convention("epoch_is_one_update", "fit(epochs=k) makes exactly k updates and appends k history values, "
                        "in every mode, and never stops early (not even when the loss grows or is not finite)",
                        "Conventions, 'An epoch is one update'",
                        stated="fit never stops early, not even when the loss grows or becomes inf or nan")
RULE_CRITICAL = Convention("critical_rate", "the critical learning rate is 2 / lambda_max, lambda_max the largest "
                           "eigenvalue of the Hessian H of the halved cost", EXERCISE_3,
                           stated="The grader asks for 2 / lambda_max of H as written above")
RULE_FLOATS = Convention("python_floats", "gradient_1d returns two Python floats (np.float64 is one; an array or an "
                         "np.float32 scalar is not)", EXERCISE_1,
                         stated="an np.float32 scalar is not a Python float and fails")
RULE_INIT = Convention("random_init", "__init__ draws a and b as floats from U[0, 1) (b, and w at the first fit, "
                       "for LinearNeuron) and starts history empty", "Exercise 2",
                       stated="sets self.a and self.b to random floats from U[0, 1)")
RULE_FORWARD = Convention("vectorised_forward", "forward(x) is a * x + b for an array of any shape, computed by "
                          "NumPy at once (no Python loop)", "Exercise 2", stated="without a Python loop")
RULE_CONTINUES = Convention("continues", "fit starts from the current parameters, so a second call continues where "
                            "the first stopped", "Exercise 2", stated="It starts from the current a and b")
RULE_MODES = Convention("modes", "the index set of each mode: all n examples, one random example, batch_size "
                        "distinct random examples", EXERCISE_4, stated="Only the index set changes")
RULE_RAISES = Convention("raises_before_update", "an unknown mode, or a batch_size outside 1..n in minibatch mode, "
                         "raises ValueError when fit is called, before any update", EXERCISE_4,
                         stated="the error comes when fit is called, before any update")
RULE_FRESH = Convention("fresh_randomness", "the random modes draw new indices at every iteration of every fit "
                        "(no reseeding inside fit)", EXERCISE_4, stated="Just do not reseed inside fit")
RULE_MULTI = Convention("multi_neuron", "LinearNeuron starts with w = None, draws w of shape (m,) from U[0, 1) only "
                        "when w is None, and forward(X) = X @ w + b has shape (n,)", "Exercise 5",
                        stated="fit(X, y, ...) first sets self.w = np.random.rand(m) only if w is None")
RULE_COLUMN_Y = Convention("column_y", "a y of shape (n, 1) gives exactly the result of y of shape (n,) or raises "
                           "ValueError, in every mode; it never broadcasts", "Exercise 5",
                           stated="Accept a y of shape (n, 1) by flattening it, or reject it with a ValueError")
RULE_NO_LEAK = Convention("no_leak", "the scaler is fitted on the training set only, then applied to both sets",
                          EXERCISE_6, stated="fits a sklearn.preprocessing.StandardScaler on X_train only")
RULE_STABLE_LR = Convention("stable_lr", "largest_stable_lr tries every candidate (they come unsorted), each a fresh "
                            "batch-mode LinearNeuron, and returns the largest whose history is all finite and ends "
                            "no higher than it starts; ValueError when none is", EXERCISE_6,
                            stated="The candidates come in any order (not sorted): try every one")
RULE_HOUSE = Convention("house_model", "train_house_model standardises with training statistics only, trains in "
                        "minibatch mode (batch_size 32) and returns the test MAE in dollars", EXERCISE_6,
                        stated="the mean absolute error on the test set in dollars")


# =================================================================================================================
# ex1: the two batch gradients. Replay: (the correct (dE/da, dE/db), x) -> what the mistake returns.
# =================================================================================================================

GRADIENT_1D = catalogue(
    Mistake("sign", "both gradients have the wrong sign: the error is taken as y - u instead of u - y", AVERAGES,
            title="a sign error", replay=lambda g, x: (-g[0], -g[1])),
    Mistake("sum", "the gradients are sums over the examples, not averages: a missing 1/n", AVERAGES,
            title="sums instead of averages", replay=lambda g, x: (len(x) * g[0], len(x) * g[1])),
    Mistake("double",
            "the gradients are twice too large: the 1/2 in E_i = 1/2 (y_i - u_i)^2 cancels the 2 of the square", LOSS,
            title="the derivative of the plain MSE", replay=lambda g, x: (2 * g[0], 2 * g[1])),
    Mistake("swapped", "grad_a and grad_b are swapped: the function returns (dE/da, dE/db) in that order", EXERCISE_1,
            title="swapped outputs", replay=lambda g, x: (g[1], g[0])),
    Mistake("no_x",
            "grad_a equals grad_b: the input x is missing from dE/da (the chain rule through u = a x + b)", LOSS,
            title="the input forgotten in dE/da", replay=lambda g, x: (g[1], g[1])),
    Mistake("product_of_means",
            "grad_a is mean(u - y) times mean(x): the mean of a product is not the product of the means", AVERAGES,
            title="the product of two means", replay=lambda g, x: (g[1] * float(np.mean(x)), g[1])),
)


# =================================================================================================================
# ex2 and ex5: one update step. Parameters are one vector theta = [a, b] or [w..., b]; the replay takes a
# GradientModel, theta and lr and returns the parameters the mistaken step leaves.
# =================================================================================================================

class GradientModel(Protocol):
    """The correct gradients of one step's batch loss E = mean of 1/2 (y - u)^2, u = X @ theta[:-1] + theta[-1]."""

    X: np.ndarray  # (n, m): one row per example of the index set

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """dE/dtheta at ``theta``: one value per weight, then dE/db."""

    def output_gradient(self, theta: np.ndarray) -> np.ndarray:
        """dE/du at ``theta``: one value per example."""


def _moved(theta: np.ndarray, lr: float, gradient: np.ndarray) -> np.ndarray:
    return theta - lr * gradient


def _scaled(factor: Callable[[GradientModel], float]) -> Callable[..., np.ndarray]:
    return lambda model, theta, lr: _moved(theta, lr, factor(model) * model.gradient(theta))


def _weights_first(model: GradientModel, theta: np.ndarray, lr: float) -> np.ndarray:
    moved = theta.copy()
    moved[:-1] = _moved(theta[:-1], lr, model.gradient(theta)[:-1])
    moved[-1] = _moved(theta[-1], lr, model.gradient(moved)[-1])
    return moved


def _b_first(model: GradientModel, theta: np.ndarray, lr: float) -> np.ndarray:
    moved = theta.copy()
    moved[-1] = _moved(theta[-1], lr, model.gradient(theta)[-1])
    moved[:-1] = _moved(theta[:-1], lr, model.gradient(moved)[:-1])
    return moved


def _only(block: slice) -> Callable[..., np.ndarray]:
    def replay(model: GradientModel, theta: np.ndarray, lr: float) -> np.ndarray:
        moved = theta.copy()
        moved[block] = _moved(theta[block], lr, model.gradient(theta)[block])
        return moved
    return replay


def _with_weight_gradient(weights: Callable[[GradientModel, np.ndarray, np.ndarray], np.ndarray]):
    """A step whose weight gradient is ``weights(model, theta, correct gradient)`` and whose dE/db is right."""
    def replay(model: GradientModel, theta: np.ndarray, lr: float) -> np.ndarray:
        gradient = model.gradient(theta)
        gradient[:-1] = weights(model, theta, gradient)
        return _moved(theta, lr, gradient)
    return replay


def _untransposed(model: GradientModel, theta: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    n, m = model.X.shape
    if n != m:
        raise ValueError("X @ (u - y) only exists when n == m")
    return model.X @ model.output_gradient(theta)


WEIGHTS, BIAS = slice(None, -1), slice(-1, None)


def _sequential(first: str, then: str, replay: Callable[..., np.ndarray]) -> Mistake:
    """The parameter ``first`` updated before the gradient of the parameter ``then`` is taken (the same mistake for
    both neurons, named with their letters)."""
    return Mistake(f"{first}_first",
                   f"{first} is updated first and dE/d{then} is then computed with the NEW {first}: a sequential "
                   "update; both gradients are computed before either parameter changes", TOGETHER,
                   title="a sequential update", replay=replay)


def _alone(moves: str, stays: str, block: slice) -> Mistake:
    """Only the parameter ``moves`` updated."""
    return Mistake(f"{moves}_only", f"only {moves} moves: {stays} keeps its value, but one update moves both "
                   "parameters", TOGETHER, title=f"{stays} never moves", replay=_only(block))


#: Steps that are the right one times a factor: the same for both neurons.
_SCALED_STEPS = (
    Mistake("sum",
            "the steps are n times too large: the gradients are sums over the examples, not averages (a missing "
            "1/n)", AVERAGES,
            title="sums instead of averages", replay=_scaled(lambda model: len(model.X))),
    Mistake("sign",
            "the parameters move UP the gradient: a sign error (the error is u - y, and the step goes against the "
            "gradient)", AVERAGES,
            title="gradient ascent", replay=_scaled(lambda model: -1.0)),
    Mistake("double", "the steps are twice too large: with E_i = 1/2 (y_i - u_i)^2 the 2 of the square cancels", LOSS,
            title="the derivative of the plain MSE", replay=_scaled(lambda model: 2.0)),
)

STEP_1D = catalogue(
    _sequential("a", "b", _weights_first),
    _sequential("b", "a", _b_first),
    *_SCALED_STEPS,
    _alone("a", "b", WEIGHTS),
    _alone("b", "a", BIAS),
)

STEP = catalogue(
    Mistake("no_transpose",
            "grad_w looks like X @ (u - y) / n, the chapter's trap: the transpose X.T is missing (X is (n, m), so "
            "only the transpose gives one value per feature)", EXERCISE_5,
            title="X instead of its transpose", replay=_with_weight_gradient(_untransposed)),
    _sequential("w", "b", _weights_first),
    _sequential("b", "w", _b_first),
    *_SCALED_STEPS,
    Mistake("divide_by_m",
            "grad_w is divided by the number of features m instead of the number of examples n", AVERAGES,
            title="the wrong count",
            replay=_with_weight_gradient(lambda model, theta, g: g[:-1] * len(model.X) / model.X.shape[1])),
    Mistake("scalar_grad",
            "every weight got the same step: the average was also taken over the features, where dE/dw has one "
            "value per feature", AVERAGES,
            title="one gradient for every weight",
            replay=_with_weight_gradient(lambda model, theta, g: np.full(len(g) - 1, np.mean(g[:-1])))),
    _alone("w", "b", WEIGHTS),
)


def step(model: GradientModel, theta: np.ndarray, lr: float, mistake: Mistake | None = None) -> np.ndarray:
    """One batch step of gradient descent from ``theta``, as the chapter has it, or as ``mistake`` takes it."""
    theta = np.array(theta, dtype=np.float64)
    if mistake is None:
        return _moved(theta, lr, model.gradient(theta))
    return mistake.replay(model, theta, lr)


def descend(model: GradientModel, theta: np.ndarray, lr: float, steps: int,
            mistake: Mistake | None = None) -> np.ndarray:
    """The parameters before and after each of ``steps`` steps: shape (steps + 1, len(theta)), row 0 the start."""
    path = [np.array(theta, dtype=np.float64)]
    for _ in range(steps):
        path.append(step(model, path[-1], lr, mistake))
    return np.array(path)


# =================================================================================================================
# ex3: what history holds. Replay: (the residuals u - y before the update, and after it) -> the value appended.
# =================================================================================================================

HISTORY_VALUES = catalogue(
    Mistake("after_update",
            "your history holds the MSE recorded after the update (at the new parameters), not with the predictions "
            "made before updating", HISTORY,
            title="the loss after the update", replay=lambda before, after: float(np.mean(after ** 2))),
    Mistake("sum", "your history holds the sum of squared errors, not their mean", HISTORY,
            title="the sum of squared errors", replay=lambda before, after: float(np.sum(before ** 2))),
    Mistake("half", "your history holds the mean of 1/2 (y - u)^2: history records the MSE, without the 1/2", HISTORY,
            title="the halved loss", replay=lambda before, after: float(np.mean(0.5 * before ** 2))),
    Mistake("root", "your history holds the root of the MSE, not the MSE itself", HISTORY,
            title="the root of the MSE", replay=lambda before, after: float(np.sqrt(np.mean(before ** 2)))),
    Mistake("absolute", "your history holds the mean absolute error, not the mean squared error", HISTORY,
            title="the mean absolute error", replay=lambda before, after: float(np.mean(np.abs(before)))),
)


# =================================================================================================================
# ex3: the critical learning rate. Replayed by the oracle (``oracle.critical_rate(x, mistake)``) only.
# =================================================================================================================

CRITICAL = catalogue(
    Mistake("factor_2", "it looks like the factor 2 is missing: the edge is 2 / lambda_max, not 1 / lambda_max",
            EXERCISE_3, title="the factor 2 missing"),
    Mistake("mean_x2_only",
            "it looks like mean(x^2) only: lambda_max is the largest eigenvalue of the whole matrix H, which also "
            "feels mean(x) and the 1 of b", EXERCISE_3, title="the curvature of a alone"),
    Mistake("one_over_mean_x2",
            "it looks like 1 / mean(x^2): the edge is 2 over the largest eigenvalue of the whole matrix H",
            EXERCISE_3, title="1 / mean(x^2)"),
    Mistake("smallest_eigenvalue", "it looks like the smallest eigenvalue: the edge is set by the LARGEST one",
            EXERCISE_3, title="the smallest eigenvalue"),
    Mistake("trace",
            "it looks like the trace of H (the sum of its eigenvalues): the edge uses the largest eigenvalue alone",
            EXERCISE_3, title="the trace of H"),
    Mistake("variance",
            "it looks like the variance of x in place of mean(x^2): H holds the raw second moment mean(x^2)",
            EXERCISE_3, title="the variance for the second moment"),
)


# =================================================================================================================
# ex6: which rows the scaler saw. Replay: (X_train, X_test) -> the rows the scaler was fitted on.
# =================================================================================================================

SCALER = catalogue(
    Mistake("train_and_test",
            "the scaler's statistics match train + test, not train: fitting on the test rows leaks their statistics "
            "into training", EXERCISE_6,
            title="data leakage", replay=lambda train, test: np.vstack([train, test])),
    Mistake("test_only",
            "the scaler's statistics match the test set, not train: the test rows leak into training", EXERCISE_6,
            title="a scaler fitted on the test set", replay=lambda train, test: test),
)
