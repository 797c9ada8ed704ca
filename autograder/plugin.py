"""The pytest plugin that turns check functions into graded results.

Checks are ordinary pytest test functions in ``autograder/checks/<assignment>.py``; this plugin selects the ones to
run (assignment, visibility), gives them the ``student``, ``thresholds`` and ``rng`` fixtures, and records each
outcome as a :class:`~autograder.results.CheckResult` with a message written for the student.
"""
from __future__ import annotations

import time
import zlib
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pytest

from autograder import config as cfg
from autograder.checking import CheckFailure
from autograder.feedback import FeedbackSession, Panel
from autograder.progress import Progress
from autograder.remote import Student
from autograder.results import CheckResult
from autograder.sandbox import StudentError, StudentProblem, Worker


class Thresholds(dict):
    """An assignment's numeric thresholds from grading.yml; a missing name says where to add it."""

    def __init__(self, assignment: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.assignment = assignment

    def __missing__(self, key: str) -> Any:
        raise KeyError(f"threshold {key!r} is not set in grading.yml under assignments.{self.assignment}.thresholds")


class GradingPlugin:
    def __init__(self, config: cfg.Config, submission: Path, assignments: list[str], with_hidden: bool,
                 *, feedback: bool = False, progress: Progress | None = None,
                 on_panel: Callable[[Panel], None] | None = None) -> None:
        self.config = config
        self.submission = Path(submission)
        self.assignments = assignments
        self.with_hidden = with_hidden
        self.results: dict[tuple[str, str], CheckResult] = {}
        self.config_error: cfg.ConfigError | None = None
        self._workers: dict[str, Worker] = {}
        self._next_assignment: dict[str, str] = {}
        self._deadlines: dict[str, float] = {}
        self._titles: dict[tuple[str, str], str] = {}
        # Plot data for the report, gathered from each assignment's worker right after its last check.
        self.feedback = FeedbackSession(enabled=feedback, on_panel=on_panel)
        self.progress = progress or Progress(None)

    # -- which checks run ----------------------------------------------------------------------------------
    def expected_checks(self) -> list[cfg.CheckConfig]:
        """Every check this grading must report on, in grading.yml's order."""
        return [c for a in self.assignments if a in self.config.assignments
                for c in self.config.assignments[a].checks() if self.with_hidden or not c.hidden]

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list) -> None:
        found: dict[str, set[str]] = {}
        for item in items:
            found.setdefault(_assignment_of(item), set()).add(item.originalname)
        try:
            for name in self.assignments:
                if name in self.config.assignments:
                    cfg.match_checks(self.config.assignments[name], found.get(name, set()))
        except cfg.ConfigError as exc:
            self.config_error = exc
            config.hook.pytest_deselected(items=list(items))
            items[:] = []
            return
        wanted = {(c.assignment, c.id) for c in self.expected_checks()}
        keep = [i for i in items if (_assignment_of(i), i.originalname) in wanted]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
        order = list(dict.fromkeys(_assignment_of(i) for i in keep))
        self._next_assignment = dict(zip(order, order[1:]))
        for item in keep:
            # pytest's failure rendering (source, tracebacks) is never shown and costs ~0.1 s a failure.
            item.repr_failure = _plain_failure
            doc = (item.function.__doc__ or "").strip().splitlines()
            self._titles[(_assignment_of(item), item.originalname)] = doc[0] if doc else item.originalname
        self.progress.start(len(keep))

    # -- fixtures ------------------------------------------------------------------------------------------
    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        """The student's module for this check's assignment, running in the sandbox."""
        assignment, check = self._check_of(request.node)
        worker = self._worker(assignment)
        now = time.monotonic()
        deadline = self._deadlines.setdefault(assignment, now + self.config.assignments[assignment].time_limit)
        # The check's timeout counts only time in student code; the assignment's limit is wall-clock.
        return self.feedback.student(assignment, worker, f"{assignment}.{check.id}", deadline).limit_to(check.timeout)

    @pytest.fixture
    def thresholds(self, request: pytest.FixtureRequest) -> Thresholds:
        """This assignment's thresholds from grading.yml."""
        assignment = _assignment_of(request.node)
        return Thresholds(assignment, self.config.assignments[assignment].thresholds)

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        """A generator for the check's own data, seeded from the check's id: same data at every grading."""
        return np.random.default_rng(zlib.crc32(f"{_assignment_of(request.node)}.{request.node.name}".encode()))

    def _worker(self, assignment: str) -> Worker:
        if assignment not in self._workers:
            path = self.submission / f"{assignment}.py"
            a = self.config.assignments[assignment]
            self._workers[assignment] = Worker(
                assignment, path if path.is_file() else None, import_timeout=a.import_timeout,
                output_limit=self.config.output_limit_bytes, limits=self.config.limits)
        return self._workers[assignment]

    def _check_of(self, item: pytest.Item) -> tuple[str, cfg.CheckConfig]:
        assignment = _assignment_of(item)
        return assignment, self.config.assignments[assignment].check(item.originalname)

    # -- outcomes ------------------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        assignment, check = self._check_of(item)
        # While this assignment is graded, the next one's worker starts (imports numpy, torch) on the other core.
        following = self._next_assignment.pop(assignment, None)
        if following is not None:
            self._worker(following).prestart()
        self.progress.check(assignment, check.exercise, self._titles.get((assignment, check.id), check.id))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            self._record(item, call)

    def _record(self, item: pytest.Item, call: pytest.CallInfo) -> None:
        assignment, check = self._check_of(item)
        passed = call.excinfo is None
        output = "" if passed else describe_failure(call.excinfo.value, check)
        self.results[(assignment, check.id)] = CheckResult(
            assignment=assignment, exercise=check.exercise, check_id=check.id,
            title=self._titles.get((assignment, check.id), check.id),
            score=check.points if passed else 0.0, max_score=check.points, visibility=check.visibility,
            passed=passed, output=output, seconds=call.duration)

    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        # The assignment's last check is done: gather its plot data now, from the worker the checks used, so
        # that the figures can be drawn while the next assignment is graded.
        assignment = _assignment_of(item)
        if nextitem is None or _assignment_of(nextitem) != assignment:
            self._gather_feedback(assignment)
            # Its worker is no longer needed: ending it now keeps one student process alive at a time, so the
            # whole kit's peak memory is that of its largest assignment (Gradescope's default limit is 768 MB).
            if (worker := self._workers.pop(assignment, None)) is not None:
                worker.close()

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus != pytest.ExitCode.INTERRUPTED:
            for assignment in self.assignments:  # those whose checks never ran still get their messages
                self._gather_feedback(assignment)
        self.progress.finish()
        self.close()

    def _gather_feedback(self, assignment: str) -> None:
        if self.feedback.enabled and self.config_error is None and assignment in self.config.assignments \
                and assignment not in self.feedback.gathered:
            self.progress.phase(f"{assignment}: drawing plots from your code")
            self.feedback.gather(assignment, self._worker(assignment))

    def close(self) -> None:
        for worker in self._workers.values():
            worker.close()
        self._workers.clear()


def describe_failure(exc: BaseException, check: cfg.CheckConfig) -> str:
    """The student-facing message for a failed check."""
    if isinstance(exc, CheckFailure):
        return exc.render(show_expected=not check.hidden)
    if isinstance(exc, StudentError):
        if exc.exc_type == "NotImplementedError":
            what = f" {exc.function}" if exc.function and exc.function != "<module>" else ""
            where = f" ({exc.where.split(', in ')[0].split(':')[0]})" if exc.where else ""
            return (f"Not implemented yet:{what}{where}. Fill in its `# YOUR CODE HERE` part and remove the "
                    "`raise NotImplementedError()` line.")
        where = f"\n  at {exc.where}" if exc.where else ""
        return f"Your code raised {exc.exc_type}: {exc.message}{where}"
    if isinstance(exc, StudentProblem):
        return str(exc)
    # Anything else is the grader's own fault: say so rather than blame the student.
    return (f"The grader could not finish this check ({type(exc).__name__}: {str(exc)[:300]}). "
            "This is a problem in the grader, not necessarily in your code: tell your instructor.")


def _plain_failure(excinfo: pytest.ExceptionInfo, style: str | None = None) -> str:
    return f"{excinfo.typename}: {excinfo.value}"


def _assignment_of(item: pytest.Item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1]
