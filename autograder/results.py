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
from typing import Iterable

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

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 40] + f"\n... ({len(text) - limit + 40} more characters cut)"


def to_gradescope(run: GradingRun) -> dict:
    """The results.json document (Gradescope's autograder specification)."""
    summary = [f"Score: {run.score:g} / {run.max_score:g}"] + list(run.notes)
    return {
        "score": round(run.score, 6),
        "execution_time": round(run.execution_time, 3),
        "output": _cap("\n".join(summary), MAX_TOP_OUTPUT_CHARS),
        "tests": [
            {"name": r.name, "score": round(r.score, 6), "max_score": r.max_score, "visibility": r.visibility,
             "output": _cap(r.output, MAX_TEST_OUTPUT_CHARS), "tags": [r.assignment, r.exercise]}
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
