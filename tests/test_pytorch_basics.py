"""pytorch_basics: the reference earns every point, the stub none (without crashing), and grading is repeatable."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import KIT_ROOT, run_grader

ASSIGNMENT = "pytorch_basics"


def _lost(doc: dict) -> list[str]:
    return [f"{t['name']}: {t['output']}" for t in doc["tests"] if t["score"] < t["max_score"]]


def test_reference_scores_full_marks_with_hidden_checks(tmp_path: Path):
    doc, _ = run_grader(KIT_ROOT / "reference", ASSIGNMENT, results=tmp_path / "reference.json")
    assert doc["score"] == 100, "\n".join(_lost(doc))
    assert any(t["visibility"] != "visible" for t in doc["tests"]), "no hidden check ran"


def test_stub_scores_zero_with_not_implemented_messages(tmp_path: Path):
    doc, _ = run_grader(KIT_ROOT / "student_template", ASSIGNMENT, results=tmp_path / "stub.json")
    assert doc["score"] == 0
    assert len(doc["tests"]) > 0
    for test in doc["tests"]:
        assert "Not implemented yet" in test["output"], f"{test['name']}: {test['output']}"


def test_grading_is_deterministic(tmp_path: Path):
    # Scores and every message (including the numbers they quote) are the same from one grading to the next.
    # A mutant with failures in every exercise gives messages with numbers to compare, not just "ok".
    reference = (KIT_ROOT / "reference" / f"{ASSIGNMENT}.py").read_text()
    mutant = (reference.replace("        optimizer.zero_grad()               # 1. forget last epoch's gradients\n", "")
              .replace("sum(batch_losses) / len(batch_losses)", "sum(batch_losses)")
              .replace("merged.bias.copy_(W2 @ b1 + b2)", "merged.bias.copy_(b2)"))
    assert mutant != reference
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
