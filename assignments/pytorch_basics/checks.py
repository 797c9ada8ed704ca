"""Checks for pytorch_basics.py: tensors, the four-step loop, DataLoader, stacking, an MLP for y = x^3.

Torch objects stay in the worker: the probes (autograder/probes/pytorch_basics.py) build the torch inputs from
the arrays these checks send and return plain data. Every verdict is taken here, against NumPy oracles that do not
depend on the reference: gradient descent on the MSE replayed from the same initial weights (and the same recorded
minibatches), closed-form least squares, the algebra of two stacked affine maps, R^2 on our own held-out points.
"""
from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from autograder.checking import as_array, expect, expect_close, fail, fmt
from autograder.sandbox import StudentError

FOUR_STEPS = ("every epoch, in this order: optimizer.zero_grad(); loss = criterion(model(X_t), y_t); "
              "loss.backward(); optimizer.step(), with torch.optim.SGD(model.parameters(), lr=lr) and nn.MSELoss()")
#: Held-out points for fit_cubic: enough for R^2 to be stable to about 1e-3, few enough to evaluate instantly.
HELD_OUT_POINTS = 400
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


def _f32(a: Any) -> np.ndarray:
    """Values exactly representable in float32, as float64: the oracle and the student start from the same numbers."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def _close(a: Any, b: Any, thresholds) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=thresholds["float32_rtol"],
                                                   atol=thresholds["float32_atol"]))


# --- ex1: to_tensors --------------------------------------------------------------------------------------------

def _tensor_pair(facts: dict) -> tuple[dict, dict]:
    """The two items of to_tensors' result, after checking it is a pair of tensors."""
    if facts["returned"] not in ("tuple", "list") or len(facts["items"]) != 2:
        fail("a pair (X_t, y_t)", f"a {facts['returned']}", "end to_tensors with `return X_t, y_t`")
    for name, item in zip(("X_t", "y_t"), facts["items"]):
        expect(item["is_tensor"], expected=f"{name} as a torch.Tensor", seen=f"a {item['type']}",
               hint="torch.tensor(X, dtype=torch.float32) turns a NumPy array into a tensor")
    return facts["items"][0], facts["items"][1]


def _expect_tensor_shapes_and_values(X_item: dict, y_item: dict, X: np.ndarray, y: np.ndarray) -> None:
    n, m = X.shape
    expect(X_item["shape"] == [n, m], expected=f"X_t of shape ({n}, {m}), like X", seen=f"shape {tuple(X_item['shape'])}",
           hint="X_t keeps the shape of X: one row per example, one column per feature")
    expect(y_item["shape"] == [n, 1], expected=f"y_t of shape ({n}, 1)", seen=f"shape {tuple(y_item['shape'])}",
           hint="use y.view(-1, 1): nn.Linear(m, 1) outputs (n, 1), and an (n,) target broadcasts against it to an "
                "(n, n) difference inside nn.MSELoss, a silently wrong loss")
    expect_close(X_item["values"], X, what="X_t", rtol=FLOAT32_TOL, atol=FLOAT32_TOL,
                 hint="X_t must hold the values of X (converted to float32), row by row")
    expect_close(y_item["values"], y.reshape(-1, 1), what="y_t", rtol=FLOAT32_TOL, atol=FLOAT32_TOL,
                 hint="y_t must hold the values of y in the same order, as a column")


def test_to_tensors_returns_float32_tensors(student, rng):
    """to_tensors returns two torch tensors of dtype float32"""
    X, y = rng.normal(size=(12, 3)), rng.normal(size=12)
    # dtype and shape are read in the worker: a tensor could only misreport them by being a class of its own, more
    # work than the one-line answer, and its values are compared with ours in the next checks.
    X_item, y_item = _tensor_pair(student.probe("tensor_facts", X, y))
    for name, item in (("X_t", X_item), ("y_t", y_item)):
        expect(item["dtype"] == "float32", expected=f"{name} of dtype float32", seen=f"dtype {item['dtype']}",
               hint="NumPy arrays are float64 and torch.from_numpy keeps that dtype, while nn.Linear's weights are "
                    "float32 (mixing them raises an error): use torch.tensor(X, dtype=torch.float32) or .float()")


def test_to_tensors_gives_shapes_n_m_and_n_1_with_the_same_values(student, rng):
    """X_t has shape (n, m) and y_t shape (n, 1), with the values of X and y"""
    X, y = _f32(rng.normal(size=(15, 4))), _f32(rng.normal(size=15))
    X_item, y_item = _tensor_pair(student.probe("tensor_facts", X, y))
    _expect_tensor_shapes_and_values(X_item, y_item, X, y)


def test_to_tensors_on_other_sizes(student, rng):
    """to_tensors handles one example and one feature alike"""
    for n, m in ((1, 4), (9, 1), (6, 2)):
        X, y = _f32(rng.normal(size=(n, m))), _f32(rng.normal(size=n))
        X_item, y_item = _tensor_pair(student.probe("tensor_facts", X, y))
        for name, item in (("X_t", X_item), ("y_t", y_item)):
            expect(item["dtype"] == "float32", expected=f"{name} of dtype float32", seen=f"dtype {item['dtype']}",
                   hint="convert with dtype=torch.float32 whatever the sizes")
        _expect_tensor_shapes_and_values(X_item, y_item, X, y)


# --- ex2: train_linear_model -------------------------------------------------------------------------------------

def _gd_oracle(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float, epochs: int,
               accumulate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent on E = mean((u - y)^2), u = X w + b, in float64.

    The gradient of the plain MSE is dE/dw = 2/n X^T (u - y), dE/db = 2 mean(u - y). ``accumulate=True`` adds
    each gradient to the previous ones before the step (what a missing zero_grad does).
    Returns (parameters [w..., b], losses), losses[k] the MSE before update k and losses[epochs] after the last.
    """
    w, b = np.array(w, dtype=np.float64), float(b)
    acc_w, acc_b = np.zeros_like(w), 0.0
    losses = []
    for _ in range(epochs):
        err = X @ w + b - y
        losses.append(np.mean(err ** 2))
        gw, gb = 2.0 / len(y) * X.T @ err, 2.0 * np.mean(err)
        if accumulate:
            acc_w, acc_b = acc_w + gw, acc_b + gb
            gw, gb = acc_w, acc_b
        w, b = w - lr * gw, b - lr * gb
    losses.append(np.mean((X @ w + b - y) ** 2))
    return np.append(w, b), np.array(losses)


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
    if not isinstance(losses, (list, tuple)):
        fail(f"{what} as a list of {epochs} Python floats", fmt(losses),
             "start from losses = [] and append loss.item() once per epoch")
    expect(len(losses) == epochs, expected=f"{epochs} values in {what}, one per epoch", seen=f"{len(losses)} values",
           hint="append exactly one loss per epoch")
    kinds = sorted({type(v).__name__ for v in losses if type(v) not in (float, int)})
    expect(not kinds, expected=f"{what} as Python floats", seen=f"entries of type {', '.join(kinds)}",
           hint="append loss.item(): the loss tensor itself (a tensor or array here) keeps the whole computation "
                "graph alive and is not a plain number")
    return np.array(losses, dtype=np.float64)


class _Run:
    """One train_linear_model run from injected initial weights, with what NumPy says it should have given."""

    def __init__(self, student, rng, n: int, m: int, lr: float, epochs: int) -> None:
        self.X, self.y, self.w0, self.b0 = _linear_problem(rng, n, m)
        self.lr, self.epochs = lr, epochs
        self.result = student.probe("train_linear_from", self.X, self.y, self.w0, self.b0, lr, epochs)
        if not self.result["pair"]:
            fail("a pair (model, losses)", f"a {self.result['returned']}", "end with `return model, losses`")
        self.params, self.losses = _gd_oracle(self.X, self.y, self.w0, self.b0, lr, epochs)
        self.m = m

    def known_mistakes(self):
        """(hint, parameters, losses before each step) of the mistakes we can name, most likely first."""
        start = np.append(self.w0, self.b0)
        first = self.losses[0]
        yield ("the parameters never changed: loss.backward() must come before optimizer.step() (a step before "
               "backward uses zero gradients), and step() must run every epoch",
               start, np.full(self.epochs, first))
        params, losses = _gd_oracle(self.X, self.y, self.w0, self.b0, self.lr, self.epochs, accumulate=True)
        yield ("your gradients add up over the epochs: call optimizer.zero_grad() at the start of every epoch, "
               "otherwise loss.backward() adds the new gradient to the old ones", params, losses[:-1])
        for other in OTHER_LRS:
            if other != self.lr:
                params, losses = _gd_oracle(self.X, self.y, self.w0, self.b0, other, self.epochs)
                yield (f"your model trained with lr={other}, not the lr argument: pass lr=lr to torch.optim.SGD",
                       params, losses[:-1])

    def hint(self, seen_params: np.ndarray | None, seen_losses: np.ndarray | None, thresholds) -> str:
        # same_model (an identity seen in the worker) only picks a hint: points come from the replayed trajectory
        if not self.result["same_model"]:
            return ("train the model you were given (the model argument) and return it; create nn.Linear(m, 1) "
                    "only when model is None")
        for hint, params, losses in self.known_mistakes():
            if seen_params is not None and _close(seen_params, params, thresholds):
                return hint
            if seen_losses is not None and _close(seen_losses, losses, thresholds):
                return hint
        return FOUR_STEPS

    def expect_gradient_descent(self, thresholds) -> None:
        seen = _linear_params(self.result["model"], self.m, "the returned model")
        if not _close(seen, self.params, thresholds):
            fail(f"weights and bias [w..., b] = {fmt(self.params)} after {self.epochs} epochs of gradient descent "
                 f"(lr = {self.lr}) from the given initial weights", fmt(seen), self.hint(seen, None, thresholds))

    def expect_losses_before_each_step(self, thresholds) -> None:
        seen, expected = _loss_list(self.result["losses"], self.epochs), self.losses[:self.epochs]
        if _close(seen, expected, thresholds):
            return
        if _close(seen, self.losses[1:], thresholds):
            hint = ("your losses are one epoch late: record loss.item() of the loss computed before "
                    "optimizer.step(), not a loss computed after the update")
        elif _close(seen, expected / 2, thresholds):
            hint = "nn.MSELoss() is mean((u - y)^2), without the 1/2"
        else:
            hint = self.hint(None, seen, thresholds)
        fail(f"losses = {fmt(expected)} (the MSE before each step)", fmt(seen), hint)


def _linear_problem(rng, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Data, and initial weights to inject, all exactly representable in float32."""
    X = _f32(rng.normal(size=(n, m)))
    y = _f32(X @ rng.normal(size=m) + 0.5 + 0.1 * rng.normal(size=n))
    return X, y, _f32(0.5 * rng.normal(size=m)), float(_f32(0.2))


def test_train_linear_model_follows_gradient_descent_from_given_weights(student, rng, thresholds):
    """from given initial weights, train_linear_model's weights follow gradient descent on the MSE"""
    _Run(student, rng, n=40, m=3, lr=0.05, epochs=20).expect_gradient_descent(thresholds)


def test_train_linear_model_records_the_mse_before_each_step(student, rng, thresholds):
    """the losses are Python floats, the MSE before each epoch's step"""
    _Run(student, rng, n=30, m=2, lr=0.05, epochs=15).expect_losses_before_each_step(thresholds)


def test_train_linear_model_default_model_reaches_least_squares(student, rng, thresholds):
    """with model=None and the default lr and epochs, training reaches the least-squares solution"""
    n, m = 200, 3
    # Centred, orthogonal columns of norm sqrt(n): the MSE's Hessian is 2 I, so lr 0.1 shrinks the error by 0.8 per
    # epoch and 100 epochs converge to far below our tolerance whatever the (random) initial weights.
    A = rng.normal(size=(n, m))
    Q, _ = np.linalg.qr(A - A.mean(axis=0))
    X = _f32(Q * np.sqrt(n))
    y = _f32(X @ np.array([1.5, -2.0, 0.5]) + 3.0 + 0.1 * rng.normal(size=n))
    result = student.probe("train_linear_default", X, y)
    if not result["pair"]:
        fail("a pair (model, losses)", f"a {result['returned']}", "end with `return model, losses`")
    seen = _linear_params(result["model"], m, "the model created when model=None")
    _loss_list(result["losses"], 100, "losses (default epochs=100)")
    coef = np.linalg.lstsq(np.column_stack([X, np.ones(n)]), y, rcond=None)[0]
    expect_close(seen, coef, what="[w..., b]", rtol=0, atol=thresholds["lstsq_atol"],
                 hint="keep the defaults lr=0.1 and epochs=100; " + FOUR_STEPS)


def test_train_linear_model_on_other_sizes_and_learning_rates(student, rng, thresholds):
    """gradient descent and its losses are right for other sizes and learning rates"""
    for n, m, lr, epochs in ((25, 1, 0.2, 12), (50, 5, 0.02, 25)):
        run = _Run(student, rng, n=n, m=m, lr=lr, epochs=epochs)
        run.expect_gradient_descent(thresholds)
        run.expect_losses_before_each_step(thresholds)


# --- ex3: make_loader and train_with_loader -----------------------------------------------------------------------

def _loader_epochs(student, rng, n: int, m: int, batch_size: int, shuffle: bool, epochs: int):
    """Each epoch's minibatches as (ids, xb) pairs, checked against X; y holds each example's id 0..n-1."""
    X, ids = _f32(rng.normal(size=(n, m))), np.arange(n, dtype=np.float64)
    facts = student.probe("loader_epochs", X, ids, batch_size, shuffle, epochs)
    out = []
    for batches in facts["epochs"]:
        epoch = []
        for batch in batches:
            expect(len(batch) == 2 and all(v["is_tensor"] for v in batch),
                   expected="minibatches (xb, yb) of two tensors", seen=f"{len(batch)} item(s): "
                   + ", ".join(v["type"] for v in batch),
                   hint="make_loader returns DataLoader(TensorDataset(X_t, y_t), batch_size=..., shuffle=...)")
            xb, yb = batch
            b = xb["shape"][0] if xb["shape"] else 0
            expect(xb["shape"] == [b, m] and yb["shape"] == [b, 1],
                   expected=f"xb of shape (batch, {m}) and yb of shape (batch, 1)",
                   seen=f"xb {tuple(xb['shape'])}, yb {tuple(yb['shape'])}",
                   hint="wrap the (n, m) and (n, 1) tensors themselves in TensorDataset(X_t, y_t)")
            batch_ids = np.asarray(yb["values"], dtype=np.float64).reshape(-1)
            expect(np.all(np.isin(batch_ids, ids)), expected="the examples of X_t, y_t", seen=fmt(batch_ids),
                   hint="the loader must serve the tensors it was given, unchanged")
            expect(np.allclose(np.asarray(xb["values"], dtype=np.float64), X[batch_ids.astype(int)]),
                   expected="each xb row next to its own yb", seen="rows of xb that do not match their yb",
                   hint="TensorDataset(X_t, y_t) keeps every x with its y; do not shuffle X_t and y_t separately")
            epoch.append(batch_ids.astype(int))
        out.append(epoch)
    return out


_DROP_LAST = "the last, smaller minibatch is missing: do not pass drop_last=True to DataLoader"


def test_make_loader_batches_have_the_requested_sizes(student, rng):
    """70 examples in minibatches of 32 give sizes 32, 32 and a last partial batch of 6"""
    for number, epoch in enumerate(_loader_epochs(student, rng, 70, 3, 32, True, 2), start=1):
        sizes = [len(b) for b in epoch]
        hint = (_DROP_LAST if sizes == [32, 32]
                else "DataLoader(dataset, batch_size=batch_size, shuffle=shuffle) serves consecutive minibatches of "
                     "batch_size examples, the last one smaller")
        expect(sizes == [32, 32, 6], expected="minibatch sizes [32, 32, 6]", seen=f"{sizes} in epoch {number}",
               hint=hint)


def test_make_loader_visits_every_example_once_per_epoch(student, rng):
    """every example appears exactly once in each epoch"""
    n = 50
    for number, epoch in enumerate(_loader_epochs(student, rng, n, 2, 8, True, 3), start=1):
        seen = np.sort(np.concatenate(epoch)) if epoch else np.array([], dtype=int)
        expect(np.array_equal(seen, np.arange(n)), expected=f"each of the {n} examples once in epoch {number}",
               seen=f"{len(seen)} examples, {len(np.unique(seen))} distinct",
               hint=_DROP_LAST if len(seen) == n - n % 8 else
               "one epoch is one pass over the whole data set; the loader must be iterable again at every "
               "epoch (a DataLoader is; a generator is used up after one pass)")


def test_make_loader_shuffles_each_epoch(student, rng):
    """with shuffle=True the order is random and changes from one epoch to the next"""
    n = 40
    orders = [np.concatenate(epoch) for epoch in _loader_epochs(student, rng, n, 2, 8, True, 3)]
    expect(not any(np.array_equal(order, np.arange(n)) for order in orders),
           expected="a shuffled order in every epoch", seen="the examples in their original order",
           hint="pass shuffle=shuffle to DataLoader: the default is shuffle=False")
    expect(not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2]),
           expected="a new order at every epoch", seen="the same order in consecutive epochs",
           hint="shuffling the data once before building the loader is not enough: DataLoader(..., shuffle=True) "
                "draws a new order at each epoch")


def test_make_loader_keeps_the_order_without_shuffle(student, rng):
    """with shuffle=False the examples come in their original order"""
    n = 40
    for number, epoch in enumerate(_loader_epochs(student, rng, n, 2, 16, False, 2), start=1):
        order = np.concatenate(epoch) if epoch else np.array([], dtype=int)
        if np.array_equal(order, np.arange(len(order))) and len(order) < n:
            fail("every example, in the original order", f"only the first {len(order)} in epoch {number}", _DROP_LAST)
        expect(np.array_equal(order, np.arange(n)), expected="the original order",
               seen=f"another order in epoch {number}", hint="pass the shuffle argument on to DataLoader")


def _replay(X, y, w, b, passes, lr, accumulate=False):
    """Minibatch gradient descent replayed on the recorded minibatches: (params, per-epoch batch-loss lists)."""
    params = np.append(np.asarray(w, dtype=np.float64), b)
    acc = np.zeros_like(params)
    per_epoch = []
    for batches in passes:
        losses = []
        for idx in batches:
            Xb, yb = X[idx], y[idx]
            err = Xb @ params[:-1] + params[-1] - yb
            losses.append(np.mean(err ** 2))
            grad = np.append(2.0 / len(idx) * Xb.T @ err, 2.0 * np.mean(err))
            if accumulate:
                acc = acc + grad
                grad = acc
            params = params - lr * grad
        per_epoch.append(losses)
    return params, per_epoch


def _train_with_loader(student, rng, n, m, batch_size, shuffle, lr, epochs):
    X, y, w0, b0 = _linear_problem(rng, n, m)
    result = student.probe("train_with_recorded_loader", X, y, w0, b0, batch_size, shuffle, lr, epochs)
    passes = result["passes"]
    expect(len(passes) == epochs, expected=f"{epochs} passes over the loader, one per epoch",
           seen=f"{len(passes)} passes", hint="loop `for xb, yb in loader:` inside `for epoch in range(epochs):`")
    return X, y, w0, b0, result


def _expect_one_update_per_minibatch(X, y, w0, b0, result, lr, thresholds) -> None:
    seen = np.append(np.reshape(result["model"]["weight"], -1), np.reshape(result["model"]["bias"], -1))
    expected, _ = _replay(X, y, w0, b0, result["passes"], lr)
    if _close(seen, expected, thresholds):
        return
    start = np.append(w0, b0)
    if _close(seen, start, thresholds):
        hint = "the parameters never changed: call loss.backward() and then optimizer.step() for every minibatch"
    elif _close(seen, _replay(X, y, w0, b0, result["passes"], lr, accumulate=True)[0], thresholds):
        hint = "gradients add up across minibatches: call optimizer.zero_grad() before each minibatch's backward"
    else:
        hint = ("one update per minibatch: inside `for xb, yb in loader:` do zero_grad, loss on (xb, yb), "
                f"backward, step, with torch.optim.SGD(model.parameters(), lr=lr)")
    fail(f"[w..., b] = {fmt(expected)} after one SGD update per minibatch", fmt(seen), hint)


def _expect_mean_minibatch_losses(result, X, y, w0, b0, lr, epochs, thresholds) -> None:
    seen = _loss_list(result["losses"], epochs)
    _, per_epoch = _replay(X, y, w0, b0, result["passes"], lr)
    means = np.array([np.mean(losses) for losses in per_epoch])
    if _close(seen, means, thresholds):
        return
    sizes = [np.array([len(idx) for idx in batches]) for batches in result["passes"]]
    if _close(seen, [np.sum(losses) for losses in per_epoch], thresholds):
        hint = "you reported the sum of the minibatch losses: divide by the number of minibatches to get their mean"
    elif _close(seen, [np.average(l, weights=s) for l, s in zip(per_epoch, sizes)], thresholds):
        hint = "report the plain mean of the minibatch losses, each minibatch counting once (the last one too)"
    elif _close(seen, [losses[-1] for losses in per_epoch], thresholds):
        hint = "average the losses of all the epoch's minibatches, not only the last one"
    else:
        hint = "append loss.item() of every minibatch (before its step) and report the mean per epoch"
    fail(f"losses = {fmt(means)} (the mean minibatch loss of each epoch)", fmt(seen), hint)


def test_train_with_loader_makes_one_update_per_minibatch(student, rng, thresholds):
    """train_with_loader makes one SGD update per minibatch, the last partial one included"""
    lr = 0.05
    X, y, w0, b0, result = _train_with_loader(student, rng, 50, 2, 16, True, lr, 4)
    _expect_one_update_per_minibatch(X, y, w0, b0, result, lr, thresholds)


def test_train_with_loader_reports_the_mean_minibatch_loss_per_epoch(student, rng, thresholds):
    """the loss of an epoch is the mean of its minibatch losses, as Python floats"""
    lr, epochs = 0.05, 4
    X, y, w0, b0, result = _train_with_loader(student, rng, 50, 2, 16, True, lr, epochs)
    _expect_mean_minibatch_losses(result, X, y, w0, b0, lr, epochs, thresholds)


def test_train_with_loader_on_other_batch_sizes(student, rng, thresholds):
    """train_with_loader is right with minibatches of one example and with one minibatch per epoch"""
    for n, m, batch_size, shuffle, lr, epochs in ((12, 2, 1, True, 0.02, 2), (30, 3, 30, False, 0.1, 3)):
        X, y, w0, b0, result = _train_with_loader(student, rng, n, m, batch_size, shuffle, lr, epochs)
        _expect_one_update_per_minibatch(X, y, w0, b0, result, lr, thresholds)
        _expect_mean_minibatch_losses(result, X, y, w0, b0, lr, epochs, thresholds)


# --- ex4: collapse_linear_stack ----------------------------------------------------------------------------------

def _collapse(student, rng, n_in: int, n_hidden: int, n_out: int):
    """Random layers (weights in PyTorch's (out, in) layout), inputs, what the student returned, the exact output."""
    W1, b1 = _f32(rng.normal(size=(n_hidden, n_in))), _f32(rng.normal(size=n_hidden))
    W2, b2 = _f32(rng.normal(size=(n_out, n_hidden))), _f32(rng.normal(size=n_out))
    X = _f32(rng.normal(size=(INPUT_ROWS, n_in)))
    try:
        facts = student.probe("collapse_facts", W1, b1, W2, b2, X)
    except StudentError as err:
        if err.exc_type != "RuntimeError":
            raise
        fail(f"one nn.Linear({n_in}, {n_out}) equal to layer2(layer1(x))", f"RuntimeError: {err.message[:200]}",
             "PyTorch stores layer.weight as (out_features, in_features), so the merged weight is "
             "layer2.weight @ layer1.weight (the chapter's W1 W2 transposed): the product in the wrong order "
             "does not even fit when the sizes differ")
    merged = facts["merged"]
    # kind and sizes are reported by the worker; the merged layer's output is judged against the exact product of
    # the two layers here, so a layer that misreports them gains at most this structural check, for more work than
    # building the nn.Linear.
    expect(merged["kind"] == "Linear", expected="one nn.Linear", seen=f"a {merged['type']}",
           hint="build a new nn.Linear(layer1.in_features, layer2.out_features); nn.Sequential(layer1, layer2) "
                "computes the same thing but is still two layers")
    expect((merged["in_features"], merged["out_features"]) == (n_in, n_out),
           expected=f"nn.Linear({n_in}, {n_out}): layer1's inputs, layer2's outputs",
           seen=f"nn.Linear({merged['in_features']}, {merged['out_features']})",
           hint="the merged layer goes straight from layer1.in_features to layer2.out_features")
    exact = (X @ W1.T + b1) @ W2.T + b2
    return W1, b1, W2, b2, X, facts, exact


def _expect_collapsed_output(W1, b1, W2, b2, X, facts, exact, thresholds) -> None:
    if facts["out"] is None or facts["out"].get("values") is None:
        fail("an nn.Linear that can be called on a batch", "no output", "return the nn.Linear itself")
    seen = as_array(facts["out"]["values"], "merged(x)")
    if _close(seen, exact, thresholds):
        return
    if W1.shape == W2.shape and _close(seen, X @ (W1 @ W2).T + (W2 @ b1 + b2), thresholds):
        hint = ("the product is in the wrong order: PyTorch's weights are (out, in), so the chapter's W1 W2 becomes "
                "layer2.weight @ layer1.weight")
    elif _close(seen, X @ (W2 @ W1).T + b2, thresholds):
        hint = ("the bias is missing the b1 W2 term: (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2), in PyTorch "
                "layer2.weight @ layer1.bias + layer2.bias")
    else:
        hint = ("weight = layer2.weight @ layer1.weight and bias = layer2.weight @ layer1.bias + layer2.bias, "
                "copied into the new layer under torch.no_grad()")
    fail(f"merged(x) = layer2(layer1(x)) = {fmt(exact)}", fmt(seen), hint)


def test_collapse_linear_stack_equals_layer2_of_layer1(student, rng, thresholds):
    """the collapsed layer computes layer2(layer1(x)) on random inputs"""
    _expect_collapsed_output(*_collapse(student, rng, 3, 3, 3), thresholds)


def test_collapse_linear_stack_returns_one_nn_linear_with_the_outer_sizes(student, rng):
    """collapsing Linear(4, 5) and Linear(5, 2) gives one nn.Linear(4, 2)"""
    _collapse(student, rng, 4, 5, 2)


def test_collapse_linear_stack_on_random_sizes_leaves_the_layers_alone(student, rng, thresholds):
    """for random layer sizes the collapsed layer is exact, and both layers are left unchanged"""
    for _ in range(3):
        n_in, n_hidden, n_out = (int(k) for k in rng.integers(1, 7, size=3))
        W1, b1, W2, b2, X, facts, exact = _collapse(student, rng, n_in, n_hidden, n_out)
        _expect_collapsed_output(W1, b1, W2, b2, X, facts, exact, thresholds)
        for name, layer, W, b in (("layer1", facts["layer1"], W1, b1), ("layer2", facts["layer2"], W2, b2)):
            expect(np.array_equal(layer["weight"], W) and np.array_equal(layer["bias"], b),
                   expected=f"{name} unchanged", seen=f"{name}'s weight or bias modified",
                   hint="build a new nn.Linear and copy the merged values into it; do not write into the layers")


# --- ex5: make_mlp and fit_cubic ---------------------------------------------------------------------------------

def _expect_mlp_structure(facts: dict, n_in: int, hidden: int, n_out: int, call: str) -> None:
    expect(facts["is_sequential"], expected=f"{call} to return an nn.Sequential", seen=f"a {facts['type']}",
           hint="return nn.Sequential(nn.Linear(...), nn.ReLU(), nn.Linear(...))")
    kinds = [layer["kind"] for layer in facts["layers"]]
    if kinds == ["Linear", "Linear"]:
        fail("Linear, ReLU, Linear", "Linear, Linear",
             "without a non-linearity between them two Linear layers collapse to one linear map (exercise 4): "
             "put nn.ReLU() between them")
    other_activation = len(kinds) == 3 and kinds[0] == kinds[2] == "Linear"
    expect(kinds == ["Linear", "ReLU", "Linear"], expected="the layers Linear, ReLU, Linear",
           seen=", ".join(kinds) or "no layers",
           hint=f"the non-linearity asked for is nn.ReLU() (the usual default), not {kinds[1]}" if other_activation
           else "exactly three modules: nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features)")
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
    X = _f32(rng.normal(size=(20, 4)))
    facts = student.probe("mlp_facts", [4], {"hidden": 7, "out_features": 2}, X)
    _expect_mlp_structure(facts, 4, 7, 2, "make_mlp(4, hidden=7, out_features=2)")
    first, last = facts["layers"][0], facts["layers"][2]
    expect(first["bias"] is not None and last["bias"] is not None, expected="both Linear layers with a bias",
           seen="a layer with bias=False", hint="keep nn.Linear's default bias=True")
    hidden = np.maximum(X @ first["weight"].T + first["bias"], 0.0)
    expect_close(facts["out"]["values"], hidden @ last["weight"].T + last["bias"], what="the MLP's output",
                 rtol=thresholds["float32_rtol"], atol=thresholds["float32_atol"],
                 hint="the forward pass is Linear, then ReLU, then Linear, nothing else")


def _r2(pred: np.ndarray, target: np.ndarray) -> float:
    return float(1.0 - np.sum((pred - target) ** 2) / np.sum((target - target.mean()) ** 2))


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


def _expect_cubic_fit(student, thresholds, seed: int, x: np.ndarray) -> None:
    # Only the trained model's contents are read in the worker (and its own predictions, to compare): the training
    # time is the sandbox's CPU time read by this process, the network is rebuilt and evaluated here, and its
    # parameters are compared with a fresh initialisation computed here.
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
    expect(seconds <= limit, expected=f"training within {limit:g} s of CPU time", seen=f"{seconds:.1f} s",
           hint="fewer epochs or a smaller network: a few hundred epochs of Adam on a 1-hidden-layer MLP take well "
                "under a second")
    facts = student.probe("cubic_model_facts", model, x, seed=seed)
    expect(facts["callable"], expected="fit_cubic to return the trained model", seen=f"a {facts['type']}",
           hint="end fit_cubic with `return model`")
    expect(facts["is_module"], expected="a torch.nn.Module made of standard layers (for example from make_mlp)",
           seen=f"a {facts['type']}",
           hint="return the network you trained (an nn.Module such as make_mlp's nn.Sequential), not a function")
    out = facts["pred"]
    pred = as_array(out.get("values") if out else None, "model(x)")
    expect(pred.size == len(x), expected=f"one prediction per input row ({len(x)} rows of shape (n, 1))",
           seen=f"shape {pred.shape}", hint="the model maps an (n, 1) input to an (n, 1) output")
    expect(not facts["stray"], expected="every parameter inside a standard torch.nn layer",
           seen=f"parameters of your own: {', '.join(facts['stray'][:5])}",
           hint="build the network from torch.nn layers (nn.Linear, activations); fit_cubic's model must be made of "
                "them (see the handout)")
    modules, problem = _rebuild(facts["layers"])
    if problem:
        kinds = ", ".join(layer["type"] for layer in facts["layers"][:8]) or "none"
        fail("a network made of standard torch.nn layers (Linear and activations such as ReLU or Tanh)",
             f"{problem} (the model's layers: {kinds})",
             "fit_cubic must return a network made of standard torch.nn layers, trained on the data (make_mlp's "
             "Linear, ReLU, Linear works); a module that computes x^3 itself, or a layer class of your own, is "
             "not graded")
    pred = pred.reshape(-1)
    expect(bool(np.all(np.isfinite(pred))), expected="finite predictions", seen=fmt(pred),
           hint="training diverged: lower the learning rate")
    for order in _orders(facts["layers"]):
        mine = _evaluate([modules[i] for i in order], x).reshape(-1)
        agree = mine.shape == pred.shape and bool(np.allclose(
            pred, mine, rtol=AGREEMENT_RTOL, atol=AGREEMENT_RTOL * (1.0 + float(np.max(np.abs(mine))))))
        if agree:
            break
    expect(agree, expected="the model's output = its layers applied in the order they are registered",
           seen=f"the model's own output differs from its layers' by up to {fmt(float(np.max(np.abs(pred - mine))))}"
           if mine.shape == pred.shape else f"the layers give shape {mine.shape}",
           hint="your model's forward does not compute its layers in the order they are registered: forward must "
                "apply each layer once, in the order they were created in __init__ (or use nn.Sequential), and "
                "nothing else")
    given = [np.asarray(v, dtype=np.float64) for layer in facts["layers"]
             for _, v in sorted(layer["parameters"].items())]
    for start in sorted({seed, pinned}):
        initial = _initial_parameters(facts["layers"], start)
        fresh = len(initial) == len(given) and all(
            a.shape == b.shape and np.allclose(a, b, rtol=0, atol=MOVED_ATOL) for a, b in zip(given, initial))
        expect(not fresh, expected="parameters that moved from their initial values during training",
               seen="the parameters of a freshly initialised network",
               hint="fit_cubic must train the network it returns: the four steps (zero_grad, loss, backward, step) "
                    "for a few hundred epochs")
    r2, minimum = _r2(mine, x.reshape(-1) ** 3), thresholds["cubic_r2_min"]
    if r2 >= minimum:
        return
    line = np.polyval(np.polyfit(x.reshape(-1), mine, 1), x.reshape(-1))
    if np.sum((mine - line) ** 2) <= STRAIGHT_LINE_SHARE * np.sum((mine - mine.mean()) ** 2) or r2 < LINEAR_R2:
        hint = ("your model is (nearly) a straight line, and y = x^3 bends: a linear model cannot fit it however "
                "long it trains. Use a network with a non-linearity (make_mlp: Linear, ReLU, Linear)")
    else:
        hint = ("the curve is not fitted well enough on [-2, 2], where training data are sparse near the ends: "
                "more hidden units, more epochs or torch.optim.Adam; plot your model against x^3 (see the handout)")
    fail(f"R^2 >= {minimum:g} on held-out points in [-2, 2]", f"R^2 = {r2:.3f}", hint)


def test_fit_cubic_reaches_r2_on_held_out_points(student, rng, thresholds):
    """the model from fit_cubic(seed=0) reaches R^2 >= 0.98 on held-out points in [-2, 2]"""
    _expect_cubic_fit(student, thresholds, 0, _f32(rng.uniform(-2.0, 2.0, size=(HELD_OUT_POINTS, 1))))


def test_fit_cubic_with_another_seed(student, rng, thresholds):
    """fit_cubic(seed=1) fits y = x^3 on [-2, 2] too, ends included"""
    x = np.concatenate([[-2.0, 2.0], rng.uniform(-2.0, 2.0, size=HELD_OUT_POINTS - 2)]).reshape(-1, 1)
    _expect_cubic_fit(student, thresholds, 1, _f32(x))
