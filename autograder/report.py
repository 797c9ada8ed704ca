"""The terminal view of a grading: one row per check, grouped by assignment and exercise, then the total."""
from __future__ import annotations

import shutil
import textwrap

from autograder.config import Config
from autograder.results import GradingRun, by_exercise


def render_table(run: GradingRun, config: Config, *, width: int | None = None) -> str:
    width = width or min(110, max(72, shutil.get_terminal_size((100, 20)).columns))
    lines: list[str] = []
    groups = by_exercise(run.results)
    current = None
    for (assignment, exercise), results in groups.items():
        a = config.assignments[assignment]
        if assignment != current:
            current = assignment
            got = sum(r.score for rs in groups.values() for r in rs if r.assignment == assignment)
            top = sum(r.max_score for rs in groups.values() for r in rs if r.assignment == assignment)
            lines += ["", _row(f"{assignment} - {a.title}", f"{got:g} / {top:g}", width), "=" * width]
        ex_title = a.exercises[exercise].title
        ex_got = sum(r.score for r in results)
        ex_top = sum(r.max_score for r in results)
        lines.append(_row(f"  {exercise}  {ex_title}", f"{ex_got:g} / {ex_top:g}", width))
        for r in results:
            mark = "ok  " if r.passed else "FAIL"
            tag = "" if r.visibility == "visible" else " (hidden)"
            lines.append(_row(f"    {mark} {r.title}{tag}", f"{r.score:g} / {r.max_score:g}", width))
            if not r.passed and r.output:
                for para in r.output.splitlines()[:12]:
                    lines += textwrap.wrap(para, width=width - 4, initial_indent="         ",
                                           subsequent_indent="                   ") or [""]
    lines += ["-" * width, _row("Total", f"{run.score:g} / {run.max_score:g}", width)]
    if run.isolation is not None:
        lines.append(f"  isolation: {run.isolation.describe()}")
    lines += [f"  note: {n}" for n in run.notes]
    return "\n".join(lines)


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: room - 3] + "..."
    return f"{left:<{room}} {right}"
