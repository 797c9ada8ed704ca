"""``grading.yml``: the one place for points, visibility, time limits and thresholds.

The file is read into frozen dataclasses and validated as it loads: an unknown key, a wrong type, an unknown
visibility or a points total that does not add up is a :class:`ConfigError` naming the offending path. The match
between configured check ids and the check functions that exist is verified at collection time
(:func:`match_checks`), so points can never silently drop out of the total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from autograder.assignment import ASSIGNMENTS_DIR, KIT_ROOT
from autograder.limits import Limits

DEFAULT_PATH = KIT_ROOT / "grading.yml"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class ConfigError(ValueError):
    """grading.yml does not describe a valid grading."""


@dataclass(frozen=True)
class CheckConfig:
    id: str
    assignment: str
    exercise: str
    points: float
    visibility: str
    timeout: float

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
    thresholds: Mapping[str, Any]

    def checks(self) -> Iterable[CheckConfig]:
        for exercise in self.exercises.values():
            yield from exercise.checks.values()

    def check(self, check_id: str) -> CheckConfig:
        for check in self.checks():
            if check.id == check_id:
                return check
        raise KeyError(check_id)


@dataclass(frozen=True)
class Config:
    output_limit_bytes: int
    limits: Limits = Limits()
    assignments: Mapping[str, AssignmentConfig] = field(default_factory=dict)


# Each section's allowed keys with their defaults (None: required).
_TOP_KEYS = {"defaults": {}, "assignments": None}
_DEFAULT_KEYS = {"check_timeout": 10.0, "assignment_time_limit": 120.0, "import_timeout": 30.0,
                 "output_limit_mb": 1.0, "memory_limit_mb": 2048, "cpu_limit_s": 300, "max_processes": 256,
                 "sandbox_user": "nobody"}
_ASSIGNMENT_KEYS = {"title": None, "total_points": None, "time_limit": None, "check_timeout": None,
                    "import_timeout": None, "exercises": None, "thresholds": {}}
_EXERCISE_KEYS = {"title": None, "checks": None}
_CHECK_KEYS = {"points": None, "visibility": "visible", "timeout": None}


def assignment_names(path: Path | str = DEFAULT_PATH) -> tuple[str, ...]:
    """The kit's assignments, in grading.yml's order (the one list of them)."""
    return tuple(load(path).assignments)


def load(path: Path | str = DEFAULT_PATH) -> Config:
    """Read and validate grading.yml."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse(raw, source=str(path))


def parse(raw: Any, *, source: str = "grading.yml") -> Config:
    top = _section(raw, _TOP_KEYS, source)
    defaults = _section(top["defaults"] or {}, _DEFAULT_KEYS, f"{source}: defaults")
    assignments_raw = _mapping(top["assignments"], f"{source}: assignments")
    assignments = {}
    for name, body in assignments_raw.items():
        where = f"{source}: assignments.{name}"
        if not (isinstance(name, str) and name.isidentifier() and (ASSIGNMENTS_DIR / name).is_dir()):
            known = sorted(p.name for p in ASSIGNMENTS_DIR.iterdir() if (p / "checks.py").is_file())
            raise ConfigError(f"{where}: no folder assignments/{name}/ (assignments with checks: {', '.join(known)})")
        assignments[name] = _assignment(name, body, defaults, where)
    limits = Limits(memory_bytes=int(_number(defaults["memory_limit_mb"], f"{source}: memory_limit_mb") * 2**20),
                    cpu_seconds=int(_number(defaults["cpu_limit_s"], f"{source}: cpu_limit_s")),
                    processes=int(_number(defaults["max_processes"], f"{source}: max_processes")),
                    user=str(defaults["sandbox_user"]))
    return Config(output_limit_bytes=int(_number(defaults["output_limit_mb"], f"{source}: output_limit_mb") * 1e6),
                  limits=limits, assignments=assignments)


def _assignment(name: str, body: Any, defaults: Mapping[str, Any], where: str) -> AssignmentConfig:
    sec = _section(body, _ASSIGNMENT_KEYS, where, optional=("time_limit", "check_timeout", "import_timeout"))
    check_timeout = _number(sec["check_timeout"] or defaults["check_timeout"], f"{where}.check_timeout")
    exercises = {}
    seen: dict[str, str] = {}
    for ex_id, ex_body in _mapping(sec["exercises"], f"{where}.exercises").items():
        ex_where = f"{where}.exercises.{ex_id}"
        ex = _section(ex_body, _EXERCISE_KEYS, ex_where)
        checks = {}
        for check_id, check_body in _mapping(ex["checks"], f"{ex_where}.checks").items():
            c_where = f"{ex_where}.checks.{check_id}"
            if not check_id.startswith("test_"):
                raise ConfigError(f"{c_where}: check ids are the check functions' names and start with 'test_'")
            if check_id in seen:
                raise ConfigError(f"{c_where}: already listed under {seen[check_id]}")
            seen[check_id] = ex_id
            c = _section(check_body, _CHECK_KEYS, c_where, optional=("timeout",))
            if c["visibility"] not in VISIBILITIES:
                raise ConfigError(f"{c_where}.visibility: {c['visibility']!r} is not one of {', '.join(VISIBILITIES)}")
            checks[check_id] = CheckConfig(
                id=check_id, assignment=name, exercise=ex_id,
                points=_number(c["points"], f"{c_where}.points"), visibility=c["visibility"],
                timeout=_number(c["timeout"] or check_timeout, f"{c_where}.timeout"))
        exercises[ex_id] = ExerciseConfig(id=ex_id, title=str(ex["title"]), checks=checks)
    total = _number(sec["total_points"], f"{where}.total_points")
    assignment = AssignmentConfig(
        name=name, title=str(sec["title"]), total_points=total,
        time_limit=_number(sec["time_limit"] or defaults["assignment_time_limit"], f"{where}.time_limit"),
        import_timeout=_number(sec["import_timeout"] or defaults["import_timeout"], f"{where}.import_timeout"),
        exercises=exercises, thresholds=dict(_mapping(sec["thresholds"] or {}, f"{where}.thresholds")))
    points = sum(c.points for c in assignment.checks())
    if abs(points - total) > 1e-9:
        raise ConfigError(f"{where}: the checks' points add up to {points:g}, but total_points is {total:g}")
    return assignment


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


def _section(raw: Any, keys: Mapping[str, Any], where: str, optional: Iterable[str] = ()) -> dict:
    raw = _mapping(raw, where)
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(keys)})")
    out = {}
    for key, default in keys.items():
        if key in raw:
            out[key] = raw[key]
        elif default is None and key not in optional:
            raise ConfigError(f"{where}: missing required key {key!r}")
        else:
            out[key] = default
    return out


def _mapping(raw: Any, where: str) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    return raw


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
        raise ConfigError(f"{where}: expected a non-negative number, got {raw!r}")
    return float(raw)
