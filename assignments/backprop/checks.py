"""Checks for backprop.py: activations and their derivatives, the two losses, a two-layer forward pass, the single
neuron on AND and XOR, backpropagation in NeuralNetworkScratch, full-batch training, minibatch training.

Every verdict is taken here against oracles that do not depend on the reference: closed forms and central finite
differences for the activations and losses, a NumPy forward pass written here, central differences of our own
loss and torch autograd for the gradients, gradient-descent trajectories replayed in NumPy from parameters we put
into the student's network ourselves, and, for minibatches, a replay over the very minibatches the student's code
used (a probe records which rows reach forward and backward). When a gradient is wrong we replay the usual
mistakes (a sign error, a missing activation derivative, sigmoid' of z, a missing 1/m or 2, ...) and name the one
that reproduces what we saw.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from autograder import datasets
from autograder.checking import (CheckFailure, as_array, as_float, expect, expect_close, expect_finite, fail, fmt,
                                 numerical_gradient, rel_error)
from autograder.remote import RemoteObject
from autograder.sandbox import StudentError

#: Step of the central differences used for the activations (2nd order: error ~1e-10, far below the tolerance).
ACTIVATION_STEP = 1e-5


# --- small helpers ----------------------------------------------------------------------------------------------

def _sigmoid(z: Any) -> np.ndarray:
    """The logistic function exp(-log(1 + exp(-z))): no overflow, full relative precision on both tails."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


def _matches(seen: Any, expected: Any, rtol: float = 1e-7, atol: float = 1e-10) -> bool:
    try:
        seen = np.asarray(seen, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    return seen.size == expected.size and bool(np.allclose(seen.reshape(expected.shape), expected, rtol=rtol,
                                                           atol=atol))


def _first_match(seen: Any, candidates: dict[str, Any], **tol: float) -> str | None:
    """The description of the first candidate value that ``seen`` reproduces."""
    for description, value in candidates.items():
        with np.errstate(all="ignore"):
            if _matches(seen, value, **tol):
                return description
    return None


def _values(seen: Any, expected: np.ndarray, what: str, thresholds, *, hint: str,
            mistakes: dict[str, Any] | None = None) -> np.ndarray:
    """``seen`` must equal ``expected`` (same shape); otherwise name the mistake it reproduces."""
    got = as_array(seen, what, hint=f"{what} should be a NumPy array of shape {expected.shape}, like its input")
    if got.shape != expected.shape:
        if got.size == expected.size:
            fail(f"{what} of shape {expected.shape}", f"shape {got.shape}",
                 "keep the shape of the input: work elementwise (no reshape, no ravel)")
        fail(f"{what} of shape {expected.shape}", f"shape {got.shape}", hint)
    if np.allclose(got, expected, rtol=thresholds["value_rtol"], atol=thresholds["value_atol"]):
        return got
    diagnosis = _first_match(got, mistakes or {})
    worst = np.unravel_index(np.argmax(np.abs(got - expected)), expected.shape) if expected.ndim else ()
    fail(f"{what} = {fmt(expected)}", f"{fmt(got)} (largest difference at index {tuple(int(i) for i in worst)})",
         diagnosis or hint)


# --- the network oracle: forward, loss, gradients (with the usual mistakes), gradient steps ---------------------

def _layers(params: dict[str, np.ndarray]) -> int:
    return sum(1 for name in params if name.startswith("W"))


def _forward(params: dict[str, np.ndarray], X: np.ndarray) -> dict[str, np.ndarray]:
    """The cache {"a0": X, "z1": .., "a1": .., ...} of a sigmoid network."""
    cache = {"a0": X}
    a = X
    for l in range(1, _layers(params) + 1):
        z = a @ params[f"W{l}"] + params[f"b{l}"]
        a = _sigmoid(z)
        cache[f"z{l}"], cache[f"a{l}"] = z, a
    return cache


def _loss(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((_forward(params, X)[f"a{_layers(params)}"] - y) ** 2))


def _gradients(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, mistake: str | None = None
               ) -> dict[str, np.ndarray]:
    """The exact gradient of mean((a_L - y)^2); ``mistake`` replays a known wrong backward pass."""
    L = _layers(params)
    cache = _forward(params, X)
    out = cache[f"a{L}"]

    def act_derivative(l: int) -> np.ndarray:
        a, z = cache[f"a{l}"], cache[f"z{l}"]
        if mistake == "derivative_of_z":
            return z * (1 - z)
        if mistake == "sigmoid_twice":
            return _sigmoid(a) * (1 - _sigmoid(a))
        return a * (1 - a)

    scale = {"sign": -1.0, "no_mean": float(out.size), "no_two": 0.5, "neither": 0.5 * out.size}.get(mistake, 1.0)
    delta = scale * 2.0 * (out - y) / out.size
    if mistake != "no_output_derivative":
        delta = delta * act_derivative(L)
    grads = {}
    for l in range(L, 0, -1):
        grads[f"dW{l}"] = cache[f"a{l - 1}"].T @ delta
        grads[f"db{l}"] = np.sum(delta, axis=0, keepdims=True)
        if mistake == "db_mean":
            grads[f"db{l}"] = grads[f"db{l}"] / X.shape[0]
        if l > 1:
            delta = delta @ params[f"W{l}"].T
            if mistake != "no_hidden_derivative":
                delta = delta * act_derivative(l - 1)
    return grads


GRADIENT_MISTAKES = {
    "sign": "every gradient has the wrong sign: the error term is (y_hat - y), not (y - y_hat) "
            "(the chapter's 'be careful with derivative signs')",
    "no_two": "every gradient is half the true one: the derivative of (y_hat - y)^2 is 2 (y_hat - y), so "
              "delta_L starts with 2 * (a_L - y) / m (a factor 2 is missing)",
    "no_mean": "every gradient is m times the true one (m = number of entries of y): the loss is a MEAN, so "
               "delta_L = 2 * (a_L - y) / m (the 1/m is missing)",
    "neither": "every gradient is m/2 times the true one: delta_L = 2 * (a_L - y) / m (both the factor 2 and the "
               "1/m are missing)",
    "no_output_derivative": "the output layer's delta misses the derivative of the activation: "
                            "delta_L = dL/da_L * sigmoid_derivative(a_L), not just dL/da_L",
    "no_hidden_derivative": "the hidden layers' deltas miss the derivative of the activation: "
                            "delta_{l-1} = (delta_l @ W_l.T) * sigmoid_derivative(a_{l-1})",
    "derivative_of_z": "sigmoid_derivative was applied to z: it takes the activated value a = sigmoid(z), so use "
                       "sigmoid_derivative(a_l) with a_l from the cache, not z_l",
    "sigmoid_twice": "you applied sigmoid to an already activated value: sigmoid'(z) = a (1 - a) with a from the "
                     "cache; do not call sigmoid on a again",
    "db_mean": "db is the true gradient divided by m: delta already carries the 1/m of the loss, so db_l is the "
               "SUM of delta_l over the samples (np.sum(delta, axis=0, keepdims=True)), not the mean",
}


def _param_shapes(sizes: list[int]) -> dict[str, tuple[int, int]]:
    shapes = {}
    for l in range(1, len(sizes)):
        shapes[f"W{l}"] = (sizes[l - 1], sizes[l])
        shapes[f"b{l}"] = (1, sizes[l])
    return shapes


def _draw_params(rng: np.random.Generator, sizes: list[int], *, weight_scale: str = "fan",
                 bias_scale: float = 0.5) -> dict[str, np.ndarray]:
    """Parameters for a check: weights N(0, 1/n_in) ("fan", units far from saturation) or N(0, 1) ("unit")."""
    params = {}
    for name, shape in _param_shapes(sizes).items():
        if name.startswith("W"):
            std = 1.0 / math.sqrt(shape[0]) if weight_scale == "fan" else 1.0
            params[name] = rng.normal(0.0, std, size=shape)
        else:
            params[name] = rng.normal(0.0, bias_scale, size=shape) if bias_scale else np.zeros(shape)
    return params


def _step(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, lr: float) -> dict[str, np.ndarray]:
    grads = _gradients(params, X, y)
    return {name: value - lr * grads[f"d{name}"] for name, value in params.items()}


def _full_batch(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, lr: float, epochs: int,
                *, loss_after: bool = False) -> tuple[list[float], dict[str, np.ndarray]]:
    """Losses (before each update, or after it with ``loss_after``) and the parameters after ``epochs`` steps."""
    losses = []
    for _ in range(epochs):
        if not loss_after:
            losses.append(_loss(params, X, y))
        params = _step(params, X, y, lr)
        if loss_after:
            losses.append(_loss(params, X, y))
    return losses, params


def _classification(seen: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (seen.reshape(-1) > 0.5) == (y.reshape(-1) > 0.5)


# --- talking to the student's network ---------------------------------------------------------------------------

def _network(student, sizes: list[int], params: dict[str, np.ndarray], cls: str = "NeuralNetworkScratch"
             ) -> RemoteObject:
    """The student's network of these sizes, with our parameters in its ``params`` dict."""
    net = getattr(student, cls)(list(sizes))
    problem = student.probe("set_params", net, params)
    if problem:
        fail('a dict net.params holding "W1".."WL" and "b1".."bL"', problem,
             "in __init__ create self.params = {} and fill self.params[f\"W{l}\"], self.params[f\"b{l}\"]")
    return net


def _read_params(net: RemoteObject, shapes: dict[str, tuple[int, int]], *, when: str) -> dict[str, np.ndarray]:
    params = net.params
    if not isinstance(params, dict):
        fail('net.params as a dict of arrays', fmt(params), "keep the parameters in the dict self.params")
    out = {}
    for name, shape in shapes.items():
        if name not in params:
            fail(f"net.params[{name!r}] {when}", f"keys {sorted(params)}",
                 "update the arrays in self.params in place (or reassign self.params[name]); keep every key")
        out[name] = as_array(params[name], f"params[{name!r}] {when}", shape,
                             f"params[{name!r}] must keep the shape {shape}: each gradient must have the shape of "
                             "its parameter")
    return out


def _losses(value: Any, epochs: int, what: str) -> np.ndarray:
    """A returned loss history: ``epochs`` finite numbers."""
    if value is None:
        fail(f"{what}: a list of {epochs} losses", "None", "collect one loss per epoch in a list and return it")
    try:
        losses = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what}: a list of {epochs} numbers", fmt(value), "append one float per epoch: mse_loss(...) is a float")
    if losses.size != epochs or (losses.ndim > 1 and losses.shape[0] != epochs):
        fail(f"{what}: {epochs} losses (one per epoch)", f"{losses.size} values ({fmt(losses)})",
             "append exactly one loss per epoch (not one per step or per minibatch)")
    return losses.reshape(-1)


def _expect_gradients(seen: Any, oracle: dict[str, np.ndarray], params: dict[str, np.ndarray], X: np.ndarray,
                      y: np.ndarray, thresholds, *, against: str, case: str) -> None:
    """backward's dict must equal the oracle (CS231n relative error); otherwise name the mistake."""
    grads = _gradient_arrays(seen, params, X.shape[0], case=case)
    tol = thresholds["grad_rel_error"]
    errors = {name: rel_error(grads[name], oracle[name]) for name in oracle}
    if max(errors.values()) < tol:
        return
    for mistake, description in GRADIENT_MISTAKES.items():
        with np.errstate(all="ignore"):
            replay = _gradients(params, X, y, mistake)
        if all(rel_error(grads[name], replay[name]) < tol for name in oracle):
            _fail_gradients(grads, oracle, errors, against, case, description)
    L = _layers(params)
    wrong = [name for name in _gradient_order(L) if errors[name] >= tol]
    top_right = errors[f"dW{L}"] < tol and errors[f"db{L}"] < tol
    if top_right:
        hint = (f"the output layer is right but {', '.join(wrong)} are not: check how delta goes back one layer, "
                "delta_{l-1} = (delta_l @ W_l.T) * sigmoid_derivative(a_{l-1}), and dW_l = a_{l-1}.T @ delta_l")
    else:
        hint = ("check delta_L = 2 * (a_L - y) / m * sigmoid_derivative(a_L), dW_l = a_{l-1}.T @ delta_l and "
                "db_l = sum of delta_l over the samples; the cache must come from forward(X) on the same X")
    _fail_gradients(grads, oracle, errors, against, case, hint)


def _fail_gradients(grads, oracle, errors, against: str, case: str, hint: str) -> None:
    name = max(errors, key=errors.get)
    fail(f"backward's gradients equal to {against} for {case} (relative error below 1e-6)",
         f"{name} = {fmt(grads[name])} against {fmt(oracle[name])} (relative error {errors[name]:.2g})", hint)


def _gradient_order(L: int) -> list[str]:
    return [f"{kind}{l}" for l in range(L, 0, -1) for kind in ("dW", "db")]


def _gradient_arrays(seen: Any, params: dict[str, np.ndarray], m: int, *, case: str) -> dict[str, np.ndarray]:
    """backward's dict as arrays shaped like the parameters, or a failure naming the shape mistake."""
    L = _layers(params)
    expected_keys = [f"{kind}{l}" for l in range(1, L + 1) for kind in ("dW", "db")]
    if not isinstance(seen, dict):
        fail(f"backward returns a dict with keys {', '.join(expected_keys)}", fmt(seen),
             'return a dict such as {"dW1": dW1, "db1": db1, ...} with one entry per parameter')
    missing = [k for k in expected_keys if k not in seen]
    if missing:
        fail(f"backward returns a dict with keys {', '.join(expected_keys)} ({case})",
             f"keys {sorted(seen)}", f"add {', '.join(missing)}: one gradient per parameter, named 'd' + its name")
    grads = {}
    for l in range(L, 0, -1):  # the output layer first, as backpropagation computes them
        for kind in ("W", "b"):
            name = f"d{kind}{l}"
            shape = params[f"{kind}{l}"].shape
            got = as_array(seen[name], name)
            if got.shape != shape:
                fail(f"{name} of shape {shape}, the shape of {kind}{l} ({case})", f"{name} has shape {got.shape}",
                     _shape_hint(name, kind, l, got.shape, shape, m))
            grads[name] = got
    return grads


def _shape_hint(name: str, kind: str, l: int, seen: tuple, expected: tuple, m: int) -> str:
    if kind == "W" and seen == expected[::-1]:
        return (f"{name} has shape {seen}, expected {expected}: use a{l - 1}.T @ delta{l} (the previous layer's "
                f"activations, transposed, times this layer's delta)")
    if kind == "b" and len(seen) == 2 and seen[0] == m and seen[1] == expected[1]:
        return (f"{name} has shape {seen}, expected {expected}: sum delta{l} over the samples, "
                "np.sum(delta, axis=0, keepdims=True)")
    if kind == "b" and seen == (expected[1],):
        return f"{name} has shape {seen}, expected {expected}: keep the row dimension with keepdims=True"
    return f"{name} has shape {seen}, expected {expected}: each gradient has the shape of its parameter"


BACKWARD_FIRST = ("Your backward does not return the exact gradient (see the backpropagation checks): training can "
                  "only be as right as the gradients it follows, so fix backward first. Then: ")


def _backward_is_exact(student, sizes: list[int], params: dict, X: np.ndarray, y: np.ndarray, thresholds) -> bool:
    """Whether the student's own backward gives the exact gradient at ``params`` on (X, y)."""
    try:
        seen = _gradient_arrays(_student_gradients(student, sizes, params, X, y), params, X.shape[0], case="")
    except (CheckFailure, StudentError):
        return False
    oracle = _gradients(params, X, y)
    return all(rel_error(seen[k], oracle[k]) < thresholds["grad_rel_error"] for k in oracle)


@contextmanager
def _blaming_backward(student, sizes: list[int], params: dict, X: np.ndarray, y: np.ndarray, thresholds
                      ) -> Iterator[None]:
    """A training check that fails because backward is wrong says so first: the root cause is in ex5."""
    try:
        yield
    except CheckFailure as failure:
        if not _backward_is_exact(student, sizes, params, X, y, thresholds):
            failure.hint = BACKWARD_FIRST + failure.hint
        raise


# =================================================================================================================
# ex1: activation functions and their derivatives
# =================================================================================================================

def _grid() -> np.ndarray:
    """z from -6 to 6, never exactly 0 (ReLU has no derivative there) nor within a step of it."""
    return np.linspace(-6.0, 6.0, 48) + 0.0625


def test_activations_match_their_formulas(student, thresholds):
    """sigmoid, tanh and relu give the textbook values on a grid of z"""
    z = _grid().reshape(6, 8)
    _values(student.sigmoid(z), _sigmoid(z), "sigmoid(z)", thresholds,
            hint="sigmoid(z) = 1 / (1 + exp(-z))",
            mistakes={"the sign in the exponent is flipped: sigmoid(z) = 1 / (1 + exp(-z))": _sigmoid(-z)})
    _values(student.tanh(z), np.tanh(z), "tanh(z)", thresholds, hint="tanh(z) is np.tanh(z)",
            mistakes={"tanh returned its derivative: tanh(z) is np.tanh(z)": 1 - np.tanh(z) ** 2})
    _values(student.relu(z), np.maximum(0.0, z), "relu(z)", thresholds, hint="relu(z) = max(0, z) elementwise: "
            "np.maximum(0, z) (not np.max, which returns one number)",
            mistakes={"relu returned its derivative (0 or 1): relu(z) = np.maximum(0, z)": (z > 0).astype(float)})


def test_activation_derivatives_match_central_differences(student, thresholds):
    """sigmoid', tanh' and relu' agree with central finite differences on a grid"""
    z = _grid()
    h = ACTIVATION_STEP
    tol = dict(rtol=thresholds["derivative_rtol"], atol=thresholds["derivative_atol"])
    fd_sigmoid = (_sigmoid(z + h) - _sigmoid(z - h)) / (2 * h)
    a = _sigmoid(z)
    seen = as_array(student.sigmoid_derivative(a), "sigmoid_derivative(a)", a.shape)
    if not _matches(seen, fd_sigmoid, **tol):
        diagnosis = _first_match(seen, {
            "you applied sigmoid to an already activated value: sigmoid_derivative receives a = sigmoid(z) "
            "and returns a * (1 - a)": _sigmoid(a) * (1 - _sigmoid(a))})
        fail(f"sigmoid_derivative(sigmoid(z)) = {fmt(fd_sigmoid)} (central differences of sigmoid)", fmt(seen),
             diagnosis or "sigmoid'(z) = a (1 - a) with a = sigmoid(z), the value passed in")
    fd_tanh = (np.tanh(z + h) - np.tanh(z - h)) / (2 * h)
    seen = as_array(student.tanh_derivative(z), "tanh_derivative(z)", z.shape)
    if not _matches(seen, fd_tanh, **tol):
        diagnosis = _first_match(seen, {
            "tanh_derivative takes z, not the activation: return 1 - np.tanh(z) ** 2 (you computed 1 - z ** 2)":
                1 - z ** 2})
        fail(f"tanh_derivative(z) = {fmt(fd_tanh)} (central differences of tanh)", fmt(seen),
             diagnosis or "tanh'(z) = 1 - tanh(z)^2")
    fd_relu = (np.maximum(0, z + h) - np.maximum(0, z - h)) / (2 * h)
    seen = as_array(student.relu_derivative(z), "relu_derivative(z)", z.shape)
    if not _matches(seen, fd_relu, **tol):
        fail(f"relu_derivative(z) = {fmt(fd_relu)} (central differences of relu)", fmt(seen),
             "relu'(z) is 1 where z > 0 and 0 elsewhere: (z > 0).astype(float)")


def test_sigmoid_derivative_takes_the_activated_value(student, thresholds):
    """sigmoid_derivative(a) returns a (1 - a) for an activation a"""
    a = np.array([[0.05, 0.25, 0.5], [0.75, 0.9, 0.99]])
    _values(student.sigmoid_derivative(a), a * (1 - a), "sigmoid_derivative(a)", thresholds,
            hint="sigmoid_derivative receives the activated value a = sigmoid(z) and returns a * (1 - a)",
            mistakes={"you applied sigmoid to an already activated value: sigmoid_derivative(a) is a * (1 - a), "
                      "the argument is already sigmoid(z)": _sigmoid(a) * (1 - _sigmoid(a))})


def test_relu_derivative_is_zero_at_zero(student):
    """relu_derivative(0) is 0 (1 only where z > 0)"""
    z = np.array([[-2.0, -0.0, 0.0, 1e-300, 3.0]])
    seen = as_array(student.relu_derivative(z), "relu_derivative(z)", z.shape)
    expected = np.array([[0.0, 0.0, 0.0, 1.0, 1.0]])
    if not np.array_equal(seen, expected):
        hint = ("relu_derivative(0) must be 0: use z > 0, not z >= 0" if seen[0, 2] != 0
                else "relu'(z) is 1 where z > 0 (even a tiny z) and 0 elsewhere")
        fail(f"relu_derivative({z.tolist()}) = {expected.tolist()}", fmt(seen), hint)


def test_sigmoid_saturates_without_overflow(student, thresholds):
    """sigmoid(+-1000) gives 1 and 0 with no overflow warning"""
    z = np.array([-1000.0, -745.0, -100.0, 0.0, 100.0, 745.0, 1000.0])
    result = student.probe("sigmoid_strictly", z)
    hint = ("np.exp(-z) overflows for z below about -709 (and exp(z) for z above 709). Only take exp of "
            "non-positive numbers: e = np.exp(-np.abs(z)), then 1 / (1 + e) where z >= 0 and e / (1 + e) where "
            "z < 0. np.where(cond, f(z), g(z)) evaluates BOTH branches on every entry, so the overflow happens "
            "anyway: compute e first or use a boolean mask")
    if result["problem"] or result["warnings"]:
        fail("sigmoid(z) for z = -1000 ... 1000 without any overflow or RuntimeWarning",
             result["problem"] or "; ".join(result["warnings"]), hint)
    seen = result["value"]
    if isinstance(seen, str):
        fail("sigmoid(z) as a NumPy array", seen, "return an array of the shape of z")
    seen = as_array(seen, "sigmoid(z)", z.shape)
    expect_finite(seen, "sigmoid(z) for large |z|", hint)
    expected = _sigmoid(z)
    limits_ok = seen[-1] == 1.0 and seen[-2] == 1.0 and 0.0 <= seen[0] <= thresholds["saturation_atol"]
    if not limits_ok or not np.allclose(seen, expected, rtol=thresholds["value_rtol"], atol=1e-30):
        fail(f"sigmoid({z.tolist()}) = {fmt(expected)}: exactly 1.0 at 745 and 1000, 0 (up to underflow) at -1000",
             fmt(seen), hint)


def test_activations_work_elementwise_on_any_array(student, rng, thresholds):
    """the six functions keep the shape of their input, float32 and Python floats included"""
    z32 = (4 * rng.normal(size=(3, 4, 2))).astype(np.float32)
    z = z32.astype(np.float64)
    tol = thresholds["float32_rtol"]
    a = _sigmoid(z)
    for name, arg, expected in (("sigmoid", z32, a), ("tanh", z32, np.tanh(z)), ("relu", z32, np.maximum(0, z)),
                                ("sigmoid_derivative", a.astype(np.float32), a * (1 - a)),
                                ("tanh_derivative", z32, 1 - np.tanh(z) ** 2),
                                ("relu_derivative", z32, (z > 0).astype(float))):
        expect_close(getattr(student, name)(arg), expected, what=f"{name}(z) for a float32 array of shape {z.shape}",
                     rtol=tol, atol=tol, hint=f"{name} works elementwise on an array of any shape and dtype: use "
                     "NumPy operations (np.exp, np.tanh, np.maximum, comparisons), no loops over rows")
    for value in (-3.5, 0.0, 2.0):
        expect_close(as_float(student.sigmoid(value), f"sigmoid({value})"), float(_sigmoid(value)),
                     what=f"sigmoid({value}) for a Python float", rtol=thresholds["value_rtol"],
                     hint="sigmoid must also accept a plain number (np.asarray(z) handles both)")


# =================================================================================================================
# ex2: loss functions
# =================================================================================================================

def _bce(y: np.ndarray, p: np.ndarray, eps: float = 1e-12) -> float:
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _expect_loss(seen: Any, expected: float, what: str, thresholds, *, hint: str,
                 mistakes: dict[str, float]) -> None:
    value = as_float(seen, what, "a loss is one number: the mean over all entries (np.mean, then float(...))")
    if math.isclose(value, expected, rel_tol=thresholds["value_rtol"], abs_tol=thresholds["value_atol"]):
        return
    diagnosis = next((d for d, v in mistakes.items() if math.isclose(value, v, rel_tol=1e-7, abs_tol=1e-12)), None)
    fail(f"{what} = {fmt(expected, 8)}", fmt(value, 8), diagnosis or hint)


def _mse_mistakes(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    sq = (p - y) ** 2
    return {"the sum of squared errors, not the mean: use np.mean": float(np.sum(sq)),
            "the contract's MSE has no 1/2: mean((y_pred - y_true) ** 2)": float(0.5 * np.mean(sq)),
            "no square root: the MSE is mean((y_pred - y_true) ** 2), not its root": float(np.sqrt(np.mean(sq))),
            "the errors are not squared: mean((y_pred - y_true) ** 2)": float(np.mean(np.abs(p - y)))}


def _bce_mistakes(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"the sum over the entries, not the mean: use np.mean": _bce(y, p) * y.size,
            "the minus sign is missing: BCE = -mean(y log p + (1 - y) log(1 - p))": -_bce(y, p),
            "y_true and y_pred are swapped: the signature is bce_loss(y_true, y_pred)": _bce(p, y),
            "the (1 - y) log(1 - p) term is missing": float(-np.mean(y * np.log(np.clip(p, 1e-12, 1))))}


def test_mse_loss_value(student, rng, thresholds):
    """mse_loss is the mean of (y_pred - y_true)^2"""
    y = rng.integers(0, 2, size=(7, 1)).astype(float)
    p = rng.uniform(0.05, 0.95, size=(7, 1))
    _expect_loss(student.mse_loss(y, p), float(np.mean((p - y) ** 2)), "mse_loss(y_true, y_pred)", thresholds,
                 hint="mse_loss = np.mean((y_pred - y_true) ** 2)", mistakes=_mse_mistakes(y, p))


def test_bce_loss_value(student, rng, thresholds):
    """bce_loss is -mean(y log p + (1 - y) log(1 - p))"""
    y = rng.integers(0, 2, size=(8, 1)).astype(float)
    p = rng.uniform(0.05, 0.95, size=(8, 1))
    _expect_loss(student.bce_loss(y, p), _bce(y, p), "bce_loss(y_true, y_pred)", thresholds,
                 hint="bce_loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) with p the clipped predictions",
                 mistakes=_bce_mistakes(y, p))


def test_bce_loss_is_finite_at_predictions_of_exactly_0_and_1(student, thresholds):
    """bce_loss clips the predictions: finite for y_pred exactly 0 or 1"""
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.0], [1.0], [1.0], [0.0]])
    clip_hint = ("clip the predictions before taking logs: p = np.clip(y_pred, eps, 1 - eps) with the eps "
                 "argument (default 1e-12); log(0) is -inf")
    value = as_float(student.bce_loss(y, p), "bce_loss(y, y_pred)")
    expect(math.isfinite(value), expected=f"a finite loss ({_bce(y, p):.6g}) for predictions of exactly 0 and 1",
           seen=fmt(value), hint=clip_hint)
    _expect_loss(value, _bce(y, p), "bce_loss for predictions of exactly 0 and 1 (two confidently wrong)",
                 thresholds, hint=clip_hint, mistakes={
                     "you clipped with another eps: use the eps argument (default 1e-12)": _bce(y, p, 1e-15),
                     "you clipped with eps = 1e-7: use the eps argument (default 1e-12)": _bce(y, p, 1e-7)})
    _expect_loss(student.bce_loss(y, p, eps=1e-6), _bce(y, p, 1e-6), "bce_loss(y, y_pred, eps=1e-6)", thresholds,
                 hint="clip to [eps, 1 - eps] with the eps you are given, not a fixed number", mistakes={})


def test_loss_gradients_match_central_differences(student, rng, thresholds):
    """the losses have the gradients 2 (p - y) / N and (p - y) / (p (1 - p) N) (central differences)"""
    y = rng.integers(0, 2, size=(3, 2)).astype(float)
    p = rng.uniform(0.1, 0.9, size=(3, 2))
    n = y.size
    for name, expected, hint in (
            ("mse_loss", 2 * (p - y) / n, "the MSE averages over ALL entries of y (here 3 x 2 = 6): np.mean of the "
                                          "squared errors, no sum over one axis only"),
            ("bce_loss", (p - y) / (p * (1 - p)) / n, "BCE averages over ALL entries: -np.mean(y log p + (1 - y) "
                                                      "log(1 - p))")):
        loss = getattr(student, name)
        seen = numerical_gradient(lambda q: as_float(loss(y, q), f"{name}(y, y_pred)"), p)
        expect_close(seen, expected, what=f"the gradient of {name} with respect to y_pred (central differences)",
                     rtol=thresholds["loss_gradient_rtol"], atol=thresholds["derivative_atol"], hint=hint)


def test_losses_on_random_batches(student, rng, thresholds):
    """both losses are right on random batches of several shapes"""
    for shape in ((1, 1), (13, 1), (5, 3), (40, 1)):
        y = rng.integers(0, 2, size=shape).astype(float)
        p = rng.uniform(0.0, 1.0, size=shape)
        p[0, 0] = float(y[0, 0])  # one exact hit: the clipped log must stay finite
        _expect_loss(student.mse_loss(y, p), float(np.mean((p - y) ** 2)), f"mse_loss on a batch of shape {shape}",
                     thresholds, hint="mse_loss averages over every entry", mistakes=_mse_mistakes(y, p))
        _expect_loss(student.bce_loss(y, p), _bce(y, p), f"bce_loss on a batch of shape {shape}", thresholds,
                     hint="bce_loss averages over every entry, with predictions clipped to [eps, 1 - eps]",
                     mistakes=_bce_mistakes(y, p))


# =================================================================================================================
# ex3: the forward pass of a two-layer network
# =================================================================================================================

def _expect_forward_pass(student, rng, m: int, n_in: int, n_hidden: int, n_out: int, thresholds) -> None:
    X = rng.normal(size=(m, n_in))
    params = _draw_params(rng, [n_in, n_hidden, n_out], weight_scale="unit")
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    result = student.forward_pass(X, W1, b1, W2, b2)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail("a pair (a2, cache)", fmt(result), "end forward_pass with `return a2, cache`")
    a2, cache = result
    if not isinstance(cache, dict):
        fail('cache as a dict with keys "z1", "a1", "z2", "a2"', fmt(cache),
             'build cache = {"z1": z1, "a1": a1, "z2": z2, "a2": a2}')
    missing = [k for k in ("z1", "a1", "z2", "a2") if k not in cache]
    if missing:
        fail('cache with the keys "z1", "a1", "z2", "a2"', f"keys {sorted(cache)}", f"add {', '.join(missing)}")
    oracle = _forward(params, X)
    case = f"X of shape {X.shape}, W1 {W1.shape}, W2 {W2.shape}"
    shapes = {"z1": (m, n_hidden), "a1": (m, n_hidden), "z2": (m, n_out), "a2": (m, n_out)}
    for key, shape in shapes.items():
        got = as_array(cache[key], f'cache["{key}"]')
        if got.shape != shape:
            fail(f'cache["{key}"] of shape {shape} ({case})', f"shape {got.shape}",
                 "z1 = X @ W1 + b1 has one row per example and one column per hidden unit; b1 of shape (1, n) "
                 "broadcasts over the rows")
    z1 = X @ W1
    mistakes = {
        "z1": {"the bias is missing: z1 = X @ W1 + b1": z1},
        "a1": {"a1 is z1: apply the sigmoid, a1 = sigmoid(z1)": oracle["z1"]},
        "z2": {"z2 uses X or z1 instead of a1: z2 = a1 @ W2 + b2": oracle["z1"] @ W2 + b2,
               "the bias is missing: z2 = a1 @ W2 + b2": oracle["a1"] @ W2},
        "a2": {"a2 is z2: the output layer needs the sigmoid too, a2 = sigmoid(z2)": oracle["z2"]},
    }
    for key in ("z1", "a1", "z2", "a2"):
        _values(cache[key], oracle[key], f'cache["{key}"] ({case})', thresholds,
                hint="z1 = X @ W1 + b1, a1 = sigmoid(z1), z2 = a1 @ W2 + b2, a2 = sigmoid(z2)",
                mistakes=mistakes[key])
    _values(a2, oracle["a2"], f"the returned a2 ({case})", thresholds,
            hint='return the output activations a2 (the same array as cache["a2"]) first',
            mistakes={"you returned z2: return a2 = sigmoid(z2)": oracle["z2"]})


def test_forward_pass_shapes_and_cache_keys(student, rng, thresholds):
    """forward_pass returns (a2, cache) with the keys z1, a1, z2, a2 and the right shapes"""
    _expect_forward_pass(student, rng, 5, 2, 4, 1, thresholds)


def test_forward_pass_matches_an_independent_computation(student, rng, thresholds):
    """forward_pass computes sigmoid(sigmoid(X W1 + b1) W2 + b2), keeping every step"""
    _expect_forward_pass(student, rng, 9, 3, 6, 2, thresholds)


def test_forward_pass_on_random_shapes(student, rng, thresholds):
    """forward_pass is right for random numbers of examples, inputs and units"""
    for _ in range(4):
        m, n_in, n_hidden, n_out = (int(v) for v in rng.integers(1, 9, size=4))
        _expect_forward_pass(student, rng, m, n_in, n_hidden, n_out, thresholds)


# =================================================================================================================
# ex4: a single sigmoid neuron (AND yes, XOR no)
# =================================================================================================================

#: Seeds tried when the student's initialisation from seed 42 happens to start saturated: about 1 in 400 random
#: starts (w, b ~ N(0, 1)) needs more than 2000 epochs to leave the flat region; two more starts both failing means
#: the training, not the luck of the draw.
EXTRA_SEEDS = (0, 1)


def _single_neuron(student, X, y, thresholds, seed: int, gate: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(outputs of the returned neuron on X, w, losses)."""
    epochs = int(thresholds["single_neuron_epochs"])
    result = student.train_single_neuron(X, y, lr=thresholds["single_neuron_lr"], epochs=epochs, seed=seed)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail("a triple (w, b, losses)", fmt(result), "end train_single_neuron with `return w, b, losses`")
    w, b, losses = result
    w = as_array(w, "w")
    b = as_array(b, "b")
    if w.size != X.shape[1] or b.size != 1:
        fail(f"w of shape ({X.shape[1]}, 1) and b of shape (1, 1)", f"w of shape {w.shape}, b of shape {b.shape}",
             "one neuron: one weight per input and one bias")
    losses = _losses(losses, epochs, f"the losses on {gate}")
    expect_finite(losses, f"the losses on {gate}", "the training diverged: check the sign of the update "
                  "(w <- w - lr * dL/dw) and the gradient")
    return _sigmoid(X @ w.reshape(-1, 1) + b.reshape(1, 1)), w, losses


def _learns(student, X, y, thresholds, seed: int, gate: str) -> tuple[bool, str]:
    out, _, losses = _single_neuron(student, X, y, thresholds, seed, gate)
    correct = int(np.sum(_classification(out, y)))
    seen = (f"with seed={seed}: {correct}/4 correct, outputs {fmt(out.reshape(-1))}, loss from {losses[0]:.4g} "
            f"to {losses[-1]:.4g}")
    return correct == 4 and losses[-1] < losses[0], seen


def _expect_learns_gate(student, X, y, thresholds, gate: str) -> None:
    ok, seen = _learns(student, X, y, thresholds, 42, gate)
    if ok:
        return
    extra = [_learns(student, X, y, thresholds, seed, gate) for seed in EXTRA_SEEDS]
    if all(good for good, _ in extra):
        return
    fail(f"the neuron learns {gate}: all 4 outputs on the right side of 0.5 after "
         f"{int(thresholds['single_neuron_epochs'])} epochs at lr = {thresholds['single_neuron_lr']:g}, the loss "
         "decreasing", seen,
         "a = sigmoid(X @ w + b); delta = (a - y) * sigmoid_derivative(a) (times a constant such as 2 / m); "
         "w <- w - lr * X.T @ delta; b <- b - lr * sum(delta). Check the sign: (a - y), not (y - a), and "
         "subtract the gradient")


def test_single_neuron_learns_and(student, thresholds):
    """one sigmoid neuron learns AND (4/4 correct)"""
    X, y = datasets.make_and()
    _expect_learns_gate(student, X, y, thresholds, "AND")


def test_single_neuron_cannot_learn_xor(student, thresholds):
    """one sigmoid neuron gets at most 3/4 of XOR, its loss stuck near 0.25"""
    X, y = datasets.make_xor()
    out, _, losses = _single_neuron(student, X, y, thresholds, 42, "XOR")
    correct = int(np.sum(_classification(out, y)))
    floor = thresholds["xor_single_min_loss"]
    loss = float(np.mean((out - y) ** 2))
    # No line separates XOR: a single neuron's MSE cannot go below 0.25, the loss of answering 0.5 everywhere.
    expect(correct <= 3 and loss >= floor and losses[-1] >= floor,
           expected=f"at most 3/4 correct and a loss that stays near 0.25 (at least {floor:g})",
           seen=f"{correct}/4 correct, outputs {fmt(out.reshape(-1))}, MSE {loss:.4g}, last recorded loss "
                f"{losses[-1]:.4g}",
           hint="train_single_neuron returns the trained w, b and the MSE of every epoch: one neuron cannot fit "
                "XOR, so its loss should stay near 0.25")


def test_single_neuron_learns_or_and_nand(student, thresholds):
    """one sigmoid neuron learns the other linearly separable gates, OR and NAND"""
    X, _ = datasets.make_and()
    for gate, y in (("OR", np.array([[0.0], [1.0], [1.0], [1.0]])), ("NAND", np.array([[1.0], [1.0], [1.0], [0.0]]))):
        _expect_learns_gate(student, X, y, thresholds, gate)


# =================================================================================================================
# ex5: backpropagation in NeuralNetworkScratch
# =================================================================================================================

def _central_differences(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, h: float
                         ) -> dict[str, np.ndarray]:
    """Fourth-order central differences (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h of our own loss, in float64.

    With h = 1e-3 the truncation error (~h^4) and the round-off (~1e-16 / h) are both far below the 1e-6 of the
    relative-error test, even for small gradient entries of deeper networks where the 2-point formula is not.
    """
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            f = []
            for step in (-2, -1, 1, 2):
                moved = dict(params)
                moved[name] = value.copy()
                moved[name][i] += step * h
                f.append(_loss(moved, X, y))
            grad[i] = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h)
        grads[f"d{name}"] = grad
    return grads


def _gradient_case(rng: np.random.Generator, sizes: list[int], m: int, thresholds, *, finite_differences: bool
                   ) -> tuple[dict, np.ndarray, np.ndarray, dict]:
    """Parameters, X, y and the oracle gradient. For central differences, draws are kept only when the differences
    agree with the exact gradient to ``fd_self_check``: entries so small that their differences are pure round-off
    would make the test about our oracle instead of the student's code."""
    for _ in range(20):
        params = _draw_params(rng, sizes)
        X = rng.normal(size=(m, sizes[0]))
        y = rng.integers(0, 2, size=(m, sizes[-1])).astype(float)
        if not finite_differences:
            return params, X, y, {}
        oracle = _central_differences(params, X, y, thresholds["fd_step"])
        exact = _gradients(params, X, y)
        if all(rel_error(oracle[k], exact[k]) < thresholds["fd_self_check"] for k in exact):
            return params, X, y, oracle
    raise RuntimeError(f"no well-conditioned draw for {sizes}, m = {m}")  # the grader's fault, reported as such


def _torch_gradients(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The gradient of mean((a_L - y)^2) by torch autograd, in float64 (torch is imported only when needed)."""
    import torch

    leaves = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in params.items()}
    a = torch.tensor(X, dtype=torch.float64)
    for l in range(1, _layers(params) + 1):
        a = torch.sigmoid(a @ leaves[f"W{l}"] + leaves[f"b{l}"])
    loss = torch.mean((a - torch.tensor(y, dtype=torch.float64)) ** 2)
    loss.backward()
    return {f"d{name}": leaf.grad.numpy().copy() for name, leaf in leaves.items()}


def _student_gradients(student, sizes: list[int], params: dict, X: np.ndarray, y: np.ndarray) -> Any:
    net = _network(student, sizes, params)
    net.forward(X)
    return net.backward(X, y)


def test_network_parameters_have_the_layer_shapes(student):
    """NeuralNetworkScratch(layer_sizes) creates W1..WL of shape (n_{l-1}, n_l) and b1..bL of shape (1, n_l)"""
    for sizes in ([2, 4, 1], [3, 5, 4, 1]):
        net = student.NeuralNetworkScratch(sizes, seed=42)
        params = net.params
        shapes = _param_shapes(sizes)
        if not isinstance(params, dict) or any(name not in params for name in shapes):
            fail(f"params with the keys {', '.join(shapes)} for layer_sizes = {sizes}",
                 f"keys {sorted(params)}" if isinstance(params, dict) else fmt(params),
                 'one weight matrix and one bias per layer: self.params[f"W{l}"], self.params[f"b{l}"] for l = 1..L')
        for name, shape in shapes.items():
            value = as_array(params[name], f"params[{name!r}]")
            if value.shape != shape:
                hint = (f"W{name[1:]} maps n_{{l-1}} inputs to n_l units: shape (n_in, n_out) so that a @ W works"
                        if name.startswith("W") else "a bias is a row (1, n_out) that broadcasts over the examples")
                fail(f"params[{name!r}] of shape {shape} for layer_sizes = {sizes}", f"shape {value.shape}", hint)
            expect_finite(value, f"params[{name!r}]", "initialise with finite numbers")
            if name.startswith("W") and shape[1] > 1 and np.allclose(value, value[:, :1]):
                fail(f"random initial weights in {name} (its columns differ)", fmt(value),
                     "all units of a layer start with the same weights, so they get the same gradients and stay "
                     "identical forever: draw the weights at random (e.g. rng.normal(0, 1 / np.sqrt(n_in), ...))")


def test_network_forward_keeps_the_cache(student, rng, thresholds):
    """forward(X) applies a sigmoid at every layer and keeps a0, z1, a1, ... in self.cache"""
    sizes = [3, 5, 4, 1]
    params = _draw_params(rng, sizes, weight_scale="unit")
    X = rng.normal(size=(6, 3))
    net = _network(student, sizes, params)
    out = net.forward(X)
    oracle = _forward(params, X)
    _values(out, oracle["a3"], "forward(X) of a [3, 5, 4, 1] network", thresholds,
            hint="every layer: z_l = a_{l-1} @ W_l + b_l, a_l = sigmoid(z_l), reading W_l and b_l from "
                 "self.params; return the last a",
            mistakes={"the output layer has no sigmoid: every layer, the last included, applies sigmoid":
                      oracle["z3"]})
    cache = net.cache
    keys = list(oracle)
    if not isinstance(cache, dict) or any(k not in cache for k in keys):
        fail(f"self.cache with the keys {', '.join(keys)}",
             f"keys {sorted(cache)}" if isinstance(cache, dict) else fmt(cache),
             'store cache["a0"] = X and, for each layer, cache[f"z{l}"] and cache[f"a{l}"]: backward needs them')
    for key in keys:
        meaning = ("the input X" if key == "a0" else
                   f"layer {key[1:]}'s {'pre-activation z' if key[0] == 'z' else 'activation a'} of this forward pass")
        _values(cache[key], oracle[key], f'cache["{key}"]', thresholds, hint=f'cache["{key}"] is {meaning}')


def test_backward_gradients_have_the_parameters_shapes(student, rng, thresholds):
    """backward returns dW1..dWL and db1..dbL shaped like W1..WL and b1..bL"""
    for sizes, m in (([2, 4, 1], 5), ([3, 5, 4, 1], 6)):
        params = _draw_params(rng, sizes)
        X = rng.normal(size=(m, sizes[0]))
        y = rng.integers(0, 2, size=(m, 1)).astype(float)
        _gradient_arrays(_student_gradients(student, sizes, params, X, y), params, m,
                         case=f"layer_sizes = {sizes}, {m} examples")


def test_backward_matches_central_differences(student, rng, thresholds):
    """backward on a [2, 3, 1] network equals central finite differences of the MSE"""
    sizes = [2, 3, 1]
    for m in (1, 6):
        params, X, y, oracle = _gradient_case(rng, sizes, m, thresholds, finite_differences=True)
        _expect_gradients(_student_gradients(student, sizes, params, X, y), oracle, params, X, y, thresholds,
                          against="central differences of mse_loss(y, forward(X))", case=f"{sizes}, {m} examples")


def test_backward_matches_torch_autograd(student, rng, thresholds):
    """backward on [3, 5, 4, 1] and [2, 16, 16, 1] networks equals torch autograd"""
    for sizes, m in (([3, 5, 4, 1], 7), ([2, 16, 16, 1], 32), ([2, 16, 16, 1], 1)):
        params, X, y, _ = _gradient_case(rng, sizes, m, thresholds, finite_differences=False)
        seen = _student_gradients(student, sizes, params, X, y)  # first: an unfinished stub needs no torch import
        _expect_gradients(seen, _torch_gradients(params, X, y), params, X, y, thresholds, against="torch autograd",
                          case=f"{sizes}, {m} examples")


def test_backward_on_random_architectures_and_batch_sizes(student, rng, thresholds):
    """backward equals central differences and torch autograd for several architectures and batch sizes"""
    for sizes in ([2, 3, 1], [3, 5, 4, 1], [2, 16, 16, 1], [4, 3, 6, 2, 1]):
        m = int(rng.integers(1, 40))
        params, X, y, fd = _gradient_case(rng, sizes, m, thresholds, finite_differences=True)
        seen = _student_gradients(student, sizes, params, X, y)
        case = f"{sizes}, {m} examples"
        _expect_gradients(seen, fd, params, X, y, thresholds, against="central differences", case=case)
        _expect_gradients(seen, _torch_gradients(params, X, y), params, X, y, thresholds, against="torch autograd",
                          case=case)


# =================================================================================================================
# ex6: full-batch training
# =================================================================================================================

def _train(net: RemoteObject, X, y, epochs: int, lr: float) -> np.ndarray:
    losses = _losses(net.train(X, y, epochs=epochs, lr=lr), epochs, "the losses returned by train")
    expect_finite(losses, "the losses returned by train",
                  "the training diverged: subtract the gradient (params -= lr * grads), with the gradient of the mean")
    return losses


def _expect_trajectory(net: RemoteObject, seen_losses: np.ndarray, start: dict, X, y, lr: float, epochs: int,
                       thresholds, *, how: str) -> None:
    shapes = {k: v.shape for k, v in start.items()}
    params = _read_params(net, shapes, when=f"after train({how})")
    losses, expected = _full_batch(start, X, y, lr, epochs)
    tol = dict(rtol=thresholds["trajectory_rtol"], atol=thresholds["trajectory_atol"])
    if all(np.allclose(params[k], start[k], **tol) for k in start):
        fail(f"parameters moved by train({how})", "self.params did not change",
             "update the arrays in self.params (self.params[name] -= lr * grads['d' + name]); updating a copy "
             "changes nothing")
    for name in start:
        if not np.allclose(params[name], expected[name], **tol):
            uphill = _full_batch(start, X, y, -lr, epochs)[1]
            hint = ("the parameters moved UP the gradient: subtract it, params -= lr * grads"
                    if all(np.allclose(params[k], uphill[k], **tol) for k in start) else
                    "each epoch: out = forward(X); loss; grads = backward(X, y); every parameter -= lr * its "
                    "gradient (all of them, with the same lr)")
            fail(f"params[{name!r}] = {fmt(expected[name])} after train({how}) from our parameters",
                 fmt(params[name]), hint)
    if not np.allclose(seen_losses, losses, **tol):
        after, _ = _full_batch(start, X, y, lr, epochs, loss_after=True)
        hint = ("the losses were computed after each update: record mse_loss(y, forward(X)) BEFORE the update"
                if np.allclose(seen_losses, after, **tol) else
                "each epoch appends mse_loss(y, output) of the forward pass that precedes the update")
        fail(f"losses = {fmt(np.array(losses))} ({how})", fmt(seen_losses), hint)


def test_one_train_step_is_one_gradient_step(student, rng, thresholds):
    """train(X, y, epochs=1) from our parameters makes exactly one gradient-descent step"""
    sizes, lr = [2, 3, 1], 0.7
    start = _draw_params(rng, sizes)
    X = rng.normal(size=(8, 2))
    y = rng.integers(0, 2, size=(8, 1)).astype(float)
    net = _network(student, sizes, start)
    with _blaming_backward(student, sizes, start, X, y, thresholds):
        losses = _train(net, X, y, 1, lr)
        _expect_trajectory(net, losses, start, X, y, lr, 1, thresholds, how=f"epochs=1, lr={lr}")


def test_train_follows_gradient_descent_for_several_epochs(student, rng, thresholds):
    """train for several epochs follows the exact gradient-descent trajectory, losses before each update"""
    sizes, lr, epochs = [3, 4, 1], 1.5, 6
    start = _draw_params(rng, sizes)
    X = rng.normal(size=(10, 3))
    y = rng.integers(0, 2, size=(10, 1)).astype(float)
    net = _network(student, sizes, start)
    with _blaming_backward(student, sizes, start, X, y, thresholds):
        losses = _train(net, X, y, epochs, lr)
        _expect_trajectory(net, losses, start, X, y, lr, epochs, thresholds, how=f"epochs={epochs}, lr={lr}")


def _expect_decreasing(losses: np.ndarray, what: str) -> None:
    expect(losses[-1] < losses[0], expected=f"{what}: the last loss below the first",
           seen=f"from {losses[0]:.4g} to {losses[-1]:.4g}",
           hint="the loss should go down while training: check the sign of the update and the gradient")


def test_network_2_4_1_solves_xor(student, rng, thresholds):
    """a [2, 4, 1] network trained with train solves XOR (all outputs on the right side of 0.5)"""
    X, y = datasets.make_xor()
    epochs, lr = int(thresholds["xor_epochs"]), thresholds["xor_lr"]
    # Weights N(0, 1), biases 0: a start from which full-batch descent solves XOR with a wide margin (every one of
    # 100 such starts, outputs at least 0.37 away from 0.5); the student's own initialisation is not judged here.
    start = _draw_params(rng, [2, 4, 1], weight_scale="unit", bias_scale=0.0)
    net = _network(student, [2, 4, 1], start)
    with _blaming_backward(student, [2, 4, 1], start, X, y, thresholds):
        losses = _train(net, X, y, epochs, lr)
        _expect_decreasing(losses, "XOR")
        out = as_array(net.predict(X), "predict(X)", (4, 1), "predict returns the output activations, shape (m, 1)")
        expect(bool(np.all(_classification(out, y))),
               expected=f"outputs for (0,0), (0,1), (1,0), (1,1) on the sides of 0.5 given by XOR (0, 1, 1, 0) "
                        f"after {epochs} epochs at lr = {lr:g}",
               seen=f"{fmt(out.reshape(-1))}, loss from {losses[0]:.4g} to {losses[-1]:.4g}",
               hint="predict(X) returns the output activations forward(X) (no thresholding); train updates every "
                    "parameter by -lr * its gradient each epoch")


def test_network_2_16_16_1_fits_the_spirals(student, rng, thresholds):
    """a [2, 16, 16, 1] network trained with train fits the standardised two spirals"""
    X, y = datasets.make_spirals(int(thresholds["spiral_points"]), noise=0.5, seed=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    epochs, lr, target = int(thresholds["spiral_epochs"]), thresholds["spiral_lr"], thresholds["spiral_min_accuracy"]
    # Weights N(0, 1), biases 0: every one of 30 such starts reaches at least 79 % in these epochs.
    start = _draw_params(rng, [2, 16, 16, 1], weight_scale="unit", bias_scale=0.0)
    net = _network(student, [2, 16, 16, 1], start)
    with _blaming_backward(student, [2, 16, 16, 1], start, X, y, thresholds):
        losses = _train(net, X, y, epochs, lr)
        _expect_decreasing(losses, "the spirals")
        out = as_array(net.predict(X), "predict(X)", (len(X), 1),
                       "predict returns the output activations, shape (m, 1)")
        accuracy = float(np.mean(_classification(out, y)))
        expect(accuracy >= target,
               expected=f"training accuracy at least {target:.0%} after {epochs} epochs at lr = {lr:g}",
               seen=f"{accuracy:.1%}, loss from {losses[0]:.4g} to {losses[-1]:.4g}",
               hint="the network needs correct gradients in every layer and an update of every parameter each "
                    "epoch; predict(X) returns forward(X)")


# =================================================================================================================
# ex7: minibatch training
# =================================================================================================================

def _distinct_rows(rng: np.random.Generator, m: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(m, n_in))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    return X, y


def _record(student, sizes: list[int], start: dict, X, y, *, epochs: int, lr: float, batch_size: int) -> dict:
    net = _network(student, sizes, start, cls="NeuralNetworkMiniBatch")
    record = student.probe("record_minibatch_training", net, X, y, epochs=epochs, lr=lr, batch_size=batch_size)
    record["net"] = net
    return record


def _update_batches(record: dict) -> list[list[int]]:
    """The row indices of every minibatch that led to an update, in order (one backward call per update)."""
    # The rows are seen in the worker, so code could call backward on the right minibatches only for show: that
    # still takes building exactly those minibatches (what the batching checks grade), and whether the updates
    # used them is judged by replaying the recorded minibatches (the history and trajectory checks).
    batches = [rows for kind, rows in record["events"] if kind == "backward"]
    if not batches:
        fail("train_minibatch calls self.forward and self.backward on each minibatch",
             "no call of self.backward was seen",
             "for each minibatch: out = self.forward(Xb); loss; grads = self.backward(Xb, yb); update. The grader "
             "watches these calls to see your minibatches")
    if any(rows is None or -1 in rows for rows in batches):
        fail("minibatches made of rows of X", "backward received an array whose rows are not rows of X",
             "take the minibatch as X[idx], y[idx] for an array of indices idx (no scaling, no copy to another dtype)")
    return batches


def _expected_sizes(m: int, batch_size: int) -> list[int]:
    return [min(batch_size, m - start) for start in range(0, m, batch_size)]


def _epochs_of(batches: list[list[int]], m: int, batch_size: int, epochs: int) -> list[list[list[int]]]:
    """The update batches split into epochs; fails when their number or sizes are not those of consecutive
    minibatches of ``batch_size`` covering all m examples."""
    sizes = _expected_sizes(m, batch_size)
    per_epoch = len(sizes)
    if len(batches) != per_epoch * epochs:
        seen_sizes = [len(b) for b in batches[:per_epoch + 2]]
        dropped = (len(batches) == (m // batch_size) * epochs and m % batch_size)
        hint = (f"the last partial batch of {m % batch_size} examples was never used: loop with "
                f"range(0, m, batch_size) and take order[start:start + batch_size] (the last slice is shorter)"
                if dropped else
                f"one update per minibatch: ceil(m / batch_size) = ceil({m} / {batch_size}) = {per_epoch} per "
                "epoch, the last one smaller")
        fail(f"{per_epoch} updates per epoch (minibatches of sizes {sizes}), {per_epoch * epochs} in {epochs} epochs",
             f"{len(batches)} updates; the first minibatch sizes {seen_sizes}", hint)
    split = [batches[e * per_epoch:(e + 1) * per_epoch] for e in range(epochs)]
    for e, epoch in enumerate(split):
        if [len(b) for b in epoch] != sizes:
            fail(f"minibatches of sizes {sizes} in every epoch", f"sizes {[len(b) for b in epoch]} in epoch {e}",
                 "walk through the shuffled indices in consecutive slices order[start:start + batch_size]")
        used = sorted(i for b in epoch for i in b)
        if used != list(range(m)):
            fail("every example exactly once per epoch", f"epoch {e} used the rows {fmt(np.array(used))}",
                 "shuffle a permutation of all indices (np.random.permutation(m)) and cut it into minibatches; "
                 "drawing random indices with replacement repeats some and misses others")
    return split


def _replay(start: dict, X, y, epochs: list[list[list[int]]], lr: float) -> tuple[list[list[float]], dict]:
    """Minibatch losses (before each update) per epoch and the final parameters, over the given minibatches."""
    params, losses = start, []
    for epoch in epochs:
        losses.append([])
        for idx in epoch:
            losses[-1].append(_loss(params, X[idx], y[idx]))
            params = _step(params, X[idx], y[idx], lr)
    return losses, params


def test_minibatch_reshuffles_every_epoch(student, rng, thresholds):
    """train_minibatch visits every example once per epoch, in a new random order every epoch"""
    m, batch_size, epochs = 24, 6, 4
    X, y = _distinct_rows(rng, m, 2)
    record = _record(student, [2, 3, 1], _draw_params(rng, [2, 3, 1]), X, y, epochs=epochs, lr=0.5,
                     batch_size=batch_size)
    split = _epochs_of(_update_batches(record), m, batch_size, epochs)
    orders = [tuple(i for b in epoch for i in b) for epoch in split]
    if all(order == tuple(range(m)) for order in orders):
        fail("a shuffled order of the examples in every epoch", "the examples in their original order every epoch",
             "shuffle the indices at the start of every epoch: order = np.random.permutation(m), then "
             "minibatches X[order[start:start + batch_size]]")
    expect(len(set(orders)) == epochs,
           expected=f"a different order in each of the {epochs} epochs",
           seen=f"{len(set(orders))} different orders in {epochs} epochs (first epoch {fmt(np.array(orders[0]))})",
           hint="reshuffle every epoch: draw the permutation INSIDE the epoch loop, not once before it")


def test_minibatch_uses_every_minibatch_including_the_last_partial_one(student, rng, thresholds):
    """train_minibatch makes ceil(m / batch_size) updates per epoch, the last minibatch smaller"""
    m, batch_size, epochs = 22, 5, 3
    X, y = _distinct_rows(rng, m, 2)
    record = _record(student, [2, 3, 1], _draw_params(rng, [2, 3, 1]), X, y, epochs=epochs, lr=0.5,
                     batch_size=batch_size)
    _epochs_of(_update_batches(record), m, batch_size, epochs)


def _expect_minibatch_replay(student, rng, thresholds, *, sizes, m, batch_size, epochs, lr) -> None:
    X, y = _distinct_rows(rng, m, sizes[0])
    start = _draw_params(rng, sizes)
    record = _record(student, sizes, start, X, y, epochs=epochs, lr=lr, batch_size=batch_size)
    split = _epochs_of(_update_batches(record), m, batch_size, epochs)
    with _blaming_backward(student, sizes, start, X, y, thresholds):
        batch_losses, final = _replay(start, X, y, split, lr)
        history = record["history"]
        if isinstance(history, str):
            fail(f"train_minibatch returns {epochs} losses", history, "return the list of per-epoch losses")
        history = _losses(history, epochs, "the losses returned by train_minibatch")
        expected = np.array([np.mean(b) for b in batch_losses])
        tol = dict(rtol=thresholds["trajectory_rtol"], atol=thresholds["trajectory_atol"])
        case = f"m = {m}, batch_size = {batch_size}, {epochs} epochs, lr = {lr}"
        if not np.allclose(history, expected, **tol):
            sizes_per_epoch = [[len(b) for b in epoch] for epoch in split]
            weighted = np.array([np.average(b, weights=s) for b, s in zip(batch_losses, sizes_per_epoch)])
            last = np.array([b[-1] for b in batch_losses])
            after = []
            params = start
            for epoch in split:
                after.append([])
                for idx in epoch:
                    params = _step(params, X[idx], y[idx], lr)
                    after[-1].append(_loss(params, X[idx], y[idx]))
            whole = []
            params = start
            for epoch in split:
                for idx in epoch:
                    params = _step(params, X[idx], y[idx], lr)
                whole.append(_loss(params, X, y))
            diagnosis = _first_match(history, {
                "the minibatch losses were weighted by their sizes: the contract asks for the plain mean of the "
                "minibatch losses (np.mean(batch_losses))": weighted,
                "only the last minibatch's loss was kept: average the losses of all minibatches of the epoch": last,
                "the losses were computed after each update: record each minibatch's loss before its update":
                    np.array([np.mean(a) for a in after]),
                "the loss of the whole training set after the epoch was recorded: the history holds the plain mean of "
                "the epoch's minibatch losses": np.array(whole)}, **tol)
            fail(f"history = {fmt(expected)} ({case})", fmt(history),
                 diagnosis or "each epoch: the plain mean of its minibatch losses, each taken before that update")
        params = record["params"]
        if not isinstance(params, dict):
            fail("net.params as a dict after train_minibatch", fmt(params), "keep the parameters in self.params")
        for name in start:
            if name not in params or not _matches(params[name], final[name], **tol) or \
                    np.shape(params[name]) != final[name].shape:
                fail(f"params[{name!r}] = {fmt(final[name])} after train_minibatch ({case}), one gradient step per "
                     "minibatch from our parameters", fmt(params.get(name)),
                     "for every minibatch: forward(Xb), backward(Xb, yb), then every parameter -= lr * its gradient")


def test_minibatch_history_is_the_mean_of_minibatch_losses(student, rng, thresholds):
    """train_minibatch records per epoch the plain mean of its minibatch losses, each before its update"""
    _expect_minibatch_replay(student, rng, thresholds, sizes=[2, 3, 1], m=22, batch_size=5, epochs=3, lr=0.5)


def test_minibatch_with_batch_size_m_equals_full_batch_training(student, rng, thresholds):
    """train_minibatch with batch_size = m reproduces full-batch training from the same parameters"""
    sizes, m, epochs, lr = [2, 4, 1], 16, 5, 0.8
    X, y = _distinct_rows(rng, m, 2)
    start = _draw_params(rng, sizes)
    net = _network(student, sizes, start, cls="NeuralNetworkMiniBatch")
    losses, final = _full_batch(start, X, y, lr, epochs)
    # One minibatch holding every example in a shuffled order: the same sums up to round-off.
    tol = dict(rtol=thresholds["trajectory_rtol"], atol=thresholds["trajectory_atol"])
    with _blaming_backward(student, sizes, start, X, y, thresholds):
        history = _losses(net.train_minibatch(X, y, epochs=epochs, lr=lr, batch_size=m), epochs,
                          "the losses returned by train_minibatch")
        expect(bool(np.allclose(history, losses, **tol)),
               expected=f"the full-batch losses {fmt(np.array(losses))} with batch_size = m = {m}",
               seen=fmt(history),
               hint="with batch_size = m every epoch is one minibatch of all examples: its loss, taken before the "
                    "update, is the epoch's loss")
        params = _read_params(net, {k: v.shape for k, v in start.items()}, when="after train_minibatch")
        for name in start:
            expect_close(params[name], final[name],
                         what=f"params[{name!r}] after {epochs} epochs with batch_size = m",
                         rtol=tol["rtol"], atol=tol["atol"],
                         hint="with batch_size = m, one update per epoch on all examples: the same steps as train")


def test_minibatch_trajectory_matches_exact_updates(student, rng, thresholds):
    """train_minibatch makes exactly the gradient steps of its minibatches on a deeper network"""
    _expect_minibatch_replay(student, rng, thresholds, sizes=[3, 5, 4, 1], m=37, batch_size=8, epochs=4, lr=0.8)
