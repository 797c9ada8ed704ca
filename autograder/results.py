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
    output: str = ""
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.assignment} {self.exercise}: {self.title}"


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
