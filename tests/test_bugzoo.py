"""The bug zoo: every mutant loses points in its exercise with a message naming the mistake; every alternative
keeps full marks. Graded with hidden checks by a warm grade-server (the other assignments' files are missing and
score 0 at once)."""
from __future__ import annotations

import importlib

import pytest

from autograder.config import ASSIGNMENTS
from tests.bugzoo.zoo import build_source
from tests.conftest import score_by_exercise


def _zoo(kind: str):
    for assignment in ASSIGNMENTS:
        try:
            module = importlib.import_module(f"tests.bugzoo.{assignment}")
        except ModuleNotFoundError:
            continue
        for variant in getattr(module, kind):
            yield pytest.param(assignment, variant, id=f"{assignment}-{variant.name}")


@pytest.mark.parametrize("assignment, mutant", list(_zoo("MUTANTS")))
def test_mutant_loses_points_in_its_exercise(assignment, mutant, submission, warm_grader):
    folder = submission({f"{assignment}.py": build_source(assignment, mutant)})
    doc = warm_grader(folder)
    score, top = score_by_exercise(doc, assignment)[mutant.exercise]
    assert score < top, f"mutant {mutant.name} ({mutant.why}) kept full marks in {mutant.exercise}"
    outputs = [t["output"] for t in doc["tests"] if t["tags"] == [assignment, mutant.exercise] and t["score"] < t["max_score"]]
    assert any(mutant.says.lower() in o.lower() for o in outputs), (
        f"mutant {mutant.name}: no failing {mutant.exercise} check says {mutant.says!r}; outputs were:\n"
        + "\n---\n".join(outputs))


@pytest.mark.parametrize("assignment, alternative", list(_zoo("ALTERNATIVES")))
def test_alternative_keeps_full_marks(assignment, alternative, submission, warm_grader):
    folder = submission({f"{assignment}.py": build_source(assignment, alternative)})
    doc = warm_grader(folder)
    lost = [f"{t['name']}: {t['output']}" for t in doc["tests"]
            if t["tags"][0] == assignment and t["score"] < t["max_score"]]
    assert not lost, f"alternative {alternative.name} lost points:\n" + "\n".join(lost)
