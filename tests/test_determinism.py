"""No check is flaky: the reference gets full marks with hidden checks identically over 20 gradings, and a
sandboxed grading gives exactly the verdicts and messages of the in-process judging the bug zoo relies on.

The repeated gradings run in-process (the same check code, without the sandbox's start-up); what only the sandbox
measures (CPU time read from outside the box) is repeated sandboxed by tests/test_cheats.py, and the equality
test below ties the two paths together.
"""
from __future__ import annotations

import json

import pytest

from autograder.config import assignment_names
from tests.conftest import KIT_ROOT, grade_warm, judge_in_process

ASSIGNMENTS = assignment_names()
REPEATS = 20  # the issues' acceptance bar


def _outcomes(results) -> list:
    return [[r.check_id, r.score, r.max_score, r.output] for r in results]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_scores_full_marks_identically_over_repeated_gradings(assignment):
    runs = [_outcomes(judge_in_process(KIT_ROOT / "reference", assignment)) for _ in range(REPEATS)]
    first = runs[0]
    lost = [(check, output) for check, score, top, output in first if score < top]
    assert not lost, f"the reference lost points: {lost}"
    for i, run in enumerate(runs[1:], start=2):
        assert run == first, f"grading {i} differs from grading 1"


@pytest.mark.parametrize("folder", ["reference", "student_template"])
def test_a_sandboxed_grading_judges_exactly_like_the_in_process_one(folder, tmp_path):
    doc = grade_warm(KIT_ROOT / folder, results=tmp_path / "results.json")
    sandboxed = [(t["name"], t["score"], t["max_score"]) for t in doc["tests"]]
    in_process = [(r.name, r.score, r.max_score) for a in ASSIGNMENTS
                  for r in judge_in_process(KIT_ROOT / folder, a)]
    assert sandboxed == in_process, json.dumps([s for s in sandboxed if s not in in_process], indent=1)


def test_an_in_process_start_up_is_not_the_first_checks_time(tmp_path):
    """As in the sandbox, importing the libraries and the student's module does not count against the first
    check's limit: a slow start on a loaded machine must not fail the reference."""
    import time

    from autograder.inprocess import InProcessWorker
    from autograder.remote import Student

    module = tmp_path / "linear_neuron.py"
    module.write_text("import time\ntime.sleep(1.5)  # a slow start\n\ndef answer():\n    return 42\n")
    worker = InProcessWorker("linear_neuron", module)
    student = Student(worker, "x", time.monotonic() + 60).limit_to(1.0)
    assert student.answer() == 42
    assert worker.startup_seconds >= 1.5
