"""perceptron_adaline's mistake catalogue against its oracle, on the checks' own inputs: every named mistake is told
apart from the correct answer on the inputs of the checks that diagnose it (visible and hidden), the values recorded
for the visible checks are the oracle's, and the visible checks' own references (central differences of the path
loss, the exact quotient of the test polynomials, lstsq) agree with the oracle's, so the visible and the hidden
paths cannot drift apart."""
from __future__ import annotations

import numpy as np
import pytest

from autograder import config as cfg
from autograder import pipeline
from assignments.perceptron_adaline import checks, mistakes, oracle, probes

ASSIGNMENT = cfg.load().assignments["perceptron_adaline"]
THRESHOLDS = ASSIGNMENT.thresholds


def _rng(check: str) -> np.random.Generator:
    """The ``rng`` fixture that ``check`` receives at grading."""
    return pipeline.check_rng(next(c for c in ASSIGNMENT.checks() if c.id == check))


def _same_run(a: dict, b: dict, keys: tuple[str, ...], rtol: float, atol: float) -> bool:
    return checks._run_matches(a, b, keys, rtol, atol)


# --- ex1: the perceptron -------------------------------------------------------------------------------------------

def _perceptron_cases() -> dict[str, list[tuple]]:
    """Per check: (X, y, start, calls, shuffle, seed) of each perceptron run it judges."""
    X, y = checks._perceptron_fixed()
    zero = (np.zeros(X.shape[1]), 0.0)
    hidden = list(checks._hidden_perceptron_cases(_rng("test_perceptron_trajectories_on_other_data_and_seeds")))
    return {"in order": [(X, y, zero, (checks.PERCEPTRON_EPOCHS,), False, 0)],
            "shuffled": [(X, y, zero, (checks.PERCEPTRON_EPOCHS,), True, checks.SHUFFLE_SEED)],
            "continued": [(X, y, checks.CONTINUE_START, checks.CONTINUE_CALLS, False, 0)],
            "hidden": hidden}


PERCEPTRON_CASES = _perceptron_cases()
#: Mistakes that cannot show without shuffling.
ORDER_MISTAKES = {"same_order_every_epoch", "no_shuffle"}


@pytest.mark.parametrize("name", list(PERCEPTRON_CASES))
def test_perceptron_mistakes_differ_from_the_rule(name):
    keys = ("errors", "w", "b")
    for mistake in mistakes.PERCEPTRON.values():
        outcomes = []
        for X, y, start, calls, shuffle, seed in PERCEPTRON_CASES[name]:
            right = oracle.perceptron_run(X, y, *start, calls, shuffle, seed)
            wrong = oracle.perceptron_run(X, y, *start, calls, shuffle, seed, mistake)
            outcomes.append(not _same_run(right, wrong, keys, 0.0, checks.EXACT))
        can_happen = name in ("shuffled", "hidden") or mistake.name not in ORDER_MISTAKES
        restart = mistake.name == "restarts_from_zero" and name in ("in order", "shuffled")  # starts at 0 anyway
        # from a start away from 0 no z of that run lands exactly on 0: >= and > agree there
        tie = mistake.name == "ge_threshold" and name == "continued"
        assert any(outcomes) or not can_happen or restart or tie, (name, mistake.name)


@pytest.mark.parametrize("key", ["perceptron_in_order", "perceptron_shuffled", "perceptron_continued"])
def test_recorded_perceptron_runs_are_the_oracles_and_tell_every_mistake_apart(key):
    recorded = checks.EXPECTED[key]
    case = {"perceptron_in_order": "in order", "perceptron_shuffled": "shuffled",
            "perceptron_continued": "continued"}[key]
    X, y, start, calls, shuffle, seed = PERCEPTRON_CASES[case][0]
    keys = ("errors", "w", "b")
    assert _same_run(recorded["value"], oracle.perceptron_run(X, y, *start, calls, shuffle, seed), keys, 0.0, 0.0)
    assert all(isinstance(e, int) for e in recorded["value"]["errors"])
    # every mistake is recognised by at least one of the three recorded runs
    assert set(recorded["mistakes"]) == set(mistakes.PERCEPTRON)


def test_every_perceptron_mistake_shows_in_some_visible_run():
    keys = ("errors", "w", "b")
    for mistake in mistakes.PERCEPTRON.values():
        assert any(not _same_run(checks.EXPECTED[key]["value"], checks.EXPECTED[key]["mistakes"][mistake.name], keys,
                                 0.0, checks.EXACT)
                   for key in ("perceptron_in_order", "perceptron_shuffled", "perceptron_continued")), mistake.name


def test_perceptron_data_are_exact_on_the_grid_and_the_premises_of_the_property_checks_hold():
    X, y = checks._perceptron_fixed()
    assert np.array_equal(X, np.round(X / checks.GRID) * checks.GRID)
    # iris setosa / versicolor converges within the epochs the check allows; XOR never does
    X, y = checks._iris_setosa_versicolor()
    for shuffle in (False, True):
        run = oracle.perceptron_run(X, y, np.zeros(2), 0.0, [int(THRESHOLDS["iris_perceptron_epochs"])], shuffle, 1)
        assert run["errors"][-1] == 0 and oracle.accuracy(X, y, run["w"], run["b"]) == 1.0
    X, y = checks._xor(5, 20240504)
    for shuffle in (False, True):
        run = oracle.perceptron_run(X, y, np.zeros(2), 0.0, [int(THRESHOLDS["xor_epochs"])], shuffle, 2)
        assert min(run["errors"]) > 0


# --- ex2: least squares and the path -------------------------------------------------------------------------------

def test_collinear_designs_separate_the_inverse_from_solve():
    """On the checks' nearly collinear designs, solve and lstsq leave a residual far below the threshold, the explicit
    inverse at least one of them far above it."""
    limit = THRESHOLDS["normal_residual_max"]
    inverse = []
    for seed in checks.COLLINEAR_SEEDS:
        X, y = checks._collinear(seed)
        A, c = X.T @ X, X.T @ y
        residual = lambda beta: np.linalg.norm(A @ beta - c) / np.linalg.norm(c)  # noqa: E731
        assert residual(np.linalg.solve(A, c)) < limit / 20
        assert residual(oracle.normal_equation(X, y)) < limit / 20
        inverse.append(residual(np.linalg.inv(A) @ X.T @ y))
    assert max(inverse) > 20 * limit


def _path_cases() -> dict[str, list[tuple]]:
    X, y, _ = checks._regression(checks.REGRESSION_SEEDS[1])
    hidden = []
    rng = _rng("test_normal_equation_and_path_on_other_data")
    for X_h, y_h in checks._hidden_regression_cases(rng):
        # the check draws lr and steps right after each data set, in this order
        lr = float(rng.choice([0.05, 0.02, 0.3])) / (1.0 + float(np.mean(X_h ** 2)))
        rng.integers(3, 15)
        hidden.append((X_h, y_h, lr))
    return {"visible": [(X, y, 0.25)], "hidden": hidden}


PATH_CASES = _path_cases()


@pytest.mark.parametrize("name", list(PATH_CASES))
def test_path_step_mistakes_differ_and_central_differences_agree_with_the_oracle(name):
    rtol, atol = THRESHOLDS["path_rtol"], THRESHOLDS["path_atol"]
    for X, y, lr in PATH_CASES[name]:
        exact, numerical = oracle.PathGradient(X, y), checks._PathGradient(X, y)
        path = oracle.gradient_path(X, y, lr, 6)
        for beta in path:
            np.testing.assert_allclose(numerical.gradient(beta), exact.gradient(beta), rtol=1e-9,
                                       atol=1e-9 * (1 + np.max(np.abs(exact.gradient(beta)))))
            right = oracle.path_step(exact, beta, lr)
            scale = atol * (1.0 + float(np.max(np.abs(beta))))
            for mistake in mistakes.PATH_STEP.values():
                wrong = oracle.path_step(exact, beta, lr, mistake)
                if mistake.name == "default_lr" and lr == mistakes.DEFAULT_LR:
                    continue
                assert not checks._same(wrong, right, rtol, scale), (name, mistake.name)
                assert checks._same(mistake.replay(numerical, beta, lr), wrong, rtol, scale), (name, mistake.name)


def test_the_notebook_path_converges_within_the_fraction_the_check_allows():
    X, y, _ = checks._regression(checks.REGRESSION_SEEDS[0])
    path = oracle.gradient_path(X, y, 0.1, 50)
    distance = np.linalg.norm(path - oracle.normal_equation(X, y), axis=1)
    assert np.all(np.diff(distance) < 0) and distance[-1] < THRESHOLDS["path_final_fraction"] * distance[0] / 2


# --- ex3: gradient checking ------------------------------------------------------------------------------------

def _polynomial_cases() -> dict[str, list[tuple]]:
    """(spec, w, h) of every numerical_gradient call, by check, drawn as the checks draw them."""
    rng = _rng("test_numerical_gradient_matches_the_derivatives_of_strongly_curved_cubics")
    curved = [(*checks._polynomial(rng, shape), None) for shape in ((3,), (2, 3), ())]
    rng = _rng("test_numerical_gradient_uses_the_given_h")
    given_h = [(*checks._polynomial(rng, (4,)), h) for h in (0.1, 0.03)]
    rng = _rng("test_gradient_checking_on_other_functions_points_and_arrays")
    hidden = [(*checks._polynomial(rng, shape), h) for shape, h in (((4,), 1e-3), ((2, 2, 2), None), ((1,), 0.05))]
    return {"curved": curved, "given h": given_h, "hidden": hidden}


POLYNOMIAL_CASES = _polynomial_cases()


def _central(spec: dict, w: np.ndarray, h: float) -> np.ndarray:
    """The central quotient itself, computed (the reference's definition, not the checks' closed form)."""
    g = np.zeros_like(w)
    for index in np.ndindex(w.shape):
        up, down = w.copy(), w.copy()
        up[index] += h
        down[index] -= h
        g[index] = (probes.polynomial_value(spec, up) - probes.polynomial_value(spec, down)) / (2 * h)
    return g


@pytest.mark.parametrize("name", list(POLYNOMIAL_CASES))
def test_numerical_gradient_mistakes_differ_and_the_closed_form_is_the_quotient(name):
    rtol, atol = THRESHOLDS["fd_rtol"], THRESHOLDS["fd_atol"]
    for spec, w, h in POLYNOMIAL_CASES[name]:
        step = mistakes.DEFAULT_H if h is None else h
        d1, d2, d3 = checks._derivatives(spec, w)
        expected = d1 + step ** 2 / 6 * d3
        # the closed form is the quotient, far inside the tolerance (round-off only)
        assert checks._same(_central(spec, w, step), expected, rtol / 10, atol / 10), name
        for mistake in mistakes.NUMERICAL.values():
            if mistake.name == "default_h" and h is None:
                continue  # the default h is the h asked for
            assert not checks._same(mistake.replay(d1, d2, d3, step), expected, rtol, atol), (name, mistake.name)


def _relative_cases() -> dict[str, list[tuple]]:
    rng = _rng("test_gradient_checking_on_other_functions_points_and_arrays")
    for shape in ((4,), (2, 2, 2), (1,)):  # the polynomials drawn first
        checks._polynomial(rng, shape)
    hidden = []
    for shape in ((6,), (3, 4)):
        a, b = rng.normal(size=shape), rng.normal(size=shape)
        a.flat[0] = b.flat[0] = 0.0
        b.flat[1] = -a.flat[1]
        hidden.append((a, b))
    return {"visible": checks._relative_cases(), "hidden": hidden}


RELATIVE_CASES = _relative_cases()


@pytest.mark.parametrize("name", list(RELATIVE_CASES))
def test_relative_error_mistakes_differ_on_some_input(name):
    rtol = THRESHOLDS["relative_rtol"]
    cases = RELATIVE_CASES[name]
    for mistake in mistakes.RELATIVE.values():
        assert any(not checks._same(oracle.relative_error(a, b, mistake), oracle.relative_error(a, b), rtol, 0.0)
                   for a, b in cases), (name, mistake.name)
    if name == "visible":
        for (a, b), recorded in zip(cases, checks.EXPECTED["relative_error"]):
            assert recorded["value"] == oracle.relative_error(a, b)


def test_chain_rule_mistakes_differ_and_central_differences_agree():
    rtol = THRESHOLDS["chain_rtol"]
    points = [(1.5, -2.0), (0.0, 3.0), (-0.75, 0.5), (2.0, 0.0)]
    for mistake in mistakes.CHAIN.values():
        differs = []
        for x, y in points:
            right = oracle.chain_rule(x, y)
            numerical = checks.numerical_gradient(lambda p: p[0] ** 2 * p[1] + p[1], np.array([x, y]), h=1e-3)
            assert checks._same(numerical, right, rtol / 100, rtol / 100)
            wrong = mistake.replay(right, x, y)
            differs.append(wrong is not None and not checks._same(wrong, right, rtol, rtol))
        assert any(differs), mistake.name


# --- ex4: Adaline --------------------------------------------------------------------------------------------------

def _adaline_cases() -> dict[str, list[tuple]]:
    X, y = checks._adaline_fixed()
    visible = {name: [(X, y, *run)] for name, run in checks.ADALINE_RUNS.items()}
    hidden = list(checks._hidden_adaline_cases(_rng("test_adaline_trajectories_on_other_data_seeds_and_batch_sizes")))
    return {**visible, "hidden": hidden}


ADALINE_CASES = _adaline_cases()
#: Mistakes that cannot show in a mode: the order in batch mode (one minibatch of everything), a partial minibatch
#: where batch_size divides n, a missing 1/|B| where |B| = 1.
CANNOT_SHOW = {"batch": {"same_order_every_epoch", "no_shuffle", "drop_last"},
               "online": {"drop_last", "sum_not_mean"}}


@pytest.mark.parametrize("name", list(ADALINE_CASES))
def test_adaline_mistakes_differ_from_minibatch_gradient_descent(name):
    keys = ("losses", "w", "b")
    rtol, atol = THRESHOLDS["adaline_rtol"], THRESHOLDS["adaline_atol"]
    for mistake in mistakes.ADALINE.values():
        outcomes = []
        for X, y, batch_size, lr, epochs, seed in ADALINE_CASES[name]:
            start = (np.zeros(X.shape[1]), 0.0)
            right = oracle.adaline_run(X, y, *start, lr, epochs, batch_size, seed)
            wrong = oracle.adaline_run(X, y, *start, lr, epochs, batch_size, seed, mistake)
            outcomes.append(not _same_run(right, wrong, keys, rtol, atol))
        assert any(outcomes) or mistake.name in CANNOT_SHOW.get(name, ()), (name, mistake.name)
        if name in checks.ADALINE_RUNS:
            recorded = checks.EXPECTED[f"adaline_{name}"]
            assert _same_run(recorded["mistakes"][mistake.name],
                             oracle.adaline_run(X, y, *start, lr, epochs, batch_size, seed, mistake), keys, 0.0, 0.0)


def test_iris_adaline_reaches_the_accuracy_the_check_asks_for():
    X_train, y_train, X_test, y_test = checks._iris_adaline_split()
    run = oracle.adaline_run(X_train, y_train, np.zeros(2), 0.0, 0.01, 20, 1, 0)
    accuracy = np.mean(oracle.adaline_predict(X_test, run["w"], run["b"]) == y_test)
    assert accuracy >= THRESHOLDS["iris_adaline_accuracy"] + 0.05
    wrong = oracle.adaline_run(X_train, y_train, np.zeros(2), 0.0, 0.01, 20, 1, 0, mistakes.ADALINE["sign"])
    with np.errstate(all="ignore"):
        assert np.mean(oracle.adaline_predict(X_test, wrong["w"], wrong["b"]) == y_test) < THRESHOLDS[
            "iris_adaline_accuracy"]


# --- ex5 and ex6 ---------------------------------------------------------------------------------------------------

def test_count_mistakes_differ_on_every_case():
    hidden_rng = _rng("test_count_parameters_and_shapes_on_random_sizes")
    hidden = [[int(v) for v in hidden_rng.integers(1, 300, size=depth)] for depth in (2, 3, 5, 6)]
    for sizes in [*checks.COUNT_CASES, *hidden]:
        for mistake in mistakes.COUNT.values():
            assert oracle.count_parameters(sizes, mistake) != oracle.count_parameters(sizes), (sizes, mistake.name)
    assert oracle.count_parameters([2, 3, 1]) == 13
    for sizes, recorded in zip(checks.COUNT_CASES, checks.EXPECTED["count_parameters"]):
        assert recorded["value"] == oracle.count_parameters(sizes) and type(recorded["value"]) is int


def _search_cases() -> dict[str, list[tuple]]:
    X, y = checks._search_fixed()
    visible = {name: [(X, y, *run)] for name, run in checks.SEARCH_RUNS.items()}
    rng = _rng("test_random_search_on_other_data_seeds_and_scales")
    hidden = []
    for n, m, n_trials, scale in ((15, 1, 20, 2.0), (40, 4, 35, 0.5), (25, 3, 50, 1.0)):
        X_h, y_h = checks._search_data(int(rng.integers(2**31)), n, m)
        hidden.append((X_h, y_h, n_trials, scale, int(rng.integers(1000))))
    return {**visible, "hidden": hidden}


SEARCH_CASES = _search_cases()


@pytest.mark.parametrize("name", list(SEARCH_CASES))
def test_search_mistakes_differ_from_random_search(name):
    keys = ("w", "b", "losses")
    rtol = THRESHOLDS["search_rtol"]
    for mistake in mistakes.SEARCH.values():
        outcomes = []
        for X, y, n_trials, scale, seed in SEARCH_CASES[name]:
            right = oracle.random_search(X, y, n_trials, scale, seed)
            wrong = oracle.random_search(X, y, n_trials, scale, seed, mistake)
            outcomes.append(not _same_run(right, wrong, keys, rtol, 0.0))
            assert len(right["losses"]) == n_trials and np.all(np.diff(right["losses"]) <= 0)
        # scale 1.0 is the scale that ignoring it gives
        assert any(outcomes) or (name == "default_scale" and mistake.name == "scale_ignored"), (name, mistake.name)


def test_visible_searches_improve_several_times():
    """The fixed data make random search accept several candidates, so the order of the draws matters."""
    for name in checks.SEARCH_RUNS:
        losses = checks.EXPECTED[f"search_{name}"]["value"]["losses"]
        assert len(set(losses)) >= 3, name


# --- hints ---------------------------------------------------------------------------------------------------------

def test_hints_name_a_handout_section_and_print_no_fixing_line():
    """Hints teach by naming the mistake and the handout's section; none prints the line that fixes it."""
    fixes = ("w += err", "self.w +", "X.T @", "np.linalg.solve(", "lstsq(", "/ (2 * h)", "np.maximum(1e-8",
             "beta - lr", "rng.normal(0.0, scale", "2 * x * y", "x ** 2 + 1", "> 0).astype")
    catalogues = (mistakes.PERCEPTRON, mistakes.PATH_STEP, mistakes.NUMERICAL, mistakes.RELATIVE, mistakes.CHAIN,
                  mistakes.ADALINE, mistakes.COUNT, mistakes.SEARCH,
                  {m.name: m for m in (mistakes.INVERSE, mistakes.SAME_ARRAY, mistakes.IN_PLACE)})
    for catalogue in catalogues:
        for mistake in catalogue.values():
            assert "(handout: " in mistake.hint and mistake.title, mistake.name
            assert not any(fix in mistake.hint for fix in fixes), (mistake.name, mistake.hint)
