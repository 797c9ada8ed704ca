"""The nbgrader course ``dist/nbgrader/``: ``source/<a>/<a>.ipynb`` per assignment, generated from the reference
and the handout, with what the notebook needs beside it, and an ``nbgrader_config.py``.

A notebook is: the handout (markdown); the reference split into code cells, one per top-level definition, whose
solution regions keep nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers (solution cells) or that
are given code (read-only cells); then one read-only check cell per exercise, worth the exercise's points in
grading.yml. A check cell grades the notebook's code with the kit's checks of that exercise (see
``templates/nbgrader/neurograde_nb.py``). What only the autograder may have sits in the first check cell between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` (nbgrader releases the cell without it and puts it back
to autograde): the assignment's full checks.py (hidden checks and their helpers), its oracle.py and its whole
grading.yml section. Beside the notebook: the engine as students get it (visible checks, recorded expected values,
no oracle), its grading.yml and the data.
"""
from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

from autograder import assignment as parts
from autograder import questions
from autograder.release import notebooks
from autograder.release.common import Release, ReleaseError, Step, check_functions, find_leaks
from autograder.stubs import BEGIN

TEMPLATES = Path(__file__).resolve().parent / "templates" / "nbgrader"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
NB_SCHEMA = 3  # nbgrader's cell metadata schema version
#: nbgrader's solution delimiters, as a markdown answer cell holds them (its region is replaced on release).
BEGIN_SOLUTION_TEXT = "### BEGIN SOLUTION"
END_SOLUTION_TEXT = "### END SOLUTION"


def folder(release: Release) -> Path:
    return release.dist / "nbgrader"


def source_dir(release: Release, assignment: str) -> Path:
    return folder(release) / "source" / assignment


# -- cells ----------------------------------------------------------------------------------------------------

def _cell_id(assignment: str, number: int) -> str:
    return f"{assignment.replace('_', '-')}-{number:03d}"


def markdown_cell(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text.rstrip("\n")}


def code_cell(text: str, nbgrader: dict | None = None) -> dict:
    meta = {"nbgrader": {**nbgrader, "schema_version": NB_SCHEMA}} if nbgrader else {}
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [],
            "source": text.rstrip("\n")}


def split_reference(reference: str) -> list[str]:
    """The reference as consecutive code cells: what comes before the first definition (docstring, imports,
    constants), then one cell per top-level function or class with the comment block right above it. A
    ``if __name__ == "__main__":`` block is dropped: in a notebook it would run."""
    tree = ast.parse(reference)
    lines = reference.splitlines()
    previous_end = 0
    drop: set[int] = set()
    starts = []
    for node in tree.body:
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
                and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"):
            drop.update(range(node.lineno, node.end_lineno + 1))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            # The comments above a definition (a section header, even one set off by a blank line) open its cell.
            # Indented comments (an END SOLUTION marker) still belong to the definition above.
            while start - 1 > previous_end and (lines[start - 2].startswith("#") or not lines[start - 2].strip()):
                start -= 1
            while not lines[start - 1].strip():
                start += 1
            starts.append(start)
        previous_end = node.end_lineno
    bounds = [1, *starts, len(lines) + 1]
    cells = []
    for a, b in zip(bounds, bounds[1:]):
        text = "\n".join(line for n, line in enumerate(lines[a - 1:b - 1], start=a) if n not in drop).strip("\n")
        if text.strip():
            cells.append(text)
    return cells


def _literal(source: str) -> str:
    """A Python literal of ``source``: a readable raw triple-quoted string when that is exact, else repr."""
    if "'''" not in source and not source.endswith("\\"):
        return "r'''\n" + source + "'''"
    return repr(source)


def grader_files(release: Release, assignment: str) -> dict[str, str]:
    """{file name: text} of what the autograder has beyond the shipped folder: checks.py whole (hidden checks and
    their helpers) and every part students never get (the oracle)."""
    files = {"checks.py": release.checks_file(assignment).read_text()}
    students = {p.name for p in parts.shipped_parts(assignment, to_students=True)}
    for path in parts.shipped_parts(assignment, to_students=False):
        if path.name not in students and path.suffix == ".py":
            files[path.name] = path.read_text()
    return files


def check_cell_source(release: Release, assignment: str, exercise: str, *, first: bool) -> str:
    """A check cell. The first one's hidden region gives the autograder its own files (every check cell after it
    then grades with them: one grading serves them all)."""
    a = release.config.assignments[assignment]
    ex = a.exercises[exercise]
    visible = sum(c.points for c in ex.checks.values() if not c.hidden)
    text = [f"# Checks of {exercise}: {visible:g} of its points run here, the rest when your notebook is graded.",
            "# Run this cell to check your work: it grades the code cells above in a separate process.",
            "from neurograde_nb import Exercise",
            f"checks = Exercise({assignment!r}, {exercise!r})"]
    if first:
        files = ", ".join(f"{name!r}: {_literal(body)}" for name, body in grader_files(release, assignment).items())
        text += [HIDDEN_BEGIN, f"checks.use_grader_files(files={{{files}}},",
                 f"                       grading={release.raw['assignments'][assignment]!r})", HIDDEN_END]
    text.append("checks.run()")
    return "\n".join(text)


def build_notebook(release: Release, assignment: str) -> dict:
    a = release.config.assignments[assignment]
    handout = release.kit / "assignments" / assignment / "README.md"
    cells = [markdown_cell(
        f"# {a.title}\n\n"
        f"The notebook version of the assignment `{assignment}`. Fill in the cells marked `# YOUR CODE HERE` (and "
        "remove the `raise NotImplementedError()`), then run the check cells at the end: each grades all the code "
        "cells you ran, in a separate process, against the checks of one exercise and prints a hint for every "
        "failure. More checks (hidden ones) run when your notebook is graded.\n\n"
        "Keep function names and signatures as they are. Every code cell you run becomes part of your module, so "
        "keep long experiments out of this notebook (or delete them before you submit).")]
    if handout.is_file():
        cells.append(markdown_cell(questions.without_handout_section(handout.read_text())))  # asked at the end
    else:
        release.notes.append(f"nbgrader: no handout assignments/{assignment}/README.md yet")
    for number, text in enumerate(split_reference(release.reference(assignment)), start=1):
        grade_id = f"{assignment}_code_{number:02d}"
        if any(BEGIN.match(line) for line in text.splitlines()):
            cells.append(code_cell(text, {"grade": False, "solution": True, "locked": False, "grade_id": grade_id}))
        else:
            cells.append(code_cell(text, {"grade": False, "solution": False, "locked": True, "grade_id": grade_id}))
    cells.append(markdown_cell("## Checks\n\nOne cell per exercise, worth the exercise's points. Run them after "
                               "the code cells above (Kernel > Restart & Run All runs everything in order)."))
    first = True
    for ex_id, ex in a.exercises.items():
        points = sum(c.points for c in ex.checks.values())
        if points == 0:
            continue
        cells.append(markdown_cell(f"### {ex_id}: {ex.title} ({points:g} points)"))
        cells.append(code_cell(check_cell_source(release, assignment, ex_id, first=first),
                               {"grade": True, "solution": False, "locked": True, "points": points,
                                "grade_id": f"{assignment}_{ex_id}_checks"}))
        first = False
    cells += written_cells(release, assignment)
    for number, cell in enumerate(cells):
        cell["id"] = _cell_id(assignment, number)
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


def written_cells(release: Release, assignment: str) -> list[dict]:
    """The written questions (``assignments/<a>/questions.yml``): per question a read-only prompt and a manually
    graded answer cell worth its points, whose solution region holds the rubric (nbgrader releases the cell with
    ``YOUR ANSWER HERE`` instead; graders read the rubric in the source notebook and in ``rubrics/<a>.md``)."""
    if not questions.has_questions(assignment):
        return []
    part = questions.load(assignment)
    cells = [markdown_cell(f"## Written questions ({part.total_points:g} points, graded by hand)\n\n"
                           "Answer each question in the cell below it (Markdown; equations in `$...$`). These points "
                           "are graded by a person after the deadline, apart from the check cells' points.")]
    for number, q in enumerate(part.questions, start=1):
        prompt = markdown_cell(f"### Question {number}: {q.title} ({q.points:g} points)\n\n"
                               f"{questions.paragraphs(q.prompt)}")
        prompt["metadata"] = {"nbgrader": {"grade": False, "solution": False, "locked": True,
                                           "grade_id": f"{assignment}_written_{q.id}_prompt",
                                           "schema_version": NB_SCHEMA}}
        rubric = "\n".join(f"- {c.points:g} pt: {c.text}" + (f" (partial: {c.partial})" if c.partial else "")
                           for c in q.rubric)
        answer = markdown_cell(f"{BEGIN_SOLUTION_TEXT}\nRubric ({q.points:g} points):\n\n{rubric}\n"
                               f"{END_SOLUTION_TEXT}")
        answer["metadata"] = {"nbgrader": {"grade": True, "solution": True, "locked": False, "points": q.points,
                                           "grade_id": f"{assignment}_written_{q.id}", "schema_version": NB_SCHEMA}}
        cells += [prompt, answer]
    return cells


def is_written(cell: dict) -> bool:
    """A manually graded answer cell of a written question."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade") and meta.get("solution"))


def without_hidden_tests(text: str) -> str:
    """A cell's text as nbgrader releases it: hidden test regions removed."""
    out, inside = [], False
    for line in text.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


# -- steps ----------------------------------------------------------------------------------------------------

def clean(release: Release) -> None:
    shutil.rmtree(folder(release), ignore_errors=True)
    folder(release).mkdir(parents=True)


def write_config(release: Release) -> None:
    shutil.copyfile(TEMPLATES / "nbgrader_config.py", folder(release) / "nbgrader_config.py")


def write_notebooks(release: Release) -> None:
    for a in release.assignments:
        out = source_dir(release, a)
        out.mkdir(parents=True)
        (out / f"{a}.ipynb").write_text(json.dumps(build_notebook(release, a), indent=1) + "\n")


def copy_support(release: Release) -> None:
    """Beside each notebook: the check-cell helper, and in neurograde/ the engine with this assignment's visible
    checks, its grading.yml and the data (nbgrader releases these to students)."""
    for a in release.assignments:
        notebooks.write_checking_kit(release, source_dir(release, a), a, TEMPLATES / "neurograde_nb.py",
                                     "this notebook")


def verify(release: Release) -> None:
    """Each check cell is worth its exercise's points, they add up to the assignment's total, and with hidden
    test regions removed (what nbgrader releases) nothing names or holds a hidden check or the oracle, and
    nothing computes an exercise's answer."""
    for a in release.assignments:
        nb = json.loads((source_dir(release, a) / f"{a}.ipynb").read_text())
        graded = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade") and not is_written(c)]
        total = sum(c["metadata"]["nbgrader"]["points"] for c in graded)
        if abs(total - release.config.assignments[a].total_points) > 1e-9:
            raise ReleaseError(f"{a}.ipynb: check cells are worth {total:g}, grading.yml says "
                               f"{release.config.assignments[a].total_points:g}")
        written = sum(c["metadata"]["nbgrader"]["points"] for c in nb["cells"] if is_written(c))
        expected = questions.load(a).total_points if questions.has_questions(a) else 0
        if abs(written - expected) > 1e-9:
            raise ReleaseError(f"{a}.ipynb: written answer cells are worth {written:g}, questions.yml says "
                               f"{expected:g}")
        for cell in nb["cells"]:
            cell["source"] = without_hidden_tests(cell["source"])
        with __import__("tempfile").TemporaryDirectory() as tmp:
            released = Path(tmp) / a
            shutil.copytree(source_dir(release, a), released, ignore=shutil.ignore_patterns(f"{a}.ipynb"))
            (released / f"{a}.ipynb").write_text(json.dumps(nb))
            problems = [p for p in find_leaks(released, release) if "SOLUTION" not in p and "reference" not in p]
        if problems:
            raise ReleaseError(f"nbgrader {a}: what students get holds what only the autograder may:\n  "
                               + "\n  ".join(problems))
        names = check_functions(release.checks_file(a).read_text())
        missing = [c.id for c in release.config.assignments[a].checks() if c.id not in names]
        if missing:
            raise ReleaseError(f"nbgrader {a}: grading.yml checks without a function: {', '.join(missing)}")


def write_rubrics(release: Release) -> None:
    """rubrics/<a>.md beside source/ (never released): the written questions' rubric for the graders."""
    for a in release.assignments:
        if questions.has_questions(a):
            out = folder(release) / "rubrics" / f"{a}.md"
            out.parent.mkdir(exist_ok=True)
            out.write_text(questions.rubric_markdown(questions.load(a), release.config.assignments[a].title))


STEPS = [
    Step("clean dist/nbgrader/", clean),
    Step("write nbgrader_config.py (feedback without hidden tests)", write_config),
    Step("generate source/<a>/<a>.ipynb from the handout and the reference (solution, read-only and check cells)",
         write_notebooks),
    Step("write rubrics/<a>.md: the written questions' rubric for graders (outside source/, never released)",
         write_rubrics),
    Step("copy the check helper, the engine with visible checks and recorded expected values, grading.yml and data "
         "beside each notebook", copy_support),
    Step("verify: check cells worth grading.yml's points; hidden checks and the oracle only inside hidden test "
         "regions; no implementation of an exercise", verify),
]
