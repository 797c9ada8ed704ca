"""The bug zoo: every mutant loses points in its exercise with a message naming the mistake, and if it loses hidden
points it also fails a visible check there (visible first, issue 13: :mod:`tests.test_visible_first`); every
alternative keeps full marks. Judged in-process (the same check code as a sandboxed grading, without its start-up):
a mutant by its exercise's checks, hidden ones included; an alternative by all of its assignment's checks."""
from __future__ import annotations

import importlib

import pytest

from autograder.config import assignment_names
from autograder.zoo import build_source
from tests.conftest import judge_in_process
from tests.test_visible_first import assert_visible_first


def _zoo(kind: str):
    for assignment in assignment_names():
        try:
            module = importlib.import_module(f"assignments.{assignment}.bugzoo")
        except ModuleNotFoundError:
            continue
        for variant in getattr(module, kind):
            yield pytest.param(assignment, variant, id=f"{assignment}-{variant.name}")


@pytest.mark.parametrize("assignment, mutant", list(_zoo("MUTANTS")))
def test_mutant_loses_points_in_its_exercise_and_visibly_first(assignment, mutant, submission):
    folder = submission({f"{assignment}.py": build_source(assignment, mutant)})
    results = judge_in_process(folder, assignment, exercise=mutant.exercise)
    assert results, f"no check of {assignment} {mutant.exercise} ran"
    failed = [r for r in results if not r.passed]
    assert failed, f"mutant {mutant.name} ({mutant.why}) kept full marks in {mutant.exercise}"
    outputs = [r.output for r in failed]
    assert any(mutant.says.lower() in o.lower() for o in outputs), (
        f"mutant {mutant.name}: no failing {mutant.exercise} check says {mutant.says!r}; outputs were:\n"
        + "\n---\n".join(outputs))
    # Visible first: judged on the same verdicts, so the zoo is judged once.
    assert_visible_first(f"{assignment} mutant {mutant.name} ({mutant.why}, {mutant.exercise})", results)


#: A correct solution keeps full marks in this many runs, each under other request seeds: what its own unseeded
#: randomness (np.random.default_rng() without a seed, torch's initial weights) meets in different gradings.
UNSEEDED_RUNS = 5


@pytest.mark.parametrize("assignment, alternative", list(_zoo("ALTERNATIVES")))
def test_alternative_keeps_full_marks_in_every_unseeded_run(assignment, alternative, submission):
    folder = submission({f"{assignment}.py": build_source(assignment, alternative)})
    for run in range(UNSEEDED_RUNS):
        lost = [f"{r.name}: {r.output}" for r in judge_in_process(folder, assignment, seed_salt=run)
                if not r.passed]
        assert not lost, f"alternative {alternative.name} lost points in run {run + 1}:\n" + "\n".join(lost)
