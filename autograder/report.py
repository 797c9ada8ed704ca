"""The terminal view of a grading: one row per check, grouped by assignment and exercise, then the total.

Made from the check results as data: points from :func:`autograder.results.totals`, each failure's parts from
:meth:`autograder.results.Failure.shown` (a hidden check never shows its expected value), one "Label: value" line
per part (:func:`autograder.results.plain_text`). Checks that fail only because a function is not implemented
yet show no message each: the assignment lists each such function once, with the points that wait on it
(:func:`autograder.results.waiting`), and each exercise one row for its checks that wait.
"""
from __future__ import annotations

import shutil
import textwrap

from autograder.config import Config
from autograder.results import LITERAL, GradingRun, by_exercise, plain_text, waiting, waits_on

#: Lines of a failure's quoted values (expected, seen) shown under its check (the HTML report shows the rest); the
#: hint, the mistake and the rule (with the handout section it cites) always show in full.
MAX_FAILURE_LINES = 12
INDENT, HANGING = " " * 9, " " * 19


def render_table(run: GradingRun, config: Config, *, width: int | None = None) -> str:
    width = width or min(110, max(72, shutil.get_terminal_size((100, 20)).columns))
    points = run.totals
    lines: list[str] = []
    current = None
    stubs = waiting(run.results)
    for (assignment, exercise), results in by_exercise(run.results).items():
        a = config.assignments[assignment]
        if assignment != current:
            current = assignment
            p = points.assignments[assignment]
            lines += ["", _row(f"{assignment} - {a.title}", f"{p.score:g} / {p.max_score:g}", width), "=" * width]
            mine = [w for w in stubs if w.assignment == assignment]
            for w in mine:
                lines += textwrap.wrap(w.summary, width=width - 2, initial_indent="  ", subsequent_indent="      ")
            if mine and mine[0].hint:
                lines += textwrap.wrap(f"For each: {mine[0].hint[0].lower()}{mine[0].hint[1:]}", width=width - 2,
                                       initial_indent="  ", subsequent_indent="      ")
        p = points.exercises[(assignment, exercise)]
        lines.append(_row(f"  {exercise}  {a.exercises[exercise].title}", f"{p.score:g} / {p.max_score:g}", width))
        waits: dict[str, list] = {}
        for r in results:
            if waits_on(r):
                waits.setdefault(r.failure.missing or "a function", []).append(r)
                continue
            mark = "ok  " if r.passed else "FAIL"
            tag = "" if r.visibility == "visible" else " (hidden)"
            lines.append(_row(f"    {mark} {r.title}{tag}", f"{r.score:g} / {r.max_score:g}", width))
            lines += _failure_lines(r.shown, width)
        if waits:
            checks = [r for rs in waits.values() for r in rs]
            names = ", ".join(waits)
            lines.append(_row(f"    FAIL {len(checks)} check{'s' * (len(checks) > 1)} waiting on {names}",
                              f"{sum(r.score for r in checks):g} / {sum(r.max_score for r in checks):g}", width))
    total = points.total
    lines += ["-" * width, _row("Total", f"{total.score:g} / {total.max_score:g}", width)]
    if run.isolation is not None:
        lines.append(f"  isolation: {run.isolation.describe()}")
    lines += [f"  note: {n}" for n in run.notes]
    return "\n".join(lines)


def _failure_lines(shown, width: int) -> list[str]:
    """A failure's parts, one "Label: value" paragraph each, wrapped; a quoted value (expected, seen) is cut to
    :data:`MAX_FAILURE_LINES` lines, the grader's own words (hint, mistake, rule) never are."""
    lines: list[str] = []
    for name, value in shown:
        paras = plain_text([(name, value)]).splitlines()
        if name in LITERAL and len(paras) > MAX_FAILURE_LINES:
            paras = paras[:MAX_FAILURE_LINES] + [f"{'':9} ... ({len(paras) - MAX_FAILURE_LINES} more lines in the "
                                                  "HTML report)"]
        for para in paras:
            lines += textwrap.wrap(para, width=width - 4, initial_indent=INDENT, subsequent_indent=HANGING) or [""]
    return lines


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: room - 3] + "..."
    return f"{left:<{room}} {right}"
