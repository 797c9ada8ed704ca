"""The check cells of this notebook: neurograde's checks, run by its grader in a separate process.

A check cell builds an ``Exercise`` and ends with ``checks.run()``. ``run`` writes the code cells you ran (every
code cell but the check cells) to ``<assignment>.py`` in a temporary folder, grades that file with
``python -m autograder grade`` in a private copy of the grader, prints the outcome of this exercise's checks and
returns the points they earned; nbgrader reads that number as the cell's score. One grading serves every check
cell while your code stays the same, so only the first check cell takes time. Your code never runs inside this
kernel during a check: the grader imports it in its own sandboxed process, exactly as ``make grade`` does.

This file is part of the assignment: editing it changes nothing, nbgrader puts the original back before grading.
"""
from __future__ import annotations

import hashlib
import json
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
#: Options of the shipped grader that skip what a notebook never shows (set by `make release`).
GRADE_FLAGS: list[str] = []


@dataclass(frozen=True)
class HiddenCheck:
    check_id: str
    exercise: str
    entry: dict
    source: str


#: Gradings of this kernel: (assignment, hash of the code) -> [(hidden check ids it ran, results.json)].
_GRADINGS: dict[tuple[str, str], list[tuple[frozenset, dict]]] = {}


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


class Exercise:
    """The checks of one exercise of one assignment."""

    def __init__(self, assignment: str, exercise: str) -> None:
        self.assignment = assignment
        self.exercise = exercise
        self.hidden: list[HiddenCheck] = []

    def add_hidden(self, check_id: str, *, exercise: str, points: float, visibility: str = "hidden",
                   timeout: float | None = None, source: str) -> None:
        """A check that is not shipped with the notebook (it runs when the notebook is graded). The first check
        cell registers those of every exercise, so that one grading serves all the check cells."""
        entry = {"points": points, "visibility": visibility}
        if timeout is not None:
            entry["timeout"] = timeout
        self.hidden.append(HiddenCheck(check_id, exercise, entry, source))

    def run(self) -> float:
        """Grade the code cells above; print the outcome of this exercise's checks; return their points.

        Never raises: a traceback would print this cell's source, hidden checks included, into the graded
        notebook and its feedback. When the grader itself cannot run, the cell says so and scores 0."""
        try:
            doc = self._grading()
        except Exception as exc:  # the grader's failure, not the student's: say so, score 0
            print(f"{self.assignment} {self.exercise}: the grader could not run ({type(exc).__name__}): 0 points. "
                  "Tell your instructor.")
            return 0.0
        if doc is None:
            return 0.0
        tests = [t for t in doc["tests"] if t["tags"] == [self.assignment, self.exercise]]
        score = sum(t["score"] for t in tests)
        top = sum(t["max_score"] for t in tests)
        if not tests:
            print(f"{self.exercise}: no check runs here; this exercise is graded by hidden checks only.")
            return 0.0
        print(f"{self.assignment} {self.exercise}: {score:g} / {top:g} points")
        for t in tests:
            mark = "ok  " if t["score"] >= t["max_score"] else "FAIL"
            hidden = "" if t["visibility"] == "visible" else " (hidden)"
            title = t["name"].split(": ", 1)[-1]
            print(f"  {mark} {title}{hidden}  {t['score']:g} / {t['max_score']:g}")
            if t["output"] and t["score"] < t["max_score"]:
                print("       " + t["output"].replace("\n", "\n       "))
        return float(round(score, 6))

    # -- grading -------------------------------------------------------------------------------------------
    def _grading(self) -> dict | None:
        """results.json of a grading of the current code that ran (at least) this cell's hidden checks."""
        source = module_source()
        key = (self.assignment, hashlib.sha256(source.encode()).hexdigest())
        wanted = frozenset(h.check_id for h in self.hidden)
        for ran, doc in _GRADINGS.get(key, []):
            if wanted <= ran:
                return doc
        doc = self._grade(source)
        if doc is not None:
            _GRADINGS.setdefault(key, []).append((wanted, doc))
        return doc

    def _kit(self, root: Path) -> tuple[Path, float]:
        """A private copy of the grader with this cell's hidden checks added to the visible ones.
        Returns (its folder, seconds to allow)."""
        kit = root / "kit"
        shutil.copytree(KIT / "autograder", kit / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(KIT / "assignments", kit / "assignments", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(KIT / "data", kit / "data")
        raw = yaml.safe_load((KIT / "grading.yml").read_text())
        body = raw["assignments"][self.assignment]
        for h in self.hidden:
            body["exercises"][h.exercise]["checks"][h.check_id] = h.entry
        body["total_points"] = sum(float(c["points"]) for ex in body["exercises"].values()
                                   for c in ex["checks"].values())
        raw["assignments"] = {self.assignment: body}
        (kit / "grading.yml").write_text(yaml.safe_dump(raw, sort_keys=False))
        if self.hidden:
            checks_file = kit / "assignments" / self.assignment / "checks.py"
            checks_file.write_text(checks_file.read_text()
                                   + "".join(f"\n\n{h.source.strip()}\n" for h in self.hidden))
        defaults = raw.get("defaults") or {}
        seconds = (float(body.get("time_limit") or defaults.get("assignment_time_limit", 120))
                   + float(body.get("import_timeout") or defaults.get("import_timeout", 30)) + STARTUP_MARGIN_S)
        return kit, seconds

    def _grade(self, source: str) -> dict | None:
        with tempfile.TemporaryDirectory(prefix="neurograde-nb-") as tmp:
            root = Path(tmp)
            kit, seconds = self._kit(root)
            submission = root / "submission"
            submission.mkdir()
            (submission / f"{self.assignment}.py").write_text(source)
            results = root / "results.json"
            cmd = [sys.executable, "-m", "autograder", "grade", *GRADE_FLAGS, "--submission", str(submission),
                   "--assignment", self.assignment, "--results", str(results)]
            if self.hidden:
                cmd.append("--with-hidden")
            proc = subprocess.run(cmd, cwd=kit, capture_output=True, text=True, timeout=seconds)
            if proc.returncode != 0 or not results.is_file():
                # The grader's own output may quote check code: show it only when no hidden check was involved.
                detail = "" if self.hidden else "\n" + (proc.stderr or proc.stdout)[-1500:]
                print(f"{self.assignment} {self.exercise}: the grader could not run (exit status "
                      f"{proc.returncode}): 0 points. Tell your instructor.{detail}")
                return None
            return json.loads(results.read_text())
