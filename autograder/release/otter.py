"""otter-grader master notebooks: ``dist/otter/<a>/<a>.ipynb`` per assignment, for ``otter assign``, generated from
the kit's one source (the reference's marked cells, grading.yml's exercises, questions.yml's written questions).

A master holds: otter's assignment config (no otter autograder: the kit's Gradescope zip grades the exports);
the contract file as the marked cells, stubbed (:mod:`autograder.release.notebooks`; otter strips solutions
only inside question blocks, so the master never holds the reference); one otter question per exercise whose single test case calls
``neurograde_otter.check(assignment, exercise)``: the kit's visible checks of that exercise, run by the kit's
grader in a separate process on the notebook's current code; one manual question per written question; otter's
export cell. Beside it: ``neurograde_otter.py`` and ``neurograde/`` (the engine with the visible checks, its
grading.yml, the data), listed in the config's ``files`` so that otter copies them next to the student notebook.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from autograder import questions
from autograder.release import notebooks
from autograder.release.common import Release, ReleaseError, Step, assert_no_leaks, find_leaks

TEMPLATES = Path(__file__).resolve().parent / "templates" / "otter"
HELPER = "neurograde_otter.py"
#: PDF export needs LaTeX and pandoc (or otter's webpdf with a Chromium): off unless the course's machines have
#: them. Set ``pdf: true`` in the master's config cell to include the PDF of the written answers in the export.
EXPORT_PDF = False


def folder(release: Release) -> Path:
    return release.dist / "otter"


def _cell(kind: str, text: str, key: str) -> dict:
    cell = {"cell_type": kind, "id": key, "metadata": {}, "source": text}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _raw(text: str, key: str) -> dict:
    return _cell("raw", text, key)


def master_notebook(release: Release, assignment: str) -> dict:
    a = release.config.assignments[assignment]
    config = {"name": assignment, "init_cell": True, "check_all_cell": False, "run_tests": False,
              "generate": False, "files": [HELPER, "neurograde"],
              "export_cell": {"pdf": EXPORT_PDF, "run_tests": False,
                              "instructions": "Upload the zip file to the assignment on Gradescope."}}
    n = iter(range(1000))
    key = lambda: f"{assignment.replace('_', '-')}-{next(n):03d}"  # noqa: E731
    cells = [_raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False).rstrip(), key()),
             _cell("markdown", f"# {a.title}\n\nWrite your code in the cells whose first line is "
                               f"`# neurograde: {assignment} cell k/n` (keep that line: the grader builds "
                               f"`{assignment}.py` from these cells only), run them, then run each "
                               "`grader.check(...)` cell: it runs the kit's checks of one exercise on your current "
                               "code, in a separate process. The handout is the assignment's README.", key())]
    # The stubs, not the reference: otter assign strips solutions only inside question blocks, and the contract
    # file's cells stand outside them (several exercises share a cell). The reference stays in reference/.
    for text in notebooks.marked_cells(release, assignment, solved=False):
        cells.append(_cell("code", text, key()))
    for ex_id, ex in a.exercises.items():
        visible = sum(c.points for c in ex.checks.values() if not c.hidden)
        if not visible:
            continue
        test = (f'""" # BEGIN TEST CONFIG\npoints: {visible:g}\n""" # END TEST CONFIG\n'
                f"import neurograde_otter\nneurograde_otter.check({assignment!r}, {ex_id!r})")
        cells += [_raw(f"# BEGIN QUESTION\nname: {ex_id}\npoints: {visible:g}", key()),
                  _cell("markdown", f"### {ex_id}: {ex.title}\n\nThe kit's visible checks of this exercise "
                                    f"({visible:g} points; hidden checks run when your export is graded).", key()),
                  _raw("# BEGIN TESTS", key()), _cell("code", test, key()), _raw("# END TESTS", key()),
                  _raw("# END QUESTION", key())]
    if questions.has_questions(assignment):
        part = questions.load(assignment)
        cells.append(_cell("markdown", f"## Written questions ({part.total_points:g} points, graded by hand)",
                           key()))
        for q in part.questions:
            rubric = "\n".join(f"- {c.points:g} pt: {c.text}" for c in q.rubric)
            cells += [_raw(f"# BEGIN QUESTION\nname: {q.id}\nmanual: true\npoints: {q.points:g}", key()),
                      _cell("markdown", f"### {q.id.upper()}. {q.title} ({q.points:g} points)\n\n"
                                        f"{questions.paragraphs(q.prompt)}", key()),
                      _raw("# BEGIN SOLUTION", key()),
                      _cell("markdown", f"Rubric (removed from the student notebook):\n\n{rubric}", key()),
                      _raw("# END SOLUTION", key()), _raw("# END QUESTION", key())]
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


def clean(release: Release) -> None:
    shutil.rmtree(folder(release), ignore_errors=True)
    folder(release).mkdir(parents=True)


def write_masters(release: Release) -> None:
    for a in release.assignments:
        out = folder(release) / a
        out.mkdir(parents=True)
        (out / f"{a}.ipynb").write_text(json.dumps(master_notebook(release, a), indent=1) + "\n")
        notebooks.write_checking_kit(release, out, a, TEMPLATES / HELPER, "this otter notebook")


def verify(release: Release) -> None:
    """What otter copies to students (the master, the helper and neurograde/) holds no hidden check, oracle or
    solution."""
    for a in release.assignments:
        for name in (HELPER, "neurograde"):
            assert_no_leaks(folder(release) / a / name, release)
        # the master's written questions hold otter's own `# BEGIN SOLUTION` blocks (their rubric, which otter
        # removes); anything else found is a leak
        problems = [p for p in find_leaks(folder(release) / a / f"{a}.ipynb", release) if "solution marker" not in p]
        if problems:
            raise ReleaseError(f"otter master {a}.ipynb must not ship:\n  " + "\n  ".join(problems))


STEPS = [
    Step("clean dist/otter/", clean),
    Step("write <a>/<a>.ipynb (otter-assign master: marked cells, one question per exercise calling the kit's "
         "checks, the written questions, the export cell), neurograde_otter.py and neurograde/ beside it",
         write_masters),
    Step("verify: what otter copies to students holds no hidden check, oracle or reference code", verify),
]
