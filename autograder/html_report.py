"""``results/report.html``: the grading as a page a student can read, with plots made from their own code.

Made from a :class:`~autograder.results.GradingRun` after grading (nothing here runs student code): the score per
assignment and exercise (:func:`~autograder.results.totals`), every check with its points, each failure's parts
as a small table (:meth:`~autograder.results.Failure.shown`: a hidden check never shows its expected value, as in
results.json; a check that waits on a function not implemented yet says so in a few words, the assignment listing
each such function once with its points, :func:`~autograder.results.waiting`), and for each exercise the plot of what the student's code did
beside the expected behaviour, or the reason there is no plot. The page is self-contained: inline CSS, images
as ``data:`` URIs, no script, and a Content-Security-Policy that forbids loading anything else.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import os
import tempfile
import time
from pathlib import Path

from autograder.config import Config
from autograder.feedback import Panel
from autograder.results import (LABELS, LITERAL, CheckResult, GradingRun, Points, Totals, by_exercise, waiting,
                                waits_on)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def report_path(results: Path) -> Path:
    """Where the report goes: ``report.html`` next to ``results.json`` (``<name>-report.html`` next to
    ``<name>.json``, so that several gradings can share a folder)."""
    results = Path(results)
    return results.with_name("report.html" if results.stem == "results" else f"{results.stem}-report.html")


class Prerenderer:
    """Draws panels in a background thread while grading goes on (``grade(..., on_panel=prerenderer.submit)``).

    Checks mostly wait for the worker process, so the figures of one assignment are drawn while the next one is
    graded; importing matplotlib (about half a second) happens there too.
    """

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from autograder.figures import warm_up
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neurograde-figures")
        self._pool.submit(warm_up)
        self._futures: dict[int, object] = {}

    def submit(self, panel: Panel) -> None:
        if panel.has_plot:
            self._futures[id(panel)] = self._pool.submit(_png_uri, panel)

    def uri(self, panel: Panel) -> str | None:
        future = self._futures.get(id(panel)) or self._pool.submit(_png_uri, panel)  # one drawing thread only
        return future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def write_report(run: GradingRun, config: Config, path: Path, *, submission: str = "",
                 renderer: Prerenderer | None = None) -> float:
    """Render the page and write it atomically to ``path``; returns the seconds spent."""
    start = time.perf_counter()
    page = render_html(run, config, submission=submission, renderer=renderer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, path)
    return time.perf_counter() - start


def render_html(run: GradingRun, config: Config, *, submission: str = "", renderer: Prerenderer | None = None) -> str:
    """The whole page as one string (figures drawn now, or taken from ``renderer``)."""
    draw = renderer.uri if renderer is not None else _png_uri
    images = {id(p): draw(p) for p in run.feedback if p.has_plot}
    groups = by_exercise(run.results)
    points = run.totals
    body = [_header(run, config, points, submission)]
    for assignment in points.assignments:
        body.append(_assignment(assignment, run, config, groups, points, images))
    body.append(_footer(run))
    return _PAGE.format(css=_CSS, body="\n".join(body))


# --- pieces of the page ---------------------------------------------------------------------------------------

def _header(run: GradingRun, config: Config, points: Totals, submission: str) -> str:
    cards = []
    for a, p in points.assignments.items():
        got, top = p.score, p.max_score
        cards.append(f'<a class="card" href="#{_e(a)}"><span class="card-title">{_e(_title(config, a))}</span>'
                     f'<code>{_e(a)}.py</code>{_bar(got, top)}<span class="pts">{got:g} / {top:g}</span></a>')
    isolation = [f"isolation: {run.isolation.describe()}"] if run.isolation is not None else []
    notes = "".join(f"<li>{_e(n)}</li>" for n in (*isolation, *run.notes))
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    where = f" &middot; submission <code>{_e(submission)}</code>" if submission else ""
    return (f'<header><h1>Your neurograde feedback</h1><p class="meta">{when}{where}</p>'
            f'<div class="total"><span class="big">{points.total.score:g}</span><span class="of">/ '
            f'{points.total.max_score:g} points</span>{_bar(points.total.score, points.total.max_score)}</div>'
            f'<nav class="cards">{"".join(cards)}</nav>'
            + (f'<ul class="notes">{notes}</ul>' if notes else "")
            + '<p class="legend">In the plots: <span class="k solid"></span> your code &nbsp; '
              '<span class="k dashed"></span> expected &nbsp; <span class="k dotted"></span> the best possible '
              '(least squares) &nbsp; <span class="k dots"></span> data</p></header>')


def _assignment(assignment: str, run: GradingRun, config: Config, groups, points: Totals,
                images: dict[int, str]) -> str:
    total = points.assignments[assignment]
    parts = [f'<section id="{_e(assignment)}"><h2>{_e(_title(config, assignment))} <code>{_e(assignment)}.py</code>'
             f'<span class="pts">{total.score:g} / {total.max_score:g}</span></h2>']
    stubs = [w for w in waiting(run.results) if w.assignment == assignment]
    if stubs:
        hint = f'<p>{_e(stubs[0].hint)}</p>' if stubs[0].hint else ""
        parts.append('<div class="waiting"><ul>' + "".join(f"<li>{_e(w.summary)}</li>" for w in stubs)
                     + f"</ul>{hint}</div>")
    panels = [p for p in run.feedback if p.assignment == assignment]
    exercises = points.assignment(assignment)
    for exercise, ex_points in exercises.items():
        parts.append(_exercise(assignment, exercise, groups[(assignment, exercise)], ex_points, config,
                               [p for p in panels if p.exercise == exercise], images))
    for panel in panels:  # a plot for an exercise that had no check here still shows
        if panel.exercise not in exercises:
            parts.append(_panel(panel, images))
    parts.append("</section>")
    return "\n".join(parts)


def _exercise(assignment: str, exercise: str, results: list[CheckResult], points: Points, config: Config,
              panels: list[Panel], images: dict[int, str]) -> str:
    got, top = points.score, points.max_score
    state = "full" if got >= top else ("none" if got == 0 else "part")
    title = _exercise_title(config, assignment, exercise)
    rows, previous = [], None
    for r in results:  # a failure repeated by consecutive checks (a stub's "Not implemented yet") shows once
        rows.append(_check(r, repeated=bool(r.shown) and r.shown == previous))
        previous = r.shown or None
    rows = "".join(rows)
    failed = points.checks - points.passed
    checks = (f'<details class="checks"{" open" if failed else ""}><summary>{points.passed} of {points.checks} '
              f'checks passed</summary><ul>{rows}</ul></details>')
    plots = "".join(_panel(p, images) for p in panels)
    return (f'<article class="exercise {state}"><h3><span class="ex">{_e(exercise)}</span> {_e(title)}'
            f'<span class="pill {state}">{got:g} / {top:g}</span></h3>{checks}{plots}</article>')


def _check(r: CheckResult, *, repeated: bool = False) -> str:
    mark = '<span class="ok" title="passed">&#10003;</span>' if r.passed else \
        '<span class="ko" title="failed">&#10007;</span>'
    tag = "" if r.visibility == "visible" else ' <span class="tag">hidden</span>'
    message = _message(r.shown) if r.shown else ""
    if waits_on(r):
        name = r.failure.missing or "a function"
        message = f'<p class="same">Waits on <code>{_e(name)}</code> (listed above).</p>'
    elif message and repeated:
        message = '<p class="same">Same message as above.</p>'
    return (f'<li class="{"pass" if r.passed else "fail"}">{mark}<span class="ct">{_e(r.title)}{tag}</span>'
            f'<span class="cp">{r.score:g} / {r.max_score:g}</span>{message}</li>')


def _message(shown: tuple[tuple[str, str], ...]) -> str:
    """A failure's shown parts as a small table: one row per part, values as code, words as prose."""
    cells = []
    for name, value in shown:
        value = value.strip()
        text = f"<code>{_e(value)}</code>" if name in LITERAL else _e(value)
        cells.append(f'<div class="row {name}"><span class="lab">{LABELS[name]}</span><span class="val">{text}'
                     f'</span></div>')
    return f'<div class="msg">{"".join(cells)}</div>'


def _panel(panel: Panel, images: dict[int, str]) -> str:
    head = f'<figcaption><strong>{_e(panel.title)}</strong></figcaption>'
    expect = f'<p class="expect"><b>What to look for:</b> {_e(panel.expected)}</p>'
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in panel.notes)
    uri = images.get(id(panel))
    if uri is None:
        message = panel.message or "This plot could not be drawn (a problem in the grader, not in your code)."
        return (f'<figure class="plot noplot">{head}<p class="why">No plot: {_e(message)}</p>{expect}'
                f'</figure>')
    wide = " wide" if len(panel.axes) > 1 else ""
    return (f'<figure class="plot{wide}">{head}<img src="{uri}" alt="{_e(panel.summary or panel.title)}">'
            f'<div class="words">{expect}<p class="yours"><b>Your code:</b> {_e(panel.summary)}</p>{notes}</div>'
            '</figure>')


def _footer(run: GradingRun) -> str:
    plots = sum(p.seconds for p in run.feedback)
    return (f'<footer>Graded by neurograde in {run.execution_time:.1f} s (of which {plots:.1f} s gathering plot '
            'data). Your code ran in a sandbox; these plots come from its outputs.</footer>')


# --- helpers --------------------------------------------------------------------------------------------------

def _png_uri(panel: Panel) -> str | None:
    """The panel's figure as a data: URI, or None when it cannot be drawn (then its message shows instead)."""
    from autograder.figures import render_png

    try:
        png = render_png(panel.axes)
    except Exception:  # never a broken image: the panel falls back to a message
        return None
    if not png.startswith(PNG_SIGNATURE):
        return None
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _bar(got: float, top: float) -> str:
    share = 0.0 if top <= 0 else max(0.0, min(1.0, got / top))
    return f'<span class="bar"><span style="width:{share * 100:.1f}%"></span></span>'


def _title(config: Config, assignment: str) -> str:
    a = config.assignments.get(assignment)
    return a.title if a else assignment


def _exercise_title(config: Config, assignment: str, exercise: str) -> str:
    a = config.assignments.get(assignment)
    return a.exercises[exercise].title if a and exercise in a.exercises else ""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>neurograde feedback</title>
<style>{css}</style>
</head>
<body>
{body}
</body>
</html>
"""

_CSS = """
:root { --ink:#1d2430; --muted:#5b6678; --line:#e3e7ee; --bg:#f6f7f9; --ok:#1a7f4b; --ko:#c0392b; --part:#b7791f;
        --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:15px/1.5 system-ui, -apple-system, "Segoe UI",
       Roboto, "DejaVu Sans", sans-serif; }
header, section, footer { max-width:1080px; margin:0 auto; padding:0 20px; }
header { padding-top:28px; padding-bottom:8px; }
h1 { font-size:26px; margin:0 0 2px; }
.meta { color:var(--muted); margin:0 0 14px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:0.9em; }
.total { display:flex; align-items:center; gap:12px; margin-bottom:16px; }
.total .big { font-size:40px; font-weight:700; }
.total .of { color:var(--muted); font-size:18px; }
.total .bar { width:260px; height:10px; }
.bar { display:inline-block; background:#dde2ea; border-radius:6px; overflow:hidden; height:8px; width:100%; }
.bar > span { display:block; height:100%; background:var(--accent); }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(230px, 1fr)); gap:12px; }
.card { display:flex; flex-direction:column; gap:4px; background:#fff; border:1px solid var(--line);
        border-radius:10px; padding:12px 14px; color:inherit; text-decoration:none; }
.card:hover { border-color:var(--accent); }
.card-title { font-weight:600; }
.card code { color:var(--muted); }
.card .pts { font-weight:600; }
.notes { color:var(--muted); }
.legend { color:var(--muted); font-size:13px; margin:14px 0 0; }
.k { display:inline-block; width:26px; height:0; vertical-align:middle; margin-right:3px; }
.k.solid { border-top:3px solid var(--accent); }
.k.dashed { border-top:2px dashed #222; }
.k.dotted { border-top:2px dotted #555; }
.k.dots { border-top:4px dotted #9a9a9a; }
section { margin-top:26px; }
h2 { font-size:21px; margin:0 0 12px; display:flex; align-items:baseline; gap:10px; }
h2 code { color:var(--muted); font-size:14px; font-weight:400; }
h2 .pts, h3 .pill { margin-left:auto; }
.exercise { background:#fff; border:1px solid var(--line); border-left:5px solid var(--line); border-radius:10px;
            padding:14px 18px; margin:0 0 14px; }
.exercise.full { border-left-color:var(--ok); }
.exercise.part { border-left-color:var(--part); }
.exercise.none { border-left-color:var(--ko); }
h3 { font-size:17px; margin:0 0 6px; display:flex; align-items:baseline; gap:8px; }
h3 .ex { color:var(--muted); font-weight:600; }
.pill { font-size:13px; font-weight:600; border-radius:999px; padding:1px 10px; color:#fff; }
.pill.full { background:var(--ok); } .pill.part { background:var(--part); } .pill.none { background:var(--ko); }
details.checks summary { cursor:pointer; color:var(--muted); font-size:14px; margin:2px 0 6px; }
.checks ul { list-style:none; margin:0; padding:0; }
.checks li { display:grid; grid-template-columns:22px 1fr auto; column-gap:6px; padding:5px 0;
             border-top:1px solid var(--line); }
.ok { color:var(--ok); font-weight:700; } .ko { color:var(--ko); font-weight:700; }
.cp { color:var(--muted); font-variant-numeric:tabular-nums; }
.tag { font-size:11px; color:var(--muted); border:1px solid var(--line); border-radius:4px; padding:0 4px; }
.msg { grid-column:2 / 4; margin:6px 0 2px; background:#fbf3f2; border:1px solid #f0d4d0; border-radius:8px;
       padding:8px 10px; font-size:14px; }
.waiting { background:#fbf3f2; border:1px solid #f0d4d0; border-radius:8px; padding:8px 14px; margin:0 0 14px;
           font-size:14px; }
.waiting ul { margin:0; padding-left:18px; } .waiting p { margin:6px 0 0; color:var(--muted); }
.same { grid-column:2 / 4; margin:2px 0 0; color:var(--muted); font-size:13px; font-style:italic; }
.msg .row { display:grid; grid-template-columns:74px 1fr; gap:8px; padding:1px 0; }
.msg .lab { color:var(--muted); font-weight:600; }
.msg .val code { white-space:pre-wrap; word-break:break-word; }
.msg .hint .val, .msg .mistake .val { font-weight:500; }
.plot { margin:14px 0 4px; padding:12px 14px; border:1px solid var(--line); border-radius:8px; background:#fff;
        display:grid; grid-template-columns:minmax(0, 490px) minmax(0, 1fr); column-gap:18px; align-items:start; }
.plot.wide, .plot.noplot { grid-template-columns:minmax(0, 1fr); }
.plot figcaption { grid-column:1 / -1; font-size:15px; margin-bottom:6px; }
.plot img { display:block; max-width:100%; height:auto; border:1px solid var(--line); border-radius:4px; }
.plot .words { padding-top:4px; }
.plot.wide .words { padding-top:8px; }
.plot p { margin:0 0 8px; font-size:14px; }
@media (max-width: 760px) { .plot { grid-template-columns:minmax(0, 1fr); } }
.plot .expect { color:var(--muted); }
.plot .note { color:var(--muted); font-style:italic; }
.noplot .why { background:#fff8e6; border:1px solid #f1dfb0; border-radius:6px; padding:8px 10px; }
footer { color:var(--muted); font-size:13px; padding-top:10px; padding-bottom:40px; }
"""
