"""pytorch_basics' mistake catalogue and oracles, judged in-process (a few seconds: only exercise 6's checks import
torch, to rebuild the described layers as the grader does).

The checks are run against fake students whose probes answer from the oracle on the very inputs each check sends:
correct, or with one known mistake. So, on the checks' own inputs: every named mistake is told apart from the
correct answer and named as itself (never as another), the visible checks' oracles (expected values recorded for
fixed inputs, the two layers applied in turn, least squares) agree with the private oracle, hints never print a
line of the solution, and only hidden checks (and the recorded values' computations) use the oracle.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from assignments.pytorch_basics import checks, mistakes, oracle
from autograder import config as cfg
from autograder.checking import CheckFailure, f32
from autograder.sandbox import StudentError

FOLDER = Path(checks.__file__).resolve().parent
REFERENCE = FOLDER.parents[1] / "reference" / "pytorch_basics.py"
CONFIG = cfg.load().assignments["pytorch_basics"]
THRESHOLDS = CONFIG.thresholds
HIDDEN = {c.id for c in CONFIG.checks() if c.hidden}
#: A solution line at least this long, found in a hint, is the line of code that fixes the mistake.
CODE_LINE_CHARS = 20


_OUTCOMES: dict[tuple, dict] = {}


def outcomes(compute: Callable[..., dict], *args: Any) -> dict:
    """``compute(*args)`` once per inputs: every variant of a fake student asks the oracle the same questions."""
    key = (compute.__name__, *(np.asarray(a).tobytes() if isinstance(a, np.ndarray) else repr(a) for a in args))
    if key not in _OUTCOMES:
        _OUTCOMES[key] = compute(*args)
    return _OUTCOMES[key]


class FakeStudent:
    """Answers the probes a check asks for with ``answers[name](*args, **kwargs)``."""

    def __init__(self, **answers: Callable[..., Any]) -> None:
        self.answers = answers

    def probe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.answers[name](*args, **kwargs)


def verdict(check: Callable, student: FakeStudent) -> tuple[bool, str]:
    """(passed, the mistake named) of one check on a fake student."""
    fixtures = {"student": student, "thresholds": THRESHOLDS, "rng": np.random.default_rng(7)}
    names = check.__code__.co_varnames[:check.__code__.co_argcount]
    try:
        check(**{n: fixtures[n] for n in names})
    except CheckFailure as failure:
        return False, failure.mistake
    return True, ""


def check_functions(exercise: str) -> list[Callable]:
    return [getattr(checks, c) for c in CONFIG.exercises[exercise].checks]


def expect_named(exercise: str, variants: dict[str, FakeStudent], *, correct: FakeStudent,
                 unnamed: frozenset = frozenset()) -> None:
    """The correct student passes every check of ``exercise``; a student with a mistake passes a check or fails it
    naming exactly that mistake (or none, for the mistakes in ``unnamed`` where their code raises), and some check
    names it (a visible one, unless it shows only in hidden checks)."""
    for check in check_functions(exercise):
        assert verdict(check, correct) == (True, ""), f"{check.__name__} fails the correct answer"
    for name, student in variants.items():
        named_by = []
        for check in check_functions(exercise):
            passed, mistake = verdict(check, student)
            allowed = {name, ""} if name in unnamed else {name}
            assert passed or mistake in allowed, f"{check.__name__}: {name} seen as {mistake or 'no known mistake'}"
            if not passed:
                named_by.append(check.__name__)
        assert named_by, f"no check of {exercise} names {name}"
        assert set(named_by) - HIDDEN or name in ONLY_HIDDEN, f"{name} is named by hidden checks only"


#: Mistakes that only a hidden check's inputs can show (the visible ones never pass shuffle=False).
ONLY_HIDDEN = {"ignores_shuffle_argument"}


def _value(values: np.ndarray, dtype: str = "float32") -> dict:
    values = np.asarray(values, dtype=np.float64)
    return {"type": "Tensor", "is_tensor": True, "dtype": dtype, "shape": list(values.shape), "values": values}


def _linear_facts(weight: np.ndarray, bias: np.ndarray) -> dict:
    weight = np.atleast_2d(weight)
    return {"kind": "Linear", "type": "Linear", "in_features": weight.shape[1], "out_features": weight.shape[0],
            "weight": weight, "bias": np.reshape(bias, -1)}


# --- ex1 --------------------------------------------------------------------------------------------------------

def test_ex1_dtype_and_shape_mistakes_are_named():
    def student(dtype: str = "float32", y_shape: Callable[[int], tuple] = lambda n: (n, 1)) -> FakeStudent:
        def tensor_facts(X, y):
            return {"returned": "tuple",
                    "items": [_value(X, dtype), _value(np.reshape(y, y_shape(len(y))), dtype)]}
        return FakeStudent(tensor_facts=tensor_facts)

    expect_named("ex1", {"float64_tensors": student(dtype="float64"),
                         "targets_not_a_column": student(y_shape=lambda n: (n,)),
                         "targets_as_a_row": student(y_shape=lambda n: (1, n))}, correct=student())


# --- ex2 --------------------------------------------------------------------------------------------------------

def _trained(mistake: str | None, *, floats: bool = True, same_model: bool = True) -> FakeStudent:
    """train_linear_model answering from the oracle's outcomes on the check's inputs, with ``mistake`` or not (the
    check of the defaults, which names no mistake of the trajectory, gets the right trajectory)."""
    def answer(X, y, w0, b0, lr, epochs, mistake=mistake):
        outcome = outcomes(oracle.train_linear_outcomes, X, np.ravel(y), w0, b0, lr, epochs, checks.OTHER_LRS)
        chosen = next((m for m in outcome["mistakes"] if m["name"] == mistake), {})
        params, losses = chosen.get("params", outcome["params"]), chosen.get("losses", outcome["losses"])
        losses = [float(v) for v in losses] if floats else [np.float64(v) for v in losses]
        return {"pair": True, "model": _linear_facts(params[:-1], params[-1:]), "same_model": same_model,
                "losses": losses}

    def default(X, y):
        start = np.random.default_rng(0).uniform(-0.5, 0.5, size=X.shape[1] + 1)
        return answer(X, y, start[:-1], start[-1], 0.1, 100, mistake=None)

    return FakeStudent(train_linear_from=answer, train_linear_default=default)


def test_ex2_every_training_mistake_is_named_on_the_checks_inputs():
    names = ("loss_after_step", "half_mse", "parameters_never_change", "missing_zero_grad", "ignores_lr")
    variants = {name: _trained(name) for name in names}
    variants["losses_not_floats"] = _trained(None, floats=False)
    expect_named("ex2", variants, correct=_trained(None))


def test_ex2_a_model_other_than_the_given_one_is_named():
    passed, mistake = verdict(checks.test_train_linear_model_follows_gradient_descent_from_given_weights,
                              _trained("missing_zero_grad", same_model=False))
    assert (passed, mistake) == (False, "ignores_given_model")


# --- ex3 --------------------------------------------------------------------------------------------------------

def _loader(order: Callable[[np.random.Generator, int, bool, int], np.ndarray], *, drop_last: bool = False,
            split_pairs: bool = False) -> FakeStudent:
    """make_loader's batches: the order of each epoch from ``order(rng, n, shuffle, epoch)``."""
    def loader_epochs(X, ids, batch_size, shuffle, epochs):
        rng, n = np.random.default_rng(3), len(X)
        passes = []
        for epoch in range(epochs):
            rows = order(rng, n, shuffle, epoch)
            stop = n - n % batch_size if drop_last else n
            batches = []
            for k in range(0, stop, batch_size):
                idx = rows[k:k + batch_size]
                x_rows = idx[::-1] if split_pairs and len(idx) > 1 else idx
                batches.append([_value(X[x_rows]), _value(np.reshape(ids, (-1, 1))[idx])])
            passes.append(batches)
        return {"type": "DataLoader", "epochs": passes}
    return FakeStudent(loader_epochs=loader_epochs, train_with_given_batches=_trained_on_batches(None))


def _shuffled(rng, n, shuffle, epoch):
    return rng.permutation(n) if shuffle else np.arange(n)


_ONCE = np.random.default_rng(11).permutation(200)


def _trained_on_batches(mistake: str | None) -> Callable:
    def answer(X, y, w0, b0, passes, lr, epochs):
        outcome = outcomes(oracle.loader_outcomes, X, np.ravel(y), w0, b0, passes, lr)
        chosen = next((m for m in outcome["mistakes"] if m["name"] == mistake), {})
        params = chosen.get("params", outcome["params"])
        return {"losses": [float(v) for v in chosen.get("losses", outcome["losses"])], "passes": passes,
                "model": _linear_facts(params[:-1], params[-1:])}
    return answer


def test_ex3_every_loader_mistake_is_named():
    variants = {
        "drops_last_batch": _loader(_shuffled, drop_last=True),
        "not_shuffled": _loader(lambda rng, n, shuffle, epoch: np.arange(n)),
        "shuffled_once": _loader(lambda rng, n, shuffle, epoch: _ONCE[_ONCE < n] if shuffle else np.arange(n)),
        "ignores_shuffle_argument": _loader(lambda rng, n, shuffle, epoch: rng.permutation(n)),
        "pairs_split": _loader(_shuffled, split_pairs=True),
    }
    for name in ("loader_never_steps", "loader_missing_zero_grad", "one_update_per_epoch", "epoch_loss_is_a_sum",
                 "epoch_loss_weighted_by_size", "epoch_loss_is_the_last_batch"):
        variants[name] = _loader(_shuffled)
        variants[name].answers["train_with_given_batches"] = _trained_on_batches(name)
    expect_named("ex3", variants, correct=_loader(_shuffled))


# --- ex4 --------------------------------------------------------------------------------------------------------

def _collapser(mistake: str | None) -> FakeStudent:
    def collapse_facts(W1, b1, W2, b2, X):
        W, b = oracle.collapse(W1, b1, W2, b2)
        layer1 = _linear_facts(W1, b1)
        if mistake == "product_wrong_order":
            if W1.shape != W2.shape:
                raise StudentError("RuntimeError", "mat1 and mat2 shapes cannot be multiplied", "line 1")
            W = W1 @ W2
        elif mistake == "bias_without_b1_w2":
            b = b2
        elif mistake == "layers_modified":
            layer1 = _linear_facts(W1 + 1.0, b1)
        merged = _linear_facts(W, b)
        if mistake == "two_layers_returned":
            merged = {"kind": "Sequential", "type": "Sequential"}
        return {"merged": merged, "layer1": layer1, "layer2": _linear_facts(W2, b2),
                "out": {"values": X @ W.T + b}}
    return FakeStudent(collapse_facts=collapse_facts)


def test_ex4_every_collapse_mistake_is_named():
    names = ("product_wrong_order", "bias_without_b1_w2", "two_layers_returned", "layers_modified")
    # a product in the wrong order that does not fit raises in the student's code: described, not named
    expect_named("ex4", {name: _collapser(name) for name in names if name != "layers_modified"},
                 correct=_collapser(None), unnamed=frozenset({"product_wrong_order"}))
    hidden = checks.test_collapse_linear_stack_on_random_sizes_leaves_the_layers_alone
    assert verdict(hidden, _collapser("layers_modified")) == (False, "layers_modified")


# --- ex5 --------------------------------------------------------------------------------------------------------

def _mlp(kinds: tuple[str, ...]) -> FakeStudent:
    def mlp_facts(args, kwargs, X=None):
        n_in, hidden, n_out = args[0], kwargs.get("hidden", 16), kwargs.get("out_features", 1)
        rng = np.random.default_rng(5)
        W1, b1 = rng.normal(size=(hidden, n_in)), rng.normal(size=hidden)
        W2, b2 = rng.normal(size=(n_out, hidden)), rng.normal(size=n_out)
        layers = [_linear_facts(W1, b1) if k == "Linear" else {"kind": k, "type": k} for k in kinds]
        if kinds.count("Linear") == 2:
            layers[-1] = _linear_facts(W2, b2)
        out = None if X is None else {"values": oracle.mlp_forward(X, W1, b1, W2, b2)}
        return {"type": "Sequential", "is_sequential": True, "layers": layers, "out": out}
    return FakeStudent(mlp_facts=mlp_facts)


def test_ex5_mlp_mistakes_are_named():
    structure = [checks.test_make_mlp_is_linear_relu_linear_with_the_requested_sizes,
                 checks.test_make_mlp_computes_relu_between_the_layers]
    for check in structure:
        assert verdict(check, _mlp(("Linear", "ReLU", "Linear"))) == (True, "")
        assert verdict(check, _mlp(("Linear", "Linear"))) == (False, "no_nonlinearity")
        assert verdict(check, _mlp(("Linear", "Sigmoid", "Linear"))) == (False, "other_activation")


def test_ex5_a_straight_line_and_an_underfit_curve_are_told_apart():
    x = np.random.default_rng(2).uniform(-2, 2, size=checks.HELD_OUT_POINTS)
    minimum = THRESHOLDS["cubic_r2_min"]
    checks._judge_r2(x ** 3, x, minimum)
    for pred, name in ((checks.best_line(x, x ** 3), "linear_model_for_cubic"),
                       (np.clip(x ** 3, -4.0, 4.0), "cubic_underfit")):
        with pytest.raises(CheckFailure) as failure:
            checks._judge_r2(pred, x, minimum)
        assert failure.value.mistake == name


# --- ex6 --------------------------------------------------------------------------------------------------------

def _torch_leaf(kind: str, module: str, parameters: dict | None = None, settings: dict | None = None) -> dict:
    """A leaf module as the probe describes it: a torch.nn class (name, defining module), settings, parameters."""
    return {"type": kind, "module": module, "qualname": kind, "settings": settings or {},
            "parameters": parameters or {}, "buffers": {}}


def _cubic_net(mistake: str | None) -> FakeStudent:
    """CubicNet described from NumPy weights: correct (Linear, ReLU, Linear), or with one of exercise 6's mistakes.
    The checks rebuild the layers with torch to compare forward's output (that part needs torch, as the grader)."""
    def cubic_net_facts(hidden=None, x=None):
        h = 64 if hidden is None or mistake == "cubic_net_ignores_hidden" else hidden
        rng = np.random.default_rng(9)
        W1, b1 = rng.uniform(-1, 1, size=(h, 1)), rng.uniform(-1, 1, size=h)
        W2, b2 = rng.uniform(-0.5, 0.5, size=(1, h)), rng.uniform(-0.5, 0.5, size=1)
        linear = "torch.nn.modules.linear"
        first = _torch_leaf("Linear", linear, {"weight": W1, "bias": b1}, {"in_features": 1, "out_features": h})
        second = _torch_leaf("Linear", linear, {"weight": W2, "bias": b2}, {"in_features": h, "out_features": 1})
        relu = _torch_leaf("ReLU", "torch.nn.modules.activation")
        registered = mistake in ("cubic_net_without_nonlinearity", "activation_not_registered")
        layers = [first, second] if registered else [first, relu, second]
        mro = ["pytorch_basics.CubicNet", "torch.nn.modules.module.Module", "builtins.object"]
        if mistake == "cubic_net_not_own_subclass":
            mro.insert(1, checks.SEQUENTIAL)
        out = None
        if x is not None:
            hidden_values = x @ W1.T + b1
            if mistake != "cubic_net_without_nonlinearity":
                hidden_values = np.maximum(hidden_values, 0.0)
            values = np.asarray(f32(hidden_values @ W2.T + b2), dtype=np.float64)
            if mistake == "cubic_net_forward_not_its_layers":
                values = np.asarray(x, dtype=np.float64) ** 3
            if mistake == "cubic_net_output_not_a_column":
                values = values.reshape(-1)
            out = _value(values)
        return {"found": True, "is_class": True, "what": "type", "module": "pytorch_basics",
                "defined_in": "pytorch_basics", "type": "CubicNet", "same_class": True, "mro": mro,
                "is_module": True, "layers": layers, "stray": [], "stray_size": 0, "out": out}
    return FakeStudent(cubic_net_facts=cubic_net_facts)


def test_ex6_every_cubic_net_mistake_is_named():
    names = ("cubic_net_not_own_subclass", "cubic_net_without_nonlinearity", "activation_not_registered",
             "cubic_net_ignores_hidden", "cubic_net_output_not_a_column", "cubic_net_forward_not_its_layers")
    expect_named("ex6", {name: _cubic_net(name) for name in names}, correct=_cubic_net(None))


# --- the catalogue, the oracles, the hints ----------------------------------------------------------------------

def _recorded_outcomes() -> dict[str, dict]:
    return {k: checks.EXPECTED[k] for k in ("descent", "losses", "updates", "epoch_losses", "collapse")}


def test_every_candidate_is_a_catalogue_mistake_unlike_the_correct_answer():
    close = checks.float32_closeness(THRESHOLDS)
    for key, outcome in _recorded_outcomes().items():
        assert outcome["mistakes"], key
        for candidate in outcome["mistakes"]:
            assert candidate["name"] in mistakes.CATALOGUE, candidate["name"]
            for what, value in candidate.items():
                if what not in ("name", "details"):
                    assert not close(value, outcome[what]), f"{key}: {candidate['name']} gives the right {what}"


def test_recorded_values_are_the_oracles_and_the_visible_oracles_agree_with_it():
    X, y, w0, b0, lr, epochs = checks.DESCENT.full_batch()
    direct = oracle.train_linear_outcomes(X, y, w0, b0, lr, epochs, checks.OTHER_LRS)
    np.testing.assert_allclose(checks.EXPECTED["descent"]["params"], direct["params"], rtol=1e-15)
    W1, b1, W2, b2, X = checks.collapse_inputs()
    np.testing.assert_allclose(checks.two_layers(X, W1, b1, W2, b2), oracle.collapse_outcomes(W1, b1, W2, b2, X)["out"],
                               rtol=1e-12, atol=1e-12)
    rng = np.random.default_rng(4)
    A = rng.normal(size=(200, 3))
    X = np.linalg.qr(A - A.mean(axis=0))[0] * np.sqrt(200)  # the Hessian of the MSE is 2 I: 100 epochs converge
    y = X @ np.array([1.0, -1.0, 2.0]) + 0.5 + 0.1 * rng.normal(size=200)
    converged, _ = oracle.gradient_descent(X, y, np.zeros(3), 0.0, 0.1, 100)
    np.testing.assert_allclose(converged, checks.least_squares(X, y), atol=THRESHOLDS["lstsq_atol"] / 10)


def test_every_mistake_has_a_known_convention_and_section():
    handout = (FOLDER / "README.md").read_text()
    for m in mistakes.CATALOGUE.values():
        assert m.convention in mistakes.CONVENTIONS.values(), m.name
        assert m.section in handout, f"{m.name}: no section {m.section!r} in the handout"
    for c in mistakes.CONVENTIONS.values():
        assert c.section in handout, f"{c.name}: no section {c.section!r} in the handout"


def _solution_lines() -> list[str]:
    lines, inside = [], False
    for line in REFERENCE.read_text().splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif inside:
            code = line.split("#")[0].strip()
            if len(code) >= CODE_LINE_CHARS:
                lines.append(code)
    return lines


def test_hints_teach_without_printing_a_line_of_the_solution():
    texts = [m.says for m in mistakes.CATALOGUE.values()] + [c.text for c in mistakes.CONVENTIONS.values()]
    for name in ("checks.py", "mistakes.py", "feedback.py", "probes.py"):
        texts += [n.value for n in ast.walk(ast.parse((FOLDER / name).read_text()))
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    solution = _solution_lines()
    assert solution
    for text in texts:
        leaked = [line for line in solution if line in text]
        assert not leaked, f"{text[:80]!r} prints the solution line {leaked[0]!r}"


def _oracle_uses(tree: ast.AST, bound: frozenset = frozenset()) -> list[int]:
    """Lines using the module name ``oracle`` outside a lambda or function that binds ``oracle`` itself."""
    if isinstance(tree, (ast.Lambda, ast.FunctionDef)):
        bound = bound | {a.arg for a in tree.args.args}
    lines = [tree.lineno] if isinstance(tree, ast.Name) and tree.id == "oracle" and "oracle" not in bound else []
    for child in ast.iter_child_nodes(tree):
        lines += _oracle_uses(child, bound)
    return lines


def test_only_hidden_checks_and_recorded_values_use_the_oracle():
    tree = ast.parse((FOLDER / "checks.py").read_text())
    outside = [line for node in tree.body
               if not (isinstance(node, ast.FunctionDef) and node.name in HIDDEN)
               for line in _oracle_uses(node)]
    assert not outside, f"checks.py uses the oracle outside hidden checks on lines {outside}"
    for name in ("feedback.py", "mistakes.py", "probes.py"):
        text = (FOLDER / name).read_text()
        assert not _oracle_uses(ast.parse(text)) and "import oracle" not in text, f"{name} uses the oracle"
