"""Gradescope's view of a grading, in Markdown (``output_format: "md"``).

Each check's output keeps its words exactly (tools and tests search it for phrases) and only gains structure:
``Expected`` and ``Seen`` values go in code spans or blocks, where whatever the student's code produced shows
literally (never as markup or HTML); the hint stays prose; any other message (an exception, a timeout) is a code
block. Hidden checks arrive here already without their expected values; no check source is ever included.
The top-level output holds the score per assignment and exercise and, in words, what the report's plots show.
"""
from __future__ import annotations

import re
from typing import Iterable

from autograder.results import GradingRun, by_exercise

LABELS = ("Expected", "Seen", "Hint")
_LABEL = re.compile(r"^(Expected|Seen|Hint):\s*(.*)$")


def check_output(text: str) -> str:
    """One check's output as Markdown, with the same words."""
    if not text.strip():
        return ""
    blocks = _labelled(text)
    if blocks is None:
        return code_block(text)
    parts = []
    for label, lines in blocks:
        body = "\n".join(lines).strip()
        if label == "Hint":
            parts.append(f"**{label}:** " + "  \n".join(line.strip() for line in body.splitlines()))
        elif "\n" in body:
            parts.append(f"**{label}:**\n\n{code_block(body)}")
        else:
            parts.append(f"**{label}:** {code_span(body)}")
    return "\n\n".join(parts)


def _labelled(text: str) -> list[tuple[str, list[str]]] | None:
    """``[(label, lines)]`` when the text is a check's Expected / Seen / Hint message, else None."""
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = _LABEL.match(line)
        if match:
            blocks.append((match.group(1), [match.group(2)]))
        elif blocks:
            blocks[-1][1].append(line)
        else:
            return None
    return blocks or None


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
    for (assignment, exercise), results in by_exercise(run.results).items():
        got, top = sum(r.score for r in results), sum(r.max_score for r in results)
        passed = sum(r.passed for r in results)
        lines.append(f"| {assignment} | {exercise} | {got:g} / {top:g} | {passed} / {len(results)} |")
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
