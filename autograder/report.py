"""The terminal view of a grading: one row per check, grouped by assignment and exercise, then the total.

Made from the check results as data: points from :func:`autograder.results.totals`, each failure's parts from
:meth:`autograder.results.Failure.shown` (a hidden check never shows its expected value), one "Label: value" line
per part (:func:`autograder.results.plain_text`).
"""
from __future__ import annotations

import shutil
import textwrap

from autograder.config import Config
from autograder.results import GradingRun, by_exercise, plain_text

#: Lines of a failure shown under its check (the HTML report shows the rest).
MAX_FAILURE_LINES = 12


def render_table(run: GradingRun, config: Config, *, width: int | None = None) -> str:
    width = width or min(110, max(72, shutil.get_terminal_size((100, 20)).columns))
    points = run.totals
    lines: list[str] = []
    current = None
    for (assignment, exercise), results in by_exercise(run.results).items():
        a = config.assignments[assignment]
        if assignment != current:
            current = assignment
            p = points.assignments[assignment]
            lines += ["", _row(f"{assignment} - {a.title}", f"{p.score:g} / {p.max_score:g}", width), "=" * width]
        p = points.exercises[(assignment, exercise)]
        lines.append(_row(f"  {exercise}  {a.exercises[exercise].title}", f"{p.score:g} / {p.max_score:g}", width))
        for r in results:
            mark = "ok  " if r.passed else "FAIL"
            tag = "" if r.visibility == "visible" else " (hidden)"
            lines.append(_row(f"    {mark} {r.title}{tag}", f"{r.score:g} / {r.max_score:g}", width))
            for para in plain_text(r.shown).splitlines()[:MAX_FAILURE_LINES]:
                lines += textwrap.wrap(para, width=width - 4, initial_indent="         ",
                                       subsequent_indent="                   ") or [""]
    total = points.total
    lines += ["-" * width, _row("Total", f"{total.score:g} / {total.max_score:g}", width)]
    if run.isolation is not None:
        lines.append(f"  isolation: {run.isolation.describe()}")
    lines += [f"  note: {n}" for n in run.notes]
    return "\n".join(lines)


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: room - 3] + "..."
    return f"{left:<{room}} {right}"
