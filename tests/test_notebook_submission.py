"""Notebooks uploaded to Gradescope instead of .py files: the kit's zip rebuilds each contract file from the marked
cells of the notebook the student bundle ships (never running a cell), grades it like a .py submission and says
which cells it took. Malformed notebooks (not JSON, a marked cell missing or twice) score 0 for their assignment
with a message, never a crash. Through the simulated /autograder layout of tests/test_release.py."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import config as cfg
from autograder import notebook_submission as nbsub
from autograder.release.common import Release, unzip
from tests.release_support import built_dist, validate

pytestmark = pytest.mark.e2e

RELEASE = Release.load(dist=Path("unused"))
ASSIGNMENTS = RELEASE.assignments
CONFIG = cfg.load()
#: An unmarked cell that would end the grading, and leave a trace, if anything ran it.
TRAP = "import pathlib, os\npathlib.Path('/tmp/neurograde-notebook-cell-ran').write_text('ran')\nos._exit(3)\n"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    return built_dist(tmp_path_factory, "student", "gradescope")


def solved_notebook(dist: Path, assignment: str) -> dict:
    """The bundle's notebook with each marked cell filled from the reference (marker line kept)."""
    from autograder.release import notebooks

    nb = json.loads((dist / "student" / "notebooks" / f"{assignment}.ipynb").read_text())
    solved = iter(notebooks.marked_cells(RELEASE, assignment, solved=True))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and nbsub.MARKER.match(cell["source"]):
            cell["source"] = next(solved)
    return nb


def grade_upload(dist: Path, root: Path, files: dict[str, bytes | str]) -> tuple[dict, str]:
    """/autograder with the kit's zip, the uploaded files in submission/, run_autograder run: (results, stdout)."""
    (root / "source").mkdir(parents=True)
    unzip(dist / "gradescope" / "neurograde.zip", root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    for name, data in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "NEUROGRADE_PYTHON": sys.executable}
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((root / "results" / "results.json").read_text())
    validate(doc)
    return doc, proc.stdout


def scores(doc: dict) -> dict[str, tuple[float, float]]:
    out: dict[str, list[float]] = {}
    for test in doc["tests"]:
        got = out.setdefault(test["tags"][0], [0.0, 0.0])
        got[0] += test["score"]
        got[1] += test["max_score"]
    return {a: (s, m) for a, (s, m) in out.items()}


# -- extraction, without Gradescope --------------------------------------------------------------------------------

def cell(text: str, kind: str = "code") -> dict:
    return {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}


def marked(number: int, body: str, total: int = 2) -> dict:
    return cell(nbsub.marker_line("demo", number, total) + "\n" + body)


def test_extract_takes_only_the_marked_cells_in_their_numbered_order():
    cells = [cell("# notes", "markdown"), marked(2, "def f():\n    return g()"), cell(TRAP),
             marked(1, "import math\n%matplotlib inline\ndef g():\n    return 1"), cell("f()")]
    got = nbsub.extract(cells, "demo.ipynb", "demo", ["setup", "f"])
    assert got.problem is None and got.cells == [4, 2]
    assert got.source.startswith("# neurograde: demo cell 1/2") and "os._exit" not in got.source
    assert "pass  # notebook command left out" in got.source and got.notes
    namespace: dict = {}
    exec(compile(got.source, "demo.py", "exec"), namespace)   # the rebuilt module is valid Python
    assert namespace["f"]() == 1


@pytest.mark.parametrize("cells, message", [
    ([marked(1, "x = 1")], "cell(s) 2/2 (f) are missing"),
    ([marked(1, "x = 1"), marked(2, "y = 1"), marked(2, "y = 2")], "cell 2/2 (f) appears 2 times (notebook cells 2, 3)"),
    ([marked(1, "x = 1"), marked(2, "y = 1"), marked(7, "z = 1")], "cell number(s) 7 are not cells of the template"),
    ([cell("x = 1")], "demo.ipynb has none of the cells of demo"),
])
def test_extract_refuses_a_notebook_with_cells_missing_twice_or_unknown(cells, message):
    got = nbsub.extract(cells, "demo.ipynb", "demo", ["setup", "f"])
    assert got.source is None and message in got.problem


def test_a_file_that_is_not_a_notebook_is_a_message():
    for data, message in ((b"{not json", "is not a valid notebook (not JSON"),
                          (b'{"cells": 3}', "is JSON but not a Jupyter notebook")):
        cells, problem = nbsub.read_notebook(data, "x.ipynb")
        assert cells is None and message in problem


# -- through Gradescope's run_autograder -----------------------------------------------------------------------------

def test_reference_notebooks_score_full_marks_and_the_output_names_the_cells(dist, tmp_path):
    files = {f"{a}.ipynb": json.dumps(solved_notebook(dist, a)) for a in ASSIGNMENTS}
    doc, stdout = grade_upload(dist, tmp_path / "ag", files)
    for a in ASSIGNMENTS:
        total = CONFIG.assignments[a].total_points
        assert scores(doc)[a] == (pytest.approx(total), total), a
        count = len(json.loads((tmp_path / "ag" / "source" / nbsub.MANIFEST).read_text())[a])
        cells = ", ".join(str(n) for n in range(2, 2 + count))   # the intro is cell 1, then the marked cells
        assert f"{a}.py built from {a}.ipynb, notebook cells {cells}" in doc["output"], doc["output"][:2000]
    assert doc["score"] == pytest.approx(sum(CONFIG.assignments[a].total_points for a in ASSIGNMENTS))


def test_untouched_template_notebooks_score_zero(dist, tmp_path):
    files = {f"nb/{a}.ipynb": (dist / "student" / "notebooks" / f"{a}.ipynb").read_bytes() for a in ASSIGNMENTS}
    doc, _ = grade_upload(dist, tmp_path / "ag", files)
    assert doc["score"] == 0 and set(scores(doc)) == set(ASSIGNMENTS)
    assert all(f"{a}.py built from nb/{a}.ipynb" in doc["output"] for a in ASSIGNMENTS)


def test_malformed_notebooks_score_zero_with_a_message_and_other_cells_never_run(dist, tmp_path):
    """linear_neuron: not JSON; backprop: a marked cell deleted; pytorch_basics: a marked cell pasted twice;
    perceptron_adaline: the reference with its cells reordered and a trap cell that would kill the grading."""
    backprop = solved_notebook(dist, "backprop")
    backprop["cells"] = [c for c in backprop["cells"] if " cell 3/" not in "".join(c["source"])[:80]]
    torch_nb = solved_notebook(dist, "pytorch_basics")
    torch_nb["cells"].insert(3, torch_nb["cells"][2])
    perceptron = solved_notebook(dist, "perceptron_adaline")
    code = [c for c in perceptron["cells"] if c["cell_type"] == "code" and nbsub.MARKER.match(c["source"])]
    perceptron["cells"] = [perceptron["cells"][0], {**code[0], "source": TRAP}, *reversed(code)]
    Path("/tmp/neurograde-notebook-cell-ran").unlink(missing_ok=True)
    files = {"linear_neuron.ipynb": '{"cells": [ this is not json', "backprop.ipynb": json.dumps(backprop),
             "pytorch_basics.ipynb": json.dumps(torch_nb), "perceptron_adaline.ipynb": json.dumps(perceptron)}
    doc, _ = grade_upload(dist, tmp_path / "ag", files)
    got = scores(doc)
    for a in ("linear_neuron", "backprop", "pytorch_basics"):
        assert got[a] == (0, CONFIG.assignments[a].total_points), a
    total = CONFIG.assignments["perceptron_adaline"].total_points
    assert got["perceptron_adaline"] == (pytest.approx(total), total)
    assert not Path("/tmp/neurograde-notebook-cell-ran").exists()
    for a, message in (("linear_neuron", "linear_neuron.ipynb is not a valid notebook (not JSON"),
                       ("backprop", "cell(s) 3/"), ("pytorch_basics", "appears 2 times")):
        assert message in doc["output"], (a, doc["output"][:2000])
        assert all(message in t["output"] for t in doc["tests"] if t["tags"][0] == a), a
