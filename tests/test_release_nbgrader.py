"""The nbgrader course of `make release`, through the real nbgrader: generate_assignment, autograde of a
submission built from the reference (full marks) and of the released notebook untouched (0), grades read from
nbgrader's gradebook, and feedback that holds no hidden test source."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import config as cfg
from autograder import questions
from autograder.release.common import Release, find_leaks, function_source
from tests.release_support import built_dist

pytestmark = pytest.mark.e2e

RELEASE = Release.load(dist=Path("unused"))
ASSIGNMENTS = RELEASE.assignments
CONFIG = cfg.load()
STUDENTS = {"solved": "the reference", "untouched": "the released notebook as it is"}


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the nbgrader command line of this interpreter's environment in the course folder."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    assert "[ERROR]" not in proc.stderr and "| ERROR]" not in proc.stderr, proc.stderr[-5000:]
    return proc


def solved(released: dict, source: dict) -> dict:
    """The released notebook with every solution cell filled in from the source notebook (markers removed)."""
    by_id = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in source["cells"]}
    out = json.loads(json.dumps(released))
    for cell in out["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            text = "".join(by_id[meta["grade_id"]]["source"])
            cell["source"] = "\n".join(line for line in text.splitlines() if "SOLUTION" not in line)
    return out


def _run_course(course: Path, dist: Path) -> None:
    """dist/nbgrader copied, released, submitted by two students, autograded and fed back."""
    shutil.copytree(dist / "nbgrader", course)
    nbgrader(course, "generate_assignment", "*")
    for a in ASSIGNMENTS:
        source = json.loads((course / "source" / a / f"{a}.ipynb").read_text())
        released = json.loads((course / "release" / a / f"{a}.ipynb").read_text())
        for student, notebook in (("solved", solved(released, source)), ("untouched", released)):
            folder = course / "submitted" / student / a
            folder.mkdir(parents=True)
            (folder / f"{a}.ipynb").write_text(json.dumps(notebook))
    nbgrader(course, "autograde", "*", "--create")
    nbgrader(course, "generate_feedback", "*")


def grades(course: Path, assignment: str, student: str) -> tuple[float, float, dict[str, float]]:
    """(score, max score, {grade cell: score}) from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        cells = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
        return submission.score, submission.max_score, cells


def manual_cells(course: Path, assignment: str, student: str) -> dict[str, tuple[float, bool]]:
    """{manually graded answer cell: (its points, whether it waits for a grader)} from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        return {g.name: (g.max_score, g.needs_manual_grade) for nb in submission.notebooks for g in nb.grades
                if g.cell_type == "markdown"}


def test_source_notebooks_are_valid_and_worth_grading_yml_points(tmp_path_factory):
    dist = built_dist(tmp_path_factory, "nbgrader")
    for a in ASSIGNMENTS:
        nb = nbformat.read(dist / "nbgrader" / "source" / a / f"{a}.ipynb", as_version=4)
        nbformat.validate(nb)
        checks = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
        answers = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in nb.cells
                   if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "markdown"}
        assert answers == {f"{a}_written_{q.id}": q.points for q in questions.load(a).questions}
        exercises = CONFIG.assignments[a].exercises
        assert checks == {f"{a}_{ex}_checks": sum(c.points for c in e.checks.values())
                          for ex, e in exercises.items() if e.checks}
        text = "\n".join(c.source for c in nb.cells)
        assert "### BEGIN SOLUTION" in text and "### BEGIN HIDDEN TESTS" in text


def _visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def check_feedback_holds_no_hidden_test_source(course: Path) -> None:
    for a in ASSIGNMENTS:
        checks = RELEASE.checks_file(a).read_text()
        hidden = RELEASE.hidden_ids(a)
        sources = [function_source(checks, cid) for cid in hidden]
        rest = checks
        for source in sources:
            rest = rest.replace(source, "")
        # Lines of hidden checks specific enough to prove a leak: long, code, and not shared with other checks.
        tell_tales = {line.strip() for source in sources for line in source.splitlines()[1:]
                      if len(line.strip()) >= 40 and not line.strip().startswith(('"""', "#"))
                      and line.strip() not in rest}
        for student in STUDENTS:
            page = (course / "feedback" / student / a / f"{a}.html").read_text()
            text = _visible_text(page)
            assert "HIDDEN TESTS" not in text and "add_hidden" not in text
            for cid in hidden:
                assert cid not in page and cid not in text, f"{student}/{a}: hidden check {cid} named"
            shown = [line for line in tell_tales if line in text]
            assert not shown, f"{student}/{a}: feedback shows hidden check code: {shown[:3]}"
            if student == "untouched" and hidden:
                assert "(hidden)" in text   # the outcome of hidden checks is shown, their code is not


def test_nbgrader_round_trip(tmp_path_factory):
    """One test, so that one xdist worker runs the round trip while the other grades elsewhere: generate_assignment
    releases no solution and no hidden check; autograde gives the reference full marks and the untouched notebook
    0 in the gradebook; generate_feedback shows no hidden test source."""
    dist = built_dist(tmp_path_factory, "nbgrader")
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    _run_course(course, dist)
    for a in ASSIGNMENTS:
        assert find_leaks(course / "release" / a, RELEASE) == [], f"nbgrader's release of {a}"
        # nbgrader's total adds the written answers (graded by hand later) to the check cells' points
        total = CONFIG.assignments[a].total_points
        written = {f"{a}_written_{q.id}": (q.points, True) for q in questions.load(a).questions}
        score, top, cells = grades(course, a, "solved")
        assert (score, top) == (pytest.approx(total), total + questions.load(a).total_points), \
            f"{a}, reference: {cells}"
        assert manual_cells(course, a, "solved") == written
        score, top, cells = grades(course, a, "untouched")
        assert (score, top) == (0, total + questions.load(a).total_points), f"{a}, untouched: {cells}"
        # an answer cell left as released scores 0 by itself (nbgrader compares its checksum): nothing to grade
        assert manual_cells(course, a, "untouched") == {name: (points, False) for name, (points, _) in written.items()}
    check_feedback_holds_no_hidden_test_source(course)
