"""Grade one submission: the pipeline of :mod:`autograder.pipeline`, with the sandbox's notes around it."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from autograder import config as cfg
from autograder import pipeline
from autograder.feedback import FeedbackSession, Panel
from autograder import isolation
from autograder.limits import become_subreaper, kill_strays_until_quiet, why_no_drop
from autograder.progress import Progress
from autograder.assignment import KIT_ROOT
from autograder.results import GradingRun

#: What student code must never read; without namespaces only file permissions keep it away.
PRIVATE = ("reference", "assignments", "grading.yml")


def exposed_kit_notes(iso: isolation.Isolation) -> list[str]:
    """Without namespaces, student code sees the file system as any other user does: say so when the kit's
    private parts are readable by other users (a fresh clone is), so the instructor can close them."""
    if iso.namespaces:
        return []
    root = KIT_ROOT
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


def _warm_server_pids() -> set[int]:
    """The fork server outlives a grading (its boxes do not: each is killed when it closes, and the server's
    processes are the only ones spared)."""
    from autograder.zygote import ForkServer
    server = ForkServer._shared
    return server.keep_pids() if server is not None else set()


def grade(submission: Path, assignments: list[str], *, with_hidden: bool = False,
          config: cfg.Config | None = None, feedback: bool = False,
          progress: Progress | None = None, on_panel: Callable[[Panel], None] | None = None,
          workers: pipeline.WorkerFactory | None = None,
          only: Callable[[cfg.CheckConfig], bool] | None = None) -> GradingRun:
    """Run the checks of ``assignments`` against the files in ``submission`` (see :mod:`autograder.pipeline`).

    ``feedback=True`` also gathers plot data from the student's code for the HTML report (a few tenths of a
    second per assignment), each handed to ``on_panel`` as soon as it exists; ``progress`` shows which exercise
    is running. ``workers`` replaces the sandbox (the kit's tests grade in-process with it); ``only`` keeps the
    checks it accepts (the kit's tests repeat a few checks without paying for the others).

    Raises :class:`~autograder.config.ConfigError` when grading.yml and the checks disagree; otherwise always
    returns one result per expected check, whatever the submission does.
    """
    start = time.monotonic()
    config = config or cfg.load()
    plans = pipeline.select(config, assignments, with_hidden=with_hidden, only=only)
    notes: list[str] = []
    sandboxed = workers is None
    if sandboxed:
        become_subreaper()
        if os.geteuid() == 0 and (why := why_no_drop()):
            notes.append(f"student code ran as root, not as an unprivileged user: {why}")
        notes += exposed_kit_notes(isolation.detect())
    session = FeedbackSession(enabled=feedback, on_panel=on_panel)
    try:
        results = pipeline.run(plans, Path(submission), workers=workers or pipeline.sandbox_workers(config,
                               Path(submission), [p.name for p in plans]), feedback=session, progress=progress or Progress(None))
    finally:
        # Whatever student code forked and detached dies before any result is written.
        if sandboxed and (killed := kill_strays_until_quiet(keep=_warm_server_pids())):
            notes.append(f"{killed} leftover process(es) started by the submission were stopped")
    return GradingRun(results=tuple(results), execution_time=time.monotonic() - start, notes=tuple(notes),
                      feedback=tuple(session.panels), isolation=isolation.detect() if sandboxed else None)
