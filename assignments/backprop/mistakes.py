"""The mistake catalogue of backprop: the known wrong versions of each exercise, as data.

Each :class:`~autograder.mistakes.Mistake` has a name (its id), what the grader saw said in the chapter's words,
the section of the handout that states the rule it breaks, a title (shown as "Mistake:") and a replay. Every check
diagnoses the same way (:func:`autograder.mistakes.recognise`): which known mistake, replayed, reproduces what was
seen? A replay rebuilds the wrong answer from correct ingredients the check supplies, never from the exercise
itself: the correct value (read from the recorded expected values in the visible checks, from the oracle in the
hidden ones), the correct cache of a forward pass, the shape a gradient must have. A wrong backward pass is
replayed as a :class:`ChainRule`, a description of how it applies the chain rule (which local derivative of the
sigmoid at which layer, which constant factor), that the checks differentiate with torch autograd; a wrong
training loop as a :class:`Training` variant, that the checks run with the gradients of their oracle.

This file ships to students: nothing in it computes an exercise's answer, beyond the one-line closed forms the
handout itself states (tanh' = 1 - tanh^2, relu' = [z > 0], a (1 - a)), which a replay needs to build a mistake.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from autograder.mistakes import AnyOf, Convention, Mistake, catalogue, handout

# --- the handout's sections, as a hint names them ----------------------------------------------------------------

SHAPES = "Conventions, 'Shapes'"
ACTIVATED = "Conventions, 'sigmoid_derivative(a) takes the activated value'"
LOSS = "Conventions, 'The loss is the plain MSE'"
BACKPROPAGATION = "Conventions, 'Backpropagation'"
TRAINING = "Conventions, 'Training'"
EXERCISE_1 = "Exercise 1: activation functions"
EXERCISE_2 = "Exercise 2: loss functions"
EXERCISE_3 = "Exercise 3: the forward pass"
EXERCISE_4 = "Exercise 4: a single neuron, AND and XOR"
EXERCISE_5 = "Exercise 5: backpropagation"
EXERCISE_6 = "Exercise 6: training"
EXERCISE_7 = "Exercise 7: minibatch training"

# --- the rules the checks enforce (shown as "Rule:"), in the handout's words --------------------------------------

RULE_ELEMENTWISE = Convention("elementwise", "the activations and their derivatives are the handout's formulas, "
                              "applied to every entry, the shape kept", EXERCISE_1,
                              stated="all elementwise on arrays of any shape (and on plain numbers for sigmoid)")
RULE_ACTIVATED = Convention("activated_value", "sigmoid_derivative takes the activated value a = sigmoid(z) and "
                            "returns a (1 - a); tanh_derivative and relu_derivative take z", ACTIVATED,
                            stated="takes the activated value a = sigmoid(z) and returns a * (1 - a)")
RULE_RELU_AT_ZERO = Convention("relu_at_zero", "relu_derivative is 1 where z > 0 and 0 elsewhere, 0 at z = 0",
                               EXERCISE_1, stated="so it is 0 at z = 0")
RULE_NO_OVERFLOW = Convention("no_overflow", "sigmoid never overflows or warns, whatever z", EXERCISE_1,
                              stated="sigmoid(z) = 1 / (1 + exp(-z)) must not overflow")
RULE_MSE = Convention("mse", "mse_loss is the mean over all entries of (y_pred - y_true)^2, with no 1/2", LOSS,
                      stated="mse_loss(y, y_pred) = mean((y_pred - y)^2) over all entries (no 1/2)")
RULE_BCE = Convention("bce", "bce_loss averages over all entries, the predictions clipped to [eps, 1 - eps]",
                      EXERCISE_2, stated="averaged over all entries, where p = np.clip(y_pred, eps, 1 - eps)")
RULE_SHAPES = Convention("shapes", "one row per example: X (m, n_in), W (n_in, n_out), b (1, n_out), y (m, 1)", SHAPES,
                         stated="a weight matrix W has shape (n_in, n_out), a bias b has shape (1, n_out)")
RULE_FORWARD = Convention("forward", "every layer computes z from the previous activation, its weights and its "
                          "bias, then applies the sigmoid, the output layer too", EXERCISE_3,
                          stated="computes z1 = X @ W1 + b1, a1 = sigmoid(z1), z2 = a1 @ W2 + b2")
RULE_SINGLE_NEURON = Convention("single_neuron", "train_single_neuron trains one sigmoid neuron on the MSE by "
                                "full-batch gradient descent and returns n_in weights, one bias and one loss per "
                                "epoch (graded by what they compute, not by their shapes)", EXERCISE_4,
                                stated="the grader reads w and b by their values only")
RULE_RANDOM_START = Convention("random_start", "the network's weights start at random (not all units of a layer "
                               "alike), W_l of shape (n_{l-1}, n_l) and b_l of shape (1, n_l) in self.params",
                               EXERCISE_5, stated="Draw the weights at random")
RULE_CACHE = Convention("cache", "forward keeps a0 = X and every layer's z and a in self.cache", EXERCISE_5,
                        stated='It stores self.cache = {"a0": X, "z1": ..., "a1": ...')
RULE_BACKWARD = Convention("backward", "backward returns the exact gradient of mse_loss(y, forward(X)), each entry "
                           "shaped like its parameter", BACKPROPAGATION,
                           stated="The 1/m is already in delta, so db is a sum, not a mean")
RULE_TRAINING = Convention("training", "each epoch records the loss before the update, then moves every parameter "
                           "against its gradient", TRAINING, stated="record the loss before the update")
RULE_MINIBATCH = Convention("minibatch", "every epoch: a new order, consecutive minibatches (the last may be "
                            "smaller), one update per minibatch, and the plain mean of the minibatch losses",
                            EXERCISE_7, stated="append the plain mean of the epoch's minibatch losses")
RULE_EXACT_ROWS = Convention("exact_rows", "every minibatch goes through self.forward and self.backward as exact "
                             "rows of X and y, picked by their indices (not rescaled, not converted)", EXERCISE_7,
                             stated="the minibatches must be exact rows of X")


# =================================================================================================================
# ex1: activations. Replays: SIGMOID (the correct sigmoid(z)), TANH and RELU (z), SIGMOID_DERIVATIVE (sigmoid of
# the argument a), TANH_DERIVATIVE and RELU_DERIVATIVE (z).
# =================================================================================================================

SIGMOID = catalogue(
    Mistake("sign_flipped", "your sigmoid gives sigmoid(-z): the sign in the exponent is flipped", EXERCISE_1,
            title="sigmoid(-z)", replay=lambda s: 1 - s),
)
TANH = catalogue(
    Mistake("tanh_is_its_derivative", "tanh returned its derivative 1 - tanh(z)^2, not tanh(z) itself", EXERCISE_1,
            title="tanh' for tanh", replay=lambda z: 1 - np.tanh(z) ** 2),
)
RELU = catalogue(
    Mistake("relu_is_its_derivative", "relu returned its derivative (0 or 1), not max(0, z) elementwise", EXERCISE_1,
            title="relu' for relu", replay=lambda z: (z > 0).astype(float)),
)
SIGMOID_DERIVATIVE = catalogue(
    Mistake("sigmoid_applied_twice",
            "you applied sigmoid to an already activated value: sigmoid_derivative receives a = sigmoid(z) and "
            "differentiates with that a, without calling sigmoid again", ACTIVATED,
            title="sigmoid applied to an activation", replay=lambda s: s * (1 - s)),
)
TANH_DERIVATIVE = catalogue(
    Mistake("derivative_of_the_activation",
            "tanh_derivative takes z, not the activation: you computed 1 - z^2, the formula written with an "
            "activation a = tanh(z)", EXERCISE_1,
            title="1 - z^2", replay=lambda z: 1 - z ** 2),
)
RELU_DERIVATIVE = catalogue(
    Mistake("one_at_zero",
            "relu_derivative(0) must be 0: the derivative is 1 only where z is strictly positive", EXERCISE_1,
            title="relu'(0) = 1", replay=lambda z: (z >= 0).astype(float)),
)
OVERFLOW = Mistake(
    "overflow",
    "np.exp overflows for arguments above about 709 (here exp(-z) at z = -1000). Only ever take exp of a number "
    "that is not positive, as the handout explains. np.where(condition, f(z), g(z)) computes both branches on every "
    "entry, so an overflowing branch overflows even where it is not selected", EXERCISE_1,
    title="exp of a large number")


# =================================================================================================================
# ex2: the losses. Replays: MSE (y, p); BCE (a BceValues of the correct values at these inputs).
# =================================================================================================================

MSE = catalogue(
    Mistake("sum", "the sum of the squared errors, not the mean: the MSE averages over all entries", LOSS,
            title="the sum of squared errors", replay=lambda y, p: float(np.sum((p - y) ** 2))),
    Mistake("half", "the contract's MSE has no 1/2 in front", LOSS,
            title="a 1/2 in front", replay=lambda y, p: float(0.5 * np.mean((p - y) ** 2))),
    Mistake("root", "no square root: the loss is the mean squared error itself", LOSS,
            title="the root of the MSE", replay=lambda y, p: float(np.sqrt(np.mean((p - y) ** 2)))),
    Mistake("absolute", "the errors are not squared: that is the mean absolute error", LOSS,
            title="absolute errors", replay=lambda y, p: float(np.mean(np.abs(p - y)))),
)


@dataclass(frozen=True)
class BceValues:
    """Correct binary cross-entropies at a check's inputs: the value, the value with the arguments swapped, the
    values clipped with other eps than the one asked for; and the inputs (with the eps asked for)."""

    value: float
    swapped: float
    other_eps: tuple[float, ...]
    eps: float
    y: np.ndarray
    p: np.ndarray


BCE = catalogue(
    Mistake("sum", "the sum over the entries, not the mean: binary cross-entropy averages over all entries",
            EXERCISE_2, title="a sum over the entries", replay=lambda v: v.value * v.y.size),
    Mistake("missing_minus", "the minus sign is missing: the loss is the NEGATIVE mean log-likelihood", EXERCISE_2,
            title="the log-likelihood", replay=lambda v: -v.value),
    Mistake("swapped", "y_true and y_pred are swapped: the signature is bce_loss(y_true, y_pred)", EXERCISE_2,
            title="swapped arguments", replay=lambda v: v.swapped),
    Mistake("missing_term", "the (1 - y) log(1 - p) term is missing: both classes contribute", EXERCISE_2,
            title="half the cross-entropy",
            replay=lambda v: float(-np.mean(v.y * np.log(np.clip(v.p, v.eps, 1))))),
    Mistake("own_eps",
            "you clipped with an eps of your own: clip to [eps, 1 - eps] with the eps you are given (default 1e-12)",
            EXERCISE_2, title="an eps of your own", replay=lambda v: AnyOf(v.other_eps)),
)
UNCLIPPED = Mistake(
    "unclipped",
    "a prediction of exactly 0 or 1 gives log(0) = -inf: clip the predictions to [eps, 1 - eps] before taking logs",
    EXERCISE_2, title="log(0)")


# =================================================================================================================
# ex3 and ex5: forward passes. Replay: (the correct cache {"a0": X, "z1", "a1", ...}, the parameters) -> the
# entries the mistake changes, and "returned" for what forward would return.
# =================================================================================================================

def _layers(cache: Mapping[str, np.ndarray]) -> range:
    return range(1, sum(1 for k in cache if k.startswith("z")) + 1)


FORWARD = catalogue(
    Mistake("missing_bias", "the bias is missing: every layer adds its bias row b to z", EXERCISE_3,
            title="no bias",
            replay=lambda c, params: {f"z{l}": c[f"a{l - 1}"] @ params[f"W{l}"] for l in _layers(c)}),
    Mistake("output_without_sigmoid",
            "the output activation equals z: the output layer needs the sigmoid too, like every layer", EXERCISE_3,
            title="a linear output layer",
            # Not "returned": a linear output layer shows in cache["a2"], checked before the returned value; a
            # returned z next to a right cache is "returned_z".
            replay=lambda c, params: {f"a{len(_layers(c))}": c[f"z{len(_layers(c))}"]}),
    Mistake("hidden_without_sigmoid", "a hidden activation equals its z: apply the sigmoid at every layer", EXERCISE_3,
            title="a linear hidden layer",
            replay=lambda c, params: {f"a{l}": c[f"z{l}"] for l in list(_layers(c))[:-1]}),
    Mistake("previous_z", "the next layer was fed the previous layer's z instead of its activation a", EXERCISE_3,
            title="z of the previous layer as input",
            replay=lambda c, params: {f"z{l}": c[f"z{l - 1}"] @ params[f"W{l}"] + params[f"b{l}"]
                                      for l in list(_layers(c))[1:]}),
    Mistake("returned_z", "you returned the output's z: return its activation a", EXERCISE_3,
            title="z returned", replay=lambda c, params: {"returned": c[f"z{len(_layers(c))}"]}),
)


# =================================================================================================================
# ex5: backpropagation. SHAPES replays: (kind "W" or "b", the parameter's shape, the number of samples) -> the
# shape the mistake gives. GRADIENTS replays: a ChainRule, differentiated by the checks.
# =================================================================================================================

GRADIENT_SHAPES = catalogue(
    Mistake("dW_transposed",
            "the factors of dW are in the wrong order: you got the transpose of dW, which has the shape of W "
            "(inputs of the layer, units of the layer)", BACKPROPAGATION,
            title="the transpose of dW", replay=lambda kind, shape, m: shape[::-1] if kind == "W" else None),
    Mistake("db_not_summed",
            "db keeps one row per sample: sum delta over the samples, so that db has the shape of b", BACKPROPAGATION,
            title="db per sample", replay=lambda kind, shape, m: (m, shape[1]) if kind == "b" else None),
    Mistake("db_flat",
            "db lost its row dimension: b is a row of shape (1, n), so keep the dimension when summing (keepdims)",
            SHAPES, title="db without its row dimension",
            replay=lambda kind, shape, m: (shape[1],) if kind == "b" else None),
)


def _sigmoid_of_activation(z, a, sigmoid):
    s = sigmoid(a)
    return s * (1 - s)


def _one(z, a, sigmoid):
    return 1.0 + 0 * z


def _of_z(z, a, sigmoid):
    return z * (1 - z)


@dataclass(frozen=True)
class ChainRule:
    """How a backward pass applies the chain rule, for a replay with autograd: the local derivative it uses for
    the sigmoid of the output layer and of the hidden layers (None: the sigmoid's own; else a function of the
    layer's z, its activation a and a sigmoid function), and factors on every gradient and on the bias gradients
    (functions of the number of entries of y and of the number of samples)."""

    output_slope: Callable | None = None
    hidden_slope: Callable | None = None
    scale: Callable[[int, int], float] = lambda entries, samples: 1.0
    bias_scale: Callable[[int, int], float] = lambda entries, samples: 1.0


GRADIENTS = catalogue(
    Mistake("sign", "every gradient has the wrong sign: the error term is (y_hat - y), not (y - y_hat)", LOSS,
            title="a sign error", replay=ChainRule(scale=lambda entries, samples: -1.0)),
    Mistake("missing_factor_2",
            "every gradient is half the true one: the derivative of the square brings a factor 2, and that factor 2 "
            "is missing from delta_L", LOSS,
            title="the factor 2 missing", replay=ChainRule(scale=lambda entries, samples: 0.5)),
    Mistake("missing_mean",
            "every gradient is m times the true one (m = the number of entries of y): the loss is a MEAN, and the "
            "1/m is missing from delta_L", LOSS,
            title="the 1/m missing", replay=ChainRule(scale=lambda entries, samples: float(entries))),
    Mistake("missing_2_and_mean",
            "every gradient is m/2 times the true one: both the factor 2 and the 1/m of the mean are missing from "
            "delta_L", LOSS,
            title="the factor 2 and the 1/m missing", replay=ChainRule(scale=lambda entries, samples: 0.5 * entries)),
    Mistake("missing_output_derivative",
            "the output layer's delta misses the derivative of the activation: delta_L is the derivative with "
            "respect to z_L, so the chain rule goes through the output's sigmoid too", BACKPROPAGATION,
            title="no sigmoid' at the output", replay=ChainRule(output_slope=_one)),
    Mistake("missing_hidden_derivative",
            "the hidden layers' deltas miss the derivative of the activation: going back through a layer, the chain "
            "rule also goes through that layer's sigmoid", BACKPROPAGATION,
            title="no sigmoid' in the hidden layers", replay=ChainRule(hidden_slope=_one)),
    Mistake("derivative_of_z",
            "sigmoid_derivative was applied to z: it takes the activated value a = sigmoid(z) kept in the cache",
            ACTIVATED, title="sigmoid' of z", replay=ChainRule(output_slope=_of_z, hidden_slope=_of_z)),
    Mistake("sigmoid_applied_twice",
            "you applied sigmoid to an already activated value: the cache holds a = sigmoid(z), and sigmoid' is "
            "written with that a, without calling sigmoid again", ACTIVATED,
            title="sigmoid applied to an activation",
            replay=ChainRule(output_slope=_sigmoid_of_activation, hidden_slope=_sigmoid_of_activation)),
    Mistake("db_mean",
            "db is the true gradient divided by m: delta already carries the 1/m of the loss, so db is the SUM of "
            "delta over the samples, not the mean", BACKPROPAGATION,
            title="db averaged", replay=ChainRule(bias_scale=lambda entries, samples: 1.0 / samples)),
)

BACKWARD_ONE_LAYER_BACK = (
    "check how delta goes back one layer (through the layer's weights, then the derivative of the previous "
    f"layer's activation) {handout(BACKPROPAGATION)}")
BACKWARD_UNKNOWN = (f"compare delta_L, dW and db with the handout's backpropagation {handout(BACKPROPAGATION)}; "
                    "the cache must come from forward(X) on the same X")
IDENTICAL_UNITS = Mistake(
    "identical_units",
    "all units of a layer start with the same weights, so they get the same gradients and stay identical forever: "
    "draw the weights at random", EXERCISE_5, title="a symmetric start")


# =================================================================================================================
# ex6 and ex7: training. TRAINING replays: a Training variant, run by the checks with their oracle's gradients.
# HISTORY replays: a MinibatchRun (what a replay over the student's minibatches found) -> the history it gives.
# =================================================================================================================

@dataclass(frozen=True)
class Training:
    """A full-batch training loop: the sign of its step, and whether it records each loss after the update."""

    lr_sign: float = 1.0
    loss_after: bool = False


TRAINING_LOOP = catalogue(
    Mistake("gradient_ascent", "the parameters moved UP the gradient: gradient descent moves them against it",
            TRAINING, title="gradient ascent", replay=Training(lr_sign=-1.0)),
    Mistake("loss_after_update",
            "the losses were computed after each update: record the loss of the forward pass that comes before the "
            "update", TRAINING,
            title="the loss after the update", replay=Training(loss_after=True)),
)
TRAINING_UNKNOWN = ("each epoch: one forward pass, its loss, backward, then every parameter moves against its own "
                    f"gradient, all with the same lr {handout(TRAINING)}")
SINGLE_NEURON_HINT = ("the neuron did not learn: check the sign of the error term, (a - y), not (y - a), and that the "
                      "update subtracts lr times the gradient; the gradient of the MSE goes through the sigmoid's "
                      f"derivative {handout(EXERCISE_4)}")


@dataclass(frozen=True)
class MinibatchRun:
    """A replay of train_minibatch over the student's own minibatches: per epoch, each minibatch's loss before its
    update and after it, the minibatch sizes, and the loss of the whole set after the epoch."""

    before: list[list[float]]
    after: list[list[float]]
    sizes: list[list[int]]
    whole: list[float]


HISTORY = catalogue(
    Mistake("weighted_mean",
            "the minibatch losses were weighted by their sizes: the history holds the plain mean of the epoch's "
            "minibatch losses", EXERCISE_7,
            title="a weighted mean",
            replay=lambda run: np.array([np.average(b, weights=s) for b, s in zip(run.before, run.sizes)])),
    Mistake("last_minibatch_only",
            "only the last minibatch's loss was kept: average the losses of all minibatches of the epoch", EXERCISE_7,
            title="the last minibatch's loss", replay=lambda run: np.array([b[-1] for b in run.before])),
    Mistake("loss_after_update",
            "the losses were computed after each update: record each minibatch's loss before its update", EXERCISE_7,
            title="losses after the updates", replay=lambda run: np.array([np.mean(a) for a in run.after])),
    Mistake("whole_set_loss",
            "the loss of the whole training set after the epoch was recorded: the history holds the plain mean of "
            "the epoch's minibatch losses", EXERCISE_7,
            title="the loss of the whole set", replay=lambda run: np.array(run.whole)),
)
NOT_SHUFFLED = Mistake(
    "not_shuffled",
    "the examples came in their original order every epoch: shuffle them at the start of every epoch", EXERCISE_7,
    title="no shuffle")
SHUFFLED_ONCE = Mistake(
    "shuffled_once", "the same order came back: reshuffle at the start of every epoch, inside the epoch loop",
    EXERCISE_7, title="one order for all epochs")
WITH_REPLACEMENT = Mistake(
    "with_replacement",
    "every example exactly once per epoch: drawing indices with replacement repeats some and misses others; cut "
    "one shuffled order of all indices into minibatches", EXERCISE_7, title="drawn with replacement")
LAST_BATCH_DROPPED = Mistake(
    "last_batch_dropped",
    "the last partial batch was never used: the minibatches cover all m examples, the last one smaller",
    EXERCISE_7, title="the last partial batch dropped")
