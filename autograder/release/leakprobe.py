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

The cases of each assignment live in its folder, ``assignments/<a>/leakcases.py`` (kit only): ``cases(ref)``
builds them, and ``NOT_PROBED`` names each exercise with the reason nothing can be copied from it (random draws, a ValueError, a model design): :func:`unprobed` lists an exercise in neither, and the
release refuses it, so a new exercise cannot ship unprobed.
"""
from __future__ import annotations

import ast
import copy
import importlib.util
import hashlib
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
class Builder:
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


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    seeded()
    with np.errstate(all="ignore"):
        return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))


# -- each assignment's cases live in its folder: assignments/<a>/leakcases.py (kit only) -----------------------

def _leakcases(assignment: str) -> ModuleType | None:
    from autograder import assignment as parts
    return parts.part(assignment, "leakcases")


def not_probed(assignment: str) -> dict[str, str]:
    """Exercises with nothing a student could copy as a value, and why (the assignment's NOT_PROBED)."""
    module = _leakcases(assignment)
    return dict(getattr(module, "NOT_PROBED", {})) if module is not None else {}


def accepted(assignment: str) -> dict[str, str]:
    """Shipped oracles that compute an exercise's answer by a method the exercise does not teach, which issue 17
    accepts in visible checks (central differences, torch autograd): {module.function: why}. The probe still finds
    them; the release lists them as notes instead of stopping. Keep it short: each is something a student could
    call instead of writing the exercise."""
    module = _leakcases(assignment)
    return dict(getattr(module, "ACCEPTED", {})) if module is not None else {}


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
    probed = {c.exercise for c in cases_for(assignment, reference)}
    skipped = set(not_probed(assignment))
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
        module = _leakcases(assignment)
        built = module.cases(import_reference(assignment, reference)) if module is not None else []
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
    cases_key = hashlib.sha256(pickle.dumps(payload_cases)).hexdigest()
    for root, modules in _roots(folder):
        # A release scans the same code several times (the student folder, then its zip; the otter helper beside
        # each master): one probe per distinct content is enough, the findings name modules, not paths.
        key = (_content_hash(root), str(fallback), cases_key)
        if key in _SCANNED:
            report = _SCANNED[key]
            findings += report["findings"]
            broken += [f"{name}: {why}" for name, why in report["broken"]]
            continue
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
        _SCANNED[key] = report
        findings += report["findings"]
        broken += [f"{name}: {why}" for name, why in report["broken"]]
    return findings, broken


#: Reports of the probes run by this process, by (content of the root, fallback, cases).
_SCANNED: dict[tuple[str, str, str], dict] = {}


def _content_hash(root: Path) -> str:
    """Every file under ``root`` (names and bytes): what the probe's imports can read."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        if path.is_symlink():
            h.update(str(path.relative_to(root)).encode() + b"\0->" + os.readlink(path).encode() + b"\0")
        elif path.is_file():
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
