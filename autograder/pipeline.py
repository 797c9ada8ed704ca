"""The grading order, in one place.

1. **select** the checks: grading.yml says which exist, with their points and visibility; each is a plain
   function ``test_*`` in ``assignments/<name>/checks.py`` (:func:`select`);
2. per assignment, **open a sandbox** (a :class:`~autograder.sandbox.Worker`; the next assignment's starts while
   this one is graded, unless this one's imports torch: the grading's memory peak);
3. **run its checks** in grading.yml's order, under one :class:`Budget` (the assignment's wall-clock limit, each
   check's limit on time spent in student code), each outcome a :class:`~autograder.results.CheckResult`
   (:func:`run_check`);
4. **gather feedback** (plot data for the HTML report) from the same sandbox, then close it;
5. **render**: the caller turns the results into results.json, the terminal table and the report.

A check is called with the fixtures it names: ``student`` (the student's module behind the sandbox),
``thresholds`` (the assignment's thresholds from grading.yml) and ``rng`` (a generator seeded from the check's id).
The same steps run in-process for the kit's own tests (:mod:`autograder.inprocess`), with another worker.
"""
from __future__ import annotations

import inspect
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from autograder import assignment as parts
from autograder import config as cfg
from autograder.checking import CheckFailure
from autograder.feedback import FeedbackSession, Panel
from autograder.progress import Progress
from autograder.remote import Student
from autograder.results import CheckResult, Failure
from autograder.sandbox import StudentError, StudentProblem, Worker


@dataclass(frozen=True)
class PlannedCheck:
    config: cfg.CheckConfig
    function: Callable[..., Any]
    title: str


@dataclass(frozen=True)
class AssignmentPlan:
    name: str
    config: cfg.AssignmentConfig
    checks: tuple[PlannedCheck, ...]


class WorkerLike(Protocol):
    """What the pipeline needs of a worker: the sandboxed :class:`Worker`, or the tests' in-process one."""

    import_timeout: float
    startup_seconds: float
    generation: int

    def request(self, message: dict, deadline: float) -> Any: ...
    def prestart(self) -> None: ...
    def close(self) -> None: ...


#: Makes the worker for an assignment: ``(assignment, contract file or None) -> worker``.
WorkerFactory = Callable[[str, "Path | None"], WorkerLike]


def select(config: cfg.Config, assignments: Sequence[str], *, with_hidden: bool,
           only: Callable[[cfg.CheckConfig], bool] | None = None) -> list[AssignmentPlan]:
    """Step 1: the checks to run, per assignment, in grading.yml's order. Raises ConfigError when grading.yml and
    the check functions disagree (a check without points, points without a check)."""
    plans = []
    for name in assignments:
        if name not in config.assignments:
            continue
        a = config.assignments[name]
        functions = parts.check_functions(name)
        cfg.match_checks(a, functions)
        checks = tuple(PlannedCheck(c, functions[c.id], _title(functions[c.id], c.id)) for c in a.checks()
                       if (with_hidden or not c.hidden) and (only is None or only(c)))
        plans.append(AssignmentPlan(name, a, checks))
    return plans


class Budget:
    """Time for one assignment's checks: a wall-clock limit for all of them, counted from the first request, and
    for each check a limit on the time its calls spend in student code (the check's own judging, in this
    trusted process, is not counted: a busy machine or a costly oracle never eats the student's time)."""

    def __init__(self, time_limit: float) -> None:
        self.time_limit = time_limit
        self.deadline: float | None = None

    def student(self, worker: WorkerLike, check: cfg.CheckConfig, feedback: FeedbackSession) -> Student:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.time_limit
        return feedback.student(check.assignment, worker, f"{check.assignment}.{check.id}",
                                self.deadline).limit_to(check.timeout)


def check_rng(check: cfg.CheckConfig) -> np.random.Generator:
    """The check's own data generator, seeded from its id: the same data at every grading."""
    return np.random.default_rng(zlib.crc32(f"{check.assignment}.{check.id}".encode()))


def run_check(planned: PlannedCheck, student: Student, thresholds: cfg.Thresholds) -> CheckResult:
    """Step 3, one check: call it with the fixtures it names and record its outcome as data."""
    check = planned.config
    began = time.monotonic()
    fixtures = {"student": lambda: student, "thresholds": lambda: thresholds, "rng": lambda: check_rng(check)}
    try:
        planned.function(**{p: fixtures[p]() for p in inspect.signature(planned.function).parameters})
        failure = None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # whatever a check raises is a failure of that check, never of the grading
        failure = failure_of(exc)
    return CheckResult(assignment=check.assignment, exercise=check.exercise, check_id=check.id,
                       title=planned.title, score=0.0 if failure else check.points, max_score=check.points,
                       visibility=check.visibility, passed=failure is None, failure=failure,
                       seconds=time.monotonic() - began)


def failure_of(exc: BaseException) -> Failure:
    """What a check's exception means for the student."""
    if isinstance(exc, CheckFailure):
        return Failure("wrong", exc.expected, exc.seen, exc.hint, exc.mistake, exc.convention)
    if isinstance(exc, StudentError):
        where = exc.where or ""
        if exc.exc_type == "NotImplementedError":
            what = f" {exc.function}" if exc.function and exc.function != "<module>" else ""
            at = f" ({where.split(', in ')[0].split(':')[0]})" if where else ""
            return Failure("not_implemented", seen=f"Not implemented yet:{what}{at}.",
                           hint="Fill in its `# YOUR CODE HERE` part and remove the `raise NotImplementedError()` "
                                "line.", where=where, function=what.strip())
        return Failure("student_error", seen=f"Your code raised {exc.exc_type}: {exc.message}",
                       hint=f"at {where}" if where else "", where=where)
    if isinstance(exc, StudentProblem):
        return Failure("student_problem", seen=str(exc))
    # Anything else is the grader's own fault: say so rather than blame the student.
    return Failure("grader_error", seen=f"The grader could not finish this check ({type(exc).__name__}: "
                   f"{str(exc)[:300]}).", hint="This is a problem in the grader, not necessarily in your code: "
                   "tell your instructor.")


def not_run(check: cfg.CheckConfig) -> CheckResult:
    return CheckResult(check.assignment, check.exercise, check.id, check.id, 0.0, check.points, check.visibility,
                       False, Failure("not_run", seen="The grader could not run this check: tell your instructor."))


def sandbox_workers(config: cfg.Config, submission: Path, assignments: Sequence[str] = ()) -> WorkerFactory:
    """Step 2's default: each assignment's contract file in a sandbox of its own. The fork server, where there is
    one, warms up with the libraries these ``assignments`` import (:func:`autograder.assignment.libraries`)."""
    from autograder import assignment as parts, zygote
    wanted = tuple(dict.fromkeys(m for a in assignments for m in parts.libraries(a)))
    if wanted:
        zygote.ForkServer.want(wanted)
    # The grader's own side imports torch (backprop's autograd checks) and scikit-learn's data sets when a check
    # first needs them: importing them ahead, in a thread, held the interpreter lock while the first assignment
    # was judged, and kept them next to the torch box, the grading's memory peak (measured: 0.3 s slower, 66 MB
    # more). Meanwhile the next box imports its own libraries on the other core.
    def make(assignment: str, path: Path | None) -> Worker:
        return Worker(assignment, path, import_timeout=config.assignments[assignment].import_timeout,
                      output_limit=config.output_limit_bytes, limits=config.limits)
    return make


def run(plans: Sequence[AssignmentPlan], submission: Path, *, workers: WorkerFactory,
        feedback: FeedbackSession, progress: Progress) -> list[CheckResult]:
    """Steps 2-4 for every assignment of the plan; returns one result per planned check, in order."""
    results: list[CheckResult] = []
    progress.start(sum(len(p.checks) for p in plans))
    opened: dict[str, WorkerLike] = {}

    def worker_for(name: str) -> WorkerLike:
        if name not in opened:
            path = Path(submission) / f"{name}.py"
            opened[name] = workers(name, path if path.is_file() else None)
        return opened[name]

    try:
        for i, plan in enumerate(plans):
            worker = worker_for(plan.name)
            budget = Budget(plan.config.time_limit)
            thresholds = plan.config.thresholds
            for k, planned in enumerate(plan.checks):
                progress.check(plan.name, planned.config.exercise, planned.title)
                student = budget.student(worker, planned.config, feedback)
                results.append(run_check(planned, student, thresholds))
                if k == 0 and i + 1 < len(plans) and not parts.memory_peak(plan.name):
                    # The next assignment's sandbox imports its libraries on the other core meanwhile (not next to
                    # a torch box: the grading's memory peak).
                    worker_for(plans[i + 1].name).prestart()
            if feedback.enabled:
                progress.phase(f"{plan.name}: drawing plots from your code")
                feedback.gather(plan.name, worker)
            # One student process alive at a time (plus the next one starting): the whole kit's peak memory is
            # its largest assignment's (Gradescope's default limit is 768 MB).
            opened.pop(plan.name).close()
    finally:
        for worker in opened.values():
            worker.close()
        progress.finish()
    return results


def _title(function: Callable, default: str) -> str:
    doc = (function.__doc__ or "").strip().splitlines()
    return doc[0] if doc else default
