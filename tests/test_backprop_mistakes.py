"""backprop's mistake catalogue against its oracle, on the checks' own inputs: every named mistake is told apart from
the correct answer, each replayed wrong backward pass is what the bug zoo's mistaken code computes, and the visible
checks' oracles (torch autograd, recorded central differences, gradient descent replayed step by step with
autograd) agree with the private analytic oracle, so the visible and the hidden paths cannot drift apart."""
from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

from assignments.backprop import bugzoo, checks, mistakes, oracle
from autograder import config as cfg
from autograder import pipeline
from autograder.checking import rel_error
from autograder.mistakes import AnyOf
from autograder.zoo import build_source

ASSIGNMENT = cfg.load().assignments["backprop"]
THRESHOLDS = ASSIGNMENT.thresholds
GRAD_TOL = THRESHOLDS["grad_rel_error"]
#: Two float64 computations of the same quantity by other means agree far below every tolerance of the checks.
SAME = dict(rtol=1e-10, atol=1e-13)
#: A mistake "differs" when the check's own tolerance could never mistake it for the right answer.
MARGIN = 100


def _rng(check: str) -> np.random.Generator:
    """The ``rng`` fixture that ``check`` receives at grading."""
    return pipeline.check_rng(ASSIGNMENT.check(check))


def _differs(value, correct, rtol: float, atol: float = 0.0) -> bool:
    value, correct = np.asarray(value, dtype=np.float64), np.asarray(correct, dtype=np.float64)
    return value.shape != correct.shape or not np.allclose(value, correct, rtol=MARGIN * rtol, atol=MARGIN * atol)


def _gradient_error(a: dict, b: dict) -> float:
    return max(rel_error(a[k], b[k]) for k in b)


# -- the inputs of the checks that diagnose a wrong gradient -------------------------------------------------------

def _gradient_cases() -> dict[str, list[tuple]]:
    """{check: [(params, X, y), ...]} exactly as each check draws them."""
    fd = [(c["params"], c["X"], c["y"]) for c in checks.EXPECTED["fd_cases"]]
    rng = _rng("test_backward_matches_torch_autograd")
    torch_cases = [checks._draw_case(rng, sizes, m) for sizes, m in (([3, 5, 4, 1], 7), ([2, 16, 16, 1], 32),
                                                                      ([2, 16, 16, 1], 1))]
    rng = _rng("test_backward_on_random_architectures_and_batch_sizes")
    hidden = []
    for sizes in ([2, 3, 1], [3, 5, 4, 1], [2, 16, 16, 1], [4, 3, 6, 2, 1]):
        case = checks._well_conditioned_case(rng, sizes, int(rng.integers(1, 40)), oracle.central_differences,
                                             oracle.gradients)
        hidden.append((case["params"], case["X"], case["y"]))
    return {"central differences": fd, "torch autograd": torch_cases, "hidden": hidden}


GRADIENT_CASES = _gradient_cases()


@pytest.mark.parametrize("check", list(GRADIENT_CASES))
def test_autograd_gives_the_analytic_gradient_forward_and_loss(check):
    for params, X, y in GRADIENT_CASES[check]:
        exact = oracle.gradients(params, X, y)
        assert _gradient_error(checks.AUTOGRAD.gradients(params, X, y), exact) < 1e-12
        assert checks.AUTOGRAD.loss(params, X, y) == pytest.approx(oracle.loss(params, X, y), rel=1e-13)
        expected = oracle.forward(params, X)
        seen = checks.AUTOGRAD.forward(params, X)
        assert list(seen) == list(expected)
        for key in expected:
            np.testing.assert_allclose(seen[key], expected[key], **SAME)


def test_the_recorded_central_differences_are_the_exact_gradient():
    for case in checks.EXPECTED["fd_cases"]:
        exact = oracle.gradients(case["params"], case["X"], case["y"])
        assert _gradient_error(case["gradients"], exact) < checks.FD_SELF_CHECK
        assert [len(case["X"])] != [] and case["params"]["W1"].shape == (2, 3)
    assert [len(c["X"]) for c in checks.EXPECTED["fd_cases"]] == list(checks.FD_BATCHES)


@pytest.mark.parametrize("check", list(GRADIENT_CASES))
def test_every_gradient_mistake_differs_from_the_exact_gradient(check):
    """On some input of each check every mistake is far from the exact gradient (on one example, a missing 1/m or
    a mean for db are the right answer: the check cannot, and need not, tell them apart there)."""
    for mistake in mistakes.GRADIENTS.values():
        errors = [_gradient_error(checks.AUTOGRAD.gradients(params, X, y, rule=mistake.replay),
                                  oracle.gradients(params, X, y)) for params, X, y in GRADIENT_CASES[check]]
        assert max(errors) > MARGIN * GRAD_TOL, (check, mistake.name, errors)


def test_gradient_mistakes_are_told_apart_from_each_other():
    """Where two mistakes replay to the same gradients the diagnosis would be a guess: on a batch there are none."""
    params, X, y = GRADIENT_CASES["central differences"][1]
    replays = {m.name: checks.AUTOGRAD.gradients(params, X, y, rule=m.replay) for m in mistakes.GRADIENTS.values()}
    for a, b in itertools.combinations(replays, 2):
        assert _gradient_error(replays[a], replays[b]) > MARGIN * GRAD_TOL, (a, b)


#: The zoo's mutants that make a catalogued backward mistake, with its name in mistakes.GRADIENTS.
MUTANT_OF = {"backward_sign_error": "sign", "backward_missing_factor_2": "missing_factor_2",
             "backward_missing_1_over_m": "missing_mean",
             "backward_missing_output_derivative": "missing_output_derivative",
             "backward_missing_hidden_derivative": "missing_hidden_derivative",
             "backward_derivative_of_z": "derivative_of_z", "backward_db_mean": "db_mean",
             "sigmoid_derivative_applies_sigmoid_again": "sigmoid_applied_twice"}


def _module(source: str, tmp_path, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"zoo_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_replayed_chain_rules_compute_what_the_mutants_compute(tmp_path):
    """A replay is the mistake itself: autograd with the mistaken chain rule gives the mutant's backward."""
    zoo = {m.name: m for m in bugzoo.MUTANTS}
    assert set(MUTANT_OF.values()) | {"missing_2_and_mean"} == set(mistakes.GRADIENTS)
    for mutant_name, mistake_name in MUTANT_OF.items():
        module = _module(build_source("backprop", zoo[mutant_name]), tmp_path, mutant_name)
        for params, X, y in GRADIENT_CASES["torch autograd"][:2] + GRADIENT_CASES["hidden"][-1:]:
            net = module.NeuralNetworkScratch([X.shape[1]] + [params[f"b{l}"].shape[1]
                                                              for l in range(1, len(params) // 2 + 1)])
            net.params = {k: v.copy() for k, v in params.items()}
            net.forward(X)
            with np.errstate(all="ignore"):
                seen = net.backward(X, y)
            replay = checks.AUTOGRAD.gradients(params, X, y, rule=mistakes.GRADIENTS[mistake_name].replay)
            assert _gradient_error(seen, replay) < 1e-10, (mutant_name, X.shape)


def test_every_shape_mistake_gives_another_shape():
    for sizes, m in (([2, 4, 1], 5), ([3, 5, 4, 1], 6)):
        for name, shape in checks._param_shapes(sizes).items():
            for mistake in mistakes.GRADIENT_SHAPES.values():
                wrong = mistake.replay(name[0], shape, m)
                assert wrong is None or tuple(wrong) != shape, (mistake.name, name)


# -- values: activations, losses, forward passes -------------------------------------------------------------------

def test_activation_mistakes_differ_from_the_formulas():
    tol = dict(rtol=THRESHOLDS["value_rtol"], atol=THRESHOLDS["value_atol"])
    z = checks.GRID
    s = oracle.sigmoid(z)
    np.testing.assert_allclose(checks.EXPECTED["sigmoid"], s, **SAME)
    # the recorded central differences of sigmoid are its slope a (1 - a), and sigmoid(-z) = 1 - sigmoid(z)
    np.testing.assert_allclose(checks.EXPECTED["sigmoid_slopes"], s * (1 - s), rtol=1e-8)
    np.testing.assert_allclose(mistakes.SIGMOID["sign_flipped"].replay(s), oracle.sigmoid(-z), **SAME)
    assert _differs(mistakes.SIGMOID["sign_flipped"].replay(s), s, **tol)
    assert _differs(mistakes.TANH["tanh_is_its_derivative"].replay(z), np.tanh(z), **tol)
    assert _differs(mistakes.RELU["relu_is_its_derivative"].replay(z), np.maximum(0, z), **tol)
    slope = dict(rtol=THRESHOLDS["derivative_rtol"], atol=THRESHOLDS["derivative_atol"])
    twice = mistakes.SIGMOID_DERIVATIVE["sigmoid_applied_twice"].replay
    assert _differs(twice(checks.EXPECTED["sigmoid_of_sigmoid"]), s * (1 - s), **slope)
    a = checks.ACTIVATIONS
    assert _differs(twice(checks.EXPECTED["sigmoid_of_activations"]), a * (1 - a), **tol)
    assert _differs(mistakes.TANH_DERIVATIVE["derivative_of_the_activation"].replay(z), 1 - np.tanh(z) ** 2, **slope)
    zero = np.array([[-2.0, -0.0, 0.0, 1e-300, 3.0]])
    assert _differs(mistakes.RELU_DERIVATIVE["one_at_zero"].replay(zero), zero > 0, rtol=0.0)
    np.testing.assert_array_equal(checks.EXPECTED["sigmoid_saturated"], oracle.sigmoid(checks.SATURATION))


#: Mistakes a case cannot show, and why (another check's case shows them).
SAME_BY_CONSTRUCTION = {
    ("bce", "own_eps"): "predictions within [0.05, 0.95]: no eps clips anything there",
    ("bce_edge", "swapped"): "labels and predictions are all 0 or 1: swapping them changes no term's value",
    ("bce_edge_eps", "swapped"): "labels and predictions are all 0 or 1: swapping them changes no term's value",
}


def test_loss_mistakes_differ_from_the_losses():
    tol = dict(rtol=THRESHOLDS["value_rtol"], atol=THRESHOLDS["value_atol"])
    y, p = checks._loss_case(checks.MSE_SEED, 7)
    assert checks.EXPECTED["mse"] == oracle.mse(y, p)
    for mistake in mistakes.MSE.values():
        assert _differs(mistake.replay(y, p), oracle.mse(y, p), **tol), mistake.name
    for (y, p), key, eps in ((checks._loss_case(checks.BCE_SEED, 8), "bce", 1e-12),
                             (checks.BCE_EDGE, "bce_edge", 1e-12), (checks.BCE_EDGE, "bce_edge_eps", 1e-6)):
        values = checks.EXPECTED[key]
        assert values["value"] == oracle.bce(y, p, eps) and values["swapped"] == oracle.bce(p, y, eps)
        ingredients = mistakes.BceValues(values["value"], values["swapped"], tuple(values["other_eps"]), eps, y, p)
        for mistake in mistakes.BCE.values():
            if (key, mistake.name) in SAME_BY_CONSTRUCTION:
                continue
            replays = mistake.replay(ingredients)
            for replay in replays if isinstance(replays, AnyOf) else [replays]:
                assert _differs(replay, values["value"], **tol), (key, mistake.name)


def test_forward_mistakes_differ_from_the_forward_pass():
    tol = dict(rtol=THRESHOLDS["value_rtol"], atol=THRESHOLDS["value_atol"])
    cases = [checks._forward_case(_rng("test_forward_pass_shapes_and_cache_keys"), 5, 2, 4, 1),
             checks._forward_case(_rng("test_forward_pass_matches_an_independent_computation"), 9, 3, 6, 2)]
    rng = _rng("test_network_forward_keeps_the_cache")
    params = checks._draw_params(rng, [3, 5, 4, 1], weight_scale="unit")
    cases.append((rng.normal(size=(6, 3)), params))
    for X, params in cases:
        expected = oracle.forward(params, X)
        assert all(_differs(v, w, **SAME) is False for v, w in
                   zip(checks.AUTOGRAD.forward(params, X).values(), expected.values()))
        for mistake in mistakes.FORWARD.values():
            changed = mistake.replay(expected, params)
            assert changed, mistake.name
            for key, value in changed.items():
                correct = expected[f"a{oracle.layers(params)}"] if key == "returned" else expected[key]
                assert _differs(value, correct, **tol), (mistake.name, key)


# -- training: full batch and minibatches --------------------------------------------------------------------------

def test_training_replays_agree_with_the_oracle_and_mistakes_differ():
    tol = dict(rtol=THRESHOLDS["trajectory_rtol"], atol=THRESHOLDS["trajectory_atol"])
    for check, m, lr, epochs in (("test_one_train_step_is_one_gradient_step", 8, 0.7, 1),
                                 ("test_train_follows_gradient_descent_for_several_epochs", 10, 1.5, 6)):
        sizes = [2, 3, 1] if m == 8 else [3, 4, 1]
        start, X, y = checks._draw_case(_rng(check), sizes, m)
        losses, final = checks.descend(checks.AUTOGRAD, start, X, y, lr, epochs)
        exact_losses, exact = checks.descend(oracle, start, X, y, lr, epochs)
        np.testing.assert_allclose(losses, exact_losses, **SAME)
        for name in start:
            np.testing.assert_allclose(final[name], exact[name], **SAME)
        for mistake in mistakes.TRAINING_LOOP.values():
            variant = mistake.replay
            wrong_losses, wrong = checks.descend(oracle, start, X, y, variant.lr_sign * lr, epochs,
                                                 loss_after=variant.loss_after)
            assert _differs(wrong_losses, exact_losses, **tol) or \
                any(_differs(wrong[k], exact[k], **tol) for k in exact), mistake.name


def test_minibatch_replays_agree_with_the_oracle_and_history_mistakes_differ():
    tol = dict(rtol=THRESHOLDS["trajectory_rtol"], atol=THRESHOLDS["trajectory_atol"])
    for check, sizes, m, batch_size, epochs, lr in (
            ("test_minibatch_history_is_the_mean_of_minibatch_losses", [2, 3, 1], 22, 5, 3, 0.5),
            ("test_minibatch_trajectory_matches_exact_updates", [3, 5, 4, 1], 37, 8, 4, 0.8)):
        start, X, y = checks._minibatch_case(_rng(check), sizes, m)
        order = np.random.default_rng(0)
        split = []
        for _ in range(epochs):
            perm = order.permutation(m)
            split.append([list(perm[s:s + batch_size]) for s in range(0, m, batch_size)])
        run, final = checks._minibatch_run(checks.AUTOGRAD, start, X, y, split, lr, full=True)
        exact_run, exact = checks._minibatch_run(oracle, start, X, y, split, lr, full=True)
        for field in ("before", "after", "whole"):
            np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in getattr(run, field)]),
                                       np.concatenate([np.ravel(v) for v in getattr(exact_run, field)]), **SAME)
        for name in start:
            np.testing.assert_allclose(final[name], exact[name], **SAME)
        history = np.array([np.mean(b) for b in exact_run.before])
        for mistake in mistakes.HISTORY.values():
            assert _differs(mistake.replay(exact_run), history, **tol), (check, mistake.name)
    # with batch_size = m, minibatch training is full-batch training
    start, X, y = checks._minibatch_case(_rng("test_minibatch_with_batch_size_m_equals_full_batch_training"),
                                         [2, 4, 1], 16)
    split = [[list(np.arange(16))] for _ in range(5)]
    run, final = checks._minibatch_run(oracle, start, X, y, split, 0.8)
    losses, exact = checks.descend(checks.AUTOGRAD, start, X, y, 0.8, 5)
    np.testing.assert_allclose([b[0] for b in run.before], losses, **SAME)


def test_the_xor_plot_curve_is_exact_gradient_descent_from_the_checks_start():
    X, y = checks.datasets.make_xor()
    losses = checks.EXPECTED["xor_losses"]
    assert len(losses) == THRESHOLDS["xor_epochs"] and losses[-1] < 0.05 < losses[0]
    replay, _ = checks.descend(checks.AUTOGRAD, checks.xor_start(), X, y, THRESHOLDS["xor_lr"], 20)
    np.testing.assert_allclose(replay, losses[:20], **SAME)
