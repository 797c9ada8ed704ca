"""Check results as data, and their rendering to Gradescope's results.json.

Judging produces a list of :class:`CheckResult`; nothing is rendered while student code runs. The JSON, the
terminal table (:mod:`autograder.report`) and any later view are made from that list afterwards.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from autograder.feedback import Panel
    from autograder.isolation import Isolation

#: Gradescope truncates long outputs; keep each test's readable and the whole file far under 1 MB.
MAX_TEST_OUTPUT_CHARS = 10_000
MAX_TOP_OUTPUT_CHARS = 20_000


#: Why a check failed: the student's answer was judged wrong (``wrong``), or no answer could be judged.
FAILURE_KINDS = ("wrong", "not_implemented", "student_error", "student_problem", "grader_error", "not_run")


@dataclass(frozen=True)
class Failure:
    """Why a check failed, as data. Each renderer decides what to show: a hidden check never shows ``expected``."""

    kind: str                 # one of FAILURE_KINDS
    expected: str = ""        # what the oracle says (never shown for a hidden check)
    seen: str = ""            # what the student's code gave or did
    hint: str = ""            # what to look at, in the chapter's words
    mistake: str = ""         # the name of the known mistake that reproduces what was seen, if one does
    convention: str = ""      # the handout convention the check enforces, when the failure is about it
    where: str = ""           # the line of the student's file an exception came from

    def text(self, *, show_expected: bool) -> str:
        """Plain text: "Expected / Seen / Hint" lines (the terminal's and results.json's wording)."""
        lines = [f"Expected: {self.expected}"] if show_expected and self.expected else []
        if self.seen:
            lines.append(f"Seen:     {self.seen}")
        if self.hint:
            lines.append(f"Hint:     {self.hint}")
        if self.convention:
            lines.append(f"Rule:     {self.convention}")
        return "\n".join(lines)


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
    def output(self) -> str:
        """The failure as the student may read it (nothing for a pass; no expected value for a hidden check)."""
        return self.failure.text(show_expected=not self.hidden) if self.failure is not None else ""


@dataclass(frozen=True)
class GradingRun:
    results: tuple[CheckResult, ...]
    execution_time: float
    notes: tuple[str, ...] = ()
    feedback: tuple["Panel", ...] = ()   # plot data from the student's code, for the HTML report
    isolation: "Isolation | None" = None  # how student code was isolated from the grader and other students

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


def to_gradescope(run: GradingRun) -> dict:
    """The results.json document (Gradescope's autograder specification), outputs in Markdown."""
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
             "output": markdown.cap(markdown.check_output(r.output), MAX_TEST_OUTPUT_CHARS),
             "tags": [r.assignment, r.exercise]}
            for r in run.results
        ],
    }


def write_json(document: dict, path: Path) -> None:
    """Write atomically: a reader never sees a half-written results file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def by_exercise(results: Iterable[CheckResult]) -> dict[tuple[str, str], list[CheckResult]]:
    """Results grouped by (assignment, exercise), in grading order."""
    groups: dict[tuple[str, str], list[CheckResult]] = {}
    for r in results:
        groups.setdefault((r.assignment, r.exercise), []).append(r)
    return groups
