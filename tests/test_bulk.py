"""Bulk grading: a class of mixed submissions (a hanging one and an attacking one included) finishes, and the
gradebook agrees with every student's results.json."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

from autograder.bulk import find_submissions
from autograder.limits import descendants
from tests.conftest import KIT_ROOT, grader_snapshot, run_grader, score_by_exercise
from tests.test_adversarial import ATTACKS
from tests.test_engine import VICTIM, reference
from tests.test_engine import FAST_LIMITS

pytestmark = pytest.mark.e2e

#: The class's course: the attacked assignment with short limits, and one the students did not hand in (its
#: columns must still be in the gradebook). Not torch's assignments: each grader slot would import torch twice
#: (its checks' side and its fork server) for files nobody submitted.
COURSE = (VICTIM, "perceptron_adaline")


@pytest.fixture(scope="module")
def course_config(tmp_path_factory) -> Path:
    raw = yaml.safe_load((KIT_ROOT / "grading.yml").read_text())
    raw["assignments"] = {name: raw["assignments"][name] for name in COURSE}
    raw["assignments"][VICTIM].update(FAST_LIMITS)
    path = tmp_path_factory.mktemp("course") / "grading.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="module")
def kit():
    """A snapshot of the grader that grade-all runs from (tests.conftest.grader_snapshot)."""
    root = grader_snapshot()
    yield root
    shutil.rmtree(root, ignore_errors=True)


STUB = (KIT_ROOT / "student_template" / f"{VICTIM}.py").read_text()
#: References, stubs and half-done files (several of each), a hang and an attacker: every kind of row, twice over.
CLASS_SIZE = 12


def _class_folder(root: Path, size: int = CLASS_SIZE) -> Path:
    """size students: references, stubs, half-done files, one that hangs at import, one that attacks."""
    root.mkdir()
    ref = reference(VICTIM)
    kinds = [ref, STUB, ref + "\ndef gradient_1d(x, y, a, b):\n    return 0.0, 0.0\n"]
    for i in range(size - 2):
        (root / f"student{i:02d}").mkdir()
        (root / f"student{i:02d}" / f"{VICTIM}.py").write_text(kinds[i % len(kinds)])
    (root / "hanger").mkdir()
    (root / "hanger" / f"{VICTIM}.py").write_text(ref + "\nwhile True:\n    pass\n")
    (root / "attacker").mkdir()
    (root / "attacker" / f"{VICTIM}.py").write_text(ref + ATTACKS["forge-results"])
    return root


def _grade_all(source: Path, out: Path, config: Path, kit: Path, *extra: str,
               boxes: set[str] | None = None) -> subprocess.CompletedProcess:
    """grade-all run from ``kit``, a snapshot of the grader: its fingerprints cover the grader's sources, so the
    re-run's "unchanged" must not depend on nobody editing the working tree meanwhile. ``boxes`` collects how the
    graders' boxes were started, seen in /proc every 50 ms: "forked" (a fork server's process) and "cold"."""
    argv = [sys.executable, "-m", "autograder", "grade-all", str(source), "--jobs", "2", "--out", str(out),
            "--config", str(config), *extra]
    with subprocess.Popen(argv, cwd=kit, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as popen:
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.05):
                for pid in descendants(popen.pid):
                    try:
                        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    except OSError:
                        continue
                    if b"/box/runtime/autograder/zygote_main.py" in cmdline:
                        boxes.add("forked")
                    elif b"/box/runtime/autograder/worker.py" in cmdline:
                        boxes.add("cold")
        watcher = threading.Thread(target=watch, daemon=True)
        if boxes is not None:
            watcher.start()
        try:
            stdout, stderr = popen.communicate(timeout=900)
        finally:
            done.set()
    if boxes is not None:
        watcher.join()
    proc = subprocess.CompletedProcess(argv, popen.returncode, stdout, stderr)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_a_class_grades_and_the_gradebook_matches_each_results_file(tmp_path, course_config, kit):
    source = _class_folder(tmp_path / "class")
    out = tmp_path / "out" / "gradebook.csv"
    boxes: set[str] = set()
    proc = _grade_all(source, out, course_config, kit, boxes=boxes)
    # grade-all's graders fork every box from a warm server (a single `grade` starts cold ones: compared below).
    assert boxes == {"forked"}, f"boxes seen during grade-all: {boxes or 'none'}"
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == CLASS_SIZE
    not_handed_in = [k for k in rows[0] if k.startswith(f"{COURSE[1]}/")]
    assert not_handed_in and all(float(r[k]) == 0 for r in rows for k in not_handed_in), rows[0]
    by_student = {r["student"]: r for r in rows}
    for student, row in by_student.items():
        doc = json.loads((out.parent / "students" / student / "results.json").read_text())
        assert float(row["total"]) == pytest.approx(doc["score"]), student
        exercise_sum = sum(float(v) for k, v in row.items() if "/" in k)
        assert exercise_sum == pytest.approx(doc["score"]), student
        for exercise, (score, _) in score_by_exercise(doc, VICTIM).items():
            assert float(row[f"{VICTIM}/{exercise}"]) == pytest.approx(score), (student, exercise)
        for test in doc["tests"]:  # each failure kept as data, a hidden check's without its expected value
            failure = test["extra_data"].get("failure")
            assert (failure is None) == test["extra_data"]["passed"], (student, test["name"])
            assert failure is None or test["visibility"] == "visible" or "expected" not in failure
    assert float(by_student["student00"]["total"]) > 0
    assert float(by_student["student01"]["total"]) == 0
    assert float(by_student["hanger"]["total"]) == 0 and by_student["hanger"]["status"] == "ok"
    assert float(by_student["attacker"]["total"]) < float(by_student["student00"]["total"])
    assert f"[{CLASS_SIZE}/{CLASS_SIZE}]" in proc.stderr
    assert "submissions a minute" in proc.stdout

    # Graded in a class (warm graders, boxes forked one after another) exactly as graded alone (cold boxes).
    for student in ("student00", "student02", "attacker"):
        alone, _ = run_grader(source / student, VICTIM, results=tmp_path / f"alone-{student}.json",
                              extra=("--config", str(course_config)))
        kept = json.loads((out.parent / "students" / student / "results.json").read_text())
        assert {t["name"]: t["score"] for t in kept["tests"] if t["tags"][0] == VICTIM} == \
            {t["name"]: t["score"] for t in alone["tests"]}, student

    # A second run regrades nothing that did not change; a changed file is regraded.
    (source / "student01" / f"{VICTIM}.py").write_text(reference(VICTIM))
    _grade_all(source, out, course_config, kit)
    again = {r["student"]: r for r in csv.DictReader(out.open())}
    assert again["student02"]["status"] == "ok (unchanged)"
    assert again["student01"]["status"] == "ok" and float(again["student01"]["total"]) > 0


def test_gradescope_export_zip_and_lms_flat_files_are_understood(tmp_path):
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as z:
        z.writestr("assignment_1_export/submission_11/linear_neuron.py", "x = 1\n")
        z.writestr("assignment_1_export/submission_12/nested/backprop.py", "x = 2\n")
        z.writestr("assignment_1_export/submission_metadata.yml",
                   "submission_11:\n  :submitters:\n  - :name: Ada Lovelace\n    :email: ada@example.org\n")
    subs = find_submissions(export, tmp_path / "work")
    assert {s.student: sorted(s.files) for s in subs} == {"Ada_Lovelace": ["linear_neuron.py"],
                                                           "submission_12": ["backprop.py"]}
    flat = tmp_path / "canvas"
    flat.mkdir()
    for name in ("doejane_1234_5678_linear_neuron.py", "doejane_1234_5678_backprop-1.py",
                 "smithjo_LATE_99_1_pytorch_basics.py", "notes.txt"):
        (flat / name).write_text("x = 1\n")
    subs = {s.student: sorted(s.files) for s in find_submissions(flat, tmp_path / "work2")}
    assert subs == {"doejane": ["backprop.py", "linear_neuron.py"], "smithjo": ["pytorch_basics.py"]}


def test_zip_entries_outside_the_archive_are_refused(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../../escaped.py", "x = 1\n")
    with pytest.raises(ValueError, match="outside"):
        find_submissions(evil, tmp_path / "work")
