"""The assignment notebooks: the contract file as marked code cells (:mod:`autograder.notebook_submission`), the
template students fill (``dist/student/notebooks/<a>.ipynb``) and what the otter master builds on.

A notebook's marked cells are the reference split as the nbgrader notebook splits it (one cell per top-level
definition, :func:`~autograder.release.nbgrader_course.split_reference`), each opened by its marker line; the
stub of each cell is what students get, and Gradescope's grader rebuilds ``<a>.py`` from exactly these cells.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from autograder import notebook_submission as nbsub
from autograder.release.common import (Release, copy_data, copy_engine, quiet_grade_flags, record_expected,
                                       reduced_grading, shipped_threshold_reads, verify_engine, verify_recorded,
                                       write_grading)
from autograder.stubs import BEGIN, END, make_stub


def split(release: Release, assignment: str) -> list[str]:
    from autograder.release.nbgrader_course import split_reference

    return split_reference(release.reference(assignment))


def cell_name(text: str) -> str:
    """What a cell defines (its first top-level function or class), else "setup" (imports and constants)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return "setup"
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return ", ".join(names) if names else "setup"


def manifest(release: Release, assignments: list[str]) -> dict[str, list[str]]:
    """{assignment: what each marked cell defines, in order}: the grader's list of the cells it expects."""
    return {a: [cell_name(text) for text in split(release, a)] for a in assignments}


def marked_cells(release: Release, assignment: str, *, solved: bool = False) -> list[str]:
    """The marked code cells: stubs (``solved=False``), or the reference without its solution markers."""
    cells = split(release, assignment)
    out = []
    for number, text in enumerate(cells, start=1):
        if solved:
            body = "\n".join(line for line in text.splitlines() if not (BEGIN.match(line) or END.match(line)))
        elif any(BEGIN.match(line) for line in text.splitlines()):
            body = make_stub(text).rstrip("\n")
        else:
            body = text
        out.append(nbsub.marker_line(assignment, number, len(cells)) + "\n" + body)
    return out


def _markdown(text: str, key: str) -> dict:
    return {"cell_type": "markdown", "id": key, "metadata": {}, "source": text}


def _code(text: str, key: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": key, "metadata": {}, "outputs": [], "source": text}


def template_notebook(release: Release, assignment: str, *, solved: bool = False) -> dict:
    """The assignment as a notebook to fill and upload to Gradescope instead of ``<a>.py``."""
    title = release.config.assignments[assignment].title
    cells = [_markdown(
        f"# {title}\n\n"
        f"The assignment `{assignment}` as a notebook. Write your code in the cells whose first line is "
        f"`# neurograde: {assignment} cell k/n` (replace `raise NotImplementedError()`), keep that first line, and "
        "keep function names and signatures. Add any cells you like for experiments: when you upload this notebook "
        f"to Gradescope, the grader builds `{assignment}.py` from the marked cells only, in their order, and never "
        "runs the others. The handout is `assignments/" + assignment + "/README.md`.", "intro")]
    for number, text in enumerate(marked_cells(release, assignment, solved=solved), start=1):
        cells.append(_code(text, f"{assignment.replace('_', '-')}-cell-{number:02d}"))
    cells.append(_markdown("## Try your code here\n\nCells below are yours: they are not graded and not sent to the "
                           "grader.", "scratch-intro"))
    cells.append(_code("", "scratch"))
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


def write_template(release: Release, assignment: str, path: Path, *, solved: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(template_notebook(release, assignment, solved=solved), indent=1) + "\n")


def write_checking_kit(release: Release, out: Path, assignment: str, helper: Path, what: str) -> Path:
    """What a notebook needs beside it in ``out`` to run the kit's visible checks (nbgrader's check cells, otter's
    questions): the ``helper`` module (a template, given this engine's quiet ``grade`` flags) and ``neurograde/``,
    the engine as students get it (visible checks, recorded expected values, no oracle), with the data and a
    grading.yml reduced to ``assignment``'s visible checks, headed "The visible checks of ``what``". Verified as
    the student bundle is: its grading.yml names exactly its check functions, and every expected value its modules
    declare reads from its file. Returns the engine's folder."""
    text = helper.read_text()
    (out / helper.name).write_text(text.replace("GRADE_FLAGS: list[str] = []",
                                                f"GRADE_FLAGS: list[str] = {quiet_grade_flags()!r}"))
    kit = out / "neurograde"
    copy_engine(release, kit, [assignment], hidden=False)
    record_expected(release, kit, [assignment])
    copy_data(release, kit)
    write_grading(reduced_grading(release.raw, [assignment], keep_hidden=False,
                                  thresholds=shipped_threshold_reads(kit, [assignment])), kit / "grading.yml",
                  f"The visible checks of {what} (generated by `make release`).")
    verify_engine(kit, [assignment])
    verify_recorded(kit, [assignment])
    return kit
