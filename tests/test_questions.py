"""Written questions (assignments/<a>/questions.yml): every assignment has a valid set, the loader refuses what
grading.yml's loader would (unknown keys with file:line, points that do not add up), the handouts and explore
notebooks carry exactly what the questions files generate, and `make release` turns them into nbgrader answer
cells and the Gradescope written part without shipping the rubric to students."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder import config as cfg
from autograder import questions
from autograder.config import ConfigError
from autograder.release.common import Release
from tests.conftest import KIT_ROOT
from tests.release_support import built_dist

ASSIGNMENTS = Release.load(dist=Path("unused")).assignments
CONFIG = cfg.load()

VALID = """\
questions:
  q1:
    title: One
    points: 3
    prompt: Why?
    rubric:
      - {points: 2, criterion: because}
      - {points: 1, criterion: and also, partial: half of it}
  q2: {title: Two, points: 1, prompt: How, rubric: [{points: 1, criterion: so}]}
  q3: {title: Three, points: 1, prompt: What, rubric: [{points: 1, criterion: that}]}
"""


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_asks_three_to_six_questions_with_rubrics_that_add_up(assignment):
    part = questions.load(assignment)
    assert questions.MIN_QUESTIONS <= len(part.questions) <= questions.MAX_QUESTIONS
    for q in part.questions:
        assert q.prompt and q.rubric and sum(c.points for c in q.rubric) == q.points, q.id
    # the autograded total is grading.yml's alone
    checks = sum(c.points for c in CONFIG.assignments[assignment].checks())
    assert CONFIG.assignments[assignment].total_points == checks


def test_a_valid_file_loads_with_its_points_and_criteria():
    part = questions.parse(VALID, assignment="demo")
    assert [q.id for q in part.questions] == ["q1", "q2", "q3"] and part.total_points == 5
    assert part.questions[0].rubric[1] == questions.Criterion(1.0, "and also", "half of it")


@pytest.mark.parametrize("change, message", [
    (("    rubric:\n", "    hint: no\n    rubric:\n"), "demo.yml:6: questions.q1.hint: unknown key(s) hint"),
    (("{points: 2, criterion: because}", "{points: 2, criterion: because, weight: 1}"),
     "demo.yml:7: questions.q1.rubric.0.weight: unknown key(s) weight"),
    (("    points: 3\n", "    points: 4\n"), "demo.yml:4: questions.q1.points: the question is worth 4 points but its "
                                                "rubric's criteria add up to 3"),
    (("  q3: {title: Three, points: 1, prompt: What, rubric: [{points: 1, criterion: that}]}\n", ""),
     "demo.yml:1: questions: 2 questions; an assignment asks 3 to 6"),
    (("    prompt: Why?\n", ""), "demo.yml:2: questions.q1: missing required key 'prompt'"),
    (("  q2:", "  two:"), "demo.yml:9: questions.two: a question id is q1, q2, ..."),
    (("{points: 1, criterion: so}", "{points: 0, criterion: so}"), "demo.yml:9: questions.q2.rubric.0.points: "
                                                                   "expected a positive number of points, got 0"),
])
def test_the_loader_names_the_file_line_and_key_of_a_mistake(change, message):
    with pytest.raises(ConfigError) as info:
        questions.parse(VALID.replace(*change), assignment="demo", source="demo.yml")
    assert str(info.value).startswith(message), str(info.value)


def test_handouts_and_explore_notebooks_carry_the_generated_questions():
    """Drift test: `python -m autograder.questions --check` finds nothing to rewrite."""
    assert questions.drifted() == [], "run python -m autograder.questions"
    for a in ASSIGNMENTS:
        readme = (KIT_ROOT / "assignments" / a / "README.md").read_text()
        assert readme.rstrip().endswith(questions.END), a     # the section closes the handout
        nb = json.loads((KIT_ROOT / "assignments" / a / "explore.ipynb").read_text())
        written = [c for c in nb["cells"] if questions.NOTEBOOK_KEY in c["metadata"]]
        assert len(written) == 1 + 2 * len(questions.load(a).questions) and all(
            c["cell_type"] == "markdown" for c in written), a
        assert nb["cells"][-len(written):] == written, a       # after the notebook's own cells, grader cell included


def test_regenerating_keeps_an_answer_typed_into_the_explore_notebook():
    part = questions.parse(VALID, assignment="demo")
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1"}], "metadata": {}}
    once = questions.with_explore_cells(nb, part)
    once["cells"][-1]["source"] = "my answer"
    twice = questions.with_explore_cells(once, part)
    assert twice["cells"][0]["source"] == "x = 1" and twice["cells"][-1]["source"] == "my answer"
    assert [c["metadata"] for c in twice["cells"]] == [c["metadata"] for c in once["cells"]]
    readme = questions.with_handout_section("# Handout\n\ntext\n", part)
    assert questions.with_handout_section(readme, part) == readme and readme.startswith("# Handout\n\ntext\n\n")


def test_release_writes_the_written_parts_and_never_ships_the_rubric(tmp_path_factory):
    dist = built_dist(tmp_path_factory, "student", "gradescope")
    for a in ASSIGNMENTS:
        part = questions.load(a)
        written = dist / "gradescope" / "written" / a
        template, latex, rubric = ((written / n).read_text() for n in ("written.md", "written.tex", "rubric.md"))
        for number, q in enumerate(part.questions, start=1):
            assert f"## Question {number}: {q.title} ({q.points:g} points)" in template
            assert f"\\section*{{{questions._latex(q.title)} ({q.points:g} points)}}" in latex
            assert all(f"**{c.points:g} pt** {c.text}" in rubric for c in q.rubric), q.id
        assert latex.count(r"\newpage") == len(part.questions) and r"\end{document}" in latex
        # students get the questions (handout, explore notebook), never the rubric or the questions file
        for path in (dist / "student").rglob("*"):
            assert path.name != questions.FILE, path
        criteria = [c.text for q in part.questions for c in q.rubric]
        shipped = (dist / "student" / "assignments" / a / "README.md").read_text()
        assert part.questions[0].title in shipped and not any(c in shipped for c in criteria), a
