"""The bug zoo: every mutant loses points in its exercise with a message naming the mistake, each failure with a
hint, and if it loses hidden points it also fails a visible check there (visible first, issue 13:
:mod:`tests.test_visible_first`); every check is failed by some mutant of its exercise (each check catches a
mistake); every alternative keeps full marks. Judged in-process (the same check code as a sandboxed grading, without
its start-up): a mutant by its exercise's checks, hidden ones included; an alternative by all of its assignment's
checks."""
from __future__ import annotations

import os
import pickle
from collections.abc import Mapping

import pytest

from autograder import assignment as parts
from autograder import config as cfg
from autograder.config import assignment_names
from autograder.zoo import Mutant, build_source
from tests.conftest import judge_in_process, session_folder
from tests.test_visible_first import assert_visible_first


def _variants(assignment: str, kind: str) -> list:
    """``kind`` ("MUTANTS" or "ALTERNATIVES") of the assignment's bug zoo (none when it has no zoo)."""
    return list(getattr(parts.part(assignment, "bugzoo"), kind, []))


def _zoo(kind: str):
    for assignment in assignment_names():
        for variant in _variants(assignment, kind):
            yield pytest.param(assignment, variant, id=f"{assignment}-{variant.name}")


#: Verdicts of the mutants read or judged by this test worker, by (assignment, mutant).
_JUDGED: dict[tuple[str, str], list] = {}


def judged(assignment: str, mutant: Mutant, tmp_path_factory: pytest.TempPathFactory) -> list:
    """The results of ``mutant``'s exercise's checks (hidden ones included) on it. A mutant's own test and the
    coverage tests of its assignment read the same judging: the first pytest-xdist worker to judge a mutant
    leaves its results in the session's shared folder, where the others find them."""
    key = (assignment, mutant.name)
    if key not in _JUDGED:
        shared = session_folder(tmp_path_factory, "zoo") / f"{assignment}-{mutant.name}.pickle"
        if shared.is_file():
            _JUDGED[key] = pickle.loads(shared.read_bytes())
        else:
            folder = tmp_path_factory.mktemp(f"{assignment}-{mutant.name}")
            (folder / f"{assignment}.py").write_text(build_source(assignment, mutant))
            _JUDGED[key] = judge_in_process(folder, assignment, exercise=mutant.exercise)
            partial = shared.with_name(f"{shared.name}.{os.getpid()}")
            partial.write_bytes(pickle.dumps(_JUDGED[key]))
            partial.replace(shared)  # whole or absent for the other workers
    return _JUDGED[key]


@pytest.mark.parametrize("assignment, mutant", list(_zoo("MUTANTS")))
def test_mutant_loses_points_in_its_exercise_visibly_first_and_with_a_hint(assignment, mutant, tmp_path_factory):
    results = judged(assignment, mutant, tmp_path_factory)
    assert results, f"no check of {assignment} {mutant.exercise} ran"
    failed = [r for r in results if not r.passed]
    assert failed, f"mutant {mutant.name} ({mutant.why}) kept full marks in {mutant.exercise}"
    outputs = [r.output for r in failed]
    assert any(mutant.says.lower() in o.lower() for o in outputs), (
        f"mutant {mutant.name}: no failing {mutant.exercise} check says {mutant.says!r}; outputs were:\n"
        + "\n---\n".join(outputs))
    # Every failure says what to look at (a hint, the known mistake it reproduces, or the rule it breaks), not only
    # what was expected and seen.
    silent = [r.name for r in failed if not (r.failure and (r.failure.hint or r.failure.mistake
                                                            or r.failure.convention))]
    assert not silent, f"mutant {mutant.name}: these failures give no hint, mistake or convention: {silent}"
    # Visible first: judged on the same verdicts, so the zoo is judged once.
    assert_visible_first(f"{assignment} mutant {mutant.name} ({mutant.why}, {mutant.exercise})", results)


@pytest.mark.parametrize("assignment", [a for a in assignment_names() if _variants(a, "MUTANTS")])
def test_every_check_is_failed_by_some_mutant_of_its_exercise(assignment, tmp_path_factory):
    """Every check earns its place: some realistic mistake of its exercise (a mutant of the zoo) fails it, hidden
    checks included. A check no mutant fails either tests nothing a student gets wrong or lacks its mutant."""
    caught = {r.check_id for m in _variants(assignment, "MUTANTS") for r in judged(assignment, m, tmp_path_factory)
              if not r.passed}
    missed = [f"{c.exercise} {c.id}" for c in cfg.load().assignments[assignment].checks() if c.id not in caught]
    assert not missed, (f"{assignment}: no mutant of the exercise fails these checks; add to "
                        f"assignments/{assignment}/bugzoo.py a mutant with the mistake each one catches:\n  "
                        + "\n  ".join(missed))


def _catalogued(assignment: str) -> dict[str, list[str]]:
    """{label: [name]} of every Mistake in the assignment's catalogue module (assignments/<a>/mistakes.py), in
    catalogues (dicts, lists) or alone. A failure names a mistake by its label (``Mistake.label``)."""
    from autograder.mistakes import Mistake

    module = parts.part(assignment, "mistakes")
    found: dict[str, list[str]] = {}

    def walk(value) -> None:
        if isinstance(value, Mistake):
            found.setdefault(value.label, []).append(value.name)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for value in vars(module).values():
        walk(value)
    return found


@pytest.mark.parametrize("assignment", [a for a in assignment_names() if _variants(a, "MUTANTS")])
def test_every_catalogued_mistake_is_named_for_some_mutant(assignment, tmp_path_factory):
    """Every known mistake of the catalogue is named, end to end, when a mutant makes it: the checks' diagnosis
    reaches it from what real student code returns, not only from its replay (tests/test_*_mistakes.py). A failure
    names a mistake by its label, which the same mistake in two catalogues shares (a sequential update of the 1-D and
    of the multi-input neuron): a label is covered when some mutant's failure shows it."""
    named = {r.failure.mistake for m in _variants(assignment, "MUTANTS")
             for r in judged(assignment, m, tmp_path_factory) if not r.passed and r.failure is not None}
    never = {label: names for label, names in _catalogued(assignment).items() if label not in named}
    assert not never, (f"{assignment}: no mutant's failure names these mistakes of mistakes.py; add to "
                       f"assignments/{assignment}/bugzoo.py a mutant making each: {never}")


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
