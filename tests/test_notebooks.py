"""assignments/<assignment>/explore.ipynb runs from top to bottom with nbclient: against the reference every
experiment draws its plots and the grader cell shows full marks; against the stubs it still runs to the end
(each unwritten function prints a note) and the grader cell shows its table."""
from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.config import assignment_names

ASSIGNMENTS = assignment_names()
from tests.conftest import KIT_ROOT

pytestmark = pytest.mark.e2e

CELL_TIMEOUT = 600


def notebook_path(assignment: str):
    return KIT_ROOT / "assignments" / assignment / "explore.ipynb"


def run_notebook(assignment: str, module_dir, results_dir, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("NEUROGRADE_MODULE_DIR", str(module_dir))
    monkeypatch.setenv("NEUROGRADE_RESULTS_DIR", str(results_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the test suite runs in parallel: one torch thread per kernel
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(notebook_path(assignment), as_version=4)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook_path(assignment).parent)}}).execute()
    return nb


def outputs(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_is_committed_without_outputs(assignment):
    nb = nbformat.read(notebook_path(assignment), as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_runs_against_the_reference(assignment, tmp_path, monkeypatch):
    nb = run_notebook(assignment, KIT_ROOT / "reference", tmp_path, monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "not implemented yet" not in "".join(outputs(c) for c in code)
    assert images(nb) >= 3, "the experiments should draw their plots"
    table = outputs(code[-1])
    total = re.search(r"^Total\s+([\d.]+) / ([\d.]+)$", table, flags=re.MULTILINE)
    assert total, f"the grader cell should show the grader's table:\n{table}"
    assert total.group(1) == total.group(2), f"the reference should get full marks:\n{table}"
    assert (tmp_path / "results.json").is_file()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_runs_to_the_end_on_the_stubs(assignment, tmp_path, monkeypatch):
    nb = run_notebook(assignment, KIT_ROOT / "student_template", tmp_path, monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "not implemented yet" in "".join(outputs(c) for c in code[1:-1])
    assert "Total" in outputs(code[-1])
