"""The mistake catalogue of perceptron_adaline: the known wrong versions of each exercise, as data.

Each :class:`~autograder.mistakes.Mistake` has a name (its id), what the grader saw, said in the lecture's words,
the section of the handout that states the rule it breaks, a title (shown as "Mistake:") and, where the wrong
answer can be rebuilt from correct ingredients, a replay:

- the gradient-descent path (ex2): one step from the correct gradient of l(beta) (exact in the hidden checks,
  central differences in the visible ones), see :class:`PathModel`;
- numerical_gradient (ex3): from the exact derivatives of the grader's own test polynomial along each axis
  (gradient, second and third derivative), since a difference quotient of a cubic is an exact polynomial in h;
- chain_rule_example (ex3): from the correct pair (df/dx, df/dy) and the point.

The other exercises' mistakes (a perceptron or an Adaline trained the wrong way, random search drawing in the wrong
order, ...) cannot be rebuilt without the exercise itself: the oracle replays those (kit only, ``oracle.py``), and
the visible checks read the values recorded for their fixed inputs. Mistakes recognised by a property of what the
student returned (an array appended to the path again and again, w changed in place) have no replay.

This file ships to students: nothing in it computes an exercise's answer.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from autograder.mistakes import Convention, Mistake, catalogue

# --- the handout's sections, as a hint names them ----------------------------------------------------------------

CONVENTIONS = "Conventions"
EXERCISE_1 = "Exercise 1"
EXERCISE_2 = "Exercise 2"
EXERCISE_3 = "Exercise 3"
EXERCISE_4 = "Exercise 4"
EXERCISE_5 = "Exercise 5"
EXERCISE_6 = "Exercise 6"

# --- the rules the checks enforce (shown as "Rule:"), in the handout's words --------------------------------------

RULE_THRESHOLD = Convention("threshold", "sigma(z) = 1 if z > 0 else 0: z = 0 predicts 0", CONVENTIONS,
                            stated="sigma(z) = 1 if z > 0 else 0, so sigma(0) = 0")
RULE_ZERO_START = Convention("zero_start", "Perceptron and Adaline start with w = zeros (num_features,) floats and "
                             "b = 0.0", EXERCISE_1, stated="sets self.w = np.zeros(num_features)")
RULE_PERCEPTRON = Convention("perceptron_rule", "on-line, one example at a time: predict, err = y_i - y_hat_i, "
                             "w += err * x_i, b += err; errors counts the examples of each pass with err != 0; "
                             "train continues from the current w and b", EXERCISE_1,
                             stated="An example's update uses the weights as the earlier examples of the same epoch "
                                    "left them")
RULE_ORDER = Convention("order", "one generator np.random.default_rng(seed) per call, a new permutation of the n "
                        "examples at the start of every epoch", CONVENTIONS,
                        stated="a new permutation rng.permutation(n) at the start of every epoch")
RULE_NUMBERS = Convention("python_numbers", "the perceptron's errors are Python ints, evaluate's accuracy, Adaline's "
                          "losses and relative_error Python floats, count_parameters a Python int", CONVENTIONS,
                          stated="Counts and losses are Python numbers")
RULE_ACCURACY = Convention("accuracy", "evaluate(X, y) is the fraction of rows where forward(X) equals y, a float in "
                           "[0, 1]", EXERCISE_1, stated="evaluate(X, y) returns the accuracy")
RULE_NORMAL = Convention("normal_equation", "beta solves (X^T X) beta = X^T y", EXERCISE_2,
                         stated="the solution of (X^T X) beta = X^T y")
RULE_PATH = Convention("path", "row 0 is beta = 0; each row is one gradient step of l(beta) = 1/2 mean((X beta - "
                       "y)^2) from the row before", EXERCISE_2, stated="row 0 is the start (zeros)")
RULE_CENTRAL = Convention("central", "central differences (f(w + h e_i) - f(w - h e_i)) / (2h), with the h given, "
                          "for every entry of w, w left as it was", EXERCISE_3,
                          stated="w must be unchanged afterwards")
RULE_RELATIVE = Convention("relative_error", "the largest entry of |a - b| / max(1e-8, |a| + |b|)", EXERCISE_3,
                           stated="relative_error(a, b) returns max |a - b| / max(1e-8, |a| + |b|)")
RULE_CHAIN = Convention("chain_rule", "chain_rule_example(x, y) is (2 x y, x^2 + 1), two Python floats", EXERCISE_3,
                        stated="returns (df/dx, df/dy) for f(x, y) = x^2 y + y, two Python floats")
RULE_ADALINE = Convention("adaline", "minibatch gradient descent on L = mean((X_B w + b - y_B)^2): consecutive "
                          "minibatches of one new permutation per epoch, the last partial one included; losses "
                          "the MSE on all of (X, y) after each epoch", EXERCISE_4,
                          stated="with one update per minibatch")
RULE_PREDICT = Convention("predict_half", "Adaline's forward is X @ w + b; predict is the int array 1 where forward > "
                          "0.5, else 0", EXERCISE_4, stated="1 where forward(X) > 0.5, else 0")
RULE_BATCH_SIZE = Convention("batch_size_raises", "a batch_size outside 1..n raises ValueError before any update",
                             CONVENTIONS, stated="raises ValueError before any update")
RULE_COUNT = Convention("count", "between layers of widths a and b: a * b weights and b biases", EXERCISE_5,
                        stated="count_parameters([2, 3, 1]) == 13")
RULE_SHAPE_TUPLES = Convention("shape_tuples", "mnist_batch_shapes gives (batch_size, 28, 28), (batch_size, 784) and "
                               "(batch_size, 10), each a tuple of Python ints", CONVENTIONS,
                               stated="Shapes in exercise 5 are tuples of Python ints")
RULE_SEARCH = Convention("random_search", "from w = 0, b = 0, every trial draws w' then b' from one generator and "
                         "keeps the candidate only when its MSE is lower than the best so far", EXERCISE_6,
                         stated="Draw both w' and b' in every trial, kept or not")


# =================================================================================================================
# ex1: the perceptron. Replayed by the oracle (``oracle.perceptron_run(..., mistake)``) only.
# =================================================================================================================

PERCEPTRON = catalogue(
    Mistake("ge_threshold", "z = 0 predicted 1: the threshold is strict, sigma(z) = 1 only for z > 0 (with w = 0 "
            "and b = 0 the very first prediction is 0)", CONVENTIONS, title="a >= threshold"),
    Mistake("positive_errors_only", "w and b only moved on the examples of class 1 predicted 0: an example of class "
            "0 predicted 1 must move them too, with err = -1", EXERCISE_1, title="updates on one class only"),
    Mistake("negative_errors_only", "w and b only moved on the examples of class 0 predicted 1: an example of class "
            "1 predicted 0 must move them too, with err = +1", EXERCISE_1, title="updates on one class only"),
    Mistake("sign", "w and b moved the wrong way: err is y_i - y_hat_i, and the rule adds err * x_i", EXERCISE_1,
            title="a sign error"),
    Mistake("bias_not_updated", "b never moved: the rule updates the bias too, b += err", EXERCISE_1,
            title="b never moves"),
    Mistake("batch_rule", "all predictions of an epoch were made with the weights of its start and the updates "
            "applied together: the perceptron rule is on-line, each example sees the weights the examples before it "
            "left", EXERCISE_1, title="a batch update"),
    Mistake("same_order_every_epoch", "every epoch visited the examples in the same shuffled order: draw a new "
            "permutation at the start of EVERY epoch from the one generator of the call (creating the generator "
            "again inside the loop replays the same permutation)", CONVENTIONS, title="one shuffle for all epochs"),
    Mistake("no_shuffle", "the examples were visited in order although shuffle=True: visit them in the order of "
            "rng.permutation(n)", CONVENTIONS, title="shuffle ignored"),
    Mistake("errors_after_epoch", "errors holds the misclassified examples AFTER the epoch: it counts the examples "
            "of the pass itself whose err != 0, as they were met", EXERCISE_1, title="errors counted after the pass"),
    Mistake("errors_cumulative", "errors holds a running total: one count per epoch, for that epoch alone",
            EXERCISE_1, title="errors accumulated over epochs"),
    Mistake("restarts_from_zero", "train started again from w = 0 and b = 0: it continues from "
            "the current w and b, only __init__ sets them to zero", EXERCISE_1, title="train resets w and b"),
)


# =================================================================================================================
# ex2: the normal equation and the gradient-descent path.
# =================================================================================================================

INVERSE = Mistake("inverse", "beta does not solve (X^T X) beta = X^T y to working precision where X^T X is nearly "
                  "singular: the explicit inverse (np.linalg.inv or pinv of X^T X) loses about cond(X^T X) x 1e-16 "
                  "of accuracy; np.linalg.solve and np.linalg.lstsq do not", EXERCISE_2,
                  title="the explicit inverse of X^T X")


class PathModel(Protocol):
    """The correct gradient of l(beta) = 1/2 mean((X beta - y)^2) on the check's data."""

    n: int  # the number of examples

    def gradient(self, beta: np.ndarray) -> np.ndarray:
        """dl/dbeta at ``beta``."""


#: The learning rate a step uses when it ignores the one it is given (the function's default).
DEFAULT_LR = 0.1

PATH_STEP = catalogue(
    Mistake("sign", "the path climbs the loss: a step goes AGAINST the gradient, downhill",
            EXERCISE_2, title="gradient ascent",
            replay=lambda model, beta, lr: beta + lr * model.gradient(beta)),
    Mistake("sum", "each step is n times too large: the gradient is X^T (X beta - y) / n, an average over the "
            "examples", EXERCISE_2, title="a missing 1/n",
            replay=lambda model, beta, lr: beta - lr * model.n * model.gradient(beta)),
    Mistake("double", "each step is twice too large: l has a 1/2 in front, which cancels the 2 of the square",
            EXERCISE_2, title="the derivative of the plain MSE",
            replay=lambda model, beta, lr: beta - 2 * lr * model.gradient(beta)),
    Mistake("default_lr", f"each step used lr = {DEFAULT_LR}, the default, instead of the lr given", EXERCISE_2,
            title="lr ignored", replay=lambda model, beta, lr: beta - DEFAULT_LR * model.gradient(beta)),
)

SAME_ARRAY = Mistake("same_array", "every row of path is the same: the same array was appended at every step and then "
                     "changed in place, so all rows show its last value; keep a copy of beta at every step",
                     EXERCISE_2, title="one array appended again and again")


# =================================================================================================================
# ex3: gradient checking. A test polynomial's derivatives along axis i at w are d1 (the gradient), d2 and d3; a
# difference quotient with step h of a cubic is exactly a polynomial in h of those. Replay: (d1, d2, d3, h) -> g.
# =================================================================================================================

#: numerical_gradient's default step, used by a quotient that ignores the h it is given.
DEFAULT_H = 1e-5

NUMERICAL = catalogue(
    Mistake("forward", "this is the forward difference (f(w + h e_i) - f(w)) / h: accurate only to O(h), visibly off "
            "where f curves strongly; central differences are accurate to O(h^2)", EXERCISE_3,
            title="forward differences", replay=lambda d1, d2, d3, h: d1 + h / 2 * d2 + h ** 2 / 6 * d3),
    Mistake("backward", "this is the backward difference (f(w) - f(w - h e_i)) / h: accurate only to O(h); central "
            "differences are accurate to O(h^2)", EXERCISE_3,
            title="backward differences", replay=lambda d1, d2, d3, h: d1 - h / 2 * d2 + h ** 2 / 6 * d3),
    Mistake("no_two", "the central difference is twice too large: the two points are 2h apart", EXERCISE_3,
            title="a missing 2", replay=lambda d1, d2, d3, h: 2 * (d1 + h ** 2 / 6 * d3)),
    Mistake("default_h", f"the quotient used h = {DEFAULT_H:g}, the default, instead of the h given", EXERCISE_3,
            title="h ignored", replay=lambda d1, d2, d3, h: d1 + DEFAULT_H ** 2 / 6 * d3),
)

IN_PLACE = Mistake("in_place", "w changed during the call: nudge the entries of a float COPY of w (and put each "
                   "entry back before the next)", EXERCISE_3, title="w modified in place")

RELATIVE = catalogue(
    Mistake("no_floor", "entries where a and b are both 0 gave 0 / 0: the denominator is max(1e-8, |a| + |b|)",
            EXERCISE_3, title="no floor in the denominator"),
    Mistake("mean_not_max", "this is the mean of the entries' relative errors: the check reports the WORST entry",
            EXERCISE_3, title="the mean instead of the max"),
    Mistake("max_denominator", "the denominator looks like max(|a|, |b|): it is |a| + |b| (floored at 1e-8)",
            EXERCISE_3, title="the wrong denominator"),
    Mistake("abs_of_sum", "the denominator looks like |a + b|: it is |a| + |b| (floored at 1e-8)", EXERCISE_3,
            title="the wrong denominator"),
)

#: chain_rule_example: (the correct (df/dx, df/dy), x, y) -> what the mistake returns.
CHAIN = catalogue(
    Mistake("swapped", "df/dx and df/dy are swapped: return (df/dx, df/dy) in that order", EXERCISE_3,
            title="swapped outputs", replay=lambda g, x, y: (g[1], g[0])),
    Mistake("missing_one", "df/dy is missing the derivative of the second term: d(y)/dy = 1", EXERCISE_3,
            title="the + y term forgotten", replay=lambda g, x, y: (g[0], g[1] - 1.0)),
    Mistake("missing_y", "df/dx is missing the factor y: the derivative of x^2 y with respect to x keeps y",
            EXERCISE_3, title="y dropped from df/dx", replay=lambda g, x, y: (g[0] / y, g[1]) if y else None),
)


# =================================================================================================================
# ex4: Adaline. Replayed by the oracle (``oracle.adaline_run(..., mistake)``) only.
# =================================================================================================================

ADALINE = catalogue(
    Mistake("sign", "w and b climb the loss: the derivative of the squared error with respect to y_hat is "
            "(y_hat - y), and the step goes against it (the sign error the lecture's slide shows)", EXERCISE_4,
            title="the SGD sign error"),
    Mistake("no_factor_2", "the steps are half as large as they should be: L = mean((y_hat - y)^2) has no 1/2, so "
            "its gradient keeps the factor 2", EXERCISE_4, title="the 1/2 of another loss"),
    Mistake("double_factor_2", "the steps are twice too large: the gradient of mean((y_hat - y)^2) has ONE factor 2",
            EXERCISE_4, title="the factor 2 twice"),
    Mistake("sum_not_mean", "the steps are |B| times too large: the gradient is an average over the minibatch "
            "(divide by |B|)", EXERCISE_4, title="a missing 1/|B|"),
    Mistake("sequential", "b was updated with the residuals of the NEW w: compute the residual once per "
            "minibatch, then move w and b together", EXERCISE_4, title="a sequential update"),
    Mistake("drop_last", "the last, smaller minibatch was skipped: every epoch must use every example once, so "
            "the last partial minibatch counts too", EXERCISE_4, title="the last partial minibatch dropped"),
    Mistake("same_order_every_epoch", "every epoch used the same order: draw a new permutation at the start of "
            "EVERY epoch from the one generator of the call", CONVENTIONS, title="one shuffle for all epochs"),
    Mistake("no_shuffle", "the examples were used in their stored order: every epoch visits them in the order of "
            "a new rng.permutation(n)", CONVENTIONS, title="no shuffle"),
    Mistake("loss_before_epoch", "losses holds the MSE before each epoch's updates: it is the MSE on all of (X, y) "
            "AFTER them", EXERCISE_4, title="the loss before the epoch"),
    Mistake("mean_batch_loss", "losses holds the mean of the minibatch losses met during the epoch: it is the MSE "
            "on all of (X, y) after the epoch's updates", EXERCISE_4, title="the mean minibatch loss"),
)


# =================================================================================================================
# ex5 and ex6. Replayed by the oracle only.
# =================================================================================================================

COUNT = catalogue(
    Mistake("no_biases", "this counts the weights only: every layer after the input also has one bias per unit",
            EXERCISE_5, title="biases not counted"),
    Mistake("input_biases", "this counts a bias for the input layer too: only the layers that compute something "
            "(every layer after the input) have biases", EXERCISE_5, title="biases on the inputs"),
)

SEARCH = catalogue(
    Mistake("b_before_w", "the draws look like b' before w': in every trial draw w' (m values) first, then b' "
            "(the order of the draws decides which candidates you see)", EXERCISE_6, title="b drawn before w"),
    Mistake("keeps_every_candidate", "the last candidate was kept whatever its loss: keep a candidate only when "
            "its MSE is LOWER than the best so far", EXERCISE_6, title="worse candidates kept"),
    Mistake("current_loss", "losses holds each candidate's own MSE: it holds the BEST MSE so far after each trial "
            "(never increasing)", EXERCISE_6, title="the candidate's loss recorded"),
    Mistake("same_candidate", "every trial tried the same candidate: create the generator once, before the trials",
            EXERCISE_6, title="a new generator every trial"),
    Mistake("scale_ignored", "the candidates were drawn with standard deviation 1: draw them with the scale given",
            EXERCISE_6, title="scale ignored"),
)
