"""linear_neuron: the reference earns every point, the stub none (without crashing), grading is repeatable, and the
handout's points agree with grading.yml."""
from __future__ import annotations

import re
from pathlib import Path

from autograder import config as cfg
from tests.conftest import KIT_ROOT, run_grader

ASSIGNMENT = "linear_neuron"


def _lost(doc: dict) -> list[str]:
    return [f"{t['name']}: {t['output']}" for t in doc["tests"] if t["score"] < t["max_score"]]


def test_reference_scores_full_marks_with_hidden_checks(tmp_path: Path):
    doc, _ = run_grader(KIT_ROOT / "reference", ASSIGNMENT, results=tmp_path / "reference.json")
    assert doc["score"] == 100, "\n".join(_lost(doc))
    assert any(t["visibility"] != "visible" for t in doc["tests"]), "no hidden check ran"


def test_stub_scores_zero_with_not_implemented_messages(tmp_path: Path):
    doc, _ = run_grader(KIT_ROOT / "student_template", ASSIGNMENT, results=tmp_path / "stub.json")
    assert doc["score"] == 0
    assert len(doc["tests"]) == len(list(cfg.load().assignments[ASSIGNMENT].checks()))
    for test in doc["tests"]:
        assert "Not implemented yet" in test["output"], f"{test['name']}: {test['output']}"


def test_grading_is_deterministic(tmp_path: Path):
    # Scores and every message (including the numbers they quote) are the same from one grading to the next.
    # The mutant fails checks in several exercises, with numbers in its messages (no timing check among them).
    reference = (KIT_ROOT / "reference" / f"{ASSIGNMENT}.py").read_text()
    mutant = (reference
              .replace("return float(np.mean(err * x)), float(np.mean(err))",
                       "return float(np.sum(err * x)), float(np.mean(err))")
              .replace("            self.history.append(float(np.mean(err ** 2)))\n            self.a, self.b",
                       "            self.history.append(float(np.sum(err ** 2)))\n            self.a, self.b")
              .replace("replace=False)\n", "replace=True)\n")
              .replace("    scaler = StandardScaler().fit(X_train)\n",
                       "    scaler = StandardScaler().fit(np.vstack([X_train, X_test]))\n"))
    assert mutant.count("np.sum") == 2 and "replace=True" in mutant and "vstack" in mutant
    folder = tmp_path / "mutant"
    folder.mkdir()
    (folder / f"{ASSIGNMENT}.py").write_text(mutant)
    runs = []
    for submission in (KIT_ROOT / "reference", folder):
        first, _ = run_grader(submission, ASSIGNMENT, results=tmp_path / f"{submission.name}-1.json")
        second, _ = run_grader(submission, ASSIGNMENT, results=tmp_path / f"{submission.name}-2.json")
        runs.append((first, second))
    for first, second in runs:
        assert [(t["name"], t["score"], t["output"]) for t in first["tests"]] == \
               [(t["name"], t["score"], t["output"]) for t in second["tests"]]
    assert runs[1][0]["score"] < 100


def test_handout_points_match_grading_yml():
    """The points table of the handout (and each exercise heading) states what grading.yml awards."""
    assignment = cfg.load().assignments[ASSIGNMENT]
    handout = (KIT_ROOT / "assignments" / ASSIGNMENT / "README.md").read_text()
    for exercise in assignment.exercises.values():
        visible = sum(c.points for c in exercise.checks.values() if not c.hidden)
        hidden = sum(c.points for c in exercise.checks.values() if c.hidden)
        row = re.search(rf"^\| {exercise.id} [^|]*\| (\d+) \| (\d+) \| (\d+) \|$", handout, re.MULTILINE)
        assert row, f"no row for {exercise.id} in the handout's points table"
        assert tuple(int(v) for v in row.groups()) == (visible, hidden, visible + hidden), exercise.id
        number = int(exercise.id[2:])
        heading = re.search(rf"^### Exercise {number}:.*\((\d+) points\)$", handout, re.MULTILINE)
        assert heading and int(heading.group(1)) == visible + hidden, f"heading of exercise {number}"
    total = re.search(r"^\| \*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|$", handout, re.MULTILINE)
    hidden_total = sum(c.points for c in assignment.checks() if c.hidden)
    assert total and tuple(int(v) for v in total.groups()) == (
        assignment.total_points - hidden_total, hidden_total, assignment.total_points)


def test_scaler_watch_probe_records_fits_and_restores_the_classes():
    """The probe that watches train_house_model sees every scaler fit and leaves sklearn as it found it."""
    import importlib.util

    import numpy as np
    from sklearn import preprocessing

    from autograder.probes import linear_neuron as probes

    spec = importlib.util.spec_from_file_location("reference_linear_neuron", KIT_ROOT / "reference" / f"{ASSIGNMENT}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = (preprocessing.StandardScaler, preprocessing.MinMaxScaler, preprocessing.RobustScaler,
               preprocessing.MaxAbsScaler)
    before = {(cls, name): cls.__dict__.get(name) for cls in classes for name in ("fit", "partial_fit", "fit_transform")}
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(size=(40, 3)), rng.normal(size=(10, 3)) + 100
    y_train, y_test = rng.normal(size=40), rng.normal(size=10)
    watched = probes.watch_scaler_fits(module, X_train, y_train, X_test, y_test, epochs=3)
    assert all(cls.__dict__.get(name) is f for (cls, name), f in before.items())
    assert watched["fits"] and all(np.array_equal(f["rows"], X_train) for f in watched["fits"])
    assert isinstance(watched["result"][0], module.LinearNeuron)

    module.standardize = lambda a, b: (lambda s: (s.transform(a), s.transform(b), s))(
        preprocessing.StandardScaler().fit(np.vstack([a, b])))
    watched = probes.watch_scaler_fits(module, X_train, y_train, X_test, y_test, epochs=3)
    assert any(len(f["rows"]) == 50 for f in watched["fits"])
    assert all(cls.__dict__.get(name) is f for (cls, name), f in before.items())
