"""Feedback pieces on their own: gatherers never break grading, figures never crash, the page never embeds a broken
image, Gradescope's Markdown keeps every word and shows student text literally, progress never garbles a log."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from autograder import config as cfg
from autograder import markdown
from autograder.checking import CheckFailure
from autograder.feedback import FeedbackSession, Gatherer, Panel, Plot, curve, level, numbers, points, run_gatherer
from autograder.figures import render_png
from autograder.html_report import render_html, report_path
from autograder.progress import Progress
from autograder.results import CheckResult, Failure, GradingRun, to_gradescope
from autograder.sandbox import Worker
from tests.conftest import KIT_ROOT

PNG = b"\x89PNG\r\n\x1a\n"
TOY_MODULE = '''
import time

def fine():
    return [3.0, 2.0, 1.5, 1.25]

def stub():
    raise NotImplementedError()

def crash():
    raise ZeroDivisionError("division by zero in my code")

def words():
    return "three, two, one"

def hang():
    while True:
        time.sleep(0.01)
'''


@pytest.fixture
def toy_worker(tmp_path):
    path = tmp_path / "linear_neuron.py"
    path.write_text(TOY_MODULE)
    worker = Worker("linear_neuron", path, import_timeout=30, output_limit=10**6, limits=cfg.load().limits)
    yield worker
    worker.close()


def _gatherer(key: str, run, budget: float = 2.0) -> Gatherer:
    return Gatherer("ex1", key, f"title {key}", "what to look for", run, budget=budget)


def _curves_plot(ctx) -> Plot:
    return Plot([{"kind": "curves", "series": [curve("yours", ctx.student.fine())]}], summary="fine")


# --- gatherers ---------------------------------------------------------------------------------------------------

def test_a_gatherer_gets_its_data_through_the_sandbox(toy_worker):
    panel = run_gatherer("linear_neuron", _gatherer("ok", _curves_plot), toy_worker)
    assert panel.has_plot and panel.summary == "fine" and not panel.message
    assert list(panel.axes[0]["series"][0]["y"]) == [3.0, 2.0, 1.5, 1.25]


@pytest.mark.parametrize("call, says", [
    ("stub", "Not implemented yet"),
    ("crash", "Your code raised ZeroDivisionError: division by zero in my code"),
])
def test_student_errors_become_messages(toy_worker, call, says):
    panel = run_gatherer("linear_neuron", _gatherer(call, lambda ctx: getattr(ctx.student, call)()), toy_worker)
    assert not panel.has_plot and says in panel.message


def test_a_return_value_that_cannot_be_plotted_is_explained(toy_worker):
    def gather(ctx):
        return Plot([{"kind": "curves", "series": [curve("yours", numbers(ctx.student.words(), "history"))]}])
    panel = run_gatherer("linear_neuron", _gatherer("words", gather), toy_worker)
    assert not panel.has_plot and panel.message.startswith("history should hold numbers, but your code gave str")


def test_a_grader_bug_is_not_blamed_on_the_student(toy_worker):
    panel = run_gatherer("linear_neuron", _gatherer("bug", lambda ctx: {}["missing"]), toy_worker)
    assert "problem in the grader, not in your code" in panel.message


def test_a_hanging_gatherer_is_cut_at_its_budget_and_the_rest_are_skipped(toy_worker):
    session = FeedbackSession(enabled=True)
    session._modules["linear_neuron"] = types.SimpleNamespace(GATHERERS=[
        _gatherer("hang", lambda ctx: ctx.student.hang(), budget=0.5),
        _gatherer("after", _curves_plot)])
    start = time.monotonic()
    first, second = session.gather("linear_neuron", toy_worker)
    assert time.monotonic() - start < 10
    assert "took longer than 0.5 s" in first.message
    assert second.message.startswith("Skipped") and not second.has_plot


def test_feedback_off_gathers_nothing(toy_worker):
    session = FeedbackSession(enabled=False)
    assert session.gather("linear_neuron", toy_worker) == [] and session.panels == []


def test_every_assignment_with_checks_has_gatherers_with_budgets():
    for assignment in cfg.assignment_names():
        module = FeedbackSession(True)._module(assignment)
        assert module is not None and module.GATHERERS, assignment
        exercises = {g.exercise for g in module.GATHERERS}
        assert all(e.startswith("ex") for e in exercises)
        assert all(0 < g.budget <= 10 for g in module.GATHERERS)


# --- figures and the page ------------------------------------------------------------------------------------------

def test_figures_survive_nan_inf_and_flat_outputs():
    y = np.array([1.0, 10.0, 1e30, np.inf, np.nan])
    curves = {"kind": "curves", "logy": True, "clip_factor": 1e3, "ylim": [0.1, None],
              "series": [curve("diverging", y), curve("", y, style="expected"), level("best", 0.5),
                         points("data", [0, 1], [2, 3])]}
    flat = {"kind": "boundary", "xs": np.linspace(0, 1, 5), "ys": np.linspace(0, 1, 5), "prob": np.full((5, 5), 0.5),
            "X": np.zeros((2, 2)), "labels": np.array([0.0, 1.0])}
    nan_grid = dict(flat, prob=np.full((5, 5), np.nan))
    for axes in ((curves,), (flat, nan_grid), ({"kind": "curves", "series": []},)):
        assert render_png(axes).startswith(PNG)


def _check(failure: Failure | None, *, hidden: bool = False, i: int = 0) -> CheckResult:
    """A check of linear_neuron ex1 worth 2 points: passed without a failure, else failed with it."""
    return CheckResult("linear_neuron", "ex1", f"test_{i}", f"check {i}", 0.0 if failure else 2.0, 2.0,
                       "hidden" if hidden else "visible", failure is None, failure=failure)


def _run(panels=(), failures=(None,)) -> GradingRun:
    """The first check visible, the others hidden."""
    results = tuple(_check(f, hidden=i > 0, i=i) for i, f in enumerate(failures))
    return GradingRun(results=results, execution_time=1.0, feedback=tuple(panels))


def _panel(**fields) -> Panel:
    return Panel(**{"assignment": "linear_neuron", "exercise": "ex1", "key": "k", "title": "a plot",
                    "expected": "a smooth decrease", **fields})


def test_the_page_never_embeds_a_broken_image():
    broken = _panel(axes=({"kind": "curves", "series": [{"style": "student"}]},))   # no data: drawing fails
    good = _panel(axes=({"kind": "curves", "series": [curve("yours", [3, 2, 1])]},), summary="ok")
    stub = _panel(message="Not implemented yet (linear_neuron.py, line 3)")
    page = render_html(_run([broken, good, stub]), cfg.load())
    assert page.count("<img ") == 1 and page.count("data:image/png;base64,") == 1
    assert "could not be drawn" in page and "Not implemented yet (linear_neuron.py, line 3)" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_the_page_escapes_student_text():
    evil = "<script>alert(1)</script>"
    page = render_html(_run([_panel(message=evil)], failures=(Failure("wrong", "1", evil, "h"),)), cfg.load())
    assert evil not in page and "&lt;script&gt;" in page


def test_report_path_sits_next_to_the_results():
    assert report_path(Path("results/results.json")) == Path("results/report.html")
    assert report_path(Path("/tmp/x/r.json")) == Path("/tmp/x/r-report.html")


# --- Gradescope Markdown ---------------------------------------------------------------------------------------------

def test_markdown_keeps_every_word_and_shows_values_literally():
    md = markdown.check_output(_check(Failure("wrong", "grad_a = 0.5", "`rm -rf` <b>x</b> *y*",
                                              "use X.T @ (u - y) and zero_grad()")))
    assert "**Expected:** `grad_a = 0.5`" in md
    assert "``` `rm -rf` <b>x</b> *y* ```" in md or "`` `rm -rf` <b>x</b> *y* ``" in md
    assert "**Hint:** use X.T @ (u - y) and zero_grad()" in md
    for phrase in ("X.T", "zero_grad", "grad_a = 0.5"):
        assert phrase in md


def test_markdown_hidden_checks_have_no_expected_and_what_the_code_did_is_code():
    hidden = markdown.check_output(_check(Failure("wrong", "42", "41", "off by one"), hidden=True))
    assert "Expected" not in hidden and "42" not in hidden and "**Seen:** `41`" in hidden
    crash = "Your code raised ValueError: bad ```"
    md = markdown.check_output(_check(Failure("student_error", seen=crash, hint="at linear_neuron.py, line 3")))
    assert md == f"**Seen:** ```` {crash} ````\n\n**Hint:** at linear_neuron.py, line 3"
    trace = "Your code printed:\nline one\n```\nline two"
    md = markdown.check_output(_check(Failure("student_problem", seen=trace)))
    assert md == f"**Seen:**\n\n````text\n{trace}\n````"
    assert markdown.check_output(_check(None)) == ""


def test_markdown_cap_closes_an_open_fence():
    md = markdown.cap(markdown.code_block("x\n" * 5000), 1000)
    assert len(md) <= 1000 and md.count("```") % 2 == 0


def test_results_json_declares_markdown_and_stays_valid():
    import jsonschema
    schema = json.loads((KIT_ROOT / "autograder" / "results.schema.json").read_text())
    doc = to_gradescope(_run([_panel(axes=({"kind": "curves", "series": []},), summary="it fell")],
                             failures=(Failure("wrong", "2", "1", "h"), Failure("not_run", seen="not run"))))
    jsonschema.validate(doc, schema)
    assert doc["output_format"] == doc["test_output_format"] == "md"
    assert "## Score: 0 / 4" in doc["output"] and "it fell" in doc["output"]


# --- progress --------------------------------------------------------------------------------------------------------

def test_progress_writes_plain_lines_off_a_terminal():
    out = io.StringIO()
    p = Progress(out)
    p.start(3)
    for ex in ("ex1", "ex1", "ex2"):
        p.check("linear_neuron", ex, "t")
    p.phase("linear_neuron: drawing plots")
    p.finish()
    assert out.getvalue() == ("grading linear_neuron ex1 ...\ngrading linear_neuron ex2 ...\n"
                              "linear_neuron: drawing plots ...\n")


def test_progress_rewrites_one_line_on_a_terminal_and_erases_it():
    out = io.StringIO()
    p = Progress(out, live=True)
    p.start(12)
    p.check("backprop", "ex3", "forward pass")
    p.finish()
    assert out.getvalue() == "\r\x1b[2K[ 1/12] backprop ex3: forward pass\r\x1b[2K"


def test_progress_on_a_closed_stream_stays_silent():
    out = io.StringIO()
    out.close()
    p = Progress(out)
    p.check("a", "ex1", "t")
    p.finish()


def test_no_report_flag_skips_plots_and_page(tmp_path):
    results = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--assignment", "linear_neuron",
                           "--results", str(results), "--no-report"], cwd=KIT_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "report.html").exists() and "Report" not in proc.stdout
    assert "grading linear_neuron ex1 ..." in proc.stderr and "\r" not in proc.stderr and "\x1b" not in proc.stderr
