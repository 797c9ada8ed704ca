"""``grading.yml``: the one place for points, visibility, time limits and thresholds.

The file is read into frozen dataclasses and validated as it loads: an unknown key, a wrong type, an unknown
visibility or a points total that does not add up is a :class:`ConfigError` naming the file, the line and the
offending path. An assignment's ``thresholds`` are typed numbers (an int stays an int: epochs, run counts; a float
a float: tolerances) and their names must be exactly the names the assignment's code reads
(``thresholds["name"]`` or ``thresholds.name`` in ``assignments/<name>/*.py``, found by reading the code): a name
declared but never read, or read but never declared (a typo on either side), fails here, at load, not as a zero
at grading time. The match between configured check ids and the check functions that exist is verified when the
checks are selected (:func:`match_checks`), so points can never silently drop out of the total. A check's
``enforces`` lists the handout conventions it enforces: each name must be a ``Convention`` of the assignment's
``mistakes.py`` (found by reading the code, like the thresholds); docs/conventions.md is generated from them.
"""
from __future__ import annotations

import ast
import difflib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import yaml

from autograder import pysource
from autograder.assignment import ASSIGNMENTS_DIR, KIT_ONLY, KIT_ROOT
from autograder.limits import Limits

#: libyaml's loader where PyYAML was built with it (4x faster; the same documents and line marks).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_PATH = KIT_ROOT / "grading.yml"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
#: Seconds a whole grading may take on top of its assignments' own limits: starting Python, the first imports
#: (torch takes ~2 s), writing the results. Every caller that runs a grading under a timeout (grade-all,
#: Gradescope's run_autograder, nbgrader's check cells) adds this once (:meth:`Config.time_budget`).
STARTUP_MARGIN_S = 60


class ConfigError(ValueError):
    """grading.yml does not describe a valid grading."""


class Thresholds(Mapping[str, "int | float"]):
    """An assignment's named numbers from grading.yml, read as ``thresholds["name"]`` or ``thresholds.name``.

    Immutable. A name that is not set raises KeyError (AttributeError for ``.name``) saying where to add it;
    :func:`load` has already refused a grading.yml whose names differ from the ones the code reads."""

    __slots__ = ("_assignment", "_values")

    def __init__(self, assignment: str, values: Mapping[str, int | float]) -> None:
        object.__setattr__(self, "_assignment", assignment)
        object.__setattr__(self, "_values", dict(values))

    def _missing(self, name: str) -> str:
        return f"threshold {name!r} is not set in grading.yml under assignments.{self._assignment}.thresholds"

    def __getitem__(self, name: str) -> int | float:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(self._missing(name)) from None

    def __getattr__(self, name: str) -> int | float:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(self._missing(name)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("thresholds are read-only: change them in grading.yml")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Thresholds({self._assignment!r}, {self._values!r})"

    def __reduce__(self):
        return (Thresholds, (self._assignment, self._values))


@dataclass(frozen=True)
class CheckConfig:
    id: str
    assignment: str
    exercise: str
    points: float
    visibility: str
    timeout: float
    #: The handout conventions the check enforces (names of Conventions in mistakes.py); None: not declared.
    enforces: tuple[str, ...] | None = None

    @property
    def hidden(self) -> bool:
        """Anything but ``visible`` is a hidden check: it never ships to students and runs with --with-hidden."""
        return self.visibility != "visible"


@dataclass(frozen=True)
class ExerciseConfig:
    id: str
    title: str
    checks: Mapping[str, CheckConfig]


@dataclass(frozen=True)
class AssignmentConfig:
    name: str
    title: str
    total_points: float
    time_limit: float
    import_timeout: float
    exercises: Mapping[str, ExerciseConfig]
    thresholds: Thresholds

    def checks(self) -> Iterable[CheckConfig]:
        for exercise in self.exercises.values():
            yield from exercise.checks.values()

    def check(self, check_id: str) -> CheckConfig:
        for check in self.checks():
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    @property
    def grading_seconds(self) -> float:
        """What grading this assignment may take: importing the student's module, then all its checks."""
        return self.import_timeout + self.time_limit

    @property
    def time_budget(self) -> float:
        """Seconds to allow a whole grading of this assignment alone (start-up included)."""
        return self.grading_seconds + STARTUP_MARGIN_S


@dataclass(frozen=True)
class Config:
    output_limit_bytes: int
    limits: Limits = Limits()
    assignments: Mapping[str, AssignmentConfig] = field(default_factory=dict)

    def time_budget(self, assignments: Iterable[str] | None = None) -> float:
        """Seconds to allow one grading of ``assignments`` (default: all) in one grader: each one's import and
        checks, plus the start-up margin once."""
        names = list(self.assignments) if assignments is None else list(assignments)
        return sum(self.assignments[a].grading_seconds for a in names) + STARTUP_MARGIN_S


# Each section's allowed keys with their defaults (None: required).
_TOP_KEYS = {"defaults": {}, "assignments": None}
_DEFAULT_KEYS = {"check_timeout": 10.0, "assignment_time_limit": 120.0, "import_timeout": 30.0,
                 "output_limit_mb": 1.0, "memory_limit_mb": 2048, "cpu_limit_s": 300, "max_processes": 256,
                 "sandbox_user": "nobody"}
_ASSIGNMENT_KEYS = {"title": None, "total_points": None, "time_limit": None, "check_timeout": None,
                    "import_timeout": None, "exercises": None, "thresholds": {}}
_EXERCISE_KEYS = {"title": None, "checks": None}
_CHECK_KEYS = {"points": None, "visibility": "visible", "timeout": None, "enforces": None}


class _Where:
    """Where a value sits: the file, its line (when the file was read from disk) and its dotted path."""

    def __init__(self, source: str, lines: Mapping[tuple, int], path: tuple = ()) -> None:
        self.source, self.lines, self.path = source, lines, path

    def __truediv__(self, key: Any) -> "_Where":
        return _Where(self.source, self.lines, (*self.path, key))

    def line(self) -> int | None:
        for n in range(len(self.path), -1, -1):  # the nearest enclosing key that has a line
            if (line := self.lines.get(self.path[:n])) is not None:
                return line
        return None

    def __str__(self) -> str:
        line = self.line()
        dotted = ".".join(str(p) for p in self.path)
        return f"{self.source}{f':{line}' if line else ''}: {dotted}" if dotted else \
            f"{self.source}{f':{line}' if line else ''}"


def assignment_names(path: Path | str = DEFAULT_PATH) -> tuple[str, ...]:
    """The kit's assignments, in grading.yml's order (the one list of them)."""
    return tuple(load(path).assignments)


def load(path: Path | str = DEFAULT_PATH, *, code: Path | None = ASSIGNMENTS_DIR) -> Config:
    """Read and validate grading.yml. ``code``: the folder of the assignments whose code must read exactly the
    declared thresholds (None: do not compare)."""
    path = Path(path)
    try:
        text = path.read_text()
        raw = yaml.load(text, Loader=_YAML_LOADER)
        lines = key_lines(text)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse(raw, source=str(path), lines=lines, code=code)


def key_lines(text: str) -> dict[tuple, int]:
    """{path of keys: 1-based line of the key} for every mapping key of a YAML document (PyYAML's node marks)."""
    out: dict[tuple, int] = {}

    def walk(node: yaml.Node, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark))
                out[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    root = yaml.compose(text, Loader=_YAML_LOADER)
    if root is not None:
        walk(root, ())
    return out


def parse(raw: Any, *, source: str = "grading.yml", lines: Mapping[tuple, int] | None = None,
          code: Path | None = ASSIGNMENTS_DIR) -> Config:
    top_where = _Where(source, lines or {})
    top = _section(raw, _TOP_KEYS, top_where)
    defaults = _section({} if top["defaults"] is None else top["defaults"], _DEFAULT_KEYS, top_where / "defaults")
    assignments_raw = _mapping(top["assignments"], top_where / "assignments")
    assignments = {}
    for name, body in assignments_raw.items():
        where = top_where / "assignments" / name
        if not (isinstance(name, str) and name.isidentifier() and (ASSIGNMENTS_DIR / name).is_dir()):
            known = sorted(p.name for p in ASSIGNMENTS_DIR.iterdir() if (p / "checks.py").is_file())
            raise ConfigError(f"{where}: no folder assignments/{name}/ (assignments with checks: {', '.join(known)})")
        assignments[name] = _assignment(name, body, defaults, where)
        if code is not None and (code / name).is_dir():
            match_thresholds(assignments[name], code / name, where / "thresholds")
            match_conventions(assignments[name], code / name, where / "exercises")
    d = top_where / "defaults"
    limits = Limits(memory_bytes=int(_number(defaults["memory_limit_mb"], d / "memory_limit_mb") * 2**20),
                    cpu_seconds=int(_number(defaults["cpu_limit_s"], d / "cpu_limit_s")),
                    processes=int(_number(defaults["max_processes"], d / "max_processes")),
                    user=str(defaults["sandbox_user"]))
    return Config(output_limit_bytes=int(_number(defaults["output_limit_mb"], d / "output_limit_mb") * 1e6),
                  limits=limits, assignments=assignments)


def _or(value: Any, default: Any) -> Any:
    """``value`` unless it is absent (None): an explicit 0 stays 0."""
    return default if value is None else value


def _assignment(name: str, body: Any, defaults: Mapping[str, Any], where: _Where) -> AssignmentConfig:
    sec = _section(body, _ASSIGNMENT_KEYS, where, optional=("time_limit", "check_timeout", "import_timeout"))
    check_timeout = _number(_or(sec["check_timeout"], defaults["check_timeout"]), where / "check_timeout")
    exercises = {}
    seen: dict[str, str] = {}
    for ex_id, ex_body in _mapping(sec["exercises"], where / "exercises").items():
        ex_where = where / "exercises" / ex_id
        ex = _section(ex_body, _EXERCISE_KEYS, ex_where)
        checks = {}
        for check_id, check_body in _mapping(ex["checks"], ex_where / "checks").items():
            c_where = ex_where / "checks" / check_id
            if not check_id.startswith("test_"):
                raise ConfigError(f"{c_where}: check ids are the check functions' names and start with 'test_'")
            if check_id in seen:
                raise ConfigError(f"{c_where}: already listed under {seen[check_id]}")
            seen[check_id] = ex_id
            c = _section(check_body, _CHECK_KEYS, c_where, optional=("timeout", "enforces"))
            if c["visibility"] not in VISIBILITIES:
                raise ConfigError(f"{c_where / 'visibility'}: {c['visibility']!r} is not one of "
                                  f"{', '.join(VISIBILITIES)}")
            checks[check_id] = CheckConfig(
                id=check_id, assignment=name, exercise=ex_id,
                points=_number(c["points"], c_where / "points"), visibility=c["visibility"],
                timeout=_number(_or(c["timeout"], check_timeout), c_where / "timeout"),
                enforces=_names(c["enforces"], c_where / "enforces"))
        exercises[ex_id] = ExerciseConfig(id=ex_id, title=str(ex["title"]), checks=checks)
    total = _number(sec["total_points"], where / "total_points")
    assignment = AssignmentConfig(
        name=name, title=str(sec["title"]), total_points=total,
        time_limit=_number(_or(sec["time_limit"], defaults["assignment_time_limit"]), where / "time_limit"),
        import_timeout=_number(_or(sec["import_timeout"], defaults["import_timeout"]), where / "import_timeout"),
        exercises=exercises, thresholds=_thresholds(name, sec["thresholds"], where / "thresholds"))
    points = sum(c.points for c in assignment.checks())
    if abs(points - total) > 1e-9:
        raise ConfigError(f"{where}: the checks' points add up to {points:g}, but total_points is {total:g}")
    return assignment


def _names(raw: Any, where: _Where) -> tuple[str, ...] | None:
    """A check's ``enforces``: a list of distinct convention names (identifiers), possibly empty; absent: None."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(n, str) and n.isidentifier() for n in raw):
        raise ConfigError(f"{where}: expected a list of convention names, e.g. [update, history], got {raw!r}")
    if len(set(raw)) != len(raw):
        raise ConfigError(f"{where}: a convention is listed twice in {raw!r}")
    return tuple(raw)


def _thresholds(name: str, raw: Any, where: _Where) -> Thresholds:
    """Typed thresholds: every value a finite int or float (a bool, a string, a list is refused); YAML's type is
    kept, so ``epochs: 500`` is an int and ``rtol: 1.0e-5`` a float."""
    values = {}
    for key, value in _mapping({} if raw is None else raw, where).items():
        w = where / key
        if not (isinstance(key, str) and key.isidentifier() and not key.startswith("_")):
            raise ConfigError(f"{w}: a threshold name is a Python identifier not starting with '_', got {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{w}: a threshold is a finite number (an int for counts, a float for tolerances), "
                              f"got {value!r}")
        values[key] = value
    return Thresholds(name, values)


# -- the thresholds the code reads ------------------------------------------------------------------------------

#: Attribute names of a Thresholds object that are methods, not thresholds.
_MAPPING_METHODS = frozenset(n for n in dir(Mapping) if not n.startswith("_"))


def _is_thresholds(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "thresholds") or \
        (isinstance(node, ast.Attribute) and node.attr == "thresholds")


def threshold_reads(source: str) -> tuple[dict[str, list[int]], list[int]]:
    """({name: lines} of the thresholds a Python source reads, lines of reads whose name is not a literal).

    A read is ``thresholds["name"]``, ``thresholds.name`` or ``thresholds.get("name")`` on a variable or an
    attribute called ``thresholds``."""
    names: dict[str, list[int]] = {}
    dynamic: list[int] = []
    for node in ast.walk(pysource.parse(source)):
        if isinstance(node, ast.Subscript) and _is_thresholds(node.value):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.setdefault(key.value, []).append(node.lineno)
            else:
                dynamic.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and _is_thresholds(node.func.value):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.setdefault(node.args[0].value, []).append(node.lineno)
            else:
                dynamic.append(node.lineno)
        elif isinstance(node, ast.Attribute) and _is_thresholds(node.value) and node.attr not in _MAPPING_METHODS:
            names.setdefault(node.attr, []).append(node.lineno)
    return names, dynamic


@lru_cache(maxsize=64)
def _reads_of_file(path: str, mtime_ns: int, size: int) -> tuple[dict[str, list[int]], list[int]]:
    return threshold_reads(Path(path).read_text())


def assignment_reads(folder: Path) -> tuple[dict[str, list[str]], list[str]]:
    """({name: ["file:line", ...]} of the thresholds an assignment folder's code reads, ["file:line"] of reads
    with a computed name). Every module counts but the kit-only ones (the bug zoo reads none)."""
    names: dict[str, list[str]] = {}
    dynamic: list[str] = []
    for path in sorted(folder.glob("*.py")):
        if path.name in KIT_ONLY:
            continue
        st = path.stat()
        try:
            found, computed = _reads_of_file(str(path), st.st_mtime_ns, st.st_size)
        except SyntaxError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: cannot read its thresholds: {exc.msg}") from None
        label = f"assignments/{folder.name}/{path.name}"
        for name, at in found.items():
            names.setdefault(name, []).extend(f"{label}:{n}" for n in at)
        dynamic += [f"{label}:{n}" for n in computed]
    return names, dynamic


def match_thresholds(assignment: AssignmentConfig, folder: Path, where: Any = None) -> None:
    """The thresholds grading.yml declares for ``assignment`` are exactly those its code in ``folder`` reads, or
    ConfigError naming the file and line of the first difference (with the nearest name: a typo)."""
    where = where or f"grading.yml: assignments.{assignment.name}.thresholds"
    read, dynamic = assignment_reads(folder)
    declared = set(assignment.thresholds)
    problems = []
    if not dynamic:  # with a computed name we cannot tell which ones are read
        for name in sorted(declared - set(read)):
            near = difflib.get_close_matches(name, set(read), n=1)
            at = where / name if isinstance(where, _Where) else f"{where}.{name}"
            problems.append(f"{at}: declared, but no code in assignments/{folder.name}/ reads it"
                            + (f" (did you mean {near[0]!r}?)" if near else ""))
    for name in sorted(set(read) - declared):
        near = difflib.get_close_matches(name, declared, n=1)
        problems.append(f"{read[name][0]}: reads threshold {name!r}, which {where} does not declare"
                        + (f" (did you mean {near[0]!r}?)" if near else ""))
    if problems:
        raise ConfigError("; ".join(problems))


# -- the conventions the checks enforce ---------------------------------------------------------------------------

@lru_cache(maxsize=64)
def convention_names(source: str) -> dict[str, int]:
    """{name: line} of the Conventions a mistakes.py defines: ``Convention("name", ...)`` calls with a literal
    name (read from the code, so loading grading.yml imports nothing)."""
    names: dict[str, int] = {}
    for node in ast.walk(pysource.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)) \
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "Convention":
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.setdefault(first.value, node.lineno)
    return names


def match_conventions(assignment: AssignmentConfig, folder: Path, where: Any = None) -> None:
    """Every convention a check of ``assignment`` declares in ``enforces`` is a Convention of ``folder``'s
    mistakes.py, or ConfigError naming grading.yml's file and line (with the nearest name: a typo)."""
    declared = [(c, name) for c in assignment.checks() for name in (c.enforces or ())]
    if not declared:
        return
    path = folder / "mistakes.py"
    try:
        known = convention_names(path.read_text()) if path.is_file() else {}
    except SyntaxError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: cannot read its conventions: {exc.msg}") from None
    for check, name in declared:
        if name not in known:
            at = (where / check.exercise / "checks" / check.id / "enforces" if isinstance(where, _Where)
                  else f"grading.yml: assignments.{assignment.name}.exercises.{check.exercise}.checks.{check.id}")
            near = difflib.get_close_matches(name, known, n=1)
            raise ConfigError(f"{at}: enforces {name!r}, which is no Convention of assignments/{folder.name}/"
                              f"mistakes.py" + (f" (did you mean {near[0]!r}?)" if near else
                                                f" (known: {', '.join(sorted(known)) or 'none'})"))


def match_checks(assignment: AssignmentConfig, functions: Iterable[str]) -> None:
    """Every configured check has a function and every check function has an entry, or ConfigError."""
    functions = set(functions)
    configured = {c.id for c in assignment.checks()}
    if missing := sorted(configured - functions):
        raise ConfigError(f"grading.yml: assignments.{assignment.name} lists checks that do not exist in "
                          f"assignments/{assignment.name}/checks.py: {', '.join(missing)}")
    if unlisted := sorted(functions - configured):
        raise ConfigError(f"assignments/{assignment.name}/checks.py has checks with no entry (points, visibility) "
                          f"in grading.yml: {', '.join(unlisted)}")


def _section(raw: Any, keys: Mapping[str, Any], where: _Where, optional: Iterable[str] = ()) -> dict:
    raw = _mapping(raw, where)
    unknown = sorted(set(raw) - set(keys), key=str)
    if unknown:
        first = where / unknown[0]
        raise ConfigError(f"{first}: unknown key(s) {', '.join(map(str, unknown))} "
                          f"(allowed here: {', '.join(keys)})")
    out = {}
    for key, default in keys.items():
        if key in raw:
            out[key] = raw[key]
        elif default is None and key not in optional:
            raise ConfigError(f"{where}: missing required key {key!r}")
        else:
            out[key] = default
    return out


def _mapping(raw: Any, where: Any) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    return raw


def _number(raw: Any, where: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
        raise ConfigError(f"{where}: expected a non-negative number, got {raw!r}")
    return float(raw)
