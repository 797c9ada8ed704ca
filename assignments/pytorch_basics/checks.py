"""Checks for pytorch_basics.py: tensors, the four-step loop, DataLoader, stacking, an MLP for y = x^3.

Torch objects stay in the worker: the probes (``probes.py``) build the torch inputs from the arrays these checks
send and return plain data. Every verdict is taken here, never against the reference:

- visible checks judge with what does not implement an exercise: properties (shapes, dtypes, every example once
  per epoch), closed forms the handout gives (least squares), the two layers applied one after the other, torch's
  own modules rebuilt from the student's layers, R^2; and, where a value needs a training run or the collapsed
  layer, expected values recorded for fixed inputs (:data:`EXPECTED`, computed by ``oracle.py`` in the kit and
  shipped to students as numbers);
- hidden checks draw their own inputs and call the oracle directly (it never reaches students).

A failure names the known mistake that reproduces what was seen, in the words of ``mistakes.py``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from assignments.pytorch_basics import mistakes
from assignments.pytorch_basics import oracle
from autograder.checking import CheckFailure, as_array, close, closeness, expect, expect_close, f32, fail, fmt
from autograder.mistakes import Convention, Mistake, fail_as, fail_with, recognise
from autograder.recorded import Recorded
from autograder.sandbox import StudentError

ASSIGNMENT = "pytorch_basics"
FOUR_STEPS_HINT = ("every epoch, the four steps of the handout in their order (zero the gradients, forward pass "
                   "and loss, backward, step), with torch.optim.SGD at the lr argument and nn.MSELoss()")
#: Held-out points for fit_cubic: enough for R^2 to be stable to about 1e-3, few enough to evaluate instantly.
HELD_OUT_POINTS = 400
#: The contract's held-out range for fit_cubic: points drawn uniformly from [-2, 2].
HELD_OUT_RANGE = 2.0
#: A straight line fitted to x^3 on [-2, 2] reaches R^2 of at most 0.84 (0.79 when trained on N(0, 1) data):
#: below this we say the model is (nearly) linear rather than merely undertrained.
LINEAR_R2 = 0.85
#: Learning rates a student might have hard-coded instead of the argument (ours, the contract's, SGD's default).
OTHER_LRS = (0.1, 0.01, 0.001)
#: Random inputs on which a collapsed layer is compared with the two layers: few, so messages show them whole.
INPUT_ROWS = 4
#: X_t and y_t hold float32 copies of float64 data: about 7 significant digits survive.
FLOAT32_TOL = 1e-6
#: Predictions whose residual from their own best straight line is below this share of their variance are a line.
STRAIGHT_LINE_SHARE = 1e-6


# --- measures shared with the report's plots (feedback.py) -------------------------------------------------------

def r2(pred: np.ndarray, target: np.ndarray) -> float:
    """The coefficient of determination 1 - SS_res / SS_tot of predictions against their targets."""
    pred, target = np.ravel(pred), np.ravel(target)
    return float(1.0 - np.sum((pred - target) ** 2) / np.sum((target - target.mean()) ** 2))


def best_line(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The least-squares straight line through the points (x, values), evaluated at x."""
    x = np.ravel(x)
    return np.polyval(np.polyfit(x, np.ravel(values), 1), x)


def least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """[w..., b] of the least-squares fit of y by X w + b (np.linalg.lstsq, the closed form of the handout)."""
    return np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), np.ravel(y), rcond=None)[0]


def two_layers(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """layer2(layer1(X)): two linear layers (weights in PyTorch's (out, in) layout) applied one after the other."""
    hidden = X @ W1.T + b1
    return hidden @ W2.T + b2


def as_column(y: np.ndarray) -> np.ndarray:
    """Targets as the (n, 1) column the probes turn into y_t."""
    return np.asarray(y, dtype=np.float64).reshape(-1, 1)


# --- inputs -----------------------------------------------------------------------------------------------------

def linear_problem(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Data, and initial weights to inject, all exactly representable in float32."""
    X = f32(rng.normal(size=(n, m)))
    y = f32(X @ rng.normal(size=m) + 0.5 + 0.1 * rng.normal(size=n))
    return X, y, f32(0.5 * rng.normal(size=m)), float(f32(0.2))


def minibatch_passes(rng: np.random.Generator, n: int, batch_size: int, shuffle: bool,
                     epochs: int) -> list[list[list[int]]]:
    """The minibatches the grader's loader hands out, epoch by epoch: consecutive slices of batch_size row indices
    of an order drawn anew every epoch (0..n-1 without shuffle), the last slice smaller."""
    passes = []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        passes.append([[int(i) for i in order[k:k + batch_size]] for k in range(0, n, batch_size)])
    return passes


def layers_problem(rng: np.random.Generator, n_in: int, n_hidden: int, n_out: int):
    """Two layers (weights (out, in), biases) and INPUT_ROWS inputs, exactly representable in float32."""
    W1, b1 = f32(rng.normal(size=(n_hidden, n_in))), f32(rng.normal(size=n_hidden))
    W2, b2 = f32(rng.normal(size=(n_out, n_hidden))), f32(rng.normal(size=n_out))
    return W1, b1, W2, b2, f32(rng.normal(size=(INPUT_ROWS, n_in)))


def case_rng(name: str) -> np.random.Generator:
    """The generator of a fixed case's inputs, seeded by its name (as the grader seeds a check's ``rng``)."""
    return np.random.default_rng(zlib.crc32(f"{ASSIGNMENT}.{name}".encode()))


@dataclass(frozen=True)
class Run:
    """A training run on fixed inputs: data and initial weights (or zeros) drawn from ``case_rng(name)``, and the
    minibatches when ``batch_size`` is set. Its expected values are recorded (:data:`EXPECTED`)."""

    name: str
    n: int
    m: int
    lr: float
    epochs: int
    batch_size: int = 0
    zero_start: bool = False

    def _drawn(self):
        rng = case_rng(self.name)
        X, y, w0, b0 = linear_problem(rng, self.n, self.m)
        if self.zero_start:
            w0, b0 = np.zeros(self.m), 0.0
        passes = minibatch_passes(rng, self.n, self.batch_size, True, self.epochs) if self.batch_size else None
        return X, y, w0, b0, passes

    def full_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, int]:
        """(X, y, w0, b0, lr, epochs): the arguments of a full-batch run."""
        X, y, w0, b0, _ = self._drawn()
        return X, y, w0, b0, self.lr, self.epochs

    def minibatches(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, list, float]:
        """(X, y, w0, b0, passes, lr): the arguments of a run on the given minibatches."""
        X, y, w0, b0, passes = self._drawn()
        return X, y, w0, b0, passes, self.lr


#: The fixed inputs of the visible checks that need a training run or a collapsed layer, and of the report's plots.
DESCENT = Run("test_train_linear_model_follows_gradient_descent_from_given_weights", n=40, m=3, lr=0.05, epochs=20)
LOSSES = Run("test_train_linear_model_records_the_mse_before_each_step", n=30, m=2, lr=0.05, epochs=15)
UPDATES = Run("test_train_with_loader_makes_one_update_per_minibatch", n=50, m=2, lr=0.05, epochs=4, batch_size=16)
EPOCH_LOSSES = Run("test_train_with_loader_reports_the_mean_minibatch_loss_per_epoch", n=50, m=2, lr=0.05,
                   epochs=4, batch_size=16)
COLLAPSE = ("test_collapse_linear_stack_equals_layer2_of_layer1", 3, 3, 3)
PLOT_FOUR_STEPS = Run("plot four steps", n=100, m=3, lr=0.1, epochs=40, zero_start=True)
PLOT_LOADER = Run("plot loader", n=100, m=3, lr=0.05, epochs=20, batch_size=16, zero_start=True)


def collapse_inputs() -> tuple[np.ndarray, ...]:
    """(W1, b1, W2, b2, X) of the visible collapse check."""
    name, *sizes = COLLAPSE
    return layers_problem(case_rng(name), *sizes)


#: Expected values for the fixed inputs above: computed by the oracle in the kit, read from expected.json in the
#: student bundle. Each holds the correct value and the known mistakes' values (see oracle.py).
EXPECTED = Recorded(ASSIGNMENT, {
    "descent": lambda oracle: oracle.train_linear_outcomes(*DESCENT.full_batch(), OTHER_LRS),
    "losses": lambda oracle: oracle.train_linear_outcomes(*LOSSES.full_batch(), OTHER_LRS),
    "updates": lambda oracle: oracle.loader_outcomes(*UPDATES.minibatches()),
    "epoch_losses": lambda oracle: oracle.loader_outcomes(*EPOCH_LOSSES.minibatches()),
    "collapse": lambda oracle: oracle.collapse_outcomes(*collapse_inputs()),
    "plot_four_steps": lambda oracle: oracle.gradient_descent(*PLOT_FOUR_STEPS.full_batch())[1][:-1],
    "plot_loader": lambda oracle: oracle.loader_outcomes(*PLOT_LOADER.minibatches())["losses"],
    "plot_loader_full_batch": lambda oracle: oracle.gradient_descent(*PLOT_LOADER.full_batch())[1][:-1],
})


def float32_closeness(thresholds) -> Callable[[Any, Any], bool]:
    """Same shape and equal within the float32 tolerances: the student's float32 run against a float64 oracle."""
    return closeness(thresholds["float32_rtol"], thresholds["float32_atol"])


def _judge(seen: Any, outcome: dict, key: str, close: Callable[[Any, Any], bool], *, expected: str, otherwise: str,
           convention: Convention, recognised: Mistake | None = None) -> None:
    """Pass when ``seen`` is close to ``outcome[key]``. Otherwise fail naming ``recognised`` (a mistake the check
    recognised from what the student's object is) or the first of the oracle's candidates
    (:func:`mistakes.candidates`) that reproduces what was seen, else with ``otherwise``; ``expected`` says what was
    expected."""
    if close(seen, outcome[key]):
        return
    found = recognised or recognise(seen, mistakes.candidates(outcome, key), lambda mistake: mistake.replay, close)
    fail_with(expected, fmt(seen), found, otherwise=otherwise, convention=convention)


# --- ex1: to_tensors --------------------------------------------------------------------------------------------

def _tensor_pair(facts: dict) -> tuple[dict, dict]:
    """The two items of to_tensors' result, after checking it is a pair of tensors."""
    if facts["returned"] not in ("tuple", "list") or len(facts["items"]) != 2:
        fail("a pair (X_t, y_t)", f"a {facts['returned']}", "to_tensors returns the pair (X_t, y_t)",
             convention=mistakes.FLOAT32)
    for name, item in zip(("X_t", "y_t"), facts["items"]):
        expect(item["is_tensor"], expected=f"{name} as a torch.Tensor", seen=f"a {item['type']}",
               hint="to_tensors turns the NumPy arrays into torch tensors (handout: dtype)")
    return facts["items"][0], facts["items"][1]


def _expect_float32(name: str, item: dict) -> None:
    if item["dtype"] == "float32":
        return
    if item["dtype"] == "float64":
        fail_as(mistakes.CATALOGUE["float64_tensors"], f"{name} of dtype float32", f"dtype {item['dtype']}",
                name=name)
    fail(f"{name} of dtype float32", f"dtype {item['dtype']}", "convert the data to float32, whatever their dtype",
         convention=mistakes.FLOAT32)


def _expect_tensor_shapes_and_values(X_item: dict, y_item: dict, X: np.ndarray, y: np.ndarray) -> None:
    n, m = X.shape
    if X_item["shape"] != [n, m]:
        fail(f"X_t of shape ({n}, {m}), like X", f"shape {tuple(X_item['shape'])}",
             "X_t keeps the shape of X: one row per example, one column per feature",
             convention=mistakes.COLUMN_TARGETS)
    if y_item["shape"] != [n, 1]:
        expected, seen = f"y_t of shape ({n}, 1)", f"shape {tuple(y_item['shape'])}"
        if y_item["shape"] == [n]:
            fail_as(mistakes.CATALOGUE["targets_not_a_column"], expected, seen)
        if y_item["shape"] == [1, n]:
            fail_as(mistakes.CATALOGUE["targets_as_a_row"], expected, seen)
        fail(expected, seen, "y_t holds the n targets as a column", convention=mistakes.COLUMN_TARGETS)
    expect_close(X_item["values"], X, what="X_t", rtol=FLOAT32_TOL, atol=FLOAT32_TOL,
                 hint="X_t must hold the values of X (converted to float32), row by row")
    expect_close(np.ravel(y_item["values"]), y, what="the values of y_t", rtol=FLOAT32_TOL, atol=FLOAT32_TOL,
                 hint="y_t must hold the values of y in the same order")


def test_to_tensors_returns_float32_tensors(student, rng):
    """to_tensors returns two torch tensors of dtype float32"""
    X, y = rng.normal(size=(12, 3)), rng.normal(size=12)
    # dtype and shape are read in the worker: a tensor could only misreport them by being a class of its own, more
    # work than the one-line answer, and its values are compared with ours in the next checks.
    X_item, y_item = _tensor_pair(student.probe("tensor_facts", X, y))
    for name, item in (("X_t", X_item), ("y_t", y_item)):
        _expect_float32(name, item)


def test_to_tensors_gives_shapes_n_m_and_n_1_with_the_same_values(student, rng):
    """X_t has shape (n, m) and y_t shape (n, 1), with the values of X and y"""
    X, y = f32(rng.normal(size=(15, 4))), f32(rng.normal(size=15))
    X_item, y_item = _tensor_pair(student.probe("tensor_facts", X, y))
    _expect_tensor_shapes_and_values(X_item, y_item, X, y)


def test_to_tensors_on_other_sizes(student, rng):
    """to_tensors handles one example and one feature alike"""
    for n, m in ((1, 4), (9, 1), (6, 2)):
        X, y = f32(rng.normal(size=(n, m))), f32(rng.normal(size=n))
        X_item, y_item = _tensor_pair(student.probe("tensor_facts", X, y))
        for name, item in (("X_t", X_item), ("y_t", y_item)):
            _expect_float32(name, item)
        _expect_tensor_shapes_and_values(X_item, y_item, X, y)


# --- ex2: train_linear_model -------------------------------------------------------------------------------------

def _linear_params(model: dict, m: int, where: str) -> np.ndarray:
    """[w..., b] of a returned nn.Linear(m, 1), after checking that is what it is."""
    expect(model["kind"] == "Linear", expected=f"{where} to be an nn.Linear", seen=f"a {model['type']}",
           hint="the model is nn.Linear(m, 1): one linear neuron with m inputs and a bias")
    expect((model["in_features"], model["out_features"]) == (m, 1), expected=f"nn.Linear({m}, 1)",
           seen=f"nn.Linear({model['in_features']}, {model['out_features']})",
           hint="m inputs (X_t.shape[1]) and one output")
    expect(model["bias"] is not None, expected="a layer with a bias", seen="bias=False",
           hint="keep the bias b of u = X w + b (nn.Linear has one by default)")
    return np.append(np.reshape(model["weight"], -1), np.reshape(model["bias"], -1))


def _loss_list(losses: Any, epochs: int, what: str = "losses") -> np.ndarray:
    """The returned losses as an array, after checking they are a list of ``epochs`` Python floats."""
    rule = mistakes.LOSS_HISTORY
    if not isinstance(losses, (list, tuple)):
        fail(f"{what} as a list of {epochs} Python floats", fmt(losses), "return a list, one loss per epoch",
             convention=rule)
    if len(losses) != epochs:
        fail(f"{epochs} values in {what}, one per epoch", f"{len(losses)} values",
             "record exactly one loss per epoch", convention=rule)
    kinds = sorted({type(v).__name__ for v in losses if type(v) not in (float, int)})
    if kinds:
        fail_as(mistakes.CATALOGUE["losses_not_floats"], f"{what} as Python floats",
                f"entries of type {', '.join(kinds)}")
    return np.array(losses, dtype=np.float64)


def _train_linear(student, X: np.ndarray, y: np.ndarray, w0: np.ndarray, b0: float, lr: float, epochs: int) -> dict:
    """train_linear_model run from injected initial weights, as the probe describes it."""
    result = student.probe("train_linear_from", X, as_column(y), w0, b0, lr, epochs)
    if not result["pair"]:
        fail("a pair (model, losses)", f"a {result['returned']}", "train_linear_model returns the pair (model, losses)")
    return result


def _given_model_ignored(result: dict) -> Mistake | None:
    # same_model (an identity seen in the worker) only picks a hint: points come from the compared values
    return None if result["same_model"] else mistakes.CATALOGUE["ignores_given_model"]


def _reproduced_with_the_losses(result: dict, outcome: dict, m: int, epochs: int,
                                close: Callable[[Any, Any], bool]) -> Mistake | None:
    """The first known mistake whose replay gives both the returned parameters and the returned losses. The losses
    tell apart mistakes with the same parameters: 0.5 * nn.MSELoss() moves the weights as half the learning rate
    does, but records halved losses."""
    try:
        params, losses = _linear_params(result["model"], m, "the returned model"), _loss_list(result["losses"], epochs)
    except CheckFailure:
        return None  # judged, with its own message, by the checks of the parameters and of the losses
    return recognise((params, losses), mistakes.candidates(outcome, "params", "losses"), lambda mistake: mistake.replay,
                     lambda seen, replay: close(seen[0], replay[0]) and close(seen[1], replay[1]))


def _expect_gradient_descent(result: dict, outcome: dict, m: int, lr: float, epochs: int, thresholds) -> None:
    closeness32 = float32_closeness(thresholds)
    _judge(_linear_params(result["model"], m, "the returned model"), outcome, "params", closeness32,
           recognised=_given_model_ignored(result) or _reproduced_with_the_losses(result, outcome, m, epochs,
                                                                                   closeness32),
           expected=f"weights and bias [w..., b] = {fmt(outcome['params'])} after {epochs} epochs of "
                    f"gradient descent (lr = {lr}) from the given initial weights",
           otherwise=FOUR_STEPS_HINT, convention=mistakes.FOUR_STEPS)


def _expect_losses_before_each_step(result: dict, outcome: dict, epochs: int, thresholds) -> None:
    _judge(_loss_list(result["losses"], epochs), outcome, "losses", float32_closeness(thresholds),
           recognised=_given_model_ignored(result),
           expected=f"losses = {fmt(outcome['losses'])} (the MSE before each step)",
           otherwise=FOUR_STEPS_HINT, convention=mistakes.LOSS_HISTORY)


def test_train_linear_model_follows_gradient_descent_from_given_weights(student, thresholds):
    """from given initial weights, train_linear_model's weights follow gradient descent on the MSE"""
    X, y, w0, b0, lr, epochs = DESCENT.full_batch()
    result = _train_linear(student, X, y, w0, b0, lr, epochs)
    _expect_gradient_descent(result, EXPECTED["descent"], DESCENT.m, lr, epochs, thresholds)


def test_train_linear_model_records_the_mse_before_each_step(student, thresholds):
    """the losses are Python floats, the MSE before each epoch's step"""
    X, y, w0, b0, lr, epochs = LOSSES.full_batch()
    result = _train_linear(student, X, y, w0, b0, lr, epochs)
    _expect_losses_before_each_step(result, EXPECTED["losses"], epochs, thresholds)


def test_train_linear_model_default_model_reaches_least_squares(student, rng, thresholds):
    """with model=None and the default lr and epochs, training reaches the least-squares solution"""
    n, m = 200, 3
    # Centred, orthogonal columns of norm sqrt(n): the MSE's Hessian is 2 I, so lr 0.1 shrinks the error by 0.8 per
    # epoch and 100 epochs converge to far below our tolerance whatever the (random) initial weights.
    A = rng.normal(size=(n, m))
    Q, _ = np.linalg.qr(A - A.mean(axis=0))
    X = f32(Q * np.sqrt(n))
    y = f32(X @ np.array([1.5, -2.0, 0.5]) + 3.0 + 0.1 * rng.normal(size=n))
    result = student.probe("train_linear_default", X, as_column(y))
    if not result["pair"]:
        fail("a pair (model, losses)", f"a {result['returned']}", "train_linear_model returns the pair (model, losses)")
    seen = _linear_params(result["model"], m, "the model created when model=None")
    _loss_list(result["losses"], 100, "losses (default epochs=100)")
    expect_close(seen, least_squares(X, y), what="[w..., b]", rtol=0, atol=thresholds["lstsq_atol"],
                 hint="keep the defaults lr=0.1 and epochs=100; " + FOUR_STEPS_HINT)


def test_train_linear_model_on_other_sizes_and_learning_rates(student, rng, thresholds):
    """gradient descent and its losses are right for other sizes and learning rates"""
    for n, m, lr, epochs in ((25, 1, 0.2, 12), (50, 5, 0.02, 25)):
        X, y, w0, b0 = linear_problem(rng, n, m)
        result = _train_linear(student, X, y, w0, b0, lr, epochs)
        outcome = oracle.train_linear_outcomes(X, y, w0, b0, lr, epochs, OTHER_LRS)
        _expect_gradient_descent(result, outcome, m, lr, epochs, thresholds)
        _expect_losses_before_each_step(result, outcome, epochs, thresholds)


# --- ex3: make_loader and train_with_loader -----------------------------------------------------------------------

def _loader_epochs(student, rng, n: int, m: int, batch_size: int, shuffle: bool, epochs: int):
    """Each epoch's minibatches as arrays of example ids, checked against X; y holds each example's id 0..n-1."""
    X, ids = f32(rng.normal(size=(n, m))), np.arange(n, dtype=np.float64)
    facts = student.probe("loader_epochs", X, as_column(ids), batch_size, shuffle, epochs)
    rule = mistakes.MINIBATCHES
    out = []
    for batches in facts["epochs"]:
        epoch = []
        for batch in batches:
            if not (len(batch) == 2 and all(v["is_tensor"] for v in batch)):
                fail("minibatches (xb, yb) of two tensors",
                     f"{len(batch)} item(s): " + ", ".join(v["type"] for v in batch),
                     "make_loader's DataLoader serves (xb, yb) pairs of tensors: one TensorDataset holds X_t and y_t",
                     convention=rule)
            xb, yb = batch
            b = xb["shape"][0] if xb["shape"] else 0
            if not (xb["shape"] == [b, m] and yb["shape"] == [b, 1]):
                fail(f"xb of shape (batch, {m}) and yb of shape (batch, 1)",
                     f"xb {tuple(xb['shape'])}, yb {tuple(yb['shape'])}",
                     "the dataset holds the (n, m) and (n, 1) tensors themselves", convention=rule)
            batch_ids = np.asarray(yb["values"], dtype=np.float64).reshape(-1)
            if not np.all(np.isin(batch_ids, ids)):
                fail("the examples of X_t, y_t", fmt(batch_ids), "the loader must serve the tensors it was given, "
                     "unchanged", convention=rule)
            if not np.allclose(np.asarray(xb["values"], dtype=np.float64), X[batch_ids.astype(int)]):
                fail_as(mistakes.CATALOGUE["pairs_split"], "each xb row next to its own yb",
                        "rows of xb that do not match their yb")
            epoch.append(batch_ids.astype(int))
        out.append(epoch)
    return out


def test_make_loader_batches_have_the_requested_sizes(student, rng):
    """70 examples in minibatches of 32 give sizes 32, 32 and a last partial batch of 6"""
    for number, epoch in enumerate(_loader_epochs(student, rng, 70, 3, 32, True, 2), start=1):
        sizes = [len(b) for b in epoch]
        if sizes == [32, 32, 6]:
            continue
        expected, seen = "minibatch sizes [32, 32, 6]", f"{sizes} in epoch {number}"
        if sizes == [32, 32]:
            fail_as(mistakes.CATALOGUE["drops_last_batch"], expected, seen)
        fail(expected, seen, "a DataLoader serves consecutive minibatches of batch_size examples, the last one "
             "smaller", convention=mistakes.MINIBATCHES)


def test_make_loader_visits_every_example_once_per_epoch(student, rng):
    """every example appears exactly once in each epoch"""
    n = 50
    for number, epoch in enumerate(_loader_epochs(student, rng, n, 2, 8, True, 3), start=1):
        seen = np.sort(np.concatenate(epoch)) if epoch else np.array([], dtype=int)
        if np.array_equal(seen, np.arange(n)):
            continue
        expected, seen_text = (f"each of the {n} examples once in epoch {number}",
                               f"{len(seen)} examples, {len(np.unique(seen))} distinct")
        if len(seen) == n - n % 8:
            fail_as(mistakes.CATALOGUE["drops_last_batch"], expected, seen_text)
        fail(expected, seen_text, "one epoch is one pass over the whole data set, and the loader must serve every "
             "epoch: a DataLoader can be iterated again, a generator is used up after one pass",
             convention=mistakes.MINIBATCHES)


def test_make_loader_shuffles_each_epoch(student, rng):
    """with shuffle=True the order is random and changes from one epoch to the next"""
    n = 40
    orders = [np.concatenate(epoch) for epoch in _loader_epochs(student, rng, n, 2, 8, True, 3)]
    if any(np.array_equal(order, np.arange(n)) for order in orders):
        fail_as(mistakes.CATALOGUE["not_shuffled"], "a shuffled order in every epoch",
                "the examples in their original order")
    if np.array_equal(orders[0], orders[1]) or np.array_equal(orders[1], orders[2]):
        fail_as(mistakes.CATALOGUE["shuffled_once"], "a new order at every epoch",
                "the same order in consecutive epochs")


def test_make_loader_keeps_the_order_without_shuffle(student, rng):
    """with shuffle=False the examples come in their original order"""
    n = 40
    for number, epoch in enumerate(_loader_epochs(student, rng, n, 2, 16, False, 2), start=1):
        order = np.concatenate(epoch) if epoch else np.array([], dtype=int)
        if np.array_equal(order, np.arange(len(order))) and len(order) < n:
            fail_as(mistakes.CATALOGUE["drops_last_batch"], "every example, in the original order",
                    f"only the first {len(order)} in epoch {number}")
        if not np.array_equal(order, np.arange(n)):
            fail_as(mistakes.CATALOGUE["ignores_shuffle_argument"], "the original order",
                    f"another order in epoch {number}")


def _train_with_loader(student, X: np.ndarray, y: np.ndarray, w0: np.ndarray, b0: float, passes: list,
                       lr: float) -> dict:
    """train_with_loader on the grader's own DataLoader handing out the given minibatches, from injected weights."""
    epochs = len(passes)
    result = student.probe("train_with_given_batches", X, as_column(y), w0, b0, passes, lr, epochs)
    expect(len(result["passes"]) == epochs, expected=f"{epochs} passes over the loader, one per epoch",
           seen=f"{len(result['passes'])} passes",
           hint="one pass over the loader (every minibatch) in each of the epochs")
    return result


def _expect_one_update_per_minibatch(result: dict, outcome: dict, thresholds) -> None:
    seen = np.append(np.reshape(result["model"]["weight"], -1), np.reshape(result["model"]["bias"], -1))
    _judge(seen, outcome, "params", float32_closeness(thresholds),
           expected=f"[w..., b] = {fmt(outcome['params'])} after one SGD update per minibatch",
           otherwise="one update per minibatch: the four steps on each (xb, yb) in turn, with "
                     "torch.optim.SGD at the lr argument", convention=mistakes.MINIBATCH_UPDATES)


def _expect_mean_minibatch_losses(result: dict, outcome: dict, epochs: int, thresholds) -> None:
    _judge(_loss_list(result["losses"], epochs), outcome, "losses", float32_closeness(thresholds),
           expected=f"losses = {fmt(outcome['losses'])} (the mean minibatch loss of each epoch)",
           otherwise="record the loss of every minibatch (before its step) as a Python float, and report "
                     "their mean for each epoch", convention=mistakes.EPOCH_LOSS)


def test_train_with_loader_makes_one_update_per_minibatch(student, thresholds):
    """train_with_loader makes one SGD update per minibatch, the last partial one included"""
    result = _train_with_loader(student, *UPDATES.minibatches())
    _expect_one_update_per_minibatch(result, EXPECTED["updates"], thresholds)


def test_train_with_loader_reports_the_mean_minibatch_loss_per_epoch(student, thresholds):
    """the loss of an epoch is the mean of its minibatch losses, as Python floats"""
    result = _train_with_loader(student, *EPOCH_LOSSES.minibatches())
    _expect_mean_minibatch_losses(result, EXPECTED["epoch_losses"], EPOCH_LOSSES.epochs, thresholds)


def test_train_with_loader_on_other_batch_sizes(student, rng, thresholds):
    """train_with_loader is right with minibatches of one example and with one minibatch per epoch"""
    for n, m, batch_size, shuffle, lr, epochs in ((12, 2, 1, True, 0.02, 2), (30, 3, 30, False, 0.1, 3)):
        X, y, w0, b0 = linear_problem(rng, n, m)
        passes = minibatch_passes(rng, n, batch_size, shuffle, epochs)
        result = _train_with_loader(student, X, y, w0, b0, passes, lr)
        outcome = oracle.loader_outcomes(X, y, w0, b0, passes, lr)
        _expect_one_update_per_minibatch(result, outcome, thresholds)
        _expect_mean_minibatch_losses(result, outcome, epochs, thresholds)


# --- ex4: collapse_linear_stack ----------------------------------------------------------------------------------

def _collapse(student, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, X: np.ndarray) -> dict:
    """What collapse_linear_stack returned for two layers with the given weights (PyTorch's (out, in) layout),
    after checking it is one nn.Linear with the outer sizes; with its output on X."""
    (n_hidden, n_in), n_out = W1.shape, W2.shape[0]
    rule = mistakes.PYTORCH_LAYOUT
    try:
        facts = student.probe("collapse_facts", W1, b1, W2, b2, X)
    except StudentError as err:
        if err.exc_type != "RuntimeError":
            raise
        fail(f"one nn.Linear({n_in}, {n_out}) equal to layer2(layer1(x))", f"RuntimeError: {err.message[:200]}",
             "PyTorch stores layer.weight as (out_features, in_features), the transpose of the chapter's W: a "
             "product of the weights in the wrong order does not even fit when the sizes differ", convention=rule)
    merged = facts["merged"]
    # kind and sizes are reported by the worker; the merged layer's output is judged against the two layers here,
    # so a layer that misreports them gains at most this structural check, for more work than the nn.Linear.
    if merged["kind"] != "Linear":
        if merged["type"] == "Sequential":
            fail_as(mistakes.CATALOGUE["two_layers_returned"], "one nn.Linear", f"a {merged['type']}")
        fail("one nn.Linear", f"a {merged['type']}", "the answer is one new nn.Linear", convention=rule)
    expect((merged["in_features"], merged["out_features"]) == (n_in, n_out),
           expected=f"nn.Linear({n_in}, {n_out}): layer1's inputs, layer2's outputs",
           seen=f"nn.Linear({merged['in_features']}, {merged['out_features']})",
           hint="the merged layer goes straight from layer1.in_features to layer2.out_features")
    return facts


def _expect_collapsed_output(facts: dict, outcome: dict, thresholds) -> None:
    """The merged layer's output against ``outcome["out"]``, its mistakes diagnosed from ``outcome["mistakes"]``."""
    if facts["out"] is None or facts["out"].get("values") is None:
        fail("an nn.Linear that can be called on a batch", "no output", "return the nn.Linear itself")
    _judge(as_array(facts["out"]["values"], "merged(x)"), outcome, "out", float32_closeness(thresholds),
           expected=f"merged(x) = layer2(layer1(x)) = {fmt(outcome['out'])}",
           otherwise="the merged layer must compute layer2(layer1(x)) for every x: expand the chapter's "
                     "formula in PyTorch's (out, in) layout, and set the new layer's parameters inside "
                     "torch.no_grad()", convention=mistakes.PYTORCH_LAYOUT)


def test_collapse_linear_stack_equals_layer2_of_layer1(student, thresholds):
    """the collapsed layer computes layer2(layer1(x)) on random inputs"""
    W1, b1, W2, b2, X = collapse_inputs()
    facts = _collapse(student, W1, b1, W2, b2, X)
    outcome = {"out": two_layers(X, W1, b1, W2, b2), "mistakes": EXPECTED["collapse"]["mistakes"]}
    _expect_collapsed_output(facts, outcome, thresholds)


def test_collapse_linear_stack_returns_one_nn_linear_with_the_outer_sizes(student, rng):
    """collapsing Linear(4, 5) and Linear(5, 2) gives one new nn.Linear(4, 2) and leaves both layers alone"""
    W1, b1, W2, b2, X = layers_problem(rng, 4, 5, 2)
    facts = _collapse(student, W1, b1, W2, b2, X)
    _expect_layers_unchanged(facts, W1, b1, W2, b2)


def _expect_layers_unchanged(facts: dict, W1, b1, W2, b2) -> None:
    """layer1 and layer2 hold the weights and biases they were given (the visible check of the hidden one's rule)."""
    for name, layer, W, b in (("layer1", facts["layer1"], W1, b1), ("layer2", facts["layer2"], W2, b2)):
        if not (np.array_equal(layer["weight"], W) and np.array_equal(layer["bias"], b)):
            fail_as(mistakes.CATALOGUE["layers_modified"], f"{name} unchanged", f"{name}'s weight or bias modified",
                    name=name, convention=mistakes.LAYERS_UNCHANGED)


def test_collapse_linear_stack_on_random_sizes_leaves_the_layers_alone(student, rng, thresholds):
    """for random layer sizes the collapsed layer is exact, and both layers are left unchanged"""
    for _ in range(3):
        n_in, n_hidden, n_out = (int(k) for k in rng.integers(1, 7, size=3))
        W1, b1, W2, b2, X = layers_problem(rng, n_in, n_hidden, n_out)
        facts = _collapse(student, W1, b1, W2, b2, X)
        _expect_collapsed_output(facts, oracle.collapse_outcomes(W1, b1, W2, b2, X), thresholds)
        _expect_layers_unchanged(facts, W1, b1, W2, b2)


# --- ex5: make_mlp and fit_cubic ---------------------------------------------------------------------------------

def _expect_mlp_structure(facts: dict, n_in: int, hidden: int, n_out: int, call: str) -> None:
    rule = mistakes.MLP
    if not facts["is_sequential"]:
        fail(f"{call} to return an nn.Sequential", f"a {facts['type']}",
             "make_mlp returns an nn.Sequential of three modules", convention=rule)
    kinds = [layer["kind"] for layer in facts["layers"]]
    if kinds == ["Linear", "Linear"]:
        fail_as(mistakes.CATALOGUE["no_nonlinearity"], "Linear, ReLU, Linear", "Linear, Linear")
    if kinds != ["Linear", "ReLU", "Linear"]:
        expected, seen = "the layers Linear, ReLU, Linear", ", ".join(kinds) or "no layers"
        if len(kinds) == 3 and kinds[0] == kinds[2] == "Linear":
            fail_as(mistakes.CATALOGUE["other_activation"], expected, seen, found=kinds[1])
        fail(expected, seen, "exactly three modules: a Linear from in_features to hidden, a ReLU, a Linear from "
             "hidden to out_features", convention=rule)
    first, last = facts["layers"][0], facts["layers"][2]
    sizes = ((first["in_features"], first["out_features"]), (last["in_features"], last["out_features"]))
    expect(sizes == ((n_in, hidden), (hidden, n_out)),
           expected=f"Linear({n_in}, {hidden}), ReLU, Linear({hidden}, {n_out}) for {call}",
           seen=f"Linear{sizes[0]}, ReLU, Linear{sizes[1]}",
           hint="in_features -> hidden -> out_features, with the defaults hidden=16 and out_features=1")


def test_make_mlp_is_linear_relu_linear_with_the_requested_sizes(student):
    """make_mlp builds Linear, ReLU, Linear with the requested sizes (and the defaults)"""
    # The structure is described by the worker; what the layers compute is judged here from their extracted
    # weights (by the check on make_mlp's output), so faking the description earns nothing more.
    _expect_mlp_structure(student.probe("mlp_facts", [3], {}), 3, 16, 1, "make_mlp(3)")
    _expect_mlp_structure(student.probe("mlp_facts", [2], {"hidden": 5, "out_features": 4}), 2, 5, 4,
                          "make_mlp(2, hidden=5, out_features=4)")


def test_make_mlp_computes_relu_between_the_layers(student, rng, thresholds):
    """the MLP computes ReLU(x W1 + b1) W2 + b2"""
    X = f32(rng.normal(size=(20, 4)))
    facts = student.probe("mlp_facts", [4], {"hidden": 7, "out_features": 2}, X)
    _expect_mlp_structure(facts, 4, 7, 2, "make_mlp(4, hidden=7, out_features=2)")
    first, last = facts["layers"][0], facts["layers"][2]
    expect(first["bias"] is not None and last["bias"] is not None, expected="both Linear layers with a bias",
           seen="a layer with bias=False", hint="keep nn.Linear's default bias=True")
    expect_close(facts["out"]["values"], oracle.mlp_forward(X, first["weight"], first["bias"], last["weight"],
                                                            last["bias"]),
                 what="the MLP's output", rtol=thresholds["float32_rtol"], atol=thresholds["float32_atol"],
                 hint="the forward pass is Linear, then ReLU, then Linear, nothing else")


#: The torch.nn layers a fit_cubic network may be made of: the trusted process rebuilds them from their settings and
#: parameters (activations have none), in registration order. Dropout is the identity in eval mode.
CUBIC_LAYERS = ("Linear", "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
                "Softplus", "Tanh", "Sigmoid", "Hardtanh", "Hardswish", "Hardsigmoid", "Softsign", "Tanhshrink",
                "Identity", "Dropout", "BatchNorm1d")
#: The model's own predictions and the rebuilt network's (float64, same parameters) agree to float32 round-off:
#: about 1e-6 of the output's scale after two layers; a forward that computes anything else is off by far more.
AGREEMENT_RTOL = 1e-4
#: A parameter "moved" from its initial value by more than this (an untrained layer is bit-identical to it).
MOVED_ATOL = 1e-6
#: Activations a forward may apply as a function instead of a registered module (torch.relu, F.tanh, ...): tried in
#: turn between the two Linear layers to name that mistake.
FUNCTIONAL = ("ReLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus")


def _rebuild(layers: list[dict]) -> tuple[list[Any], str | None]:
    """The network the probe described, rebuilt here from the standard layers only: (torch modules in order, or
    [] and the reason it cannot be rebuilt). Each layer is made with its own settings, then given the student's
    parameters and buffers."""
    import inspect

    import torch
    from torch import nn

    if not layers:
        return [], "no layers at all"
    modules = []
    for layer in layers:
        cls = getattr(nn, layer["type"], None) if layer["type"] in CUBIC_LAYERS else None
        if cls is None or (cls.__module__, cls.__qualname__) != (layer["module"], layer["qualname"]):
            where = "" if layer["module"].startswith("torch.nn") else f" (defined in {layer['module']})"
            return [], f"a {layer['type']}{where}, which is not one of the standard torch.nn layers"
        accepted = set(inspect.signature(cls).parameters) - {"inplace", "device", "dtype", "bias"}
        kwargs = {k: v for k, v in layer["settings"].items() if k in accepted}
        if cls is nn.Linear:
            kwargs["bias"] = "bias" in layer["parameters"]
        try:
            module = cls(**kwargs).double().eval()
            with torch.no_grad():
                for kind, values in (("parameters", dict(module.named_parameters(recurse=False))),
                                     ("buffers", dict(module.named_buffers(recurse=False)))):
                    given = layer[kind]
                    if kind == "parameters" and set(given) != set(values):
                        raise ValueError(f"parameters {sorted(given)} instead of {sorted(values)}")
                    for name, target in values.items():
                        if name in given:
                            source = torch.as_tensor(np.asarray(given[name]), dtype=target.dtype)
                            if source.shape != target.shape:
                                raise ValueError(f"{name} of shape {tuple(source.shape)}")
                            target.copy_(source)
        except (TypeError, ValueError, RuntimeError) as err:
            return [], f"a {layer['type']} that cannot be rebuilt from its settings ({err})"
        modules.append(module)
    return modules, None


def _orders(layers: list[dict]) -> list[list[int]]:
    """The orders in which the rebuilt layers are tried: registration order first; then, for Linear layers and one
    kind of activation only, the Linears in registration order with that activation between each two (the usual
    way to register an activation once, or first, and use it after every hidden layer)."""
    orders = [list(range(len(layers)))]
    linear = [i for i, layer in enumerate(layers) if layer["type"] == "Linear"]
    other = [i for i, layer in enumerate(layers) if layer["type"] != "Linear"]
    kinds = {(layers[i]["type"], tuple(sorted(layers[i]["settings"].items()))) for i in other}
    if len(linear) >= 2 and len(kinds) == 1 and not any(layers[i]["parameters"] for i in other):
        between = [linear[0]]
        for i in linear[1:]:
            between += [other[0], i]
        if between != orders[0]:
            orders.append(between)
    return orders


def _evaluate(modules: list[Any], x: np.ndarray) -> np.ndarray:
    """The rebuilt network on x, in float64, in this process."""
    import torch

    with torch.no_grad():
        out = torch.as_tensor(x, dtype=torch.float64)
        for module in modules:
            out = module(out)
    return out.numpy()


def _standard(layer: dict) -> str | None:
    """The layer's torch.nn class name when it is one of CUBIC_LAYERS itself (not a class of the same name defined
    elsewhere, nor a subclass), else None."""
    import torch.nn as nn

    cls = getattr(nn, layer["type"], None) if layer["type"] in CUBIC_LAYERS else None
    same = cls is not None and (cls.__module__, cls.__qualname__) == (layer["module"], layer["qualname"])
    return layer["type"] if same else None


def _agrees(pred: np.ndarray, mine: np.ndarray) -> bool:
    """The model's own predictions equal the rebuilt network's, to float32 round-off (AGREEMENT_RTOL of its scale)."""
    return mine.shape == pred.shape and close(
        pred, mine, rtol=AGREEMENT_RTOL, atol=AGREEMENT_RTOL * (1.0 + float(np.max(np.abs(mine), initial=0.0))))


def _functional_activation(layers: list[dict], x: np.ndarray, pred: np.ndarray) -> str | None:
    """The activation (a FUNCTIONAL name) that, applied between the model's two Linear layers (rebuilt here from their
    parameters), gives the model's own predictions: the model applies it as a function, not as a registered module.
    None when the model has no two Linear layers of chainable sizes, or when no such activation explains pred."""
    import torch.nn as nn

    linears = [layer for layer in layers if _standard(layer) == "Linear"]
    if len(linears) != 2 or len(layers) != 2:
        return None
    modules, problem = _rebuild(linears)
    if problem:
        return None
    first, second = modules
    if first.out_features != second.in_features:
        first, second = second, first
    if first.out_features != second.in_features:
        return None
    pred = np.ravel(pred)

    def explains(between: list[Any]) -> bool:
        return _agrees(pred, _evaluate([first, *between, second], x).reshape(-1))

    if explains([]):  # nothing between the layers explains it too (x where the activation changes nothing)
        return None
    return next((name for name in FUNCTIONAL if explains([getattr(nn, name)().double()])), None)


def _rebuilt_output(layers: list[dict], x: np.ndarray, pred: np.ndarray) -> tuple[bool, np.ndarray]:
    """(whether the network rebuilt from ``layers`` gives pred on x in one of the orders :func:`_orders` tries, its
    output in the last order tried). The layers must be rebuildable (:func:`_rebuild` said no problem)."""
    modules, _ = _rebuild(layers)
    pred = np.ravel(pred)
    mine = np.array([])
    for order in _orders(layers):
        mine = _evaluate([modules[i] for i in order], x).reshape(-1)
        if _agrees(pred, mine):
            return True, mine
    return False, mine


def _initial_parameters(layers: list[dict], seed: int) -> list[np.ndarray]:
    """The parameters the same layers get when built in registration order right after torch.manual_seed(seed)
    (float32, as nn layers are made), without touching this process's own random state."""
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        out = []
        for layer in layers:
            cls = getattr(nn, layer["type"])
            accepted = set(__import__("inspect").signature(cls).parameters) - {"inplace", "device", "dtype", "bias"}
            kwargs = {k: v for k, v in layer["settings"].items() if k in accepted}
            if cls is nn.Linear:
                kwargs["bias"] = "bias" in layer["parameters"]
            module = cls(**kwargs)
            out += [p.detach().double().numpy() for _, p in sorted(module.named_parameters(recurse=False))]
    return out


def _judge_r2(pred: np.ndarray, x: np.ndarray, minimum: float) -> None:
    """Pass when predictions on x reach R^2 >= minimum against x^3; else name what went wrong."""
    x, pred = np.ravel(x), np.ravel(pred)
    score = r2(pred, x ** 3)
    if score >= minimum:
        return
    expected, seen = f"R^2 >= {minimum:g} on held-out points in [-2, 2]", f"R^2 = {score:.3f}"
    residual = np.sum((pred - best_line(x, pred)) ** 2)
    if residual <= STRAIGHT_LINE_SHARE * np.sum((pred - pred.mean()) ** 2) or score < LINEAR_R2:
        fail_as(mistakes.CATALOGUE["linear_model_for_cubic"], expected, seen)
    fail_as(mistakes.CATALOGUE["cubic_underfit"], expected, seen)


def _expect_cubic_fit(student, thresholds, seed: int, x: np.ndarray) -> None:
    # Only the trained model's contents are read in the worker (and its own predictions, to compare): the training
    # time is the sandbox's CPU time read by this process, the network is rebuilt and evaluated here, and its
    # parameters are compared with a fresh initialisation computed here.
    trained, fitted = mistakes.TRAINED_NETWORK, mistakes.CUBIC_FIT
    pinned = zlib.crc32(f"fit_cubic {seed}".encode()) % 2**31
    student.pin_seed(pinned)
    cpu_before = student.cpu_seconds()
    model = student.call_kept("fit_cubic", seed=seed)
    cpu_after = student.cpu_seconds()
    seconds = student.last_round_trip  # no /proc, or a new worker: the (trusted) wall-clock time of the call
    if cpu_before is not None and cpu_after is not None and cpu_after >= cpu_before:
        seconds = cpu_after - cpu_before
    student.pin_seed(None)
    limit = thresholds["fit_cubic_seconds"]
    if seconds > limit:
        fail(f"training within {limit:g} s of CPU time", f"{seconds:.1f} s",
             "fewer epochs or a smaller network: a few hundred epochs of Adam on a 1-hidden-layer MLP take well "
             "under a second", convention=fitted)
    facts = student.probe("cubic_model_facts", model, x, seed=seed)
    if not facts["callable"]:
        fail("fit_cubic to return the trained model", f"a {facts['type']}", "fit_cubic returns the model it trained",
             convention=trained)
    if not facts["is_module"]:
        fail("a torch.nn.Module made of standard layers (for example from make_mlp)", f"a {facts['type']}",
             "return the network you trained (an nn.Module such as make_mlp's nn.Sequential), not a function",
             convention=trained)
    out = facts["pred"]
    pred = as_array(out.get("values") if out else None, "model(x)")
    expect(pred.size == len(x), expected=f"one prediction per input row ({len(x)} rows of shape (n, 1))",
           seen=f"shape {pred.shape}", hint="the model maps an (n, 1) input to an (n, 1) output")
    if facts["stray"]:
        fail("every parameter inside a standard torch.nn layer",
             f"parameters of your own: {', '.join(facts['stray'][:5])}",
             "build the network from torch.nn layers (nn.Linear, activations); fit_cubic's model must be made of "
             "them (see the handout)", convention=trained)
    _, problem = _rebuild(facts["layers"])
    if problem:
        kinds = ", ".join(layer["type"] for layer in facts["layers"][:8]) or "none"
        fail("a network made of standard torch.nn layers (Linear and activations such as ReLU or Tanh)",
             f"{problem} (the model's layers: {kinds})",
             "fit_cubic must return a network made of standard torch.nn layers, trained on the data (make_mlp's "
             "Linear, ReLU, Linear works); a module that computes x^3 itself, or a layer class of your own, is "
             "not graded", convention=trained)
    pred = pred.reshape(-1)
    expect(bool(np.all(np.isfinite(pred))), expected="finite predictions", seen=fmt(pred),
           hint="training diverged: lower the learning rate")
    agree, mine = _rebuilt_output(facts["layers"], x, pred)
    if not agree:
        expected = "the model's output = its layers applied in the order they are registered"
        seen = (f"the model's own output differs from its layers' by up to {fmt(float(np.max(np.abs(pred - mine))))}"
                if mine.shape == pred.shape else f"the layers give shape {mine.shape}")
        found = _functional_activation(facts["layers"], x, pred)
        if found:
            fail_as(mistakes.CATALOGUE["fit_cubic_activation_not_registered"], expected, seen, found=found)
        fail(expected, seen,
             "your model's forward does not compute its layers in the order they are registered: forward must "
             "apply each layer once, in the order they were created in __init__ (or use nn.Sequential), and "
             "nothing else", convention=trained)
    given = [np.asarray(v, dtype=np.float64) for layer in facts["layers"]
             for _, v in sorted(layer["parameters"].items())]
    for start in sorted({seed, pinned}):
        initial = _initial_parameters(facts["layers"], start)
        if len(initial) == len(given) and all(
                close(a, b, rtol=0, atol=MOVED_ATOL) for a, b in zip(given, initial)):
            fail_as(mistakes.CATALOGUE["untrained_network"],
                    "parameters that moved from their initial values during training",
                    "the parameters of a freshly initialised network")
    _judge_r2(mine, x, thresholds["cubic_r2_min"])


def test_fit_cubic_reaches_r2_on_held_out_points(student, rng, thresholds):
    """the model from fit_cubic(seed=0) reaches R^2 >= 0.98 on held-out points in [-2, 2]"""
    x = rng.uniform(-HELD_OUT_RANGE, HELD_OUT_RANGE, size=(HELD_OUT_POINTS, 1))
    _expect_cubic_fit(student, thresholds, 0, f32(x))


def test_fit_cubic_with_another_seed(student, rng, thresholds):
    """fit_cubic(seed=1) fits y = x^3 on [-2, 2] too, ends included"""
    ends = [-HELD_OUT_RANGE, HELD_OUT_RANGE]
    x = np.concatenate([ends, rng.uniform(-HELD_OUT_RANGE, HELD_OUT_RANGE, size=HELD_OUT_POINTS - 2)])
    _expect_cubic_fit(student, thresholds, 1, f32(x.reshape(-1, 1)))


# --- ex6: CubicNet, the MLP as a subclass of nn.Module -----------------------------------------------------------

#: CubicNet's default hidden size: the contract's CubicNet(hidden=64).
CUBIC_NET_HIDDEN = 64
#: A second hidden size for the visible checks: small (messages show its sizes whole), and not a size one hard-codes.
CUBIC_NET_OTHER_HIDDEN = 5
#: Rows of the visible forward check's input: a batch, small enough to judge instantly.
CUBIC_NET_ROWS = 50
#: (hidden, rows) of the hidden check: odd sizes, a large batch, one hidden unit and one example (last: on one example
#: an activation that was left out can look like one applied, so mistakes are named from the larger inputs first).
CUBIC_NET_SIZES = ((7, 5), (33, 300), (1, 1))
#: The registered non-linearities a CubicNet may use: fit_cubic's standard activations (PReLU's own parameter
#: breaks the count 3 * hidden + 1, which its check then says).
NONLINEARITIES = tuple(k for k in CUBIC_LAYERS if k not in ("Linear", "Identity", "Dropout", "BatchNorm1d"))
#: How the base class nn.Sequential shows in a class's MRO.
SEQUENTIAL = "torch.nn.modules.container.Sequential"


def _linear_sizes(layers: list[dict]) -> list[tuple[Any, Any]]:
    """(in_features, out_features) of the standard Linear layers, in registration order."""
    return [(layer["settings"].get("in_features"), layer["settings"].get("out_features"))
            for layer in layers if _standard(layer) == "Linear"]


def _parameter_count(facts: dict) -> int:
    """Every parameter the model holds, counted from the arrays extracted from its layers (and any stray one)."""
    return sum(int(np.size(v)) for layer in facts["layers"] for v in layer["parameters"].values()) + \
        int(facts["stray_size"])


def _cubic_net_call(hidden: int | None) -> str:
    return "CubicNet()" if hidden is None else f"CubicNet(hidden={hidden})"


def _cubic_net(student, hidden: int | None = None, x: np.ndarray | None = None) -> dict:
    """What CubicNet() (or CubicNet(hidden=hidden)) built, described by the probe (with its output on x, if given),
    after checking the name exists and built an nn.Module."""
    facts = student.probe("cubic_net_facts", hidden, x)
    rule = mistakes.CUBIC_NET
    if not facts["found"]:
        fail("a class CubicNet in pytorch_basics.py", "no name CubicNet",
             "keep the class name CubicNet and its signature CubicNet(hidden=64)", convention=rule)
    if not facts["is_module"]:
        fail(f"{_cubic_net_call(hidden)} to build an nn.Module", f"a {facts['type']}",
             "CubicNet is a subclass of nn.Module: calling the class builds the network", convention=rule)
    return facts


def _expect_registered_layers(facts: dict, hidden: int, call: str, x: np.ndarray | None = None) -> None:
    """Linear(1, hidden) and Linear(hidden, 1) among the registered leaf modules, and a standard non-linearity."""
    layers, rule = facts["layers"], mistakes.CUBIC_NET
    sizes = _linear_sizes(layers)
    kinds = ", ".join(layer["type"] for layer in layers[:8]) or "no modules"
    expected = f"Linear(1, {hidden}), a non-linearity and Linear({hidden}, 1) registered in {call}"
    wanted = sorted([(1, hidden), (hidden, 1)])
    if sorted(s for s in sizes if s in wanted) != wanted:
        if len(sizes) == 2 and sizes[0][0] == 1 and sizes[-1][1] == 1 and sizes[0][1] == sizes[-1][0]:
            fail_as(mistakes.CATALOGUE["cubic_net_ignores_hidden"], expected,
                    f"Linear{sizes[0]} and Linear{sizes[1]}", found=sizes[0][1], hidden=hidden)
        fail(expected, f"the registered modules: {kinds}" + (f" (Linear sizes {sizes})" if sizes else ""),
             "assign each layer to an attribute of self in __init__ (a layer kept in a plain list or created inside "
             "forward is not registered), a torch.nn.Linear from 1 input to hidden units and one from hidden units "
             "to 1 output", convention=rule)
    if any(_standard(layer) in NONLINEARITIES for layer in layers):
        return
    seen = f"the registered modules: {kinds}"
    if x is not None and facts["out"] is not None and facts["out"].get("values") is not None:
        found = _functional_activation(layers, x, as_array(facts["out"]["values"], "CubicNet's output"))
        if found:
            fail_as(mistakes.CATALOGUE["activation_not_registered"], expected, seen, found=found)
    if sum(1 for layer in layers if _standard(layer) is None) == 0:
        fail_as(mistakes.CATALOGUE["cubic_net_without_nonlinearity"], expected, seen)
    fail(expected, seen, "the non-linearity is one of torch.nn's activation modules (nn.ReLU, nn.Tanh, nn.Sigmoid, "
         "...), registered in __init__: the grader rebuilds your network from torch.nn's own layers",
         convention=rule)


def _expect_parameter_count(facts: dict, hidden: int, call: str) -> None:
    count, wanted = _parameter_count(facts), 3 * hidden + 1
    if count == wanted:
        return
    expected, seen = f"3 * {hidden} + 1 = {wanted} parameters in {call}", f"{count} parameters"
    sizes = _linear_sizes(facts["layers"])
    if len(sizes) == 2 and sizes[0][0] == 1 and sizes[-1][1] == 1 and sizes[0][1] == sizes[-1][0] != hidden:
        fail_as(mistakes.CATALOGUE["cubic_net_ignores_hidden"], expected, seen, found=sizes[0][1], hidden=hidden)
    fail(expected, seen, "hidden weights and hidden biases into the hidden layer, hidden weights and one bias into "
         "the output: both Linear layers keep their bias, and nothing else has parameters (no nn.Parameter of your "
         "own, no activation with parameters such as PReLU)", convention=mistakes.CUBIC_NET)


def _expect_forward_is_its_layers(facts: dict, x: np.ndarray, call: str) -> None:
    """forward maps x, (n, 1) float32, to an (n, 1) float32 tensor equal to the network rebuilt from its layers."""
    rule, n = mistakes.CUBIC_NET, len(x)
    out = facts["out"]
    if out is None or not out["is_tensor"]:
        fail(f"{call}(x) to return a torch tensor", f"a {out['type'] if out else 'nothing'}",
             "forward returns the output of the last layer, a tensor", convention=rule)
    if out["shape"] != [n, 1]:
        expected, seen = f"{call}(x) of shape ({n}, 1) for x of shape ({n}, 1)", f"shape {tuple(out['shape'])}"
        if out["shape"] == [n]:
            fail_as(mistakes.CATALOGUE["cubic_net_output_not_a_column"], expected, seen)
        fail(expected, seen, "forward maps an (n, 1) input to (n, 1) predictions, one row per example",
             convention=rule)
    if out["dtype"] != "float32":
        fail(f"{call}(x) of dtype float32 for a float32 x", f"dtype {out['dtype']}",
             "keep nn.Linear's float32 weights: nothing in forward needs another dtype", convention=rule)
    _, problem = _rebuild(facts["layers"])
    if problem:
        kinds = ", ".join(layer["type"] for layer in facts["layers"][:8]) or "none"
        fail("registered layers that are torch.nn's own (Linear and an activation such as ReLU or Tanh)",
             f"{problem} (the modules: {kinds})",
             "build CubicNet from torch.nn's layers: the grader rebuilds your network from them and compares its "
             "output with your forward's", convention=rule)
    pred = as_array(out["values"], f"{call}(x)").reshape(-1)
    expect(bool(np.all(np.isfinite(pred))), expected="finite outputs", seen=fmt(pred),
           hint="a freshly built network gives finite outputs on finite inputs: look at what forward computes")
    agree, mine = _rebuilt_output(facts["layers"], x, pred)
    if agree:
        return
    expected = f"{call}(x) = its layers applied in turn (Linear, non-linearity, Linear), computed from their weights"
    seen = (f"outputs that differ from its layers' by up to {fmt(float(np.max(np.abs(pred - mine))))}"
            if mine.shape == pred.shape else f"its layers give shape {mine.shape}")
    found = _functional_activation(facts["layers"], x, pred)
    if found:
        fail_as(mistakes.CATALOGUE["activation_not_registered"], expected, seen, found=found)
    fail_as(mistakes.CATALOGUE["cubic_net_forward_not_its_layers"], expected, seen)


def test_cubic_net_is_an_nn_module_subclass_of_your_own(student):
    """CubicNet is a class of your own, a subclass of nn.Module (not an nn.Sequential)"""
    # What the name is and what it built are read in the worker; the layers and what they compute are judged here by
    # the other checks of this exercise, so a class that misreports its bases gains these points only.
    facts = _cubic_net(student)
    expected = "class CubicNet(nn.Module) written in pytorch_basics.py, CubicNet() an instance of it"
    mistake = mistakes.CATALOGUE["cubic_net_not_own_subclass"]
    if not facts["is_class"]:
        fail_as(mistake, expected, f"CubicNet is a {facts['what']} that returns a {facts['type']}")
    if SEQUENTIAL in facts["mro"]:
        fail_as(mistake, expected, f"CubicNet() is a {facts['type']}, a subclass of nn.Sequential")
    if not facts["same_class"]:
        fail_as(mistake, expected, f"CubicNet() returned a {facts['type']}, not a CubicNet")
    if facts["defined_in"] != facts["module"]:
        fail(expected, f"a class defined in {facts['defined_in']}",
             "write the class in pytorch_basics.py itself, class CubicNet(nn.Module) with __init__ and forward",
             convention=mistakes.CUBIC_NET)


def test_cubic_net_registers_linear_nonlinearity_linear(student, rng):
    """CubicNet() registers Linear(1, 64), a non-linearity and Linear(64, 1) as submodules"""
    x = f32(rng.normal(size=(CUBIC_NET_ROWS, 1)))
    facts = _cubic_net(student, None, x)
    _expect_registered_layers(facts, CUBIC_NET_HIDDEN, _cubic_net_call(None), x)


def test_cubic_net_has_3_hidden_plus_1_parameters(student):
    """CubicNet() has 3 * 64 + 1 = 193 parameters, and CubicNet(hidden=5) has 16"""
    for hidden in (None, CUBIC_NET_OTHER_HIDDEN):
        facts = _cubic_net(student, hidden)
        _expect_parameter_count(facts, CUBIC_NET_HIDDEN if hidden is None else hidden, _cubic_net_call(hidden))


def test_cubic_net_forward_maps_n_1_to_n_1_through_its_layers(student, rng):
    """CubicNet()'s forward maps (n, 1) float32 to (n, 1) float32, exactly its layers applied in turn"""
    # The worker runs forward; the network is rebuilt here from the extracted weights of torch.nn's own layers, and
    # the two outputs must agree: a forward that computes anything else (x ** 3, an unregistered activation) cannot.
    x = f32(rng.normal(size=(CUBIC_NET_ROWS, 1)))
    _expect_forward_is_its_layers(_cubic_net(student, None, x), x, _cubic_net_call(None))


def test_cubic_net_on_other_hidden_and_batch_sizes(student, rng):
    """CubicNet(hidden=h) for other h: its layers, 3 h + 1 parameters and its forward on other batch sizes"""
    for hidden, rows in CUBIC_NET_SIZES:
        x = f32(rng.normal(size=(rows, 1)))
        facts = _cubic_net(student, hidden, x)
        call = _cubic_net_call(hidden)
        _expect_registered_layers(facts, hidden, call, x)
        _expect_parameter_count(facts, hidden, call)
        _expect_forward_is_its_layers(facts, x, call)
