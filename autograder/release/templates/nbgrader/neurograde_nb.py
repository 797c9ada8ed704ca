"""The check cells of this notebook: neurograde's checks, run by its grader in a separate process.

A check cell builds an ``Exercise`` and ends with ``checks.run()``. ``run`` writes the code cells you ran (every
code cell but the check cells) to ``<assignment>.py`` in a temporary folder, grades that file with
``python -m autograder grade`` against the checks of this one exercise, prints what passed and what did not, and
returns the points earned. nbgrader reads that number as the cell's score. Your code never runs inside this
kernel during a check: the grader imports it in its own sandboxed process, exactly as ``make grade`` does.

This file is part of the assignment: editing it changes nothing, nbgrader puts the original back before grading.
"""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

#: The grader and the visible checks, shipped beside this notebook.
KIT = Path(__file__).resolve().parent / "neurograde"
#: Cells that mention this module are check cells, not part of your code.
MARKER = "neurograde_nb"
#: Seconds allowed on top of the assignment's own time limits (starting Python and pytest, importing torch).
STARTUP_MARGIN_S = 60


@dataclass(frozen=True)
class HiddenCheck:
    check_id: str
    entry: dict
    source: str


def module_source() -> str:
    """Your code as one module: the code cells run so far in this kernel, check cells left out."""
    from IPython import get_ipython  # only inside a notebook

    shell = get_ipython()
    cells = [c for c in (shell.user_ns.get("In", []) if shell else []) if c.strip() and MARKER not in c]
    future, body = [], []
    for cell in cells:
        for line in cell.splitlines():
            if re.match(r"\s*from __future__ import", line):
                future.append(line.strip())  # must come first in a module, wherever the cell ran
            elif "get_ipython()" in line:  # a %magic or !command: not Python outside a notebook
                body.append(line[: len(line) - len(line.lstrip())] + "pass")
            else:
                body.append(line)
        body.append("")
    return "\n".join([*dict.fromkeys(future), *body]) + "\n"


def _check_spans(source: str) -> dict[str, tuple[int, int]]:
    lines = source.splitlines()
    spans = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            while start > 1 and lines[start - 2].lstrip().startswith("#"):
                start -= 1
            spans[node.name] = (start, node.end_lineno)
    return spans


def _keep_checks(source: str, keep: set[str]) -> str:
    """The checks file with only the check functions ``keep``; helpers and imports stay."""
    drop = {n for name, (a, b) in _check_spans(source).items() if name not in keep for n in range(a, b + 1)}
    return "".join(line for n, line in enumerate(source.splitlines(keepends=True), start=1) if n not in drop)


class Exercise:
    """The checks of one exercise of one assignment."""

    def __init__(self, assignment: str, exercise: str) -> None:
        self.assignment = assignment
        self.exercise = exercise
        self.hidden: list[HiddenCheck] = []

    def add_hidden(self, check_id: str, *, points: float, visibility: str = "hidden", timeout: float | None = None,
                   source: str) -> None:
        """A check that is not shipped with the notebook (it runs when the notebook is graded)."""
        entry = {"points": points, "visibility": visibility}
        if timeout is not None:
            entry["timeout"] = timeout
        self.hidden.append(HiddenCheck(check_id, entry, source))

    # -- grading -------------------------------------------------------------------------------------------
    def _kit(self, root: Path) -> tuple[Path, float, float]:
        """A private copy of the grader whose grading.yml and checks file hold only this exercise's checks.
        Returns (its folder, the exercise's points, seconds to allow)."""
        kit = root / "kit"
        shutil.copytree(KIT / "autograder", kit / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(KIT / "data", kit / "data")
        raw = yaml.safe_load((KIT / "grading.yml").read_text())
        body = raw["assignments"][self.assignment]
        exercise = body["exercises"][self.exercise]
        checks = dict(exercise["checks"])
        checks.update({h.check_id: h.entry for h in self.hidden})
        exercise["checks"] = checks
        body["exercises"] = {self.exercise: exercise}
        points = sum(float(c["points"]) for c in checks.values())
        body["total_points"] = points
        raw["assignments"] = {self.assignment: body}
        (kit / "grading.yml").write_text(yaml.safe_dump(raw, sort_keys=False))
        checks_file = kit / "autograder" / "checks" / f"{self.assignment}.py"
        text = _keep_checks(checks_file.read_text(), set(checks))
        checks_file.write_text(text + "".join(f"\n\n{h.source.strip()}\n" for h in self.hidden))
        defaults = raw.get("defaults") or {}
        seconds = (float(body.get("time_limit") or defaults.get("assignment_time_limit", 120))
                   + float(body.get("import_timeout") or defaults.get("import_timeout", 30)) + STARTUP_MARGIN_S)
        return kit, points, seconds

    def run(self) -> float:
        """Grade the code cells above against this exercise's checks; print the outcome; return the points."""
        with tempfile.TemporaryDirectory(prefix="neurograde-nb-") as tmp:
            root = Path(tmp)
            kit, points, seconds = self._kit(root)
            if points == 0:
                print(f"{self.exercise}: no check runs here; this exercise is graded by hidden checks only.")
                return 0.0
            submission = root / "submission"
            submission.mkdir()
            (submission / f"{self.assignment}.py").write_text(module_source())
            results = root / "results.json"
            cmd = [sys.executable, "-m", "autograder", "grade", "--submission", str(submission),
                   "--assignment", self.assignment, "--results", str(results)]
            if self.hidden:
                cmd.append("--with-hidden")
            proc = subprocess.run(cmd, cwd=kit, capture_output=True, text=True, timeout=seconds)
            if proc.returncode != 0 or not results.is_file():
                # The grader's own output may quote check code: show it only when no hidden check was involved.
                detail = "" if self.hidden else "\n" + (proc.stderr or proc.stdout)[-1500:]
                raise RuntimeError(f"the grader could not run (exit status {proc.returncode}): tell your "
                                   f"instructor.{detail}")
            doc = __import__("json").loads(results.read_text())
        tests = [t for t in doc["tests"] if t["tags"] == [self.assignment, self.exercise]]
        score = sum(t["score"] for t in tests)
        top = sum(t["max_score"] for t in tests)
        print(f"{self.assignment} {self.exercise}: {score:g} / {top:g} points")
        for t in tests:
            mark = "ok  " if t["score"] >= t["max_score"] else "FAIL"
            hidden = "" if t["visibility"] == "visible" else " (hidden)"
            title = t["name"].split(": ", 1)[-1]
            print(f"  {mark} {title}{hidden}  {t['score']:g} / {t['max_score']:g}")
            if t["output"] and t["score"] < t["max_score"]:
                print("       " + t["output"].replace("\n", "\n       "))
        return float(round(score, 6))
