"""Written questions: ``assignments/<a>/questions.yml``, read into one validated structure, and what is generated
from it (the handout's closing section, the explore notebook's answer cells, the rubric and answer template of
the Gradescope written part).

A questions file is a mapping ``questions:`` of ids (``q1``, ``q2``, ...) to ``title``, ``points``, ``prompt`` and
``rubric``: a list of criteria, each ``points``, ``criterion`` and optionally ``partial`` (what earns part of its
points). A question's points are the sum of its criteria's. An unknown key, a missing one, a wrong type or points
that do not add up is a :class:`~autograder.config.ConfigError` naming the file and the line, as for grading.yml.
Written points are graded by hand and never part of grading.yml's (autograded) totals.

``python -m autograder.questions`` rewrites the generated parts of the handouts and explore notebooks from the
questions files; ``--check`` only says which of them drifted (exit status 1).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from autograder.config import ASSIGNMENTS_DIR, ConfigError, key_lines

FILE = "questions.yml"
#: How many questions an assignment asks: enough to cover the chapter's written part, few enough to grade.
MIN_QUESTIONS, MAX_QUESTIONS = 3, 6
_QUESTION_KEYS = ("title", "points", "prompt", "rubric")
_CRITERION_KEYS = ("points", "criterion", "partial")
_OPTIONAL = {"partial"}
_ID = re.compile(r"^q[1-9][0-9]*$")

#: The handout's generated section sits between these lines, at the end of README.md.
BEGIN = "<!-- BEGIN WRITTEN QUESTIONS: generated from questions.yml by `python -m autograder.questions`; edit that file -->"
END = "<!-- END WRITTEN QUESTIONS -->"
#: Line width of the generated Markdown (the handouts' own).
WIDTH = 115
#: Explore-notebook cells generated from the questions carry this metadata key.
NOTEBOOK_KEY = "neurograde_written"


@dataclass(frozen=True)
class Criterion:
    points: float
    text: str
    partial: str | None = None


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    points: float
    prompt: str
    rubric: tuple[Criterion, ...]


@dataclass(frozen=True)
class WrittenPart:
    """The written questions of one assignment."""

    assignment: str
    questions: tuple[Question, ...]

    @property
    def total_points(self) -> float:
        return sum(q.points for q in self.questions)


# -- loading --------------------------------------------------------------------------------------------------

def path_of(assignment: str, root: Path = ASSIGNMENTS_DIR) -> Path:
    return root / assignment / FILE


def has_questions(assignment: str, root: Path = ASSIGNMENTS_DIR) -> bool:
    return path_of(assignment, root).is_file()


def load(assignment: str, root: Path = ASSIGNMENTS_DIR) -> WrittenPart:
    path = path_of(assignment, root)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse(text, assignment=assignment, source=str(path))


def parse(text: str, *, assignment: str, source: str = FILE) -> WrittenPart:
    try:
        raw = yaml.safe_load(text)
        lines = key_lines(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: cannot read: {exc}") from None
    where = _Where(source, lines)
    top = _keys(raw, ("questions",), where)
    body = top["questions"]
    if not isinstance(body, dict) or not body:
        raise ConfigError(f"{where / 'questions'}: expected a mapping of question ids to questions")
    if not MIN_QUESTIONS <= len(body) <= MAX_QUESTIONS:
        raise ConfigError(f"{where / 'questions'}: {len(body)} questions; an assignment asks "
                          f"{MIN_QUESTIONS} to {MAX_QUESTIONS}")
    questions = []
    for qid, q in body.items():
        qw = where / "questions" / qid
        if not (isinstance(qid, str) and _ID.match(qid)):
            raise ConfigError(f"{qw}: a question id is q1, q2, ... (got {qid!r})")
        q = _keys(q, _QUESTION_KEYS, qw)
        title = _text(q["title"], qw / "title")
        prompt = _text(q["prompt"], qw / "prompt")
        points = _points(q["points"], qw / "points")
        if not isinstance(q["rubric"], list) or not q["rubric"]:
            raise ConfigError(f"{qw / 'rubric'}: expected a list of criteria (points, criterion, partial)")
        rubric = []
        for i, c in enumerate(q["rubric"]):
            cw = qw / "rubric" / i
            c = _keys(c, _CRITERION_KEYS, cw)
            rubric.append(Criterion(_points(c["points"], cw / "points"), _text(c["criterion"], cw / "criterion"),
                                    None if c.get("partial") is None else _text(c["partial"], cw / "partial")))
        if abs(sum(c.points for c in rubric) - points) > 1e-9:
            raise ConfigError(f"{qw / 'points'}: the question is worth {points:g} points but its rubric's criteria "
                              f"add up to {sum(c.points for c in rubric):g}")
        questions.append(Question(qid, title, points, prompt.strip(), tuple(rubric)))
    return WrittenPart(assignment, tuple(questions))


class _Where:
    """The file, the line of the nearest key and the dotted path of a value (as grading.yml's errors say it)."""

    def __init__(self, source: str, lines: dict, path: tuple = ()) -> None:
        self.source, self.lines, self.path = source, lines, path

    def __truediv__(self, key: Any) -> "_Where":
        return _Where(self.source, self.lines, (*self.path, key))

    def __str__(self) -> str:
        line = next((self.lines[self.path[:n]] for n in range(len(self.path), -1, -1)
                     if self.path[:n] in self.lines), None)
        dotted = ".".join(str(p) for p in self.path)
        return f"{self.source}{f':{line}' if line else ''}" + (f": {dotted}" if dotted else "")


def _keys(raw: Any, keys: tuple[str, ...], where: _Where) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(keys), key=str)
    if unknown:
        raise ConfigError(f"{where / unknown[0]}: unknown key(s) {', '.join(map(str, unknown))} "
                          f"(allowed here: {', '.join(keys)})")
    missing = [k for k in keys if k not in raw and k not in _OPTIONAL]
    if missing:
        raise ConfigError(f"{where}: missing required key {missing[0]!r}")
    return raw


def _text(raw: Any, where: _Where) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where}: expected text, got {raw!r}")
    return raw


def _points(raw: Any, where: _Where) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
        raise ConfigError(f"{where}: expected a positive number of points, got {raw!r}")
    return float(raw)


# -- the handout's section ----------------------------------------------------------------------------------------

def paragraphs(text: str) -> str:
    """A YAML block's text as one paragraph per blank-line-separated block (Markdown rewraps it anyway)."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))


def handout_section(part: WrittenPart) -> str:
    """The Markdown closing the handout: every question with its points, no rubric."""
    intro = (f"{len(part.questions)} questions, {part.total_points:g} points, graded by a person and counted apart "
             "from the autograded points above. Answer in words, equations or plots; where the course collects them "
             "(the explore notebook's answer cells, the nbgrader notebook, or the Gradescope written part) is up to "
             "your instructor.")
    out = [BEGIN, "## Written questions (graded by hand)", "", textwrap.fill(intro, WIDTH), ""]
    for number, q in enumerate(part.questions, start=1):
        item = f"{number}. **{q.title}** ({q.points:g} points). {paragraphs(q.prompt)}"
        out += [textwrap.fill(item, WIDTH, subsequent_indent="   ", break_on_hyphens=False), ""]
    out.append(END)
    return "\n".join(out) + "\n"


def with_handout_section(readme: str, part: WrittenPart) -> str:
    """``readme`` with its generated section replaced, or appended at the end when it has none."""
    section = handout_section(part)
    if BEGIN in readme and END in readme:
        head, _, rest = readme.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return head + section.rstrip("\n") + tail
    return readme.rstrip("\n") + "\n\n" + section


def without_handout_section(readme: str) -> str:
    """``readme`` without its generated section (where the questions appear in another form, as in nbgrader)."""
    if BEGIN in readme and END in readme:
        head, _, rest = readme.partition(BEGIN)
        return head.rstrip("\n") + "\n" + rest.partition(END)[2].lstrip("\n")
    return readme


# -- the explore notebook's cells ---------------------------------------------------------------------------------

def explore_cells(part: WrittenPart) -> list[dict]:
    """Markdown cells closing the explore notebook: a heading, then per question its prompt and an answer cell."""
    def cell(key: str, text: str) -> dict:
        return {"cell_type": "markdown", "id": f"written-{part.assignment.replace('_', '-')}-{key}",
                "metadata": {NOTEBOOK_KEY: key}, "source": text}

    cells = [cell("intro", f"## Written questions ({part.total_points:g} points, graded by hand)\n\n"
                           "Write each answer in the cell below its question (double-click to edit; equations in "
                           "`$...$`). These cells are generated from the assignment's `questions.yml`.")]
    for q in part.questions:
        cells.append(cell(q.id, f"### {q.id.upper()}. {q.title} ({q.points:g} points)\n\n{paragraphs(q.prompt)}"))
        cells.append(cell(f"{q.id}-answer", f"**Your answer to {q.id.upper()}:**\n\n_Write here._"))
    return cells


def with_explore_cells(notebook: dict, part: WrittenPart) -> dict:
    """The notebook with its generated cells replaced by (or, the first time, appended as) the current ones."""
    out = dict(notebook)
    kept = [c for c in notebook["cells"] if NOTEBOOK_KEY not in c.get("metadata", {})]
    answers = {c["metadata"][NOTEBOOK_KEY]: c["source"] for c in notebook["cells"]
               if c.get("metadata", {}).get(NOTEBOOK_KEY, "").endswith("-answer")}
    fresh = explore_cells(part)
    for c in fresh:  # an answer someone already typed into the kit's copy is kept
        c["source"] = answers.get(c["metadata"][NOTEBOOK_KEY], c["source"])
    out["cells"] = kept + fresh
    return out


# -- the Gradescope written part ----------------------------------------------------------------------------------

def rubric_markdown(part: WrittenPart, title: str) -> str:
    """The rubric for TAs, one Gradescope question per written question, criteria as rubric items."""
    out = [f"# {title}: written part, rubric for graders", "",
           f"{len(part.questions)} questions, {part.total_points:g} points. In Gradescope, create one question per "
           "entry below with its points, and one rubric item per criterion (negative or positive scoring; "
           "'partial' says when to give part of an item's points).", ""]
    for number, q in enumerate(part.questions, start=1):
        out += [f"## {number}. {q.title} ({q.points:g} points)", "", paragraphs(q.prompt), "", "Rubric:", ""]
        for c in q.rubric:
            out.append(f"- **{c.points:g} pt** {c.text}")
            if c.partial:
                out.append(f"  - partial: {c.partial}")
        out.append("")
    return "\n".join(out)


def template_markdown(part: WrittenPart, title: str) -> str:
    """The answer template a student fills and exports to PDF (one page or more per question)."""
    out = [f"# {title}: written part", "", "Name: ", "",
           f"Answer each question under its heading ({part.total_points:g} points in all), export to PDF "
           "(for instance `pandoc written.md -o written.pdf`, or print from your editor) and upload the PDF to "
           "the written assignment on Gradescope. Start each question on a new page so that Gradescope's page "
           "assignment is easy.", ""]
    for number, q in enumerate(part.questions, start=1):
        out += ["\\newpage" if number > 1 else "", "",
                f"## Question {number}: {q.title} ({q.points:g} points)", "", f"> {paragraphs(q.prompt)}", "",
                "Your answer:", "", ""]
    return "\n".join(out)


def _latex(text: str) -> str:
    special = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
               "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(special.get(ch, ch) for ch in text)


def template_latex(part: WrittenPart, title: str) -> str:
    out = [r"\documentclass[11pt]{article}", r"\usepackage[margin=2.5cm]{geometry}", r"\usepackage{amsmath}",
           rf"\title{{{_latex(title)}: written part}}", r"\author{Your name}", r"\date{}", r"\begin{document}",
           r"\maketitle",
           rf"Answer each question in its section ({part.total_points:g} points in all), compile to PDF and upload it "
           "to the written assignment on Gradescope. Each question starts on a new page.", ""]
    for q in part.questions:
        out += [r"\newpage", rf"\section*{{{_latex(q.title)} ({q.points:g} points)}}",
                rf"\begin{{quote}}{_latex(paragraphs(q.prompt))}\end{{quote}}", "", "% Your answer here.", ""]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


# -- the generated parts of the kit -------------------------------------------------------------------------------

def assignments_with_questions(root: Path = ASSIGNMENTS_DIR) -> list[str]:
    return sorted(p.parent.name for p in root.glob(f"*/{FILE}"))


def _notebook_text(nb: dict) -> str:
    import nbformat

    return nbformat.writes(nbformat.from_dict(nb)) + "\n"


def generated(assignment: str, root: Path = ASSIGNMENTS_DIR) -> dict[Path, str]:
    """{file: its text with the generated parts as the questions file says} for the handout and explore notebook."""
    part = load(assignment, root)
    out = {}
    readme = root / assignment / "README.md"
    if readme.is_file():
        out[readme] = with_handout_section(readme.read_text(), part)
    notebook = root / assignment / "explore.ipynb"
    if notebook.is_file():
        out[notebook] = _notebook_text(with_explore_cells(json.loads(notebook.read_text()), part))
    return out


def drifted(root: Path = ASSIGNMENTS_DIR) -> list[Path]:
    return [path for a in assignments_with_questions(root) for path, text in generated(a, root).items()
            if path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.questions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report handouts and notebooks that drifted")
    args = parser.parse_args(argv)
    try:
        stale = drifted()
        if args.check:
            for path in stale:
                print(f"{path}: out of date with its {FILE} (run python -m autograder.questions)")
            return 1 if stale else 0
        for path in stale:
            path.write_text(generated(path.parent.name)[path])
            print(f"wrote the written questions into {path}")
    except ConfigError as exc:
        print(f"neurograde: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
