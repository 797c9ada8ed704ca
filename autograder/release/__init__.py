"""``make release``: from the kit's one source to what instructors upload, as ordered lists of small steps.

Targets, each a module with its ``STEPS``: :mod:`~autograder.release.student` (``dist/student/`` and
``dist/student.zip``), :mod:`~autograder.release.gradescope` (``dist/gradescope/*.zip``) and
:mod:`~autograder.release.nbgrader_course` (``dist/nbgrader/``) and :mod:`~autograder.release.otter` (``dist/otter/``). Shared steps live in
:mod:`~autograder.release.common`. Every target ends by scanning what it wrote for reference code and, where
students get it, hidden checks: a leak stops the release.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from autograder.release import gradescope, nbgrader_course, otter, student
from autograder.release.common import Release, ReleaseError, run_steps

TARGETS = {"student": student.STEPS, "gradescope": gradescope.STEPS, "nbgrader": nbgrader_course.STEPS,
           "otter": otter.STEPS}

__all__ = ["TARGETS", "Release", "ReleaseError", "build"]


def build(dist: Path, targets: Iterable[str] = tuple(TARGETS), log: Callable[[str], None] = print) -> Release:
    """Write the release targets into ``dist``; raises :class:`ReleaseError` (or ConfigError) when the kit
    cannot be released as it is."""
    release = Release.load(Path(dist), log=log)
    if not release.assignments:
        raise ReleaseError("no assignment is ready to release (each needs a grading.yml section, "
                           "reference/<a>.py and assignments/<a>/checks.py)")
    log(f"Releasing {', '.join(release.assignments)} into {release.dist}")
    for target in targets:
        run_steps(target, TARGETS[target], release)
    for note in release.notes:
        log(f"note: {note}")
    return release


def main(dist: Path, targets: list[str] | None = None) -> int:
    """The ``python -m autograder release`` command."""
    from autograder.config import ConfigError

    try:
        build(dist, targets or list(TARGETS))
    except (ReleaseError, ConfigError) as exc:
        print(f"neurograde: release failed: {exc}", file=__import__("sys").stderr)
        return 1
    return 0
