"""The leak scan's probe: does any code shipped to students compute an exercise's answer?

A bundle that carries a working implementation of an exercise (the grader's own oracle, a replay of an update
rule, a "mistake" that is the right formula with one switch off) hands students the solution. Reading code for
that is hopeless; running it is not. For every exercise of ``reference/<a>.py`` (every function or method holding
a solution region) this module holds a few fixed inputs, as named arguments, with the reference's results on
them. :func:`scan` imports every Python module of a bundle (in a separate process, inside bubblewrap where it
works, the bundle first on ``sys.path``), calls every top-level function whose parameters can all be bound from
an exercise's arguments (by name; in the assignments' own modules also positionally, in the exercise's order, and
the methods of their classes too: on module-level instances, or on an instance built without arguments),
and reports a function whose return value holds all of a reference result (allclose, each array found whole or
as consecutive entries of a longer one, so that a trajectory one step longer or parameters packed into one vector
still count; tuples, lists, dicts and models opened up). Results that say nothing (equal to an input,
integer-valued or constant) are left out, so a helper that returns its input or counts rows is never taken for a
solution.

Each exercise is either probed here (``CASES``) or named in ``NOT_PROBED`` with the reason nothing can be copied
from it (random draws, a ValueError, a model design): :func:`unprobed` lists an exercise in neither, and the
release refuses it, so a new exercise cannot ship unprobed.
"""
from __future__ import annotations

import ast
import copy
import importlib.util
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from autograder.stubs import BEGIN

RUNNER = Path(__file__).resolve().parent / "leakprobe_runner.py"
#: Every reference call and every candidate call starts from these seeds (NumPy's and torch's global
#: generators, Python's random): a copy of a function that draws from them draws the same numbers.
SEED = 1234
#: Default tolerances of a match: float64 maths done another way agrees to ~1e-12; float32 results get their own.
RTOL, ATOL = 1e-6, 1e-12
#: Seconds the probe process may take for a whole bundle.
SCAN_TIMEOUT_S = 600


@dataclass(frozen=True)
class Case:
    """One exercise on fixed inputs: ``arguments`` by name (with the aliases a helper may use), ``order`` the
    positional order of a functional version (state first: ``fit`` of a neuron from (a, b) is
    ``(x, y, a, b, lr, epochs)``), and ``results``: {name: leaves} of what the reference computes, every leaf of
    one result to be found in a candidate's return value."""

    assignment: str
    exercise: str
    arguments: Mapping[str, Any]
    order: tuple[str, ...]
    results: Mapping[str, tuple]
    rtol: float = RTOL
    atol: float = ATOL


@dataclass
class _Builder:
    """Collects the cases of one assignment."""

    assignment: str
    cases: list[Case] = field(default_factory=list)

    def add(self, exercise: str, arguments: Mapping[str, Any], order: Iterable[str],
            results: Mapping[str, Iterable[Any]], **tol: float) -> None:
        self.cases.append(Case(self.assignment, exercise, dict(arguments), tuple(order),
                               {k: tuple(v) for k, v in results.items()}, **tol))


def seeded() -> None:
    """Reset every global random generator an exercise may draw from."""
    np.random.seed(SEED)
    random.seed(SEED)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(SEED)


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    seeded()
    with np.errstate(all="ignore"):
        return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))


# -- the exercises of each assignment ---------------------------------------------------------------------------

def _linear_neuron(ref: ModuleType) -> list[Case]:
    b = _Builder("linear_neuron")
    rng = np.random.default_rng(17)
    x = rng.normal(0.6, 1.3, size=9)
    y = 1.7 * x - 0.8 + 0.4 * rng.normal(size=9)
    a0, b0, lr = 0.37, -0.52, 0.11
    one = dict(x=x, y=y, a=a0, b=b0)
    b.add("gradient_1d", one, ("x", "y", "a", "b"), {"gradients": _call(ref.gradient_1d, x, y, a0, b0)})

    def neuron_1d(a: float, b_: float) -> Any:
        neuron = ref.LinearNeuron1D()
        neuron.a, neuron.b = a, b_
        return neuron

    forward = _call(lambda: neuron_1d(a0, b0).forward(x))
    b.add("LinearNeuron1D.forward", one, ("x", "a", "b"), {"predictions": [forward]})
    for epochs in (1, 4):
        def fit_1d(epochs: int = epochs) -> tuple:
            neuron = neuron_1d(a0, b0)
            history = neuron.fit(x, y, lr=lr, epochs=epochs, mode="batch")
            return neuron.a, neuron.b, np.array(history)
        a1, b1, history = _call(fit_1d)
        results = {"parameters": [a1, b1]}
        if epochs > 1:
            results["history"] = [history]
        b.add("LinearNeuron1D.fit", {**one, "lr": lr, "epochs": epochs, "steps": epochs, "n_steps": epochs,
                                     "iterations": epochs, "mode": "batch"},
              ("x", "y", "a", "b", "lr", "epochs"), results)
    b.add("critical_learning_rate", {"x": x}, ("x",), {"rate": [_call(ref.critical_learning_rate, x)]})

    X = rng.normal(size=(11, 3)) + np.array([0.5, -1.0, 2.0])
    yX = X @ np.array([1.5, -2.0, 0.7]) + 0.3 + 0.2 * rng.normal(size=11)
    w0, bw = np.array([0.2, 0.4, -0.1]), 0.15

    def neuron(w: np.ndarray, b_: float) -> Any:
        model = ref.LinearNeuron()
        model.w, model.b = np.array(w, dtype=float), b_
        return model

    multi = dict(X=X, y=yX, w=w0, b=bw)
    b.add("LinearNeuron.forward", multi, ("X", "w", "b"), {"predictions": [_call(lambda: neuron(w0, bw).forward(X))]})
    for epochs in (1, 4):
        def fit(epochs: int = epochs) -> tuple:
            model = neuron(w0, bw)
            history = model.fit(X, yX, lr=lr, epochs=epochs, mode="batch")
            return model.w, model.b, np.array(history)
        w1, b1, history = _call(fit)
        results = {"parameters": [w1, b1]}
        if epochs > 1:
            results["history"] = [history]
        b.add("LinearNeuron.fit", {**multi, "lr": lr, "epochs": epochs, "steps": epochs, "n_steps": epochs,
                                   "iterations": epochs, "mode": "batch"},
              ("X", "y", "w", "b", "lr", "epochs"), results)

    X_test = rng.normal(size=(5, 3)) * 2.0 + 1.0
    train_s, test_s, _ = _call(ref.standardize, X, X_test)
    b.add("standardize", {"X_train": X, "X_test": X_test, "X": X, "train": X, "test": X_test},
          ("X_train", "X_test"), {"standardised": [train_s, test_s]})
    candidates = np.array([0.003, 0.03, 0.3, 3.0, 30.0])
    b.add("largest_stable_lr", {"X": X, "y": yX, "candidates": candidates, "epochs": 20, "rates": candidates,
                                "lrs": candidates}, ("X", "y", "candidates", "epochs"),
          {"rate": [_call(ref.largest_stable_lr, X, yX, candidates, epochs=20)]})
    Xh = rng.normal(size=(40, 3)) * np.array([300.0, 1.0, 20.0]) + np.array([2000.0, 3.0, 1970.0])
    yh = Xh @ np.array([150.0, 9000.0, -500.0]) + 2e5 + 1e3 * rng.normal(size=40)
    Xh_test = rng.normal(size=(9, 3)) * np.array([300.0, 1.0, 20.0]) + np.array([2000.0, 3.0, 1970.0])
    yh_test = Xh_test @ np.array([150.0, 9000.0, -500.0]) + 2e5
    model, mae = _call(ref.train_house_model, Xh, yh, Xh_test, yh_test, lr=0.05, epochs=30)
    b.add("train_house_model", {"X_train": Xh, "y_train": yh, "X_test": Xh_test, "y_test": yh_test, "lr": 0.05,
                                "epochs": 30}, ("X_train", "y_train", "X_test", "y_test", "lr", "epochs"),
          {"test_mae": [mae], "weights": [model.w, model.b]})
    return b.cases


def _backprop(ref: ModuleType) -> list[Case]:
    b = _Builder("backprop")
    rng = np.random.default_rng(23)
    z = np.concatenate([rng.normal(0.0, 3.0, size=9), [-40.0, 35.0, 0.3]]).reshape(3, 4)
    for name in ("sigmoid", "tanh", "tanh_derivative", "relu"):
        b.add(name, {"z": z, "x": z}, ("z",), {"values": [_call(getattr(ref, name), z)]})
    act = rng.uniform(0.05, 0.95, size=(3, 4))
    b.add("sigmoid_derivative", {"a": act, "s": act}, ("a",), {"values": [_call(ref.sigmoid_derivative, act)]})
    y_true = (rng.random((6, 1)) > 0.5).astype(float)
    y_pred = rng.uniform(0.05, 0.95, size=(6, 1))
    losses = {"y_true": y_true, "y_pred": y_pred, "y": y_true, "p": y_pred, "pred": y_pred, "a": y_pred}
    for name in ("mse_loss", "bce_loss"):
        b.add(name, losses, ("y_true", "y_pred"), {"loss": [_call(getattr(ref, name), y_true, y_pred)]})

    X = rng.normal(size=(5, 3))
    W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=(1, 4))
    W2, b2 = rng.normal(size=(4, 2)), rng.normal(size=(1, 2))
    a2, cache = _call(ref.forward_pass, X, W1, b1, W2, b2)
    params2 = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    b.add("forward_pass", {"X": X, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "params": params2},
          ("X", "W1", "b1", "W2", "b2"), {"output": [a2], "cache": [cache["z1"], cache["a1"], cache["z2"]]})

    gate_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    gate_y = np.array([[0.0], [0.0], [0.0], [1.0]])
    w, bias, history = _call(ref.train_single_neuron, gate_X, gate_y, lr=1.5, epochs=6, seed=5)
    b.add("train_single_neuron", {"X": gate_X, "y": gate_y, "lr": 1.5, "epochs": 6, "seed": 5},
          ("X", "y", "lr", "epochs", "seed"), {"weights": [w, bias], "losses": [np.array(history)]})

    sizes = [3, 4, 2]
    net = _call(ref.NeuralNetworkScratch, sizes, seed=7)
    b.add("NeuralNetworkScratch.__init__", {"layer_sizes": sizes, "sizes": sizes, "seed": 7},
          ("layer_sizes", "seed"), {"parameters": list(net.params.values())})
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    y = rng.uniform(0.1, 0.9, size=(5, 2))

    def network(cls: str = "NeuralNetworkScratch") -> Any:
        net = getattr(ref, cls)(sizes, seed=0)
        net.params = {k: np.array(v) for k, v in params.items()}
        return net

    def forward() -> tuple:
        net = network()
        return net.forward(X), dict(net.cache)

    out, cache = _call(forward)
    state = {"X": X, "params": params, "layer_sizes": sizes, "sizes": sizes}
    b.add("NeuralNetworkScratch.forward", state, ("params", "X"), {"output": [out]})
    b.add("NeuralNetworkScratch.predict", state, ("params", "X"), {"output": [out]})

    def backward() -> dict:
        net = network()
        net.forward(X)
        return net.backward(X, y)

    grads = _call(backward)
    b.add("NeuralNetworkScratch.backward", {**state, "y": y, "cache": cache}, ("params", "X", "y"),
          {"gradients": [grads[k] for k in sorted(grads)]})

    def train(method: str = "train", **extra: Any) -> tuple:
        net = network("NeuralNetworkMiniBatch")
        history = getattr(net, method)(X, y, epochs=3, lr=0.7, **extra)
        return np.array(history), [net.params[k] for k in sorted(net.params)]

    history, trained = _call(train)
    training = {**state, "y": y, "epochs": 3, "lr": 0.7, "steps": 3}
    b.add("NeuralNetworkScratch.train", training, ("params", "X", "y", "lr", "epochs"),
          {"losses": [history], "parameters": trained})
    history, trained = _call(train, "train_minibatch", batch_size=len(X))
    b.add("NeuralNetworkMiniBatch.train_minibatch", {**training, "batch_size": len(X)},
          ("params", "X", "y", "lr", "epochs", "batch_size"), {"losses": [history], "parameters": trained})
    return b.cases


def _pytorch_basics(ref: ModuleType) -> list[Case]:
    import torch
    from torch import nn

    b = _Builder("pytorch_basics")
    rng = np.random.default_rng(31)
    X = rng.normal(size=(8, 3))
    y = X @ np.array([0.8, -1.1, 0.4]) + 0.2 + 0.1 * rng.normal(size=8)
    X_t = torch.tensor(X, dtype=torch.float32)
    y_t = torch.tensor(y, dtype=torch.float32).view(-1, 1)
    w0, b0 = np.array([0.3, -0.2, 0.1]), 0.05

    def linear() -> nn.Linear:
        model = nn.Linear(3, 1)
        with torch.no_grad():
            model.weight.copy_(torch.tensor(w0[None, :], dtype=torch.float32))
            model.bias.fill_(b0)
        return model

    data = {"X_t": X_t, "y_t": y_t, "X": X, "y": y, "w": w0, "b": b0, "W": w0[None, :], "lr": 0.1, "epochs": 4,
            "model": linear(), "steps": 4}

    def train_linear() -> tuple:
        model, losses = ref.train_linear_model(X_t, y_t, lr=0.1, epochs=4, model=linear())
        return np.array(losses), [p.detach().numpy().copy() for p in model.parameters()]

    losses, trained = _call(train_linear)
    f32 = dict(rtol=1e-4, atol=1e-6)
    b.add("train_linear_model", data, ("X_t", "y_t", "lr", "epochs", "model"),
          {"losses": [losses], "parameters": trained}, **f32)

    def loader_training() -> np.ndarray:
        loader = ref.make_loader(X_t, y_t, batch_size=3, shuffle=False)
        return np.array(ref.train_with_loader(linear(), loader, lr=0.1, epochs=3))

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_t, y_t), batch_size=3, shuffle=False)
    b.add("train_with_loader", {**data, "loader": loader, "epochs": 3, "steps": 3, "batch_size": 3},
          ("model", "loader", "lr", "epochs"), {"losses": [_call(loader_training)]}, **f32)

    torch.manual_seed(3)
    layer1, layer2 = nn.Linear(3, 5), nn.Linear(5, 2)
    W1, bb1 = layer1.weight.detach().numpy().copy(), layer1.bias.detach().numpy().copy()
    W2, bb2 = layer2.weight.detach().numpy().copy(), layer2.bias.detach().numpy().copy()
    merged = _call(ref.collapse_linear_stack, layer1, layer2)
    b.add("collapse_linear_stack", {"layer1": layer1, "layer2": layer2, "W1": W1, "b1": bb1, "W2": W2, "b2": bb2},
          ("layer1", "layer2"), {"merged": [p.detach().numpy() for p in merged.parameters()]}, **f32)
    return b.cases


#: {assignment: the builder of its cases from the imported reference}.
CASES: dict[str, Callable[[ModuleType], list[Case]]] = {
    "linear_neuron": _linear_neuron, "backprop": _backprop, "pytorch_basics": _pytorch_basics}

#: Exercises with nothing a student could copy as a value, and why.
NOT_PROBED: dict[str, dict[str, str]] = {
    "backprop": {
        "relu_derivative": "0s and 1s: nothing that is not a comparison of the input with 0",
    },
    "linear_neuron": {
        "check_mode": "raises a ValueError or returns None: no value to copy",
        "largest_stable_lr": "returns one of its own candidates: the answer is an input",
        "select_indices": "integer indices (arange, or random draws): nothing that is not an input or a count",
        "LinearNeuron1D.__init__": "two random draws",
        "LinearNeuron.__init__": "one random draw",
    },
    "pytorch_basics": {
        "to_tensors": "the inputs themselves, as float32 tensors",
        "make_loader": "a DataLoader: its batches are the inputs' rows",
        "make_mlp": "a model design with torch's random initial weights",
        "fit_cubic": "a trained model of the student's own design (judged by R^2, not by a value)",
    },
}


#: Oracles that compute an exercise's answer by a method the exercise does not teach, which issue 17 accepts in
#: visible checks (central differences of the loss, torch autograd): {assignment: {module.function (or
#: module.Class.method): why}}. The probe still finds them; the release lists them as notes instead of stopping.
#: Keep this short: everything here is something a student could call instead of writing the exercise.
_TORCH_AUTOGRAD = ("torch autograd, the oracle issue 17 names for the visible backward checks: torch evaluates and "
                   "differentiates the network, where the exercise asks for NumPy's forward pass and the delta "
                   "recursion")
ACCEPTED: dict[str, dict[str, str]] = {
    "backprop": {
        "assignments.backprop.checks.Autograd.forward": _TORCH_AUTOGRAD,
        "assignments.backprop.checks.Autograd.gradients": _TORCH_AUTOGRAD,
    },
}


# -- which exercises a reference has, and the cases computed from it -----------------------------------------------

def solved_exercises(reference: str) -> list[str]:
    """The exercises of a reference file: each function or method (``Class.method``) holding a solution region."""
    markers = [n for n, line in enumerate(reference.splitlines(), start=1) if BEGIN.match(line)]
    out = []
    for node in ast.parse(reference).body:
        defs = [(node.name, node)] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else \
            [(f"{node.name}.{m.name}", m) for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))] \
            if isinstance(node, ast.ClassDef) else []
        out += [name for name, d in defs if any(d.lineno <= m <= d.end_lineno for m in markers)]
    return out


def unprobed(assignment: str, reference: str) -> list[str]:
    """Exercises of ``reference`` that neither have a case here nor a reason in NOT_PROBED."""
    probed = {c.exercise for c in cases_for(assignment, reference)} if assignment in CASES else set()
    skipped = set(NOT_PROBED.get(assignment, {}))
    return [e for e in solved_exercises(reference) if e not in probed and e not in skipped]


def import_reference(assignment: str, reference: str) -> ModuleType:
    """``reference/<assignment>.py`` (given as text) imported under a private name."""
    with tempfile.TemporaryDirectory(prefix="neurograde-leakprobe-") as tmp:
        path = Path(tmp) / f"{assignment}.py"
        path.write_text(reference)
        spec = importlib.util.spec_from_file_location(f"_neurograde_leakprobe_{assignment}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses and pickling look their module up
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[spec.name]
            raise
    return module


_CACHE: dict[tuple[str, str], list[Case]] = {}


def cases_for(assignment: str, reference: str) -> list[Case]:
    """The cases of one assignment, computed from its reference (once per process), results that say nothing
    left out."""
    key = (assignment, reference)
    if key not in _CACHE:
        built = CASES[assignment](import_reference(assignment, reference)) if assignment in CASES else []
        _CACHE[key] = [c for c in (_informative(c) for c in built) if c.results]
    return _CACHE[key]


def _leaves(value: Any) -> list[np.ndarray]:
    """Numeric arrays of an input (dicts, lists and models opened up)."""
    if isinstance(value, Mapping):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    if hasattr(value, "detach"):
        return [value.detach().cpu().numpy()]
    if hasattr(value, "parameters") and callable(value.parameters):
        return [p.detach().cpu().numpy() for p in value.parameters()]
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return []
    return [arr]


def says_something(leaf: Any, inputs: list[np.ndarray]) -> bool:
    """A result leaf that could only come from doing the exercise: floats, not all integers, not constant, not
    equal to an input nor to one number of an input."""
    arr = np.asarray(leaf, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.all(arr == np.round(arr)) \
            or (arr.size > 1 and np.ptp(arr) == 0):
        return False
    for inp in inputs:
        if inp.size == arr.size and np.allclose(inp.reshape(arr.shape), arr, rtol=1e-9, atol=0):
            return False
        if arr.size == 1 and inp.size and np.any(np.isclose(inp, arr.item(), rtol=1e-9, atol=0)):
            return False
    return True


def _informative(case: Case) -> Case:
    inputs = _leaves(case.arguments)
    results = {}
    for name, leaves in case.results.items():
        arrays = [np.asarray(leaf, dtype=np.float64) for leaf in leaves]
        kept = tuple(a for a in arrays if says_something(a, inputs))
        if kept:
            results[name] = kept
    return Case(case.assignment, case.exercise, case.arguments, case.order, results, case.rtol, case.atol)


# -- the scan -------------------------------------------------------------------------------------------------

def _roots(folder: Path) -> list[tuple[Path, list[tuple[str, Path]]]]:
    """[(folder to put first on sys.path, [(module name, file)])]: each Python file of ``folder`` under the
    outermost folder of its package (a bundle's root holds autograder/ and assignments/); the stubs, which
    only raise NotImplementedError, are left out."""
    groups: dict[Path, list[tuple[str, Path]]] = {}
    for path in sorted(folder.rglob("*.py")):
        if "student_template" in path.relative_to(folder).parts or path.name == "__main__.py" \
                or "__pycache__" in path.parts:
            continue
        root, parts = path.parent, [path.stem] if path.stem != "__init__" else []
        while (root / "__init__.py").is_file() and root != folder:
            parts.insert(0, root.name)
            root = root.parent
        if not parts:
            continue
        groups.setdefault(root, []).append((".".join(parts), path))
    return sorted(groups.items())


def _command(root: Path, fallback: Path | None) -> list[str]:
    """The probe process: inside bubblewrap (read-only file system, no network, its own PID namespace) where it
    works here, else a plain process (the probe then refuses every call that writes, kills or starts anything)."""
    python = [sys.executable, "-I", "-B", str(RUNNER)]
    from autograder import isolation

    path = isolation.bwrap_path()
    if path is None:
        return python
    cmd = [path, *isolation.namespace_flags(), "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--proc", "/proc",
           "--dev", "/dev"]
    for folder in [*isolation.runtime_dirs(), str(root), str(RUNNER.parent), *([str(fallback)] if fallback else [])]:
        cmd += ["--ro-bind", folder, folder]  # again: the private /tmp may hide them
    return [*cmd, "--chdir", "/tmp", "--", *python]


def scan(folder: Path, cases: list[Case], fallback: Path | None = None) -> tuple[list[dict], list[str]]:
    """([finding], [module that could not be imported]) for the Python code under ``folder``. A finding is
    {module, function, assignment, exercise, result, call}. ``fallback``: a folder put last on sys.path (the
    kit, for loose files that import the engine; a bundle's own packages come first and win)."""
    findings, broken = [], []
    payload_cases = [{"assignment": c.assignment, "exercise": c.exercise, "arguments": dict(c.arguments),
                      "order": list(c.order), "results": {k: list(v) for k, v in c.results.items()},
                      "rtol": c.rtol, "atol": c.atol} for c in cases]
    for root, modules in _roots(folder):
        payload = pickle.dumps({"root": str(root), "seed": SEED, "cases": payload_cases,
                                "fallback": str(fallback) if fallback else None,
                                "modules": [(name, str(path)) for name, path in modules]})
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "MPLCONFIGDIR": "/tmp",
               "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        with tempfile.TemporaryDirectory(prefix="neurograde-leakprobe-") as cwd:
            proc = subprocess.run(_command(root, fallback), input=payload, capture_output=True, timeout=SCAN_TIMEOUT_S,
                                  env=env, cwd=cwd)
        try:
            report = json.loads(proc.stdout.decode(errors="replace").strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"the leak probe failed on {root} (exit status {proc.returncode}):\n"
                               f"{proc.stderr.decode(errors='replace')[-3000:]}") from None
        findings += report["findings"]
        broken += [f"{name}: {why}" for name, why in report["broken"]]
    return findings, broken
