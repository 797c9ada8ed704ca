"""The otter-grader path, end to end with the pinned otter-grader: `otter assign` on the master `make release`
generates, the student notebook filled from the reference and run (every `grader.check` passes: the kit's own
visible checks, run by its grader on the notebook's current code), `grader.export()` zips it, and the kit's
Gradescope zip grades that export in the simulated /autograder layout with full marks."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import config as cfg
from autograder import notebook_submission as nbsub
from autograder.release import notebooks
from autograder.release.common import Release, unzip
from tests.release_support import built_dist, validate

pytestmark = pytest.mark.e2e

RELEASE = Release.load(dist=Path("unused"))
CONFIG = cfg.load()
#: One assignment is enough for the round trip (the master generator is generic); the lightest to grade.
ASSIGNMENT = "linear_neuron"


def otter(*args: str, cwd: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([str(Path(sys.executable).parent / "otter"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"otter {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def test_otter_assign_check_export_and_gradescope(tmp_path_factory):
    dist = built_dist(tmp_path_factory, "otter", "gradescope")
    work = tmp_path_factory.mktemp("otter")
    for a in RELEASE.assignments:   # every master is a notebook otter accepts
        nbformat.validate(nbformat.read(dist / "otter" / a / f"{a}.ipynb", as_version=4))
    shutil.copytree(dist / "otter" / ASSIGNMENT, work / "master")
    otter("assign", f"{ASSIGNMENT}.ipynb", str(work / "out"), cwd=work / "master")
    student = work / "out" / "student"
    path = student / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert "BEGIN SOLUTION" not in json.dumps(nb) and "Rubric" not in json.dumps(nb)
    solved = iter(notebooks.marked_cells(RELEASE, ASSIGNMENT, solved=True))
    for cell in nb.cells:
        if cell.cell_type == "code" and nbsub.MARKER.match(cell.source):
            cell.source = next(solved)
    assert next(solved, None) is None, "every marked cell is in otter's student notebook"
    nbformat.write(nb, path)
    env_before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(student)}}).execute()
    finally:
        os.environ.pop("OMP_NUM_THREADS") if env_before is None else os.environ.update(OMP_NUM_THREADS=env_before)
    checks = {c.source: "".join(o.get("text", "") + json.dumps(o.get("data", {})) for o in c.outputs)
              for c in nb.cells if c.cell_type == "code" and c.source.startswith("grader.check(")}
    exercises = [e for e, ex in CONFIG.assignments[ASSIGNMENT].exercises.items()
                 if any(not c.hidden for c in ex.checks.values())]
    assert sorted(checks) == sorted(f'grader.check("{e}")' for e in exercises)
    for source, output in checks.items():
        assert "passed" in output and "failed" not in output.lower(), f"{source}: {output[:2000]}"
    exports = sorted(student.glob(f"{ASSIGNMENT}_*.zip"))
    assert len(exports) == 1, list(student.iterdir())
    with zipfile.ZipFile(exports[0]) as zf:
        assert f"{ASSIGNMENT}.ipynb" in zf.namelist()
    # Gradescope unpacks an uploaded zip into submission/; the kit's zip grades the notebook in it.
    root = work / "ag"
    unzip(dist / "gradescope" / f"{ASSIGNMENT}.zip", root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    with zipfile.ZipFile(exports[0]) as zf:
        zf.extractall(root / "submission")
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root), "NEUROGRADE_PYTHON": sys.executable})
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((root / "results" / "results.json").read_text())
    validate(doc)
    total = CONFIG.assignments[ASSIGNMENT].total_points
    assert (doc["score"], sum(t["max_score"] for t in doc["tests"])) == (pytest.approx(total), total), doc["output"]
    assert f"{ASSIGNMENT}.py built from {ASSIGNMENT}.ipynb" in doc["output"]
