"""Feedback students can see: plot data gathered from their own code during grading, as plain data.

Each assignment may have a module ``assignments/<name>/feedback.py`` with a list ``GATHERERS``. A
:class:`Gatherer` runs the student's code through the same sandboxed worker as the checks (the
:class:`~autograder.remote.Student` proxy; student code is never imported here), after that assignment's checks,
with a small time budget of its own, and returns a :class:`Plot`: axes of plain numbers, the student's curves
beside the expected behaviour. Nothing is drawn here: :mod:`autograder.figures` turns a :class:`Panel` into an
image afterwards. A gatherer that cannot get its data (a stub, an exception, a timeout) yields a panel with a
message instead of a plot, so the report never shows a broken image, and feedback never changes a grade.

A gatherer may also reuse what a check already computed: ``REUSE_PROBES`` in a feedback module names probes
whose results, during the checks, are kept for it (``fit_cubic`` trains for about a second; once is enough).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from autograder import assignment as parts
from autograder.remote import Student
from autograder.sandbox import StudentError, StudentProblem, StudentTimeout, Worker

#: After this many gatherers of one assignment time out, the rest are skipped: each timeout restarts the worker.
MAX_TIMEOUTS = 1


class FeedbackProblem(Exception):
    """The student's code ran but gave data a plot cannot use; ``str()`` says what, for the student."""


@dataclass(frozen=True)
class Plot:
    """What a gatherer returns: one or more axes side by side, and a sentence on what the student's data show.

    Each axes is a mapping with a ``kind`` (see :mod:`autograder.figures`): ``"curves"`` (lines, points and
    levels over a shared x axis) or ``"boundary"`` (a classifier's output on a grid, with the labelled points).
    """

    axes: Sequence[Mapping[str, Any]]
    summary: str = ""
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class Panel:
    """One figure of the report, as data: where it belongs, what to expect, and the student's numbers."""

    assignment: str
    exercise: str
    key: str
    title: str
    expected: str                                   # the healthy behaviour, in the chapter's words
    axes: tuple[Mapping[str, Any], ...] = ()        # empty when there is no plot
    summary: str = ""                               # what the student's code did, in words
    notes: tuple[str, ...] = ()                     # side remarks (a helper that is not implemented yet, ...)
    message: str = ""                               # why there is no plot
    seconds: float = 0.0

    @property
    def has_plot(self) -> bool:
        return bool(self.axes) and not self.message


@dataclass(frozen=True)
class Gatherer:
    """How to get one panel's data from the student's code."""

    exercise: str
    key: str
    title: str
    expected: str
    run: Callable[["Context"], Plot]
    budget: float = 3.0                              # seconds for all of this gatherer's calls together


@dataclass
class Context:
    """What a gatherer works with: the student's module, and what the checks already asked of it."""

    student: Student
    recorded: Mapping[str, list[tuple[tuple, dict, Any]]] = field(default_factory=dict)

    def reused(self, probe: str) -> list[tuple[tuple, dict, Any]]:
        """The (args, kwargs, result) of every call of ``probe`` made by this assignment's checks, in order."""
        return list(self.recorded.get(probe, ()))


class _RecordingStudent(Student):
    """A check's :class:`Student` that also keeps the results of selected probes for the gatherers."""

    def __init__(self, worker: Worker, check_id: str, deadline: float, keep: set[str],
                 store: dict[str, list]) -> None:
        super().__init__(worker, check_id, deadline)
        object.__setattr__(self, "_keep", keep)
        object.__setattr__(self, "_store", store)

    def probe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        value = super().probe(name, *args, **kwargs)
        if name in self._keep:
            self._store.setdefault(name, []).append((args, kwargs, value))
        return value


class FeedbackSession:
    """Feedback for one grading: records what checks share, then gathers every assignment's panels."""

    def __init__(self, enabled: bool, on_panel: Callable[[Panel], None] | None = None) -> None:
        self.enabled = enabled
        self.on_panel = on_panel          # e.g. start drawing the panel while grading goes on
        self.panels: list[Panel] = []
        self.gathered: set[str] = set()
        self._recorded: dict[str, dict[str, list]] = {}
        self._modules: dict[str, Any] = {}

    def student(self, assignment: str, worker: Worker, check_id: str, deadline: float) -> Student:
        """The ``student`` fixture's proxy; while feedback is on, it keeps the probe results gatherers reuse."""
        keep = set(getattr(self._module(assignment), "REUSE_PROBES", ())) if self.enabled else set()
        if not keep:
            return Student(worker, check_id, deadline)
        return _RecordingStudent(worker, check_id, deadline, keep, self._recorded.setdefault(assignment, {}))

    def gather(self, assignment: str, worker: Worker) -> list[Panel]:
        """Run every gatherer of ``assignment`` on its (still running) worker, once; never raises."""
        if not self.enabled or assignment in self.gathered:
            return []
        self.gathered.add(assignment)
        try:
            module = self._module(assignment)
        except Exception:  # a broken feedback module costs the plots, never the grading
            return []
        panels = []
        timeouts = 0
        for gatherer in getattr(module, "GATHERERS", ()):
            if timeouts >= MAX_TIMEOUTS:
                panels.append(_panel(assignment, gatherer, message="Skipped: an earlier plot of this assignment "
                                     "ran out of time, so your code was not run again."))
                continue
            panel = run_gatherer(assignment, gatherer, worker, self._recorded.get(assignment, {}))
            timeouts += panel.message.startswith(TIMEOUT_PREFIX)
            panels.append(panel)
            if self.on_panel is not None:
                try:
                    self.on_panel(panel)
                except Exception:  # a listener's problem must not cost the student their grade
                    pass
        self.panels += panels
        return panels

    def _module(self, assignment: str):
        if assignment not in self._modules:
            self._modules[assignment] = parts.part(assignment, "feedback")
        return self._modules[assignment]


TIMEOUT_PREFIX = "Skipped: your code took longer than"


def run_gatherer(assignment: str, gatherer: Gatherer, worker: Worker,
                 recorded: Mapping[str, list] | None = None) -> Panel:
    """One panel: the gatherer's plot, or a message saying why there is none."""
    start = time.monotonic()
    try:
        # (Re)start the worker first, under its import time limit: importing torch must not eat the plot's budget.
        Student(worker, f"{assignment}.feedback.start", start + worker.import_timeout)._send("ping")
        start = time.monotonic()
        student = Student(worker, f"{assignment}.feedback.{gatherer.key}", start + gatherer.budget)
        plot = gatherer.run(Context(student, recorded or {}))
        axes = tuple(_check_axes(plot.axes))
    except StudentTimeout:
        message = (f"{TIMEOUT_PREFIX} {gatherer.budget:g} s to produce this plot's data. The checks above have "
                   "their own, longer time limits.")
        return _panel(assignment, gatherer, message=message, seconds=time.monotonic() - start)
    except StudentError as exc:
        return _panel(assignment, gatherer, message=describe_student_error(exc), seconds=time.monotonic() - start)
    except (StudentProblem, FeedbackProblem) as exc:
        return _panel(assignment, gatherer, message=str(exc), seconds=time.monotonic() - start)
    except Exception as exc:  # a bug in a gatherer must never break grading or blame the student
        message = (f"This plot could not be drawn ({type(exc).__name__}: {str(exc)[:200]}). This is a problem in "
                   "the grader, not in your code: tell your instructor.")
        return _panel(assignment, gatherer, message=message, seconds=time.monotonic() - start)
    return _panel(assignment, gatherer, axes=axes, summary=plot.summary, notes=tuple(plot.notes),
                  seconds=time.monotonic() - start)


def describe_student_error(exc: StudentError) -> str:
    """Why there is no plot, when the student's code raised."""
    if exc.exc_type == "NotImplementedError":  # worded like the checks' message, without the source line
        function = getattr(exc, "function", "")
        what = f" {function}" if function and function != "<module>" else ""
        where = f" ({exc.where.split(', in ')[0].split(':')[0]})" if exc.where else ""
        return f"Not implemented yet:{what}{where}. The plot appears here once this part of your code runs."
    where = f" ({exc.where})" if exc.where else ""
    return f"Your code raised {exc.exc_type}: {exc.message[:300]}{where}"


def _panel(assignment: str, gatherer: Gatherer, **fields: Any) -> Panel:
    return Panel(assignment=assignment, exercise=gatherer.exercise, key=gatherer.key, title=gatherer.title,
                 expected=gatherer.expected, **fields)


def _check_axes(axes: Sequence[Mapping[str, Any]]):
    for ax in axes:
        if ax.get("kind") not in ("curves", "boundary"):
            raise ValueError(f"unknown axes kind {ax.get('kind')!r}")
        yield ax


# --- helpers for gatherers ------------------------------------------------------------------------------------

def numbers(value: Any, what: str, *, size: int | None = None) -> np.ndarray:
    """The student's returned value as a 1-D float64 array (NaN and inf kept), or a FeedbackProblem."""
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise FeedbackProblem(f"{what} should hold numbers, but your code gave {type(value).__name__} "
                              f"{str(value)[:80]}") from None
    if size is not None and arr.size != size:
        raise FeedbackProblem(f"{what} should hold {size} numbers, but your code gave {arr.size}")
    if arr.size == 0:
        raise FeedbackProblem(f"{what} is empty: nothing to plot")
    return arr


def number(value: Any, what: str) -> float:
    """One returned number (a float, a NumPy scalar or a size-1 array), or a FeedbackProblem."""
    return float(numbers(value, what, size=1)[0])


def curve(label: str, y: Any, *, x: Any = None, style: str = "student", color: int | None = None) -> dict:
    """One line of a ``curves`` axes; ``x`` defaults to 0, 1, 2, ... (epochs).

    ``style`` is ``"student"`` (solid), ``"expected"`` (dashed, drawn on top) or ``"context"`` (dash-dotted, a
    comparison that is neither); ``color`` indexes the palette,
    so that a student's curve and its expected twin share a colour (None: the first colour, or black when
    expected).
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    x = np.arange(y.size, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64).reshape(-1)
    return {"label": label, "x": x, "y": y, "style": style, "color": color}


def level(label: str, value: float, *, color: int | None = None) -> dict:
    """A horizontal reference line (a least-squares optimum, a chance level)."""
    return {"label": label, "y": float(value), "style": "level", "color": color}


def points(label: str, x: Any, y: Any, *, color: int | None = None) -> dict:
    """Data points drawn as a light scatter behind the curves."""
    return {"label": label, "x": np.asarray(x, dtype=np.float64).reshape(-1),
            "y": np.asarray(y, dtype=np.float64).reshape(-1), "style": "points", "color": color}


def diverged(y: np.ndarray, factor: float = 10.0) -> bool:
    """True when a loss history ends non-finite or far above where it started."""
    y = np.asarray(y, dtype=np.float64)
    return bool(y.size and (not np.isfinite(y[-1]) or y[-1] > factor * y[0]))


def describe_final(y: np.ndarray) -> str:
    """The last value of a history, or how it blew up."""
    y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        return f"NaN/inf after {int(np.argmin(np.isfinite(y)))} epochs"
    return f"{y[-1]:.3g}"
