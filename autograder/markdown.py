"""Gradescope's view of a grading, in Markdown (``output_format: "md"``).

Made from the check results as data: each failed check's parts (:meth:`autograder.results.Failure.shown`, so a
hidden check never shows its expected value; no check source is ever included) become labelled paragraphs, with
the words unchanged (tools and tests search them for phrases). ``Expected`` and ``Seen`` values go in code spans or
blocks, where whatever the student's code produced shows literally (never as markup or HTML); the hint, the
mistake and the rule stay prose. The top-level output holds the points per assignment and exercise
(:func:`autograder.results.totals`), each function not implemented yet once with the points that wait on it
(:func:`autograder.results.waiting`; each test that waits on it says so in one line) and, in words, what the
report's plots show.
"""
from __future__ import annotations

import re
from typing import Iterable

from autograder.results import LABELS, LITERAL, CheckResult, GradingRun, waiting, waits_on

#: Each quoted value (expected, seen) of a test's output, so that the hint, the mistake and the rule (with the
#: handout section it cites) always fit in Gradescope's limit.
MAX_LITERAL_CHARS = 3_000


def check_output(result: CheckResult) -> str:
    """One check's failure as Markdown (empty for a pass); one line for a check that waits on a function not
    implemented yet."""
    if waits_on(result):
        f = result.failure
        what = f.seen.strip().removeprefix("Not implemented yet:").strip().rstrip(".")
        return f"**Not implemented yet:** {code_span(what)}. {f.hint}".rstrip()
    parts = []
    for name, value in result.shown:
        label = LABELS[name]
        if name in LITERAL:
            body = value.strip("\n")
            if len(body) > MAX_LITERAL_CHARS:  # a long value never pushes the rule and its handout section out
                body = body[:MAX_LITERAL_CHARS] + f" ... ({len(body) - MAX_LITERAL_CHARS} more characters)"
            parts.append(f"**{label}:**\n\n{code_block(body)}" if "\n" in body else f"**{label}:** {code_span(body)}")
        else:
            parts.append(f"**{label}:** " + "  \n".join(line.strip() for line in value.strip().splitlines()))
    return "\n\n".join(parts)


def code_span(text: str) -> str:
    """Literal inline code, whatever backticks the text holds (CommonMark: a longer fence and padding)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str) -> str:
    """A literal fenced block, with a fence longer than any backtick run inside."""
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def cap(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a line and with any open code fence closed."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 80]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    fences = re.findall(r"^(`{3,})", cut, flags=re.MULTILINE)
    if len(fences) % 2:
        cut += "\n" + fences[-1]
    return cut + f"\n\n*... {len(text) - len(cut)} more characters cut*"


def summary(run: GradingRun) -> str:
    """The top-level output: score, a table per exercise, what the plots show, notes."""
    lines = [f"## Score: {run.score:g} / {run.max_score:g}", "", "| assignment | exercise | points | checks passed |",
             "|---|---|---:|---:|"]
    for (assignment, exercise), p in run.totals.exercises.items():
        lines.append(f"| {assignment} | {exercise} | {p.score:g} / {p.max_score:g} | {p.passed} / {p.checks} |")
    stubs = waiting(run.results)
    if stubs:
        lines += ["", "### Not implemented yet", ""] + [f"- {code_span(w.summary)}" for w in stubs]
        lines += ["", stubs[0].hint] if stubs[0].hint else []
    lines += _plots(run)
    if run.isolation is not None:
        lines += ["", f"Isolation of your code while it was graded: {run.isolation.describe()}."]
    if run.notes:
        lines += ["", "**Notes**", ""] + [f"- {code_span(n)}" for n in run.notes]
    return "\n".join(lines)


def _plots(run: GradingRun) -> Iterable[str]:
    if not run.feedback:
        return []
    out = ["", "### What your code's curves show", "",
           "Each failed check below says what was expected and what your code gave. Grade locally with "
           "`make grade` to see these curves as plots in `results/report.html`.", ""]
    for panel in run.feedback:
        head = f"- **{panel.assignment} {panel.exercise}: {panel.title}.**"
        if panel.has_plot:
            out.append(f"{head} {panel.summary} *What to look for:* {panel.expected}")
        else:
            out.append(f"{head} No plot: {code_span(panel.message)}")
    return out
