"""Every assignment, the same guarantees: the stub scores 0 without crashing (every check saying "Not implemented
yet"), a wrong submission grades identically twice, and the handout's points agree with grading.yml.
(The reference's full marks are in test_engine.py and, 20 gradings over, in test_determinism.py.)"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from autograder import config as cfg
from autograder.config import assignment_names

ASSIGNMENTS = assignment_names()
from autograder.zoo import REFERENCE_DIR
from tests.conftest import KIT_ROOT, grade_warm

#: Mistakes in this many different exercises go into the wrong submission whose two gradings are compared.
EXERCISES_WITH_A_MISTAKE = 4


def several_mistakes(assignment: str) -> str:
    """The reference with zoo mutants of different exercises applied together (those that still apply)."""
    text = (REFERENCE_DIR / f"{assignment}.py").read_text()
    used: set[str] = set()
    for mutant in importlib.import_module(f"assignments.{assignment}.bugzoo").MUTANTS:
        if mutant.exercise in used or len(used) == EXERCISES_WITH_A_MISTAKE:
            continue
        if all(text.count(old) == 1 for old, _ in mutant.replace):
            for old, new in mutant.replace:
                text = text.replace(old, new)
            used.add(mutant.exercise)
    return text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stub_scores_zero_with_not_implemented_messages(assignment: str, tmp_path: Path):
    doc = grade_warm(KIT_ROOT / "student_template", assignment, results=tmp_path / "stub.json")
    assert doc["score"] == 0
    assert len(doc["tests"]) == len(list(cfg.load().assignments[assignment].checks()))
    for test in doc["tests"]:
        assert "Not implemented yet" in test["output"], f"{test['name']}: {test['output']}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_wrong_submission_grades_identically_twice(assignment: str, submission):
    folder = submission({f"{assignment}.py": several_mistakes(assignment)})
    first = grade_warm(folder, assignment, results=folder.parent / "first.json")
    second = grade_warm(folder, assignment, results=folder.parent / "second.json")
    lost = {t["tags"][1] for t in first["tests"] if t["score"] < t["max_score"]}
    assert len(lost) >= EXERCISES_WITH_A_MISTAKE - 1, f"the mistakes cost points only in {sorted(lost)}"
    assert [(t["name"], t["score"], t["output"]) for t in first["tests"]] == \
           [(t["name"], t["score"], t["output"]) for t in second["tests"]]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_handout_points_match_grading_yml(assignment: str):
    """The points table of the handout (and each exercise heading) states what grading.yml awards."""
    config = cfg.load().assignments[assignment]
    handout = (KIT_ROOT / "assignments" / assignment / "README.md").read_text()
    for exercise in config.exercises.values():
        visible = sum(c.points for c in exercise.checks.values() if not c.hidden)
        hidden = sum(c.points for c in exercise.checks.values() if c.hidden)
        row = re.search(rf"^\| {exercise.id} [^|]*\| (\d+) \| (\d+) \| (\d+) \|$", handout, re.MULTILINE)
        assert row, f"no row for {exercise.id} in the handout's points table"
        assert tuple(int(v) for v in row.groups()) == (visible, hidden, visible + hidden), exercise.id
        number = int(exercise.id[2:])
        heading = re.search(rf"^### Exercise {number}:.*\((\d+) points\)$", handout, re.MULTILINE)
        assert heading and int(heading.group(1)) == visible + hidden, f"heading of exercise {number}"
    total = re.search(r"^\| \*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|$", handout, re.MULTILINE)
    hidden_total = sum(c.points for c in config.checks() if c.hidden)
    assert total and tuple(int(v) for v in total.groups()) == (
        config.total_points - hidden_total, hidden_total, config.total_points)


def test_what_a_box_imports_ahead_comes_from_the_kits_own_contract_files(tmp_path, monkeypatch):
    """A box imports its assignment's libraries before the student's module, as read from the kit's reference or
    stub: pytorch_basics' box (torch and torch._dynamo, the grading's memory peak) and linear_neuron's (scikit-
    learn). A kit with neither (a Gradescope zip) cannot tell: its cold boxes import nothing ahead (not every
    library into every box) and the next box starts as before; a fork server imports every library once."""
    from autograder import assignment as parts
    assert "torch._dynamo" in parts.declared_libraries("pytorch_basics")
    assert "sklearn.preprocessing" in parts.declared_libraries("linear_neuron")
    assert parts.memory_peak("pytorch_basics") and not parts.memory_peak("backprop")
    assert "torch" not in parts.declared_libraries("backprop")
    monkeypatch.setattr(parts, "KIT_ROOT", tmp_path)
    assert parts.declared_libraries("pytorch_basics") is None
    assert not parts.memory_peak("pytorch_basics")
    assert {"numpy", "sklearn", "torch"} <= set(parts.libraries("pytorch_basics"))
