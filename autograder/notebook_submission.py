"""Notebook submissions: the contract file rebuilt from the marked cells of a student's notebook, never run.

The notebooks the kit ships (``make release``: the student bundle's ``notebooks/<a>.ipynb``, the nbgrader and otter
notebooks) hold the contract file's code in code cells whose first line is a marker::

    # neurograde: linear_neuron cell 3/9 (keep this line: the grader builds linear_neuron.py from these cells)

A first-line comment rather than cell metadata or a tag, because Colab, Kaggle, otter-assign and copy-paste between
notebooks keep a comment and may drop metadata. :func:`extract` reads a notebook as JSON (it never executes
anything), takes the code of exactly the marked cells of one assignment, in their numbered order, and reports
which notebook cells it took; every other cell (experiments, plots, otter's ``grader.check`` cells) is left out.
A notebook that is not valid JSON, lacks a marked cell or holds one twice gives a :class:`Extraction` with a
``problem`` and no source: that assignment's checks then score 0 (the grader's missing-file result) and
:func:`annotate` puts the problem into results.json, in the top-level output and in each affected check's output.

Used by Gradescope's ``run_autograder`` (as root, before grading, on what the student uploaded)::

    python -m autograder.notebook_submission prepare SUBMISSION OUT MANIFEST REPORT ASSIGNMENT...
    python -m autograder.notebook_submission annotate REPORT RESULTS
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: ``# neurograde: <assignment> cell <k>/<n>``, the first line of a marked cell.
MARKER = re.compile(r"^\s*#\s*neurograde:\s*(?P<assignment>[A-Za-z_]\w*)\s+cell\s+(?P<number>\d+)\s*/\s*(?P<total>\d+)")
#: A notebook larger than this is not read (a course notebook with plots is a few MB).
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
#: The file beside the grader naming each assignment's marked cells (written by `make release`).
MANIFEST = "notebook_cells.json"


def marker_line(assignment: str, number: int, total: int) -> str:
    return (f"# neurograde: {assignment} cell {number}/{total} (keep this line: the grader builds {assignment}.py "
            "from these cells)")


@dataclass
class Extraction:
    """What one notebook gives for one assignment: the module's source, or a problem for the student."""

    assignment: str
    notebook: str
    source: str | None = None
    cells: list[int] = field(default_factory=list)     # notebook cell numbers (1-based, as Jupyter counts), in order
    problem: str | None = None
    notes: list[str] = field(default_factory=list)


def read_notebook(data: bytes, name: str) -> tuple[list[dict] | None, str | None]:
    """(the notebook's cells, None) or (None, why it is not a notebook)."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        return None, f"{name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB: clear its outputs and upload it again"
    try:
        doc = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError as exc:
        return None, (f"{name} is not a valid notebook (not JSON: {exc}). Upload the .ipynb file as Jupyter, Colab "
                      "or Kaggle saves it (File > Download), not a copy of its text")
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, list):
        return None, f"{name} is JSON but not a Jupyter notebook (it has no list of cells)"
    return [c for c in cells if isinstance(c, dict)], None


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def marked_cells(cells: list[dict], assignment: str) -> list[tuple[int, int, int, str]]:
    """[(notebook cell number, marker number, marker total, text)] of the code cells marked for ``assignment``."""
    out = []
    for index, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        text = _text(cell)
        first = text.lstrip("\n").split("\n", 1)[0]
        match = MARKER.match(first)
        if match and match["assignment"] == assignment:
            out.append((index, int(match["number"]), int(match["total"]), text))
    return out


def _without_magics(text: str) -> tuple[str, int]:
    """IPython's ``%magic`` and ``!command`` lines become ``pass``: they are not Python outside a notebook."""
    lines, count = [], 0
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append(line[: len(line) - len(stripped)] + "pass  # notebook command left out by the grader")
            count += 1
        else:
            lines.append(line)
    return "\n".join(lines), count


def extract(cells: list[dict], name: str, assignment: str, names: list[str]) -> Extraction:
    """The module of ``assignment`` from the marked cells of one notebook; ``names``: what each of the template's
    cells defines, in order (its length is the number of marked cells expected)."""
    total = len(names)
    out = Extraction(assignment, name)
    found = marked_cells(cells, assignment)
    if not found:
        out.problem = (f"{name} has none of the cells of {assignment} (code cells whose first line is "
                       f"`# neurograde: {assignment} cell k/{total}`)")
        return out
    by_number: dict[int, list[int]] = {}
    for index, number, _, _ in found:
        by_number.setdefault(number, []).append(index)
    twice = {n: where for n, where in by_number.items() if len(where) > 1}
    unknown = sorted(n for n in by_number if not 1 <= n <= total)
    missing = [n for n in range(1, total + 1) if n not in by_number]
    problems = []
    for n, where in sorted(twice.items()):
        problems.append(f"cell {n}/{total} ({names[n - 1] if n <= total else '?'}) appears "
                        f"{len(where)} times (notebook cells {', '.join(map(str, where))}): keep one")
    if unknown:
        problems.append(f"cell number(s) {', '.join(map(str, unknown))} are not cells of the template "
                        f"(it has {total})")
    if missing:
        problems.append("cell(s) " + ", ".join(f"{n}/{total} ({names[n - 1]})" for n in missing) + " are missing")
    if problems:
        out.problem = (f"{name}: " + "; ".join(problems) + f". Restore the template's cells (each keeps its first "
                       "line) and submit again")
        return out
    parts, magics = [], 0
    for index, number, _, text in sorted(found, key=lambda f: f[1]):
        clean, count = _without_magics(text)
        magics += count
        parts.append(clean.rstrip("\n"))
        out.cells.append(index)
    if magics:
        out.notes.append(f"{magics} notebook command line(s) (% or !) in those cells were left out")
    out.source = "\n\n\n".join(parts) + "\n"
    return out


# -- Gradescope ---------------------------------------------------------------------------------------------------

def _notebooks(submission: Path) -> list[Path]:
    """Every .ipynb of the upload, shallowest first; symlinks, checkpoints, __MACOSX and dot folders left out."""
    found = [p for p in submission.rglob("*.ipynb") if p.is_file() and not p.is_symlink()
             and not any(part.startswith(".") or part == "__MACOSX" for part in p.relative_to(submission).parts)]
    return sorted(found, key=lambda p: (len(p.relative_to(submission).parts), str(p)))


def prepare(submission: Path, out: Path, manifest: dict, assignments: list[str]) -> list[Extraction]:
    """Write ``out/<a>.py`` from the uploaded notebooks for each of ``assignments`` (those uploaded without their
    .py file); returns what happened to each."""
    read: list[tuple[str, list[dict] | None, str | None]] = []
    for path in _notebooks(submission) if submission.is_dir() else []:
        name = path.relative_to(submission).as_posix()
        # Never read more than the limit: the upload's size is the student's to choose.
        with open(path, "rb") as f:
            data = f.read(MAX_NOTEBOOK_BYTES + 1)
        cells, problem = read_notebook(data, name)
        read.append((name, cells, problem))
    results = []
    for a in assignments:
        names = manifest.get(a, [])
        holders = [(name, cells) for name, cells, _ in read if cells is not None and marked_cells(cells, a)]
        broken = [problem for name, cells, problem in read if cells is None]
        if len(holders) > 1:
            result = Extraction(a, ", ".join(n for n, _ in holders), problem=(
                f"{len(holders)} notebooks hold the cells of {a} ({', '.join(n for n, _ in holders)}): upload one"))
        elif holders:
            result = extract(holders[0][1], holders[0][0], a, names)
        elif broken:
            result = Extraction(a, "", problem=f"{a}.py is not in your submission and " + "; ".join(broken))
        elif read:
            names_read = ", ".join(name for name, _, _ in read)
            result = Extraction(a, names_read, problem=(
                f"{a}.py is not in your submission and no notebook holds its cells ({names_read} has no code cell "
                f"whose first line is `# neurograde: {a} cell k/{len(names)}`): submit the notebook the course "
                "gave you, with those lines kept"))
        else:
            result = Extraction(a, "", problem=None)   # neither .py nor notebook: the grader's missing-file result
        if result.source is not None:
            (out / f"{a}.py").write_text(result.source)
        results.append(result)
    return results


def describe(result: Extraction) -> str:
    if result.source is not None:
        cells = ", ".join(map(str, result.cells))
        text = f"{result.assignment}.py built from {result.notebook}, notebook cells {cells} (no other cell is used)"
        return text + "".join(f"; {n}" for n in result.notes)
    if result.problem:
        return f"{result.assignment}: {result.problem}. Its checks score 0."
    return f"{result.assignment}: neither {result.assignment}.py nor a notebook with its cells was submitted."


def annotate(report: list[dict], results: dict) -> dict:
    """results.json with what the notebook step did: in the top-level output, and each problem in the output of
    every check of the assignment it concerns."""
    lines = [describe(Extraction(**r)) for r in report]
    if lines:
        head = "Notebook submission:\n" + "\n".join(f"- {line}" for line in lines)
        results["output"] = head + ("\n\n" + results["output"] if results.get("output") else "")
    problems = {r["assignment"]: r["problem"] for r in report if r.get("problem")}
    for test in results.get("tests", []):
        tags = test.get("tags") or []
        if tags and tags[0] in problems:
            note = f"From your notebook: {problems[tags[0]]}"
            test["output"] = note + ("\n\n" + test["output"] if test.get("output") else "")
    return results


def main(argv: list[str]) -> int:
    if argv[:1] == ["prepare"] and len(argv) >= 5:
        submission, out, manifest, report = map(Path, argv[1:5])
        names = json.loads(manifest.read_text()) if manifest.is_file() else {}
        results = prepare(submission, out, names, argv[5:])
        for r in results:
            print(f"neurograde: {describe(r)}")
        report.write_text(json.dumps([asdict(r) for r in results]))
        return 0
    if argv[:1] == ["annotate"] and len(argv) == 3:
        report, path = Path(argv[1]), Path(argv[2])
        if report.is_file():
            path.write_text(json.dumps(annotate(json.loads(report.read_text()), json.loads(path.read_text()))))
        return 0
    print(__doc__.split("\n\n")[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
