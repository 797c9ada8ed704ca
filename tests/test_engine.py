"""The grading engine end to end, with the real checks: broken and hostile submissions cannot break grading,
gain points, or touch other assignments. Hostile submissions go through the real CLI; honest baselines and the
gradings that are not about the command line, through the test worker's warm grader (the same sandboxed grading
without the start-up: :class:`tests.conftest.WarmGrader`)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from autograder import config as cfg
from tests.conftest import KIT_ROOT, grade_warm, run_grader, score_by_exercise

SCHEMA = json.loads((KIT_ROOT / "autograder" / "results.schema.json").read_text())
REFERENCE = KIT_ROOT / "reference"
VICTIM = "linear_neuron"        # the assignment each hostile submission attacks
NEIGHBOUR = "backprop"         # submitted correctly beside it: must keep full marks
#: Small limits so that hanging submissions are cut quickly in these tests.
FAST_LIMITS = {"time_limit": 20, "check_timeout": 2, "import_timeout": 6}


def reference(name: str) -> str:
    return (REFERENCE / f"{name}.py").read_text()


def validate(doc: dict) -> None:
    jsonschema.validate(doc, SCHEMA)
    assert len(json.dumps(doc)) < 1_000_000


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory) -> Path:
    """grading.yml with short time limits for the victim assignment (same checks, same points)."""
    raw = yaml.safe_load((KIT_ROOT / "grading.yml").read_text())
    raw["assignments"][VICTIM].update(FAST_LIMITS)
    path = tmp_path_factory.mktemp("config") / "grading.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


def grade_hostile(submission, fast_config: Path, victim_source: str, name: str = "sub", *, honest: bool = False,
                  **extra_files: str) -> tuple[dict, float]:
    """(results.json, seconds) of grading the victim beside the reference neighbour with short limits: through the
    real CLI (issue 11: every attack the kit resisted is graded by `grade`), or for an ``honest`` baseline by the
    test worker's warm grader (the same grading without the start-up)."""
    files = {f"{VICTIM}.py": victim_source, f"{NEIGHBOUR}.py": reference(NEIGHBOUR), **extra_files}
    folder = submission(files, name)
    start = time.monotonic()
    if honest:
        doc = grade_warm(folder, VICTIM, NEIGHBOUR, config=fast_config)
    else:
        doc, _ = run_grader(folder, VICTIM, NEIGHBOUR, extra=("--config", str(fast_config)))
    validate(doc)
    return doc, time.monotonic() - start


def victim_tests(doc: dict, exercise: str | None = None) -> list[dict]:
    return [t for t in doc["tests"] if t["tags"][0] == VICTIM and (exercise is None or t["tags"][1] == exercise)]


def assert_neighbour_full(doc: dict) -> None:
    for exercise, (score, top) in score_by_exercise(doc, NEIGHBOUR).items():
        assert score == top, f"{NEIGHBOUR} {exercise} lost points next to a hostile {VICTIM}.py"


def assert_all_zero_saying(tests: list[dict], text: str) -> None:
    assert tests
    for t in tests:
        assert t["score"] == 0, t
        assert text.lower() in t["output"].lower(), t["output"]


# -- broken at import ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tail, says", [
    ("\ndef broken(:\n    pass\n", "SyntaxError"),
    ("\nraise RuntimeError('boom at import')\n", "boom at import"),
    ("\nimport sys\nsys.exit(3)\n", "sys.exit"),
    ("\nwhile True:\n    pass\n", "time limit"),
    ("\nfor _ in range(60):\n    print('x' * 1_000_000)\n", "printed more than"),
], ids=["syntax-error", "raise-at-import", "sys-exit-at-import", "loop-at-import", "flood-at-import"])
def test_module_that_cannot_import_scores_zero_and_spares_other_assignments(submission, fast_config, tail, says):
    doc, seconds = grade_hostile(submission, fast_config, reference(VICTIM) + tail)
    assert_all_zero_saying(victim_tests(doc), says)
    assert_all_zero_saying(victim_tests(doc), "could not be imported")
    assert_neighbour_full(doc)
    assert seconds < FAST_LIMITS["import_timeout"] + 60


# -- broken inside one function --------------------------------------------------------------------------------

HOSTILE_GRADIENT = {
    "os-exit": ("import os\n    os._exit(7)", "ended"),
    "endless-loop": ("while True:\n        pass", "time limit"),
    "flood": ("for _ in range(50):\n        print('y' * 1_000_000)\n    return 0.0, 0.0", "printed more than"),
}


@pytest.mark.parametrize("body, says", HOSTILE_GRADIENT.values(), ids=HOSTILE_GRADIENT.keys())
def test_function_that_dies_hangs_or_floods_fails_only_its_own_checks(submission, fast_config, body, says):
    source = reference(VICTIM) + f"\n\ndef gradient_1d(x, y, a, b):\n    {body}\n"
    doc, seconds = grade_hostile(submission, fast_config, source)
    assert_all_zero_saying(victim_tests(doc, "ex1"), says)
    others = [t for t in victim_tests(doc) if t["tags"][1] != "ex1"]
    lost = [t["name"] for t in others if t["score"] < t["max_score"]]
    assert not lost, f"checks outside ex1 lost points after the worker restarted: {lost}"
    assert_neighbour_full(doc)
    assert seconds < FAST_LIMITS["time_limit"] + 60


# -- cheating --------------------------------------------------------------------------------------------------

PATCHES = """
import numpy as _np, numpy.testing as _npt, pytest as _pytest
_np.allclose = lambda *a, **k: True
_np.isclose = lambda *a, **k: True
_npt.assert_allclose = lambda *a, **k: None
_pytest.approx = lambda expected, *a, **k: type("Any", (), {"__eq__": lambda s, o: True})()

def gradient_1d(x, y, a, b):
    return 0.0, 0.0
"""


def test_monkeypatching_numpy_and_pytest_at_import_gains_nothing(submission, fast_config):
    plain, _ = grade_hostile(submission, fast_config,
                             reference(VICTIM) + "\ndef gradient_1d(x, y, a, b):\n    return 0.0, 0.0\n", honest=True)
    patched, _ = grade_hostile(submission, fast_config, reference(VICTIM) + PATCHES, "patched")
    score, top = score_by_exercise(patched, VICTIM)["ex1"]
    assert score < top
    assert patched["score"] == plain["score"]


def test_extra_files_beside_the_submission_change_nothing(submission, fast_config):
    honest, _ = grade_hostile(submission, fast_config, reference(VICTIM), honest=True)
    extras = {
        "conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
                       "def pytest_runtest_makereport(item, call):\n    raise SystemExit('hijacked')\n",
        "numpy.py": "raise ImportError('fake numpy')\n",
        "sitecustomize.py": "import os; os._exit(9)\n",
        "pytest.ini": "[pytest]\naddopts = --collect-only\n",
    }
    tampered, _ = grade_hostile(submission, fast_config, reference(VICTIM), "tampered", **extras)
    assert [t["score"] for t in tampered["tests"]] == [t["score"] for t in honest["tests"]]
    assert tampered["score"] == honest["score"]


# -- missing files, usage errors, results ----------------------------------------------------------------------

def test_missing_file_still_yields_all_its_tests_with_zero(submission):
    folder = submission({f"{NEIGHBOUR}.py": reference(NEIGHBOUR)})
    doc = grade_warm(folder, VICTIM, NEIGHBOUR)
    validate(doc)
    config = cfg.load()
    assert len(victim_tests(doc)) == len(list(config.assignments[VICTIM].checks()))
    assert_all_zero_saying(victim_tests(doc), "missing from your submission")
    assert_neighbour_full(doc)


@pytest.mark.parametrize("argv, says", [
    (["grade", "--assignment", "no_such_assignment"], "unknown assignment"),
    (["grade", "--submission", "/no/such/dir"], "does not exist"),
    (["grade", "--no-such-flag"], "unrecognized arguments"),
], ids=["unknown-assignment", "missing-submission", "unknown-flag"])
def test_usage_errors_exit_nonzero_with_one_line(argv, says):
    proc = subprocess.run([sys.executable, "-m", "autograder", *argv], cwd=KIT_ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], proc.stderr


def test_stubs_score_zero_with_not_implemented_and_valid_results(tmp_path):
    doc, proc = run_grader(KIT_ROOT / "student_template", VICTIM, hidden=False, results=tmp_path / "r.json")
    validate(doc)
    assert doc["score"] == 0
    assert_all_zero_saying(victim_tests(doc), "not implemented yet")
    assert "Total" in proc.stdout and "Not implemented yet" in proc.stdout


def test_reference_gets_full_marks_with_hidden_checks(tmp_path):
    doc, _ = run_grader(REFERENCE, hidden=True, results=tmp_path / "r.json")
    validate(doc)
    lost = [f"{t['name']}: {t['output']}" for t in doc["tests"] if t["score"] < t["max_score"]]
    assert not lost, "\n".join(lost)
    assert {t["visibility"] for t in doc["tests"]} >= {"visible", "hidden"}


def test_visible_grading_runs_no_hidden_check(tmp_path):
    doc = grade_warm(REFERENCE, VICTIM, hidden=False, results=tmp_path / "r.json")
    assert doc["tests"] and all(t["visibility"] == "visible" for t in doc["tests"])
