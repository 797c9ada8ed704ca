"""Student stubs generated from the reference solutions: solution regions replaced by a TODO.

A solution region is the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers, so
the same source also feeds the nbgrader release). Everything else - docstrings, signatures, guidance comments,
given helpers - is kept as it is.
"""
from __future__ import annotations

import re
from pathlib import Path

from autograder.config import KIT_ROOT, assignment_names

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
REFERENCE_DIR = KIT_ROOT / "reference"
TEMPLATE_DIR = KIT_ROOT / "student_template"


class StubError(ValueError):
    """The reference's solution markers are unbalanced."""


def make_stub(source: str, name: str = "<source>") -> str:
    """The student version of one reference file."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        begin = BEGIN.match(line)
        if begin:
            if inside:
                raise StubError(f"{name}:{number}: BEGIN SOLUTION inside another solution region")
            inside = True
            indent = begin.group(1)
            out.append(f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()\n")
        elif END.match(line):
            if not inside:
                raise StubError(f"{name}:{number}: END SOLUTION without BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise StubError(f"{name}: BEGIN SOLUTION is never closed")
    return "".join(out)


def expected_stubs() -> dict[Path, str]:
    """Each student_template file as the generator makes it from reference/."""
    return {TEMPLATE_DIR / f"{a}.py": make_stub((REFERENCE_DIR / f"{a}.py").read_text(), f"reference/{a}.py")
            for a in assignment_names() if (REFERENCE_DIR / f"{a}.py").exists()}


def write_stubs() -> list[Path]:
    """Regenerate student_template/ from reference/; returns the files written."""
    written = []
    for path, text in expected_stubs().items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    return written
