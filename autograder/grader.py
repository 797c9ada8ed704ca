"""Grade one submission: run the selected checks through pytest and collect their results."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import pytest

from autograder import config as cfg
from autograder.feedback import Panel
from autograder import isolation
from autograder.limits import become_subreaper, kill_strays_until_quiet, why_no_drop
from autograder.plugin import GradingPlugin
from autograder.progress import Progress
from autograder.results import CheckResult, GradingRun

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
#: What student code must never read; without namespaces only file permissions keep it away.
PRIVATE = ("reference", "autograder/checks", "grading.yml")


def exposed_kit_notes(iso: isolation.Isolation) -> list[str]:
    """Without namespaces, student code sees the file system as any other user does: say so when the kit's
    private parts are readable by other users (a fresh clone is), so the instructor can close them."""
    if iso.namespaces:
        return []
    root = CHECKS_DIR.parent.parent
    if not iso.uid_drop:  # the student's code runs as this very user: permissions cannot keep it out
        return ([f"no namespace sandbox here ({iso.why_not}): student code ran as this user and could read "
                 "reference/ and the hidden checks; grade other people's code as root or with bubblewrap"]
                if (root / "reference").is_dir() else [])
    readable = []
    for rel in PRIVATE:
        path = root / rel
        chain = [path, *path.parents]
        if path.exists() and all(os.stat(p).st_mode & 0o001 for p in chain if p.is_dir() and p != path) \
                and os.stat(path).st_mode & 0o004:
            readable.append(rel)
    if not readable:
        return []
    return [f"no namespace sandbox here ({iso.why_not}): student code can read {', '.join(readable)}, which other "
            "users may read; install bubblewrap, or `chmod -R go-rwx` them before grading other people's code"]


def grade(submission: Path, assignments: list[str], *, with_hidden: bool = False,
          config: cfg.Config | None = None, feedback: bool = False,
          progress: Progress | None = None, on_panel: Callable[[Panel], None] | None = None) -> GradingRun:
    """Run the checks of ``assignments`` against the files in ``submission``.

    ``feedback=True`` also gathers plot data from the student's code for the HTML report (a few tenths of a
    second per assignment), each handed to ``on_panel`` as soon as it exists; ``progress`` shows which exercise
    is running.

    Raises :class:`~autograder.config.ConfigError` when grading.yml and the checks disagree; otherwise always
    returns one result per expected check, whatever the submission does.
    """
    start = time.monotonic()
    config = config or cfg.load()
    become_subreaper()
    notes: list[str] = []
    if os.geteuid() == 0 and (why := why_no_drop()):
        notes.append(f"student code ran as root, not as an unprivileged user: {why}")
    notes += exposed_kit_notes(isolation.detect())
    plugin = GradingPlugin(config, Path(submission), assignments, with_hidden, feedback=feedback, progress=progress,
                           on_panel=on_panel)
    files = [str(CHECKS_DIR / f"{a}.py") for a in assignments if (CHECKS_DIR / f"{a}.py").exists()]
    if files:
        # Third-party plugins installed next to the grader must not change how checks run.
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        args = [*files, "-s", "--assert=plain", "-p", "no:cacheprovider", "-p", "no:terminal",
                "-p", "no:warnings", "-p", "no:doctest", "-p", "no:pastebin", "-p", "no:junitxml",
                # Not needed to judge, and unraisableexception's forced garbage collections cost ~0.5 s a grading.
                "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
                "-p", "no:stepwise",
                "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR.parent.parent)]
        try:
            pytest.main(args, plugins=[plugin])
        finally:
            plugin.close()
            # Whatever student code forked and detached dies before any result is written.
            if killed := kill_strays_until_quiet():
                notes.append(f"{killed} leftover process(es) started by the submission were stopped")
    if plugin.config_error is not None:
        raise plugin.config_error
    results = []
    for check in plugin.expected_checks():
        result = plugin.results.get((check.assignment, check.id))
        if result is None:  # never ran (a collection error in the grader): it still counts, as 0
            result = CheckResult(check.assignment, check.exercise, check.id, check.id, 0.0, check.points,
                                 check.visibility, False, "The grader could not run this check: tell your "
                                 "instructor.")
            notes.append(f"{check.assignment}/{check.id} did not run")
        results.append(result)
    return GradingRun(results=tuple(results), execution_time=time.monotonic() - start, notes=tuple(notes),
                      feedback=tuple(plugin.feedback.panels), isolation=isolation.detect())
