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
import importlib.util
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
#: Options of the shipped grader that skip what a notebook never shows (set by `make release`).
GRADE_FLAGS: list[str] = []


@dataclass(frozen=True)
class GraderFiles:
    """What the autograder has and students do not: the assignment's full checks.py (hidden checks and their
    helpers), its oracle.py, and its grading.yml section with every check and threshold."""

    files: dict
    grading: dict


#: The grader's files of each assignment, registered by the hidden test region of its first check cell (which
#: nbgrader removes from the notebook students get and puts back to autograde).
_GRADER: dict[str, GraderFiles] = {}
#: Gradings of this kernel: (assignment, hash of the code, with the grader's files) -> results.json.
_GRADINGS: dict[tuple[str, str, bool], dict] = {}


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


def _results_module():
    """The grader's own ``results`` module, shipped beside this notebook: reads results.json as check results
    (each failure as data, from its test's extra_data), adds up the points and words a failure as the terminal
    does. Loaded from its file alone (it imports nothing of the grader), so nothing else of the grader runs here."""
    name = "_neurograde_results"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, KIT / "autograder" / "results.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file runs
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


class Exercise:
    """The checks of one exercise of one assignment."""

    def __init__(self, assignment: str, exercise: str) -> None:
        self.assignment = assignment
        self.exercise = exercise

    def use_grader_files(self, *, files: dict, grading: dict) -> None:
        """The autograder's own files of this assignment (not shipped with the notebook): every check cell
        after this one grades with them, hidden checks included."""
        _GRADER[self.assignment] = GraderFiles(dict(files), grading)

    def run(self) -> float:
        """Grade the code cells above; print the outcome of this exercise's checks; return their points.

        Never raises: a traceback would print this cell's source, hidden checks included, into the graded
        notebook and its feedback. When the grader itself cannot run, the cell says so and scores 0."""
        try:
            doc = self._grading()
            if doc is None:
                return 0.0
            results = _results_module()
            checks = [r for r in results.from_gradescope(doc)
                      if (r.assignment, r.exercise) == (self.assignment, self.exercise)]
            points = results.totals(checks).total
        except Exception as exc:  # the grader's failure, not the student's: say so, score 0
            print(f"{self.assignment} {self.exercise}: the grader could not run ({type(exc).__name__}): 0 points. "
                  "Tell your instructor.")
            return 0.0
        if not checks:
            print(f"{self.exercise}: no check runs here; this exercise is graded by hidden checks only.")
            return 0.0
        print(f"{self.assignment} {self.exercise}: {points.score:g} / {points.max_score:g} points")
        for r in checks:
            mark = "ok  " if r.passed else "FAIL"
            hidden = "" if r.visibility == "visible" else " (hidden)"
            print(f"  {mark} {r.title}{hidden}  {r.score:g} / {r.max_score:g}")
            if r.shown:  # the parts a student may read (results.Failure.shown): never a hidden check's expected value
                print("       " + results.plain_text(r.shown).replace("\n", "\n       "))
        return float(round(points.score, 6))

    # -- grading -------------------------------------------------------------------------------------------
    def _grading(self) -> dict | None:
        """results.json of a grading of the current code (with the grader's files, once registered)."""
        source = module_source()
        key = (self.assignment, hashlib.sha256(source.encode()).hexdigest(), self.assignment in _GRADER)
        if key not in _GRADINGS:
            doc = self._grade(source)
            if doc is None:
                return None
            _GRADINGS[key] = doc
        return _GRADINGS[key]

    def _kit(self, root: Path) -> tuple[Path, float]:
        """A private copy of the grader: the shipped one (visible checks), with the grader's own files and
        grading.yml section put in when they are registered. Returns (its folder, seconds to allow)."""
        kit = root / "kit"
        shutil.copytree(KIT / "autograder", kit / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(KIT / "assignments", kit / "assignments", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(KIT / "data", kit / "data")
        raw = yaml.safe_load((KIT / "grading.yml").read_text())
        grader = _GRADER.get(self.assignment)
        if grader is not None:
            for name, text in grader.files.items():
                (kit / "assignments" / self.assignment / Path(name).name).write_text(text)
            raw["assignments"][self.assignment] = grader.grading
        raw["assignments"] = {self.assignment: raw["assignments"][self.assignment]}
        (kit / "grading.yml").write_text(yaml.safe_dump(raw, sort_keys=False))
        return kit, _time_budget(kit, self.assignment)

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
            hidden = self.assignment in _GRADER
            if hidden:
                cmd.append("--with-hidden")
            proc = subprocess.run(cmd, cwd=kit, capture_output=True, text=True, timeout=seconds)
            if proc.returncode != 0 or not results.is_file():
                # The grader's own output may quote check code: show it only when no hidden check was involved.
                detail = "" if hidden else "\n" + (proc.stderr or proc.stdout)[-1500:]
                print(f"{self.assignment} {self.exercise}: the grader could not run (exit status "
                      f"{proc.returncode}): 0 points. Tell your instructor.{detail}")
                return None
            return json.loads(results.read_text())


def _time_budget(kit: Path, assignment: str) -> float:
    """The grader's own time budget for one grading of ``assignment`` (``AssignmentConfig.time_budget`` of the
    shipped ``autograder.config``, read from the private copy's grading.yml)."""
    saved = sys.path[:]
    sys.path.insert(0, str(KIT))
    try:
        from autograder import config
    finally:
        sys.path[:] = saved
    if Path(config.__file__).resolve().parent != (KIT / "autograder").resolve():
        # another `autograder` was imported in this kernel first: ask the shipped one in a process of its own
        code = ("import sys; from autograder import config; "
                "print(config.load(sys.argv[1], code=None).assignments[sys.argv[2]].time_budget)")
        out = subprocess.run([sys.executable, "-c", code, str(kit / "grading.yml"), assignment], cwd=KIT,
                             capture_output=True, text=True, timeout=120, check=True).stdout
        return float(out.strip().splitlines()[-1])
    return config.load(kit / "grading.yml", code=None).assignments[assignment].time_budget
