"""``grader.check("exN")`` of this otter notebook: neurograde's own checks of one exercise, run by its grader in a
separate process on the code of this notebook's marked cells (first line ``# neurograde: <a> cell k/n``).

The otter test case of each exercise calls :func:`check`, which writes the latest run of each marked cell to
``<assignment>.py`` in a temporary folder, grades it with ``python -m autograder grade`` (the visible checks shipped
beside this notebook, in ``neurograde/``) and fails with the checks' own hints when one of the exercise's checks
fails. Your code never runs inside the grader's process, and the checks are the kit's, not copies.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

KIT = Path(__file__).resolve().parent / "neurograde"
MARKER = re.compile(r"^\s*#\s*neurograde:\s*(?P<assignment>[A-Za-z_]\w*)\s+cell\s+(?P<number>\d+)\s*/\s*\d+")
#: Options of the shipped grader that skip what a notebook never shows (set by `make release`).
GRADE_FLAGS: list[str] = []
#: Seconds one grading may take.
TIMEOUT = 600
_GRADINGS: dict[tuple[str, str], dict] = {}


def module_source(assignment: str, history: list[str] | None = None) -> str:
    """The module: the latest run of each marked cell of ``assignment``, in the cells' numbered order."""
    if history is None:
        from IPython import get_ipython

        shell = get_ipython()
        history = list(shell.user_ns.get("In", [])) if shell else []
    latest: dict[int, str] = {}
    for cell in history:
        match = MARKER.match(cell.lstrip("\n").split("\n", 1)[0])
        if match and match["assignment"] == assignment:
            latest[int(match["number"])] = "\n".join(
                line[: len(line) - len(line.lstrip())] + "pass" if "get_ipython()" in line else line
                for line in cell.split("\n"))
    return "\n\n\n".join(latest[n] for n in sorted(latest)) + "\n"


def grade(assignment: str, source: str) -> dict:
    key = (assignment, hashlib.sha256(source.encode()).hexdigest())
    if key not in _GRADINGS:
        with tempfile.TemporaryDirectory(prefix="neurograde-otter-") as tmp:
            (Path(tmp) / f"{assignment}.py").write_text(source)
            results = Path(tmp) / "results.json"
            proc = subprocess.run([sys.executable, "-m", "autograder", "grade", *GRADE_FLAGS, "--submission", tmp,
                                   "--assignment", assignment, "--results", str(results)],
                                  cwd=KIT, capture_output=True, text=True, timeout=TIMEOUT)
            if proc.returncode != 0 or not results.is_file():
                raise RuntimeError(f"the grader could not run (exit status {proc.returncode}): "
                                   f"{(proc.stderr or proc.stdout)[-1500:]}")
            _GRADINGS[key] = json.loads(results.read_text())
    return _GRADINGS[key]


def check(assignment: str, exercise: str) -> None:
    """Pass when every visible check of ``exercise`` passes on the notebook's current code; else fail with them."""
    source = module_source(assignment)
    if not source.strip():
        raise AssertionError(f"no cell of {assignment} has run yet: run the cells whose first line is "
                             f"`# neurograde: {assignment} cell k/n`, then this check")
    tests = [t for t in grade(assignment, source)["tests"] if t.get("tags", [])[:2] == [assignment, exercise]]
    failed = [t for t in tests if t["score"] < t["max_score"]]
    if failed:
        raise AssertionError(f"{len(failed)} of {len(tests)} checks of {exercise} fail:\n\n" + "\n\n".join(
            f"- {t['name']}\n{t.get('output', '')}" for t in failed))
    # Silent on success: otter runs its test cases as doctests, where any output would count as a failure.
