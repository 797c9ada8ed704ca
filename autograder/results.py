"""Check results as data, the points they add up to, and their rendering to Gradescope's results.json.

Judging produces a list of :class:`CheckResult`; nothing is rendered while student code runs. Every view is made
from that list afterwards: results.json (here, outputs in Markdown by :mod:`autograder.markdown`), the terminal
table (:mod:`autograder.report`), the HTML report (:mod:`autograder.html_report`), the gradebook
(:mod:`autograder.bulk`) and the nbgrader check cell. Two rules are written once, here, and used by all of them:
what a student may read of a failure (:meth:`Failure.shown`: a hidden check never shows its expected value) and
the points per exercise and assignment (:func:`totals`). results.json keeps each failure as data in its test's
``extra_data`` (:func:`from_gradescope` reads it back), so the views made from results.json alone (the gradebook of
a class, the notebook's check cell) need no parsing of text.

Imports nothing of the grader at module level: the notebook's check cell loads this file on its own.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from autograder.feedback import Panel
    from autograder.isolation import Isolation

#: Gradescope truncates long outputs; keep each test's readable and the whole file far under 1 MB.
MAX_TEST_OUTPUT_CHARS = 10_000
MAX_TOP_OUTPUT_CHARS = 20_000
#: Each part of a failure kept in results.json's extra_data (a student's exception message can be long).
MAX_FAILURE_FIELD_CHARS = 2_000


#: Why a check failed: the student's answer was judged wrong (``wrong``), or no answer could be judged.
FAILURE_KINDS = ("wrong", "not_implemented", "student_error", "student_problem", "grader_error", "not_run")

#: The parts of a failure a student may read, in the order every view shows them, with the word each view uses.
LABELS = {"expected": "Expected", "seen": "Seen", "hint": "Hint", "mistake": "Mistake", "convention": "Rule"}
#: The parts that quote a value or what the student's code did: every view shows them literally (as code, never as
#: markup); the others are the grader's own words.
LITERAL = ("expected", "seen")


@dataclass(frozen=True)
class Failure:
    """Why a check failed, as data. A view shows :meth:`shown`, never the fields directly."""

    kind: str                 # one of FAILURE_KINDS
    expected: str = ""        # what the oracle says (never shown for a hidden check)
    seen: str = ""            # what the student's code gave or did
    hint: str = ""            # what to look at, in the chapter's words
    mistake: str = ""         # the name of the known mistake that reproduces what was seen, if one does
    convention: str = ""      # the handout convention the check enforces, when the failure is about it
    where: str = ""           # the line of the student's file an exception came from
    function: str = ""        # the student's function that is not implemented yet (kind ``not_implemented``)

    @property
    def missing(self) -> str:
        """The function not implemented yet (from :attr:`function`, else the name in :attr:`seen`), or ""."""
        if self.kind != "not_implemented":
            return ""
        return self.function or self.seen.removeprefix("Not implemented yet:").split("(")[0].strip(" .")

    def shown(self, *, hidden: bool) -> tuple[tuple[str, str], ...]:
        """``(field, value)`` of each part a student may read, in :data:`LABELS`' order, empty parts left out.
        A hidden check shows what the student's code did, the hint, the mistake and the rule, never the expected
        value (it would give the hidden check's answer away)."""
        return tuple((name, getattr(self, name)) for name in LABELS
                     if getattr(self, name) and not (hidden and name == "expected"))

    def text(self, *, show_expected: bool) -> str:
        """Plain text (see :func:`plain_text`)."""
        return plain_text(self.shown(hidden=not show_expected))

    def to_data(self, *, hidden: bool) -> dict[str, str]:
        """The failure for results.json's extra_data: its kind, the parts shown and where; capped in length."""
        data = {"kind": self.kind, **dict(self.shown(hidden=hidden))}
        if self.where:
            data["where"] = self.where
        if self.function:
            data["function"] = self.function
        return {k: _capped(v, MAX_FAILURE_FIELD_CHARS) for k, v in data.items()}

    @classmethod
    def from_data(cls, data: dict) -> "Failure":
        """A failure read back from :meth:`to_data` (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{"kind": "", **{k: str(v) for k, v in data.items() if k in known}})


def plain_text(shown: Iterable[tuple[str, str]]) -> str:
    """A failure's shown parts as plain text, one "Label: value" line each with the values aligned (the terminal
    table and the notebook's check cell)."""
    return "\n".join(f"{LABELS[name] + ':':<9} {value}" for name, value in shown)


@dataclass(frozen=True)
class CheckResult:
    assignment: str
    exercise: str
    check_id: str
    title: str
    score: float
    max_score: float
    visibility: str
    passed: bool
    failure: Failure | None = None
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.assignment} {self.exercise}: {self.title}"

    @property
    def hidden(self) -> bool:
        return self.visibility != "visible"

    @property
    def shown(self) -> tuple[tuple[str, str], ...]:
        """What the student may read of this check's failure (nothing for a pass): see :meth:`Failure.shown`."""
        return self.failure.shown(hidden=self.hidden) if self.failure is not None and not self.passed else ()

    @property
    def output(self) -> str:
        """The failure as the student may read it, as plain text (nothing for a pass)."""
        return plain_text(self.shown)


# -- points ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Points:
    score: float = 0.0
    max_score: float = 0.0
    passed: int = 0   # checks passed
    checks: int = 0   # checks run

    def add(self, r: CheckResult) -> "Points":
        return Points(self.score + r.score, self.max_score + r.max_score, self.passed + r.passed, self.checks + 1)


@dataclass(frozen=True)
class Totals:
    """Points per (assignment, exercise), per assignment and in all, each in grading order."""

    exercises: dict[tuple[str, str], Points]
    assignments: dict[str, Points]
    total: Points

    def assignment(self, name: str) -> dict[str, Points]:
        """``{exercise: Points}`` of one assignment."""
        return {ex: p for (a, ex), p in self.exercises.items() if a == name}


def totals(results: Iterable[CheckResult]) -> Totals:
    """The points of a grading: the one place they are added up (every view and the gradebook use this)."""
    exercises: dict[tuple[str, str], Points] = {}
    assignments: dict[str, Points] = {}
    total = Points()
    for r in results:
        key = (r.assignment, r.exercise)
        exercises[key] = exercises.get(key, Points()).add(r)
        assignments[r.assignment] = assignments.get(r.assignment, Points()).add(r)
        total = total.add(r)
    return Totals(exercises, assignments, total)


@dataclass(frozen=True)
class GradingRun:
    results: tuple[CheckResult, ...]
    execution_time: float
    notes: tuple[str, ...] = ()
    feedback: tuple["Panel", ...] = ()   # plot data from the student's code, for the HTML report
    isolation: "Isolation | None" = None  # how student code was isolated from the grader and other students

    @property
    def totals(self) -> Totals:
        return totals(self.results)

    @property
    def score(self) -> float:
        return self.totals.total.score

    @property
    def max_score(self) -> float:
        return self.totals.total.max_score


# -- results.json ------------------------------------------------------------------------------------------------

def to_gradescope(run: GradingRun) -> dict:
    """The results.json document (Gradescope's autograder specification), outputs in Markdown. Each test's
    ``extra_data`` (Gradescope's "extra data to be stored") holds the check's id, whether it passed and its failure
    as data: the parts a student may read (a hidden check's without its expected value) and where."""
    from autograder import markdown

    return {
        "score": round(run.score, 6),
        "execution_time": round(run.execution_time, 3),
        "output": markdown.cap(markdown.summary(run), MAX_TOP_OUTPUT_CHARS),
        "output_format": "md",
        "test_output_format": "md",
        **({"extra_data": {"isolation": run.isolation.kind, "isolation_detail": run.isolation.describe()}}
           if run.isolation is not None else {}),
        "tests": [
            {"name": r.name, "score": round(r.score, 6), "max_score": r.max_score, "visibility": r.visibility,
             "output": markdown.cap(markdown.check_output(r), MAX_TEST_OUTPUT_CHARS),
             "tags": [r.assignment, r.exercise],
             "extra_data": {"check_id": r.check_id, "passed": r.passed,
                            **({"failure": r.failure.to_data(hidden=r.hidden)}
                               if r.failure is not None and not r.passed else {})}}
            for r in run.results
        ],
    }


def from_gradescope(doc: dict) -> list[CheckResult]:
    """The check results of a results.json, as data again (for views made from the file alone). A test without
    neurograde's extra_data (a results.json written by a fallback) counts as passed only with full points."""
    out = []
    for t in doc.get("tests", []):
        extra = t.get("extra_data") or {}
        assignment, exercise = (list(t.get("tags") or []) + ["", ""])[:2]
        score, top = float(t.get("score", 0.0)), float(t.get("max_score", 0.0))
        passed = bool(extra.get("passed", score >= top))
        failure = extra.get("failure")
        name, prefix = str(t.get("name", "")), f"{assignment} {exercise}: "
        out.append(CheckResult(
            assignment=str(assignment), exercise=str(exercise), check_id=str(extra.get("check_id", name)),
            title=name.removeprefix(prefix), score=score, max_score=top,
            visibility=str(t.get("visibility", "visible")), passed=passed,
            failure=Failure.from_data(failure) if isinstance(failure, dict) else None))
    return out


def write_json(document: dict, path: Path) -> None:
    """Write atomically: a reader never sees a half-written results file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def _capped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 40] + f" ... ({len(text) - limit + 40} more characters)"


@dataclass(frozen=True)
class Waiting:
    """A function of the student's that is not implemented yet, and the checks that fail only because of it."""

    assignment: str
    line: str                      # "Not implemented yet: gradient_1d (linear_neuron.py, line 32)"
    function: str
    hint: str
    checks: tuple[CheckResult, ...]

    @property
    def points(self) -> dict[str, float]:
        """``{exercise: points}`` that wait on the function, in grading order."""
        out: dict[str, float] = {}
        for r in self.checks:
            out[r.exercise] = out.get(r.exercise, 0.0) + (r.max_score - r.score)
        return out

    @property
    def summary(self) -> str:
        """One line: the function, where it is, and the points that wait on it."""
        parts = [f"{p:g} point{'s' * (p != 1)} of {ex}" if i == 0 else f"{p:g} of {ex}"
                 for i, (ex, p) in enumerate(self.points.items())]
        said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{self.line} - {said} wait on it."


def waits_on(result: CheckResult) -> str:
    """The key of the unimplemented function a failed check waits on ("" when it failed for another reason)."""
    f = result.failure
    if result.passed or f is None or f.kind != "not_implemented":
        return ""
    return f"{result.assignment}\0{f.seen}"


def waiting(results: Iterable[CheckResult]) -> list[Waiting]:
    """The functions not implemented yet, each once with the checks that wait on it, in grading order: the views
    show one line per function instead of one message per check (the points are those of :func:`totals`)."""
    groups: dict[str, list[CheckResult]] = {}
    for r in results:
        key = waits_on(r)
        if key:
            groups.setdefault(key, []).append(r)
    out = []
    for checks in groups.values():
        f = checks[0].failure
        line = f.seen.strip().rstrip(".") or "Not implemented yet"
        out.append(Waiting(checks[0].assignment, line, f.function, f.hint, tuple(checks)))
    return out


def by_exercise(results: Iterable[CheckResult]) -> dict[tuple[str, str], list[CheckResult]]:
    """Results grouped by (assignment, exercise), in grading order."""
    groups: dict[tuple[str, str], list[CheckResult]] = {}
    for r in results:
        groups.setdefault((r.assignment, r.exercise), []).append(r)
    return groups
