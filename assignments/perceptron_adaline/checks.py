"""Checks for perceptron_adaline.py: the perceptron rule, the normal equation and the gradient-descent path,
gradient checking and the chain rule, Adaline in every mode, counting parameters and shapes, random search.

The visible checks ship to students, so they judge without any implementation of an exercise: exact trajectories
on fixed inputs (the perceptron's, Adaline's, random search's, with the contract's order of random draws) are
values the oracle recorded ahead of grading, read through ``EXPECTED``, together with what each known mistake
gives on the same inputs; least squares against ``np.linalg.lstsq`` and the residual of the normal equation (closed
forms the handout gives); each step of the gradient-descent path against central differences of the loss from the
student's own previous row; numerical gradients against the exact derivatives of the grader's own test polynomials;
and properties (shapes, types, convergence on iris, no convergence on XOR, errors raised). The hidden checks call
the oracle (``oracle.py``, which stays with instructors) on other data, seeds and sizes. A wrong answer is diagnosed
against the mistake catalogue (``mistakes.py``), one way everywhere: which known mistake reproduces what we saw?
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterator, Mapping

import numpy as np

from autograder import datasets
from autograder.checking import as_array, as_float, as_tuple, expect, fail, fmt, numerical_gradient
from autograder.mistakes import Mistake, fail_as, fail_with, handout, recognise
from autograder.recorded import Recorded
from autograder.remote import RemoteObject
from autograder.sandbox import StudentError

from assignments.perceptron_adaline import mistakes
from assignments.perceptron_adaline import oracle
from assignments.perceptron_adaline.probes import polynomial_value

#: Perceptron data lie on a grid of multiples of 1/4 (small integers over 4): every z = x . w + b and every update
#: is then exact in floating point, whatever the order of the operations, so trajectories are compared exactly
#: (this tolerance only absorbs a float32 copy of w, exact on such numbers too) and z = 0 ties are real ties.
GRID = 0.25
EXACT = 1e-12
#: Central differences of the quadratic path loss are exact up to round-off at any step size; a step that grows with
#: the size of beta keeps that round-off ~1e-13 relative (see _path_gradient).
FD_STEP = 1e-3

#: Fixed inputs of the visible checks (seeds of the grader's own data; recorded values are computed on them).
PERCEPTRON_SEED, PERCEPTRON_SHAPE, PERCEPTRON_EPOCHS = 20240501, (12, 3), 4
SHUFFLE_SEED = 7                                           # the seed passed to train(shuffle=True)
CONTINUE_START, CONTINUE_CALLS = (np.array([0.5, -0.25, 0.75]), -0.5), (2, 3)
ADALINE_SEED, ADALINE_SHAPE = 20240502, (10, 2)
#: (batch_size, lr, epochs, seed) of the three visible Adaline trajectories: on-line, a middle size whose last
#: minibatch is partial (10 = 4 + 4 + 2), and batch mode.
ADALINE_RUNS = {"online": (1, 0.05, 3, 4), "minibatch": (4, 0.1, 4, 5), "batch": (10, 0.2, 5, 6)}
SEARCH_SEED, SEARCH_SHAPE = 20240503, (20, 2)
#: (n_trials, scale, seed) of the visible random searches
SEARCH_RUNS = {"default_scale": (30, 1.0, 3), "small_scale": (25, 0.25, 7)}
#: make_regression's seeds for the visible normal-equation check: the notebook's 42 and one of the grader's.
REGRESSION_SEEDS = (42, 2024)
#: Nearly collinear designs (50 x 3, the second column the first plus 1e-6 noise): cond(X^T X) ~ 5e12. Measured on
#: 200 seeds, np.linalg.solve, lstsq (on X or on X^T X), pinv(X), Cholesky and sklearn leave a relative residual
#: |X^T X beta - X^T y| / |X^T y| of at most 2e-10; inv(X^T X) (and pinv(X^T X)) at least 7e-7 (median ~1e-5).
COLLINEAR_SEEDS, COLLINEAR_NOISE = (3, 14, 15), 1e-6
#: count_parameters' widths with recorded counts ([2, 3, 1] -> 13 is the handout's own example).
COUNT_CASES = ([2, 3, 1], [4, 5], [784, 128, 64, 10], [1, 1, 1, 1], [3, 7, 7, 2])
IRIS_SPLIT_SEED, IRIS_TRAIN = 1, 70
#: The grader's own test polynomials for numerical_gradient: cubic coefficients this large make the forward
#: difference's O(h) error (h/2 f'' ~ 1e-3 at h = 1e-5) a thousand times the allowed error, while central
#: differences stay ~1e-8 off.
CUBIC_SCALE = 50.0


# --- small helpers ----------------------------------------------------------------------------------------------

def _is_float(value: Any) -> bool:
    """A Python float (np.float64 is one: it subclasses float), not an int, a bool, an array or a float32."""
    return isinstance(value, float)


def _type_name(described: Mapping) -> str:
    return described.get("dtype") and f"numpy array of {described['dtype']}" or described["type"]


def _not_implemented(err: StudentError) -> bool:
    return err.exc_type == "NotImplementedError"


def _same(seen: Any, expected: Any, rtol: float, atol: float) -> bool:
    """The same numbers (NaN equal to NaN), same shape."""
    try:
        seen = np.asarray(seen, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    return seen.shape == expected.shape and bool(np.allclose(seen, expected, rtol=rtol, atol=atol, equal_nan=True))


def _run_matches(seen: Mapping, expected: Mapping, keys: tuple[str, ...], rtol: float, atol: float) -> bool:
    return all(_same(seen[k], expected[k], rtol, atol) for k in keys)


def _numbers(values: Any, what: str, hint: str) -> list[float]:
    """A returned list of numbers (a list, tuple or 1-D array) as floats."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        fail(f"{what} as a list with one number per epoch", fmt(values), hint)
    return [as_float(v, f"each entry of {what}", hint) for v in values]


def _grid(rng: np.random.Generator, shape: tuple[int, ...], spread: float = 1.0) -> np.ndarray:
    """Normal values rounded to the grid of multiples of GRID."""
    return np.round(rng.normal(0.0, spread, size=shape) / GRID) * GRID


# --- the grader's own data ----------------------------------------------------------------------------------------

def _perceptron_data(seed: int, n: int, m: int, *, separable: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Points on the grid and 0/1 labels of a linear rule, a quarter of them flipped unless ``separable`` (then
    points too close to the boundary are pushed away from it, leaving a margin)."""
    rng = np.random.default_rng(seed)
    X = _grid(rng, (n, m), 1.5)
    direction = rng.normal(size=m)
    score = X @ direction + 0.3
    if separable:
        X = X + np.outer(np.sign(score) * 1.0, direction / np.linalg.norm(direction))
        X = np.round(X / GRID) * GRID
        score = X @ direction + 0.3
    y = (score > 0).astype(int)
    if not separable:
        flip = rng.choice(n, size=max(1, n // 4), replace=False)
        y[flip] = 1 - y[flip]
    return X, y


@functools.lru_cache(maxsize=None)
def _iris() -> tuple[np.ndarray, np.ndarray]:
    return datasets.load_iris()  # the table scikit-learn ships, read without importing scikit-learn


def _iris_setosa_versicolor() -> tuple[np.ndarray, np.ndarray]:
    """Setosa (0) and versicolor (1) by sepal length and petal length: linearly separable."""
    X, target = _iris()
    keep = target < 2
    return X[keep][:, [0, 2]].copy(), target[keep].astype(int)


def _iris_adaline_split(seed: int = IRIS_SPLIT_SEED) -> tuple[np.ndarray, ...]:
    """Versicolor (0) and virginica (1) by sepal width and petal length, a 70/30 split from default_rng(seed),
    both parts standardised with the training part's mean and standard deviation (the notebook's setup)."""
    X, target = _iris()
    keep = target > 0
    X, y = X[keep][:, [1, 2]], (target[keep] == 2).astype(int)
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:IRIS_TRAIN], order[IRIS_TRAIN:]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    return (X[train] - mean) / std, y[train], (X[test] - mean) / std, y[test]


def _xor(n_per_corner: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """XOR: four clouds around the corners of the square, labels 1 where exactly one coordinate is high."""
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = np.repeat(corners, n_per_corner, axis=0) * 4 + np.round(rng.normal(0, 0.5, size=(4 * n_per_corner, 2)) / GRID) * GRID
    y = np.repeat(np.array([0, 1, 1, 0]), n_per_corner)
    return X, y


@functools.lru_cache(maxsize=None)
def _regression(seed: int, n_features: int = 2, n_samples: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The notebook's data: make_regression with noise 10, no bias, every feature informative (the same draws as
    scikit-learn's, without importing it)."""
    return datasets.make_regression(n_samples, n_features, noise=10, seed=seed)


def _collinear(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """50 x 3, the second column the first plus COLLINEAR_NOISE noise: X^T X is regular but nearly singular."""
    rng = np.random.default_rng(seed)
    first = rng.normal(size=50)
    X = np.column_stack([first, first + COLLINEAR_NOISE * rng.normal(size=50), rng.normal(size=50)])
    return X, X @ np.array([1.0, 2.0, -1.0]) + 0.5 * rng.normal(size=50)


def _adaline_data(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal features and 0/1 labels of a noisy linear rule."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    y = (X @ rng.normal(size=m) + 0.5 * rng.normal(size=n) > 0).astype(float)
    return X, y


def _search_data(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """A linear target of unit-sized weights: random candidates from N(0, 1) improve on it now and then."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    return X, X @ rng.normal(size=m) + 0.5 + 0.3 * rng.normal(size=n)


def _relative_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """relative_error's fixed inputs: plain numbers, 0 against 0, both below the floor, mixed signs in 2-D."""
    return [(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.0])),
            (np.array([0.0, 1e-3, 5.0]), np.array([0.0, 2e-3, 5.0])),
            (np.array([1e-9, 0.0]), np.array([3e-9, 0.0])),
            (np.array([[1.0, -2.0, 0.5], [4.0, -1.0, 0.25]]), np.array([[-1.0, 2.0, 0.5], [4.5, -1.5, 0.5]]))]


def _search_fixed() -> tuple[np.ndarray, np.ndarray]:
    return _search_data(SEARCH_SEED, *SEARCH_SHAPE)


def _perceptron_fixed() -> tuple[np.ndarray, np.ndarray]:
    return _perceptron_data(PERCEPTRON_SEED, *PERCEPTRON_SHAPE)


def _adaline_fixed() -> tuple[np.ndarray, np.ndarray]:
    return _adaline_data(ADALINE_SEED, *ADALINE_SHAPE)


def _adaline_recorded(oracle, name: str) -> dict:
    batch_size, lr, epochs, seed = ADALINE_RUNS[name]
    X, y = _adaline_fixed()
    return oracle.with_mistakes(lambda m: oracle.adaline_run(X, y, np.zeros(X.shape[1]), 0.0, lr, epochs, batch_size,
                                                             seed, m), mistakes.ADALINE)


def _search_recorded(oracle, name: str) -> dict:
    n_trials, scale, seed = SEARCH_RUNS[name]
    return oracle.with_mistakes(lambda m: oracle.random_search(*_search_fixed(), n_trials, scale, seed, m),
                                mistakes.SEARCH)


EXPECTED = Recorded("perceptron_adaline", {
    "perceptron_in_order": lambda oracle: oracle.with_mistakes(
        lambda m: oracle.perceptron_run(*_perceptron_fixed(), np.zeros(PERCEPTRON_SHAPE[1]), 0.0,
                                        [PERCEPTRON_EPOCHS], False, 0, m), mistakes.PERCEPTRON),
    "perceptron_shuffled": lambda oracle: oracle.with_mistakes(
        lambda m: oracle.perceptron_run(*_perceptron_fixed(), np.zeros(PERCEPTRON_SHAPE[1]), 0.0,
                                        [PERCEPTRON_EPOCHS], True, SHUFFLE_SEED, m), mistakes.PERCEPTRON),
    "perceptron_continued": lambda oracle: oracle.with_mistakes(
        lambda m: oracle.perceptron_run(*_perceptron_fixed(), *CONTINUE_START, list(CONTINUE_CALLS), False, 0, m),
        mistakes.PERCEPTRON),
    "relative_error": lambda oracle: [oracle.with_mistakes(lambda m: oracle.relative_error(a, b, m), mistakes.RELATIVE)
                                      for a, b in _relative_cases()],
    "adaline_online": lambda oracle: _adaline_recorded(oracle, "online"),
    "adaline_minibatch": lambda oracle: _adaline_recorded(oracle, "minibatch"),
    "adaline_batch": lambda oracle: _adaline_recorded(oracle, "batch"),
    "count_parameters": lambda oracle: [oracle.with_mistakes(lambda m: oracle.count_parameters(sizes, m),
                                                             mistakes.COUNT) for sizes in COUNT_CASES],
    "search_default_scale": lambda oracle: _search_recorded(oracle, "default_scale"),
    "search_small_scale": lambda oracle: _search_recorded(oracle, "small_scale"),
})


# =================================================================================================================
# ex1: the perceptron
# =================================================================================================================

def _perceptron(student, m: int, start: tuple[np.ndarray, float] | None = None) -> RemoteObject:
    perceptron = student.Perceptron(m)
    if start is not None:
        perceptron.w, perceptron.b = np.array(start[0], dtype=np.float64), float(start[1])
    return perceptron


def _trained_perceptron(perceptron: RemoteObject, X, y, calls, shuffle: bool, seed: int) -> dict:
    """errors of every epoch over consecutive train calls, then w and b."""
    errors: list[float] = []
    hint = f"train returns a list with one count per epoch (handout: {mistakes.EXERCISE_1})"
    for epochs in calls:
        got = perceptron.train(X, y, epochs=epochs, shuffle=shuffle, seed=seed)
        errors += _numbers(got, "the errors train returned", hint)
    m = X.shape[1]
    w = as_array(perceptron.w, "w", (m,), f"w keeps the shape ({m},): one weight per feature")
    return {"errors": errors, "w": w, "b": as_float(perceptron.b, "b")}


def _describe_run(run: Mapping) -> str:
    return f"errors {fmt(list(run['errors']))}, w = {fmt(np.asarray(run['w']))}, b = {fmt(run['b'])}"


def _expect_perceptron_run(seen: dict, expected: dict, replay: Callable[[Mistake], dict], *, how: str) -> None:
    """The errors per epoch and the final (w, b) of a perceptron run are exactly ``expected``; else the known mistake
    whose ``replay`` gives them, if any."""
    keys = ("errors", "w", "b")
    if _run_matches(seen, expected, keys, 0.0, EXACT):
        return
    found = recognise(seen, mistakes.PERCEPTRON, replay, lambda s, r: _run_matches(s, r, keys, 0.0, EXACT))
    fail_with(f"{how}: {_describe_run(expected)}", _describe_run(seen), found, convention=mistakes.RULE_PERCEPTRON,
              otherwise="follow the rule example by example: predict with the current w and b (strict threshold), "
                        "err = y_i - y_hat_i, then move w and b by err; count the examples with err != 0 in each pass "
                        f"{handout(mistakes.EXERCISE_1)}")


def _expect_recorded_perceptron(student, key: str, start, calls, shuffle: bool, seed: int, how: str) -> None:
    X, y = _perceptron_fixed()
    recorded = EXPECTED[key]
    perceptron = _perceptron(student, X.shape[1], start)
    seen = _trained_perceptron(perceptron, X, y, calls, shuffle, seed)
    _expect_perceptron_run(seen, recorded["value"], lambda m: recorded["mistakes"][m.name], how=how)


def test_perceptron_starts_with_zero_weights_and_bias(student):
    """Perceptron(m) starts with w = zeros of shape (m,) (floats) and b = 0.0"""
    for m in (3, 1):
        perceptron = student.Perceptron(m)
        w = perceptron.w
        expect(isinstance(w, np.ndarray) and w.shape == (m,) and w.dtype.kind == "f" and not np.any(w),
               expected=f"w = zeros of shape ({m},), a float array", seen=fmt(w),
               hint=f"one weight per feature, all 0.0, as floats (handout: {mistakes.EXERCISE_1})")
        b = perceptron.b
        expect(_is_float(b) and b == 0.0, expected="b = 0.0, a float", seen=f"{type(b).__name__} {fmt(b)}",
               hint=f"b is one number, the float 0.0 (not the int 0, not an array) (handout: {mistakes.EXERCISE_1})")


def test_perceptron_forward_is_a_strict_threshold_with_int_output(student):
    """forward(X) is 1 where X @ w + b > 0 and 0 elsewhere (z = 0 gives 0): an int array of shape (n,)"""
    w, b = np.array([1.0, -2.0]), 0.5
    X = np.array([[1.5, 1.0], [0.5, 0.5], [2.0, 0.25], [-1.0, 0.0], [0.0, 0.25], [3.0, 2.0]])
    z = X @ w + b  # exact: [0, -0.5, 2, -0.5, 0, 0.5]
    perceptron = _perceptron(student, 2, (w, b))
    out = perceptron.forward(X)
    expect(isinstance(out, np.ndarray) and out.shape == (len(X),),
           expected=f"an array of shape ({len(X)},), one prediction per row", seen=fmt(out),
           hint=f"forward returns sigma(X @ w + b) for all rows at once (handout: {mistakes.EXERCISE_1})")
    expect(out.dtype.kind in "iu", expected="an int array of 0s and 1s", seen=f"an array of {out.dtype}",
           hint=f"turn the comparison into ints (a boolean or float array is not an int array) (handout: {mistakes.EXERCISE_1})")
    expected = (z > 0).astype(int)
    if np.array_equal(out, expected):
        return
    if np.array_equal(out, (z >= 0).astype(int)):
        fail_as(mistakes.PERCEPTRON["ge_threshold"], f"predictions {fmt(expected)} for z = {fmt(z)}", fmt(out),
                convention=mistakes.RULE_THRESHOLD)
    fail(f"predictions {fmt(expected)} for z = X @ w + b = {fmt(z)}", fmt(out),
         f"1 where z > 0, 0 elsewhere, with the current w and b {handout(mistakes.CONVENTIONS)}",
         convention=mistakes.RULE_THRESHOLD)


def test_perceptron_train_follows_the_rule_in_order(student):
    """train(shuffle=False) follows the perceptron rule example by example: errors per epoch, w and b exactly"""
    _expect_recorded_perceptron(student, "perceptron_in_order", None, (PERCEPTRON_EPOCHS,), False, 0,
                                how=f"after train(epochs={PERCEPTRON_EPOCHS}) from w = 0, b = 0 on the grader's "
                                    f"{PERCEPTRON_SHAPE[0]} examples, in order")


def test_perceptron_train_shuffles_with_a_new_permutation_every_epoch(student):
    """train(shuffle=True, seed) visits the examples in the order of one generator's new permutation per epoch"""
    _expect_recorded_perceptron(student, "perceptron_shuffled", None, (PERCEPTRON_EPOCHS,), True, SHUFFLE_SEED,
                                how=f"after train(epochs={PERCEPTRON_EPOCHS}, shuffle=True, seed={SHUFFLE_SEED}) "
                                    "from w = 0, b = 0")


def test_perceptron_train_continues_from_the_current_weights(student):
    """train starts from the current w and b (set before the call, or left by an earlier call)"""
    w0, b0 = CONTINUE_START
    _expect_recorded_perceptron(student, "perceptron_continued", CONTINUE_START, CONTINUE_CALLS, False, 0,
                                how=f"with w = {fmt(w0)}, b = {b0} set before train(epochs={CONTINUE_CALLS[0]}) and "
                                    f"train(epochs={CONTINUE_CALLS[1]})")


def test_perceptron_errors_are_python_ints_and_evaluate_is_a_float_accuracy(student):
    """train returns a list of Python ints (one per epoch); evaluate returns the accuracy as a float in [0, 1]"""
    X, y = _perceptron_fixed()
    types = student.probe("perceptron_types", X, y, 3)
    errors = types["errors"]
    expect(errors["type"] == "list" and errors.get("length") == 3,
           expected="a list with one count per epoch (3 after train(epochs=3))",
           seen=f"a {_type_name(errors)}" + (f" of length {errors['length']}" if "length" in errors else ""),
           hint=f"collect the counts in a Python list, one append per epoch (handout: {mistakes.EXERCISE_1})")
    kinds = sorted({item["type"] for item in errors["items"]})
    expect(kinds == ["int"], expected="each count a Python int", seen=f"items of type {', '.join(kinds)}",
           hint=f"count with a Python int (a NumPy sum or count gives numpy.int64, which is not one) (handout: {mistakes.EXERCISE_1})")
    accuracy = types["evaluate"]
    expect(accuracy["type"] == "float" or accuracy["type"] == "float64",
           expected="evaluate returns a float", seen=f"a {_type_name(accuracy)}",
           hint=f"the accuracy is one number, the fraction of correct predictions, as a float (handout: {mistakes.EXERCISE_1})")
    perceptron = _perceptron(student, X.shape[1], (np.array([0.5, -0.5, 0.25]), 0.25))
    value = as_float(perceptron.evaluate(X, y), "evaluate(X, y)")
    predictions = np.asarray(perceptron.forward(X), dtype=np.float64)
    expected = float(np.mean(predictions == y))
    expect(0.0 <= value <= 1.0 and abs(value - expected) <= EXACT,
           expected=f"evaluate(X, y) = {fmt(expected)}, the fraction of rows where forward(X) equals y",
           seen=fmt(value), hint=f"the accuracy is a fraction in [0, 1] (not a count, not a percentage) (handout: {mistakes.EXERCISE_1})")


def test_perceptron_converges_on_iris_setosa_versicolor(student, thresholds):
    """on iris setosa / versicolor (sepal and petal length), training reaches an epoch without errors"""
    X, y = _iris_setosa_versicolor()
    epochs = int(thresholds["iris_perceptron_epochs"])
    for shuffle in (False, True):
        perceptron = student.Perceptron(2)
        errors = _numbers(perceptron.train(X, y, epochs=epochs, shuffle=shuffle, seed=1), "errors",
                          f"one count per epoch (handout: {mistakes.EXERCISE_1})")
        accuracy = as_float(perceptron.evaluate(X, y), "evaluate(X, y)")
        expect(len(errors) == epochs and errors[-1] == 0 and accuracy == 1.0,
               expected=f"with shuffle={shuffle}: 0 errors in the last of {epochs} epochs and an accuracy of 1.0 (the "
                        "two species are linearly separable, so the perceptron rule converges)",
               seen=f"errors {fmt(errors)}, accuracy {fmt(accuracy)}",
               hint="on separable data the rule stops changing w once every example is right: check the strict "
                    f"threshold and the sign of err (handout: {mistakes.EXERCISE_1})")


def test_perceptron_keeps_making_errors_on_xor(student, thresholds):
    """on XOR (not linearly separable), no epoch is ever free of errors"""
    X, y = _xor(5, 20240504)
    epochs = int(thresholds["xor_epochs"])
    for shuffle in (False, True):
        errors = _numbers(student.Perceptron(2).train(X, y, epochs=epochs, shuffle=shuffle, seed=2), "errors",
                          f"one count per epoch (handout: {mistakes.EXERCISE_1})")
        expect(len(errors) == epochs and min(errors) > 0,
               expected=f"with shuffle={shuffle}: at least one error in each of {epochs} epochs (no line separates "
                        "XOR's classes)", seen=f"errors {fmt(errors)}",
               hint="errors counts the examples of the pass whose err is not 0: a pass without errors means a line "
                    f"separates the classes, impossible for XOR (handout: {mistakes.EXERCISE_1})")


def _hidden_perceptron_cases(rng: np.random.Generator) -> Iterator[tuple]:
    """(X, y, start, calls, shuffle, seed) of the hidden trajectory check."""
    for n, m, calls, shuffle in ((9, 2, (5,), True), (20, 4, (3,), False), (15, 3, (2, 2), True), (6, 1, (6,), True),
                                 (25, 2, (4,), True)):
        X, y = _perceptron_data(int(rng.integers(2**31)), n, m)
        start = (_grid(rng, (m,)), float(_grid(rng, ()))) if len(calls) > 1 else (np.zeros(m), 0.0)
        yield X, y, start, calls, shuffle, int(rng.integers(1000))


def test_perceptron_trajectories_on_other_data_and_seeds(student, rng):
    """train follows the rule exactly on other data sets, sizes, seeds and call sequences"""
    for X, y, start, calls, shuffle, seed in _hidden_perceptron_cases(rng):
        perceptron = _perceptron(student, X.shape[1], start)
        seen = _trained_perceptron(perceptron, X, y, calls, shuffle, seed)
        _expect_perceptron_run(seen, oracle.perceptron_run(X, y, *start, calls, shuffle, seed),
                               lambda m: oracle.perceptron_run(X, y, *start, calls, shuffle, seed, m),
                               how=f"on {X.shape[0]} examples of {X.shape[1]} features, calls of {list(calls)} "
                                   f"epochs, shuffle={shuffle}, seed={seed}")


# =================================================================================================================
# ex2: the normal equation and the gradient-descent path
# =================================================================================================================

def _beta(student, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    m = X.shape[1]
    return as_array(student.normal_equation(X, y), "normal_equation(X, y)", (m,),
                    f"beta has one coefficient per column of X: shape ({m},), no intercept "
                    f"(handout: {mistakes.EXERCISE_2})")


def _expect_least_squares(student, X, y, thresholds, what: str) -> None:
    beta = _beta(student, X, y)
    expected = np.linalg.lstsq(X, y, rcond=None)[0]
    expect(_same(beta, expected, thresholds["lstsq_rtol"], 0.0),
           expected=f"beta = {fmt(expected)} (np.linalg.lstsq) on {what}", seen=fmt(beta),
           hint="beta solves (X^T X) beta = X^T y: X^T X is (m, m) and X^T y has shape (m,); no column of ones "
                f"is added (handout: {mistakes.EXERCISE_2})")


def _expect_normal_residual(student, X, y, thresholds, what: str) -> None:
    beta = _beta(student, X, y)
    A, c = X.T @ X, X.T @ y
    residual = float(np.linalg.norm(A @ beta - c) / np.linalg.norm(c))
    limit = thresholds["normal_residual_max"]
    if residual <= limit:
        return
    if residual < 1e-2:  # close to a solution, but not to working precision: what the explicit inverse does
        fail_as(mistakes.INVERSE, f"|X^T X beta - X^T y| / |X^T y| at most {limit:g} on {what} (cond(X^T X) = "
                f"{np.linalg.cond(A):.1e})", f"{residual:.2e}", convention=mistakes.RULE_NORMAL)
    fail(f"beta solving (X^T X) beta = X^T y on {what}", f"beta = {fmt(beta)}, relative residual {residual:.2e}",
         f"beta solves the normal equation (handout: {mistakes.EXERCISE_2})", convention=mistakes.RULE_NORMAL)


def test_normal_equation_matches_lstsq_on_make_regression(student, thresholds):
    """normal_equation equals np.linalg.lstsq on the notebook's make_regression data (and another seed)"""
    for seed in REGRESSION_SEEDS:
        X, y, _ = _regression(seed)
        _expect_least_squares(student, X, y, thresholds, f"make_regression(random_state={seed})")


def test_normal_equation_solves_the_system_on_a_nearly_collinear_design(student, thresholds):
    """normal_equation solves (X^T X) beta = X^T y to working precision even when X^T X is nearly singular"""
    # Where X^T X is nearly singular, beta itself is poorly determined (every correct method lands elsewhere), but
    # the residual of the system is not: a backward-stable solve leaves it at round-off, an explicit inverse does
    # not (see COLLINEAR_SEEDS). An exactly singular X^T X is not used: the contract allows np.linalg.solve, which
    # raises there, and the solution is not unique.
    for seed in COLLINEAR_SEEDS:
        X, y = _collinear(seed)
        _expect_normal_residual(student, X, y, thresholds, f"a 50 x 3 design whose first two columns differ by "
                                                           f"{COLLINEAR_NOISE:g} noise")


def _path(student, X, y, **kwargs) -> np.ndarray:
    steps = kwargs.get("steps", 50)
    m = X.shape[1]
    got = student.gradient_descent_path(X, y, **kwargs)
    path = as_array(got, "path", None)
    expect(path.shape == (steps + 1, m), expected=f"path of shape ({steps + 1}, {m}) for steps={steps}",
           seen=f"shape {path.shape}",
           hint=f"one row per parameter vector: row 0 the start, then one row after each of the {steps} steps "
                f"(handout: {mistakes.EXERCISE_2})")
    return path


class _PathGradient:
    """The gradient of l(beta) = 1/2 mean((X beta - y)^2) by central differences (a mistakes.PathModel): exact up
    to round-off for this quadratic loss, with a step that grows with beta's size."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X, self.y, self.n = X, y, len(y)

    def _loss(self, beta: np.ndarray) -> float:
        return float(0.5 * np.mean((self.X @ beta - self.y) ** 2))

    def gradient(self, beta: np.ndarray) -> np.ndarray:
        return numerical_gradient(self._loss, beta, h=FD_STEP * (1.0 + float(np.max(np.abs(beta)))))


def _expect_path_steps(path: np.ndarray, model: mistakes.PathModel, lr: float, step: Callable, thresholds,
                       replay: Callable[[Mistake, np.ndarray], np.ndarray], what: str) -> None:
    """Row 0 is zeros and every row k is one step from the student's own row k - 1."""
    m = path.shape[1]
    rtol, atol = thresholds["path_rtol"], thresholds["path_atol"]
    if len(path) > 2 and np.all(path == path[-1]) and np.any(path[-1] != 0):
        fail_as(mistakes.SAME_ARRAY, f"row 0 = zeros, then one gradient step per row on {what}",
                f"every row equal to {fmt(path[-1])}", convention=mistakes.RULE_PATH)
    expect(np.array_equal(path[0], np.zeros(m)), expected=f"row 0 = zeros ({m} values), the start",
           seen=fmt(path[0]), hint=f"row 0 is beta = 0 before any step (handout: {mistakes.EXERCISE_2})")
    for k in range(1, len(path)):
        expected = step(path[k - 1])
        scale = atol * (1.0 + float(np.max(np.abs(path[k - 1]))))
        if _same(path[k], expected, rtol, scale):
            continue
        found = recognise(path[k], mistakes.PATH_STEP, lambda mistake: replay(mistake, path[k - 1]),
                          lambda s, r: _same(s, r, rtol, scale))
        fail_with(f"row {k} = one step with lr = {lr} from row {k - 1} ({fmt(path[k - 1])}) on {what}: "
                  f"{fmt(expected)}", fmt(path[k]), found, convention=mistakes.RULE_PATH,
                  otherwise="each row is the row before minus lr times the gradient of l at it (an average over the "
                            f"examples) {handout(mistakes.EXERCISE_2)}")


def test_gradient_descent_path_starts_at_zero_with_steps_plus_one_rows(student):
    """gradient_descent_path returns an array of shape (steps + 1, m) whose row 0 is zeros"""
    X, y, _ = _regression(REGRESSION_SEEDS[0])
    for kwargs in ({}, {"steps": 7}, {"lr": 0.3, "steps": 1}):
        path = _path(student, X, y, **kwargs)
        expect(np.array_equal(path[0], np.zeros(X.shape[1])), expected="row 0 = zeros, the start",
               seen=fmt(path[0]), hint=f"row 0 is beta = 0 before any step (handout: {mistakes.EXERCISE_2})")


def test_gradient_descent_path_rows_are_gradient_steps_with_the_given_lr(student, thresholds):
    """every row of the path is one gradient step (with the lr given) from the row before it"""
    X, y, _ = _regression(REGRESSION_SEEDS[1])
    lr, steps = 0.25, 12
    path = _path(student, X, y, lr=lr, steps=steps)
    model = _PathGradient(X, y)
    _expect_path_steps(path, model, lr, lambda beta: beta - lr * model.gradient(beta), thresholds,
                       lambda mistake, beta: mistake.replay(model, beta, lr),
                       f"make_regression(random_state={REGRESSION_SEEDS[1]})")


def test_gradient_descent_path_approaches_the_normal_equation_solution(student, thresholds):
    """with the notebook's lr = 0.1 and 50 steps, the path moves steadily to the least-squares coefficients"""
    X, y, _ = _regression(REGRESSION_SEEDS[0])
    best = np.linalg.lstsq(X, y, rcond=None)[0]
    path = _path(student, X, y)
    distance = np.linalg.norm(path - best, axis=1)
    fraction = thresholds["path_final_fraction"]
    expect(bool(np.all(np.diff(distance) < 0)) and distance[-1] <= fraction * distance[0],
           expected=f"the distance to the least-squares beta {fmt(best)} shrinking at every step, to at most "
                    f"{fraction:.0%} of the start's after 50 steps",
           seen=f"distances {fmt(distance)}",
           hint="on these standardised-looking features l is well conditioned: gradient descent with lr = 0.1 "
                f"contracts towards the minimum at every step; check the sign and the 1/n (handout: "
                f"{mistakes.EXERCISE_2})")


def _hidden_regression_cases(rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for n_features in (3, 5):
        X, y, _ = _regression(int(rng.integers(10_000)), n_features, 200)
        yield X, y
    X = rng.normal(1.0, 2.0, size=(30, 4))
    yield X, X @ rng.normal(size=4) + rng.normal(size=30)


def test_normal_equation_and_path_on_other_data(student, rng, thresholds):
    """normal_equation and gradient_descent_path match the closed forms on other data, sizes, lr and steps"""
    for X, y in _hidden_regression_cases(rng):
        _expect_least_squares(student, X, y, thresholds, f"other data of shape {X.shape}")
        _expect_normal_residual(student, X, y, thresholds, f"other data of shape {X.shape}")
        lr = float(rng.choice([0.05, 0.02, 0.3])) / (1.0 + float(np.mean(X ** 2)))
        steps = int(rng.integers(3, 15))
        path = _path(student, X, y, lr=lr, steps=steps)
        model = oracle.PathGradient(X, y)
        _expect_path_steps(path, model, lr, lambda beta: oracle.path_step(model, beta, lr), thresholds,
                           lambda mistake, beta: oracle.path_step(model, beta, lr, mistake),
                           f"other data of shape {X.shape}")
    X, y = _collinear(int(rng.integers(10_000)))
    _expect_normal_residual(student, X, y, thresholds, "another nearly collinear design")


# =================================================================================================================
# ex3: gradient checking and the chain rule
# =================================================================================================================

def _polynomial(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[dict, np.ndarray]:
    """A test polynomial of w (probes.polynomial_value) with strongly curved cubic terms, and a point w."""
    k = int(np.prod(shape))
    a = CUBIC_SCALE * rng.uniform(0.5, 1.0, size=k) * rng.choice([-1.0, 1.0], size=k)
    B = rng.normal(size=(k, k))
    spec = {"a": a, "q": B @ B.T + np.eye(k), "c": rng.normal(0.0, 3.0, size=k)}
    return spec, rng.uniform(-2.0, 2.0, size=shape)


def _derivatives(spec: dict, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first three derivatives of the test polynomial along each axis at w, in w's shape."""
    v = w.reshape(-1)
    a, q, c = spec["a"], spec["q"], spec["c"]
    d1, d2, d3 = 3 * a * v ** 2 + q @ v + c, 6 * a * v + np.diag(q), 6 * a
    return d1.reshape(w.shape), d2.reshape(w.shape), d3.reshape(w.shape)


def _numerical(student, spec: dict, w: np.ndarray, h: float | None) -> dict:
    try:
        return student.probe("numerical_gradient_of", spec, w.reshape(-1), list(w.shape), h)
    except StudentError as err:
        if _not_implemented(err):
            raise
        fail(f"a gradient of shape {w.shape} for w of shape {w.shape}", f"{err.exc_type}: {err.message} ({err.where})",
             "walk every index of w, whatever its shape (a (2, 3) w has 6 entries, a 0-d w has one), on a float "
             f"copy of w (handout: {mistakes.EXERCISE_3})")


def _expect_numerical(student, spec: dict, w: np.ndarray, h: float | None, thresholds) -> None:
    """numerical_gradient(f, w[, h]) equals the central quotient of the test polynomial, exactly known: its
    derivative plus h^2 / 6 times its third derivative."""
    step = mistakes.DEFAULT_H if h is None else h
    d1, d2, d3 = _derivatives(spec, w)
    expected = d1 + step ** 2 / 6 * d3
    out = _numerical(student, spec, w, h)
    shape = None if out["g_shape"] is None else tuple(out["g_shape"])
    expect(shape == w.shape, expected=f"numerical_gradient(f, w) of shape {w.shape}, like w",
           seen=f"a {out['g_type']}" + ("" if shape is None else f" of shape {shape}"),
           hint=f"g has w's shape, one partial derivative per entry of w (handout: {mistakes.EXERCISE_3})")
    g = out["g"].reshape(w.shape)
    rtol, atol = thresholds["fd_rtol"], thresholds["fd_atol"]
    call = f"numerical_gradient(f, w{'' if h is None else f', h={h:g}'}) for w of shape {w.shape}"
    if not _same(g, expected, rtol, atol):
        found = recognise(g, mistakes.NUMERICAL, lambda m: m.replay(d1, d2, d3, step),
                          lambda s, r: _same(s, r, rtol, atol))
        fail_with(f"{call}: {fmt(expected)} (the exact central quotient of the grader's cubic)", fmt(g), found,
                  convention=mistakes.RULE_CENTRAL,
                  otherwise="nudge one entry at a time by +h and by -h, everything else fixed, and divide the "
                            f"difference of the two values of f by the distance between the points "
                            f"{handout(mistakes.EXERCISE_3)}")
    w_after = np.asarray(out["w_after"], dtype=np.float64).reshape(w.shape)
    if not np.array_equal(w_after, w):
        fail_as(mistakes.IN_PLACE, f"w unchanged after {call}: {fmt(w)}", fmt(w_after),
                convention=mistakes.RULE_CENTRAL)


def test_numerical_gradient_matches_the_derivatives_of_strongly_curved_cubics(student, rng, thresholds):
    """numerical_gradient agrees with the exact gradient of cubics (where forward differences are visibly off),
    for w of shape (3,), (2, 3) and ()"""
    for shape in ((3,), (2, 3), ()):
        _expect_numerical(student, *_polynomial(rng, shape), None, thresholds)


def test_numerical_gradient_uses_the_given_h(student, rng, thresholds):
    """numerical_gradient(f, w, h) uses that h: on a cubic the central quotient is off by exactly a h^2"""
    for h in (0.1, 0.03):
        _expect_numerical(student, *_polynomial(rng, (4,)), h, thresholds)


def test_numerical_gradient_leaves_w_unchanged(student, rng):
    """numerical_gradient leaves the array w it is given exactly as it was"""
    for shape in ((5,), (2, 2)):
        spec, w = _polynomial(rng, shape)
        out = _numerical(student, spec, w, 1e-3)
        w_after = np.asarray(out["w_after"], dtype=np.float64).reshape(w.shape)
        if not np.array_equal(w_after, w):
            fail_as(mistakes.IN_PLACE, f"w = {fmt(w)} after the call, as before it", fmt(w_after),
                    convention=mistakes.RULE_CENTRAL)


def _expect_relative(seen: Any, expected: Mapping, a, b, thresholds, replay: Callable[[Mistake], float]) -> None:
    value = as_float(seen, "relative_error(a, b)", "the relative error is one number: the worst entry, as a float")
    rtol = thresholds["relative_rtol"]
    if _same(value, expected, rtol, 0.0):
        return
    found = recognise(value, mistakes.RELATIVE, replay, lambda s, r: _same(s, r, rtol, 0.0))
    fail_with(f"relative_error(a, b) = {fmt(expected)} for a = {fmt(a)}, b = {fmt(b)}", fmt(value), found,
              convention=mistakes.RULE_RELATIVE,
              otherwise=f"follow the formula entry by entry, then take the largest {handout(mistakes.EXERCISE_3)}")


def test_relative_error_follows_the_formula_with_its_floor(student, thresholds):
    """relative_error(a, b) = max |a - b| / max(1e-8, |a| + |b|), also where a and b are 0 or tiny"""
    for (a, b), recorded in zip(_relative_cases(), EXPECTED["relative_error"]):
        _expect_relative(student.relative_error(a, b), recorded["value"], a, b, thresholds,
                         lambda m: recorded["mistakes"][m.name])


def _expect_chain(student, x: float, y: float, expected: tuple[float, float], thresholds) -> None:
    got = as_tuple(student.chain_rule_example(x, y), 2, expected="a pair (df_dx, df_dy)",
                   hint=f"return the pair (df_dx, df_dy) (handout: {mistakes.EXERCISE_3})")
    for value, name in zip(got, ("df_dx", "df_dy")):
        expect(_is_float(value), expected=f"{name} as a float", seen=f"{type(value).__name__} {fmt(value)}",
               hint=f"{name} is one number: return it as a float (handout: {mistakes.EXERCISE_3})")
    seen = (float(got[0]), float(got[1]))
    rtol = thresholds["chain_rtol"]
    if _same(seen, expected, rtol, rtol):
        return
    found = recognise(seen, mistakes.CHAIN, lambda m: m.replay(expected, x, y), lambda s, r: _same(s, r, rtol, rtol))
    fail_with(f"(df/dx, df/dy) = ({fmt(expected[0])}, {fmt(expected[1])}) at x = {x}, y = {y}",
              f"({fmt(seen[0])}, {fmt(seen[1])})", found,
              otherwise="differentiate f(x, y) = x^2 y + y term by term, once holding y fixed and once holding x "
                        f"fixed {handout(mistakes.EXERCISE_3)}")


def test_chain_rule_example_matches_central_differences(student, thresholds):
    """chain_rule_example(x, y) returns two floats, the gradient of x^2 y + y (checked by central differences)"""
    for x, y in ((1.5, -2.0), (0.0, 3.0), (-0.75, 0.5), (2.0, 0.0)):
        # f is quadratic in x and linear in y: its central differences are exact up to round-off
        numerical = numerical_gradient(lambda p: p[0] ** 2 * p[1] + p[1], np.array([x, y]), h=1e-3)
        _expect_chain(student, x, y, (float(numerical[0]), float(numerical[1])), thresholds)


def test_gradient_checking_on_other_functions_points_and_arrays(student, rng, thresholds):
    """numerical_gradient, relative_error and chain_rule_example on other functions, shapes, steps and points"""
    for shape, h in (((4,), 1e-3), ((2, 2, 2), None), ((1,), 0.05)):
        _expect_numerical(student, *_polynomial(rng, shape), h, thresholds)
    for shape in ((6,), (3, 4)):
        a, b = rng.normal(size=shape), rng.normal(size=shape)
        a.flat[0] = b.flat[0] = 0.0
        b.flat[1] = -a.flat[1]
        _expect_relative(student.relative_error(a, b), oracle.relative_error(a, b), a, b, thresholds,
                         lambda m: oracle.relative_error(a, b, m))
    for x, y in rng.uniform(-3.0, 3.0, size=(3, 2)):
        _expect_chain(student, float(x), float(y), oracle.chain_rule(float(x), float(y)), thresholds)


# =================================================================================================================
# ex4: Adaline
# =================================================================================================================

def _adaline(student, m: int, start: tuple[np.ndarray, float] | None = None) -> RemoteObject:
    adaline = student.Adaline(m)
    if start is not None:
        adaline.w, adaline.b = np.array(start[0], dtype=np.float64), float(start[1])
    return adaline


def _trained_adaline(student, X, y, batch_size: int, lr: float, epochs: int, seed: int) -> dict:
    adaline = student.Adaline(X.shape[1])
    losses = _numbers(adaline.train(X, y, lr=lr, epochs=epochs, batch_size=batch_size, seed=seed), "losses",
                      f"train returns one MSE per epoch (handout: {mistakes.EXERCISE_4})")
    m = X.shape[1]
    w = as_array(adaline.w, "w", (m,), f"w keeps the shape ({m},)")
    return {"losses": losses, "w": w, "b": as_float(adaline.b, "b")}


def _describe_adaline(run: Mapping) -> str:
    return f"losses {fmt(list(run['losses']))}, w = {fmt(np.asarray(run['w']))}, b = {fmt(run['b'])}"


def _expect_adaline_run(seen: dict, expected: dict, replay: Callable[[Mistake], dict], thresholds, *,
                        how: str) -> None:
    keys = ("losses", "w", "b")
    rtol, atol = thresholds["adaline_rtol"], thresholds["adaline_atol"]
    if _run_matches(seen, expected, keys, rtol, atol):
        return
    found = recognise(seen, mistakes.ADALINE, replay, lambda s, r: _run_matches(s, r, keys, rtol, atol))
    fail_with(f"{how}: {_describe_adaline(expected)}", _describe_adaline(seen), found,
              convention=mistakes.RULE_ADALINE,
              otherwise="one generator per call, a new permutation per epoch, consecutive minibatches of that "
                        "order, one update of w and b per minibatch against the gradient of its MSE, then the MSE "
                        f"on all the data {handout(mistakes.EXERCISE_4)}")


def _expect_recorded_adaline(student, name: str, thresholds) -> None:
    batch_size, lr, epochs, seed = ADALINE_RUNS[name]
    X, y = _adaline_fixed()
    recorded = EXPECTED[f"adaline_{name}"]
    seen = _trained_adaline(student, X, y, batch_size, lr, epochs, seed)
    _expect_adaline_run(seen, recorded["value"], lambda m: recorded["mistakes"][m.name], thresholds,
                        how=f"after train(lr={lr}, epochs={epochs}, batch_size={batch_size}, seed={seed}) on the "
                            f"grader's {len(y)} examples")


def test_adaline_starts_at_zero_and_forward_is_linear(student, rng):
    """Adaline(m) starts with w = zeros (m,) and b = 0.0; forward(X) = X @ w + b, floats of shape (n,)"""
    adaline = student.Adaline(3)
    w, b = adaline.w, adaline.b
    expect(isinstance(w, np.ndarray) and w.shape == (3,) and w.dtype.kind == "f" and not np.any(w) and _is_float(b)
           and b == 0.0, expected="w = zeros of shape (3,) (floats) and b = 0.0", seen=f"w = {fmt(w)}, b = {fmt(b)}",
           hint=f"the same start as the perceptron: zeros (floats) for w, the float 0.0 for b (handout: {mistakes.EXERCISE_4})")
    X = rng.normal(size=(7, 3))
    w, b = np.array([0.5, -1.25, 2.0]), 0.75
    out = _adaline(student, 3, (w, b)).forward(X)
    expect(isinstance(out, np.ndarray) and out.shape == (7,) and out.dtype.kind == "f"
           and np.allclose(out, X @ w + b, rtol=1e-12, atol=1e-12),
           expected=f"forward(X) = X @ w + b: {fmt(X @ w + b)}", seen=fmt(out),
           hint=f"the linear activation, one float per row, no threshold (handout: {mistakes.EXERCISE_4})")


def test_adaline_predict_thresholds_the_activation_at_one_half(student):
    """predict(X) is 1 where forward(X) > 0.5 and 0 elsewhere (0.5 itself gives 0): ints of shape (n,)"""
    w, b = np.array([1.0, 0.5]), 0.25
    X = np.array([[0.25, 0.0], [0.0, 0.5], [1.0, 0.0], [0.0, 0.0], [-1.0, 3.0]])
    z = X @ w + b  # exact: [0.5, 0.5, 1.25, 0.25, 0.75]
    out = _adaline(student, 2, (w, b)).predict(X)
    expected = (z > 0.5).astype(int)
    expect(isinstance(out, np.ndarray) and out.shape == (5,) and out.dtype.kind in "iu" and np.array_equal(out, expected),
           expected=f"predict(X) = {fmt(expected)}, an int array, for activations {fmt(z)}", seen=fmt(out),
           hint="class 1 where the linear activation is above 0.5 (strictly), 0 elsewhere, as ints (the labels are 0 "
                f"and 1, so the midpoint 0.5 separates them; handout: {mistakes.EXERCISE_4})")


def test_adaline_online_trajectory_follows_the_draw_order(student, thresholds):
    """batch_size=1 (on-line): one update per example, in the order of a new permutation per epoch"""
    _expect_recorded_adaline(student, "online", thresholds)


def test_adaline_minibatches_include_the_last_partial_one(student, thresholds):
    """batch_size=4 on 10 examples: minibatches of 4, 4 and 2 per epoch, each one update"""
    _expect_recorded_adaline(student, "minibatch", thresholds)


def test_adaline_batch_mode_is_gradient_descent_on_the_mse(student, thresholds):
    """batch_size=n: one update per epoch with the gradient of the MSE over all the examples"""
    _expect_recorded_adaline(student, "batch", thresholds)


def test_adaline_losses_are_python_floats_of_the_mse_after_each_epoch(student, thresholds):
    """train returns a list of floats, one per epoch, the last the MSE of the final w and b on all the data"""
    X, y = _adaline_fixed()
    described = student.probe("adaline_types", X, y, lr=0.05, epochs=4, batch_size=3, seed=1)
    expect(described["type"] == "list" and described.get("length") == 4,
           expected="a list with one loss per epoch (4 after epochs=4)",
           seen=f"a {_type_name(described)}" + (f" of length {described['length']}" if "length" in described else ""),
           hint=f"collect the losses in a Python list, one append per epoch (handout: {mistakes.EXERCISE_4})")
    kinds = sorted({item["type"] for item in described["items"]})
    expect(set(kinds) <= {"float", "float64"}, expected="each loss a float", seen=f"items of type {', '.join(kinds)}",
           hint=f"one number per epoch, a float, not an array (handout: {mistakes.EXERCISE_4})")
    adaline = student.Adaline(X.shape[1])
    losses = _numbers(adaline.train(X, y, lr=0.05, epochs=4, batch_size=3, seed=1), "losses",
                      f"one MSE per epoch (handout: {mistakes.EXERCISE_4})")
    w, b = as_array(adaline.w, "w", (X.shape[1],)), as_float(adaline.b, "b")
    mse = float(np.mean((X @ w + b - y) ** 2))
    expect(abs(losses[-1] - mse) <= thresholds["adaline_rtol"] * mse + thresholds["adaline_atol"],
           expected=f"the last loss = the MSE of the final w and b on all of (X, y): {fmt(mse)}", seen=fmt(losses[-1]),
           hint="each epoch's loss is the mean of (forward(X) - y)^2 over ALL examples, after the epoch's updates "
                f"(handout: {mistakes.EXERCISE_4})")


def test_adaline_rejects_batch_sizes_outside_1_to_n_before_any_update(student):
    """train raises ValueError for batch_size 0, -1 and n + 1, and leaves w and b as they were"""
    X, y = _adaline_fixed()
    n = len(y)
    start = (np.array([0.25, -0.5]), 0.125)
    for batch_size in (0, n + 1, -1):
        adaline = _adaline(student, 2, start)
        try:
            result = adaline.train(X, y, lr=0.1, epochs=2, batch_size=batch_size)
        except StudentError as err:
            if _not_implemented(err):
                raise
            expect(err.exc_type == "ValueError", expected=f"ValueError for batch_size={batch_size} (n = {n})",
                   seen=f"{err.exc_type}: {err.message}",
                   hint=f"a batch_size outside 1..n raises ValueError at the start of train (handout: {mistakes.EXERCISE_4})")
        else:
            fail(f"ValueError for batch_size={batch_size} (n = {n})", f"no exception (returned {fmt(result)})",
                 f"a batch_size outside 1..n raises ValueError at the start of train (a batch larger than n silently "
                 f"becomes batch mode; handout: {mistakes.EXERCISE_4})")
        w, b = as_array(adaline.w, "w", (2,)), as_float(adaline.b, "b")
        expect(np.array_equal(w, start[0]) and b == start[1],
               expected=f"w and b unchanged after the ValueError for batch_size={batch_size}",
               seen=f"w = {fmt(w)}, b = {fmt(b)}", hint=f"validate batch_size before the first update (handout: {mistakes.EXERCISE_4})")


def test_adaline_classifies_iris_versicolor_and_virginica(student, thresholds):
    """trained on-line on 70 standardised iris flowers, Adaline classifies the 30 held-out ones well"""
    X_train, y_train, X_test, y_test = _iris_adaline_split()
    adaline = student.Adaline(2)
    adaline.train(X_train, y_train, lr=0.01, epochs=20, batch_size=1, seed=0)
    predictions = np.asarray(adaline.predict(X_test), dtype=np.float64)
    accuracy = float(np.mean(predictions == y_test)) if predictions.shape == y_test.shape else 0.0
    least = thresholds["iris_adaline_accuracy"]
    expect(accuracy >= least,
           expected=f"a test accuracy of at least {least:.0%} (versicolor 0 / virginica 1 by sepal width and petal "
                    "length, standardised with the training statistics; least squares reaches 93%)",
           seen=f"{accuracy:.0%}",
           hint="after 20 on-line epochs with lr = 0.01 Adaline is close to least squares: check the sign of the "
                f"update and that predict thresholds at 0.5 (handout: {mistakes.EXERCISE_4})")


def _hidden_adaline_cases(rng: np.random.Generator) -> Iterator[tuple]:
    """(X, y, batch_size, lr, epochs, seed) of the hidden trajectory check."""
    for n, m, batch_size, lr, epochs in ((7, 3, 1, 0.05, 3), (13, 2, 5, 0.1, 4), (13, 2, 13, 0.2, 4),
                                         (9, 1, 2, 0.1, 3), (16, 4, 6, 0.05, 3)):
        X, y = _adaline_data(int(rng.integers(2**31)), n, m)
        yield X, y, batch_size, lr, epochs, int(rng.integers(1000))


def test_adaline_trajectories_on_other_data_seeds_and_batch_sizes(student, rng, thresholds):
    """train follows minibatch gradient descent exactly on other data, sizes, batch sizes and seeds"""
    for X, y, batch_size, lr, epochs, seed in _hidden_adaline_cases(rng):
        seen = _trained_adaline(student, X, y, batch_size, lr, epochs, seed)
        start = (np.zeros(X.shape[1]), 0.0)
        _expect_adaline_run(seen, oracle.adaline_run(X, y, *start, lr, epochs, batch_size, seed),
                            lambda m: oracle.adaline_run(X, y, *start, lr, epochs, batch_size, seed, m), thresholds,
                            how=f"on {len(y)} examples of {X.shape[1]} features, batch_size={batch_size}, lr={lr}, "
                                f"epochs={epochs}, seed={seed}")


# =================================================================================================================
# ex5: counting parameters, reasoning about shapes
# =================================================================================================================

def _expect_count(student, sizes: list[int], expected: int, replay: Callable[[Mistake], int]) -> None:
    described = student.probe("returned_types", "count_parameters", list(sizes))
    expect(described["type"] == "int", expected=f"count_parameters({sizes}) as a Python int",
           seen=f"a {_type_name(described)}",
           hint=f"return a Python int (a NumPy sum gives numpy.int64, which is not one) (handout: {mistakes.EXERCISE_5})")
    seen = student.count_parameters(list(sizes))
    if seen == expected:
        return
    found = recognise(seen, mistakes.COUNT, replay, lambda s, r: s == r)
    fail_with(f"count_parameters({sizes}) = {expected}", fmt(seen), found, convention=mistakes.RULE_COUNT,
              otherwise=f"add the weights and the biases of every pair of consecutive layers "
                        f"{handout(mistakes.EXERCISE_5)}")


def test_count_parameters_of_2_3_1_is_13_and_of_other_networks(student):
    """count_parameters([2, 3, 1]) = 13 (the handout's MLP) and the right count for other widths, as a Python int"""
    for sizes, recorded in zip(COUNT_CASES, EXPECTED["count_parameters"]):
        _expect_count(student, sizes, recorded["value"], lambda m: recorded["mistakes"][m.name])


def _expect_mnist_shapes(student, batch_size: int | None) -> None:
    b = 64 if batch_size is None else batch_size
    args = () if batch_size is None else (batch_size,)
    call = f"mnist_batch_shapes({'' if batch_size is None else batch_size})"
    described = student.probe("returned_types", "mnist_batch_shapes", *args)
    expected = {"input": (b, 28, 28), "flattened": (b, 784), "logits": (b, 10)}
    expect(described["type"] == "dict" and sorted(described.get("keys", [])) == sorted(repr(k) for k in expected),
           expected=f"{call}: a dict with exactly the keys 'input', 'flattened' and 'logits'",
           seen=f"a {described['type']}" + (f" with keys {', '.join(described['keys'])}" if "keys" in described else ""),
           hint=f"return a dict of the three shapes, keyed by those names (handout: {mistakes.EXERCISE_5})")
    for key in expected:
        item = described["items"][repr(key)]
        kinds = sorted({i["type"] for i in item.get("items", [])})
        expect(item["type"] == "tuple" and kinds == ["int"],
               expected=f"{call}[{key!r}] as a tuple of Python ints",
               seen=f"a {_type_name(item)}" + (f" of {', '.join(kinds)}" if kinds else ""),
               hint="a shape is a tuple of Python ints, as array.shape gives it: not a list, not a NumPy array, "
                    f"not numpy.int64 items (handout: {mistakes.EXERCISE_5})")
    seen = student.mnist_batch_shapes(*args)
    for key, shape in expected.items():
        expect(seen[key] == shape, expected=f"{call}[{key!r}] = {shape}", seen=fmt(seen[key]),
               hint={"input": "a batch of b images of 28 x 28 pixels is a 3-order tensor: (b, 28, 28)",
                     "flattened": "each image becomes one row of 28 * 28 = 784 pixels: (b, 784)",
                     "logits": "one score per class and image: (b, 10)"}[key]
               + f" (handout: {mistakes.EXERCISE_5})")


def test_mnist_batch_shapes_are_tuples_of_python_ints(student):
    """mnist_batch_shapes gives (b, 28, 28), (b, 784) and (b, 10) as tuples of Python ints, for the default b = 64
    and other batch sizes"""
    for batch_size in (None, 32, 1):
        _expect_mnist_shapes(student, batch_size)


def test_count_parameters_and_shapes_on_random_sizes(student, rng):
    """count_parameters on random networks and mnist_batch_shapes on random batch sizes"""
    for depth in (2, 3, 5, 6):
        sizes = [int(v) for v in rng.integers(1, 300, size=depth)]
        _expect_count(student, sizes, oracle.count_parameters(sizes), lambda m: oracle.count_parameters(sizes, m))
    for batch_size in rng.integers(2, 1000, size=2):
        _expect_mnist_shapes(student, int(batch_size))


# =================================================================================================================
# ex6: random search
# =================================================================================================================

def _searched(student, X, y, n_trials: int, scale: float, seed: int) -> dict:
    result = as_tuple(student.random_search(X, y, n_trials=n_trials, scale=scale, seed=seed), 3,
                      expected="a triple (w, b, losses)", hint=f"return the triple (w, b, losses) (handout: {mistakes.EXERCISE_6})")
    m = X.shape[1]
    return {"w": as_array(result[0], "w", (m,), f"w has one weight per feature: shape ({m},)"),
            "b": as_float(result[1], "b", "b is one number, a float"),
            "losses": _numbers(result[2], "losses", f"one best MSE per trial (handout: {mistakes.EXERCISE_6})")}


def _describe_search(run: Mapping) -> str:
    return f"w = {fmt(np.asarray(run['w']))}, b = {fmt(run['b'])}, losses {fmt(list(run['losses']))}"


def _expect_search(seen: dict, expected: dict, replay: Callable[[Mistake], dict], thresholds, *, how: str) -> None:
    keys = ("w", "b", "losses")
    rtol = thresholds["search_rtol"]
    if _run_matches(seen, expected, keys, rtol, 0.0):
        return
    found = recognise(seen, mistakes.SEARCH, replay, lambda s, r: _run_matches(s, r, keys, rtol, 0.0))
    fail_with(f"{how}: {_describe_search(expected)}", _describe_search(seen), found, convention=mistakes.RULE_SEARCH,
              otherwise="one generator for the whole search; in every trial w' (m values) then b', kept only when "
                        f"better; losses the best MSE so far {handout(mistakes.EXERCISE_6)}")


def _expect_recorded_search(student, name: str, thresholds) -> None:
    n_trials, scale, seed = SEARCH_RUNS[name]
    X, y = _search_fixed()
    recorded = EXPECTED[f"search_{name}"]
    _expect_search(_searched(student, X, y, n_trials, scale, seed), recorded["value"],
                   lambda m: recorded["mistakes"][m.name], thresholds,
                   how=f"random_search(n_trials={n_trials}, scale={scale}, seed={seed}) on the grader's {len(y)} "
                       "examples")


def test_random_search_replays_the_order_of_the_draws(student, thresholds):
    """random_search draws w' then b' in every trial from one generator: the same candidates, the same best"""
    _expect_recorded_search(student, "default_scale", thresholds)


def test_random_search_draws_with_the_given_scale(student, thresholds):
    """random_search(scale=0.25) draws its candidates from N(0, 0.25^2)"""
    _expect_recorded_search(student, "small_scale", thresholds)


def test_random_search_losses_never_increase_and_match_the_returned_parameters(student, thresholds):
    """losses has n_trials Python floats, never increasing, the last the MSE of the returned w and b"""
    X, y = _search_data(20240505, 30, 3)
    n_trials = 40
    described = student.probe("returned_types", "random_search", X, y, n_trials=n_trials, scale=0.5, seed=9)
    losses_type = described["items"][2] if described["type"] in ("tuple", "list") and described.get("length") == 3 \
        else described
    kinds = sorted({item["type"] for item in losses_type.get("items", [])})
    expect(losses_type["type"] == "list" and losses_type.get("length") == n_trials and set(kinds) <= {"float", "float64"},
           expected=f"losses: a list of {n_trials} floats (one per trial)",
           seen=f"a {_type_name(losses_type)}" + (f" of {losses_type['length']} items of type {', '.join(kinds)}"
                                                  if "length" in losses_type else ""),
           hint=f"one float per trial, the best MSE so far (handout: {mistakes.EXERCISE_6})")
    run = _searched(student, X, y, n_trials, 0.5, 9)
    losses = np.array(run["losses"])
    mse = float(np.mean((X @ run["w"] + run["b"] - y) ** 2))
    start = float(np.mean(y ** 2))
    rtol = thresholds["search_rtol"]
    expect(bool(np.all(np.diff(losses) <= 0)) and losses[0] <= start * (1 + rtol),
           expected=f"losses never increasing, starting at most at the MSE of w = 0, b = 0 ({fmt(start)})",
           seen=fmt(list(losses)),
           hint="losses holds the BEST MSE after each trial, and the best only changes when a candidate is better "
                f"(handout: {mistakes.EXERCISE_6})")
    expect(abs(losses[-1] - mse) <= rtol * mse,
           expected=f"losses[-1] = the MSE of the returned w and b: {fmt(mse)}", seen=fmt(losses[-1]),
           hint=f"return the parameters of the best candidate, the one whose MSE is the last loss (handout: {mistakes.EXERCISE_6})")


def test_random_search_on_other_data_seeds_and_scales(student, rng, thresholds):
    """random_search replays the draws exactly on other data, sizes, trial counts, scales and seeds"""
    for n, m, n_trials, scale in ((15, 1, 20, 2.0), (40, 4, 35, 0.5), (25, 3, 50, 1.0)):
        X, y = _search_data(int(rng.integers(2**31)), n, m)
        seed = int(rng.integers(1000))
        _expect_search(_searched(student, X, y, n_trials, scale, seed),
                       oracle.random_search(X, y, n_trials, scale, seed),
                       lambda mistake: oracle.random_search(X, y, n_trials, scale, seed, mistake), thresholds,
                       how=f"random_search(n_trials={n_trials}, scale={scale}, seed={seed}) on {n} examples of {m} "
                           "features")
