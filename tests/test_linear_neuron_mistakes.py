"""linear_neuron's mistake catalogue against its oracle, on the checks' own inputs: every named mistake is told
apart from the correct answer, and the visible checks' replays (central differences of each step's batch loss) agree
with the oracle's exact ones, so the visible and the hidden paths cannot drift apart."""
from __future__ import annotations

import numpy as np
import pytest

from autograder import config as cfg
from autograder import pipeline
from autograder.checking import f32
from autograder.mistakes import Catalogue
from assignments.linear_neuron import checks, mistakes, oracle

ASSIGNMENT = cfg.load().assignments["linear_neuron"]
THRESHOLDS = ASSIGNMENT.thresholds
#: Central differences of a quadratic loss are exact up to round-off (~1e-11 here): far tighter than any check.
REPLAY_RTOL, REPLAY_ATOL = 1e-8, 1e-9


def _rng(check: str) -> np.random.Generator:
    """The ``rng`` fixture that ``check`` receives at grading."""
    return pipeline.check_rng(next(c for c in ASSIGNMENT.checks() if c.id == check))


def _close(seen, expected) -> bool:
    return checks._close(seen, expected, THRESHOLDS)


def _step_cases() -> dict[str, list[tuple]]:
    """Per check that replays trajectories: its inputs (X, y, w0, b0, lr, steps) and the catalogue it diagnoses with."""
    one_1d = checks._one_step_1d_case(_rng("test_fit_1d_one_step_follows_the_update_rule"))
    # the k-step checks' learning rates: half the critical rate, as those checks compute them
    k_1d = [(x, y, a0, b0, float(f32(0.5 * oracle.critical_rate(x))), steps) for x, y, a0, b0, steps
            in checks._k_steps_1d_cases(_rng("test_fit_1d_k_steps_match_an_independent_trajectory"))]
    one = checks._one_step_case(_rng("test_multi_fit_one_step_follows_the_update_rule"))
    k = [(X, y, w0, b0, float(f32(0.5 * oracle.critical_rate_multi(X))), steps) for X, y, w0, b0, steps
         in checks._k_steps_cases(_rng("test_multi_fit_k_steps_match_an_independent_trajectory"))]
    again = checks._continue_case(_rng("test_multi_fit_continues_from_the_current_w"))
    return {"1-D one step": [(*one_1d, 1)], "1-D k steps": k_1d, "multi one step": [(*one, 1)], "multi k steps": k,
            "multi continued": [(*again, 5)]}


STEP_CASES = _step_cases()
VISIBLE = ("1-D one step", "multi one step", "multi continued")


def _catalogue(name: str) -> Catalogue:
    return mistakes.STEP_1D if name.startswith("1-D") else mistakes.STEP


def _replay(replayer, case, mistake):
    """The replayer's last parameters, or None when the mistake cannot happen with these shapes."""
    X, y, w0, b0, lr, steps = case
    try:
        with np.errstate(all="ignore"):
            return replayer(X, y, w0, b0, lr, steps, mistake)[-1]
    except ValueError:
        return None


def _central(X, y, w0, b0, lr, steps, mistake=None):
    return checks._CentralDifferences(X, y).replay(w0, b0, lr, steps, mistake)


def _exact(X, y, w0, b0, lr, steps, mistake=None):
    return oracle.trajectory(X, y, np.asarray(w0, dtype=np.float64).reshape(-1), b0, lr, steps, mistake)


@pytest.mark.parametrize("name", list(STEP_CASES))
def test_central_difference_replays_agree_with_the_oracle(name):
    """Every check's trajectory, and every mistake's, the same from central differences as from the oracle."""
    for case in STEP_CASES[name]:
        for mistake in (None, *_catalogue(name).values()):
            numerical, exact = _replay(_central, case, mistake), _replay(_exact, case, mistake)
            assert (numerical is None) == (exact is None), (name, mistake)
            if exact is not None:
                np.testing.assert_allclose(numerical, exact, rtol=REPLAY_RTOL, atol=REPLAY_ATOL,
                                           err_msg=f"{name}, {mistake.name if mistake else 'the update rule'}")


@pytest.mark.parametrize("name", list(STEP_CASES))
def test_every_step_mistake_differs_from_the_update_rule(name):
    """Each mistake the check diagnoses lands elsewhere than the update rule, on every input it can happen on, but
    where it is the same computation: with a single weight one gradient for every weight IS the gradient, and with
    n == m dividing by m is dividing by n."""
    for mistake in _catalogue(name).values():
        outcomes = []
        for case in STEP_CASES[name]:
            replayed = _replay(_exact, case, mistake)
            if replayed is None:
                outcomes.append("impossible")
                continue
            same = _close(replayed, _replay(_exact, case, None))
            n, m = np.asarray(case[0]).reshape(len(case[1]), -1).shape
            assert not same or (mistake.name, m) == ("scalar_grad", 1) or (mistake.name, m) == ("divide_by_m", n), \
                (name, mistake.name)
            outcomes.append("differs" if not same else "same")
        assert "differs" in outcomes or name in VISIBLE and set(outcomes) == {"impossible"}, (name, mistake.name)
    # X @ (u - y) exists only when n == m: the k-step check has such a shape, so the trap is recognised there.
    if name == "multi k steps":
        assert any(_replay(_exact, case, mistake) is not None for case in STEP_CASES[name]
                   for mistake in [mistakes.STEP["no_transpose"]])


def _gradient_cases() -> dict[str, list[tuple]]:
    visible = checks._central_differences_case(_rng("test_gradient_1d_matches_central_differences"))
    hidden = list(checks._closed_form_cases(_rng("test_gradient_1d_matches_the_closed_form_on_many_data_sets")))
    return {"central differences": [visible], "closed form": hidden}


GRADIENT_CASES = _gradient_cases()


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradient_mistakes_differ_from_the_gradient(name):
    """Each gradient mistake differs from the oracle's gradient (a single example makes a sum a mean, and the mean
    of a product the product of the means: those coincide there only); central differences agree with the oracle."""
    for x, y, a, b in GRADIENT_CASES[name]:
        exact = oracle.gradient_1d(x, y, a, b)
        numerical = checks._CentralDifferences(x, y).gradient(np.array([a, b]))
        np.testing.assert_allclose(numerical, exact, rtol=REPLAY_RTOL, atol=REPLAY_ATOL * (1 + np.max(np.abs(y))))
        for mistake in mistakes.GRADIENT_1D.values():
            same = _close(mistake.replay(exact, x), exact)
            assert not same or (len(x) == 1 and mistake.name in ("sum", "product_of_means")), (name, mistake.name)
            assert _close(mistake.replay(numerical, x), mistake.replay(exact, x)), (name, mistake.name)


def test_history_mistakes_differ_from_the_mse_before_the_update():
    x, y, a0, b0, lr, steps = checks._history_case(_rng("test_history_holds_the_mse_before_each_update"))
    path = oracle.trajectory_1d(x, y, a0, b0, lr, steps)
    for (a, b), (a1, b1) in zip(path[:-1], path[1:]):
        before, after = a * x + b - y, a1 * x + b1 - y
        mse = oracle.mse(x, y, np.array([a, b]))
        for mistake in mistakes.HISTORY_VALUES.values():
            assert not np.isclose(mistake.replay(before, after), mse, rtol=THRESHOLDS["trajectory_rtol"],
                                  atol=THRESHOLDS["trajectory_atol"]), mistake.name


def test_critical_rate_mistakes_differ_from_two_over_lambda_max():
    for x in checks._critical_inputs():
        rate = oracle.critical_rate(x)
        for mistake in mistakes.CRITICAL.values():
            assert not np.isclose(oracle.critical_rate(x, mistake), rate, rtol=THRESHOLDS["critical_rtol"], atol=0.0), \
                mistake.name


def test_scaler_mistakes_differ_from_the_training_statistics():
    expected = oracle.standardize_expected(*checks._canary_split())
    for mistake in mistakes.SCALER.values():
        for what in ("mean", "scale"):
            assert not np.allclose(expected["mistakes"][mistake.name][what], expected[what],
                                   rtol=THRESHOLDS["scaler_rtol"]), (mistake.name, what)


def test_hints_name_a_handout_section_and_print_no_update_line():
    """Hints teach by naming the mistake and the handout's section; none prints the line that fixes it."""
    fixes = ("a - lr *", "b - lr *", "w - lr *", "X.T @ (u - y)", "mean((u - y) * x)", "mean((u - y) x)",
             "eigvalsh(", "StandardScaler().fit", "np.mean(")
    for catalogue in (mistakes.GRADIENT_1D, mistakes.STEP_1D, mistakes.STEP, mistakes.HISTORY_VALUES,
                      mistakes.CRITICAL, mistakes.SCALER):
        for mistake in catalogue.values():
            assert "(handout: " in mistake.hint and mistake.title, mistake.name
            assert not any(fix in mistake.hint for fix in fixes), (mistake.name, mistake.hint)
