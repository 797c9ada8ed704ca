"""backprop: the reference earns every point, the stub none (without crashing), grading is repeatable, the handout's
points agree with grading.yml, and the probes record what the checks rely on."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np

from autograder import config as cfg
from tests.conftest import KIT_ROOT, run_grader

ASSIGNMENT = "backprop"


def _lost(doc: dict) -> list[str]:
    return [f"{t['name']}: {t['output']}" for t in doc["tests"] if t["score"] < t["max_score"]]


def _reference_module():
    spec = importlib.util.spec_from_file_location("reference_backprop", KIT_ROOT / "reference" / f"{ASSIGNMENT}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    # The mutant fails checks in several exercises, with numbers in its messages: losses, gradients, histories of
    # shuffled minibatches.
    reference = (KIT_ROOT / "reference" / f"{ASSIGNMENT}.py").read_text()
    mutant = (reference
              .replace("    return float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))\n",
                       "    return float(np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2))\n")
              .replace("    return (np.asarray(z) > 0).astype(np.float64)\n",
                       "    return (np.asarray(z) >= 0).astype(np.float64)\n")
              .replace("        delta = 2.0 * (a_out - y) / a_out.size * sigmoid_derivative(a_out)\n",
                       "        delta = (a_out - y) * sigmoid_derivative(a_out)\n"))
    assert mutant.count("np.sum((np.asarray") == 1 and ">= 0).astype" in mutant and "delta = (a_out - y)" in mutant
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
    lost = {t["tags"][1] for t in runs[1][0]["tests"] if t["score"] < t["max_score"]}
    assert {"ex1", "ex2", "ex5", "ex6", "ex7"} <= lost


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


def test_sigmoid_probe_reports_overflow_and_leaves_the_error_state_alone():
    from autograder.probes import backprop as probes

    module = _reference_module()
    before = np.geterr()
    clean = probes.sigmoid_strictly(module, np.array([-1000.0, 0.0, 1000.0]))
    assert clean["problem"] is None and clean["warnings"] == []
    assert clean["value"].tolist() == [0.0, 0.5, 1.0]
    module.sigmoid = lambda z: 1.0 / (1.0 + np.exp(-np.asarray(z)))
    naive = probes.sigmoid_strictly(module, np.array([-1000.0, 0.0, 1000.0]))
    assert naive["value"] is None and "overflow" in naive["problem"]
    assert np.geterr() == before


def test_minibatch_probe_records_the_rows_and_restores_the_methods():
    from autograder.probes import backprop as probes

    module = _reference_module()
    net = module.NeuralNetworkMiniBatch([2, 3, 1])
    X = np.random.default_rng(0).normal(size=(7, 2))
    y = (X[:, :1] > 0).astype(float)
    record = probes.record_minibatch_training(module, net, X, y, epochs=2, lr=0.5, batch_size=3)
    backward = [rows for kind, rows in record["events"] if kind == "backward"]
    assert [len(rows) for rows in backward] == [3, 3, 1, 3, 3, 1]
    assert sorted(sum(backward[:3], [])) == list(range(7)) and sorted(sum(backward[3:], [])) == list(range(7))
    assert record["history"].shape == (2,)
    assert "forward" not in net.__dict__ and "backward" not in net.__dict__
    assert probes.set_params(module, net, {"W1": np.ones((2, 3))}) is None and net.params["W1"].sum() == 6
