"""student_template/ is generated from reference/ and never drifts from it."""
from __future__ import annotations

import ast

import pytest

from autograder.stubs import StubError, expected_stubs, make_stub


def test_committed_stubs_equal_the_generated_ones():
    stubs = expected_stubs()
    assert stubs, "no reference file found"
    for path, text in stubs.items():
        assert path.exists(), f"{path.name} missing from student_template/: run `make stubs`"
        assert path.read_text() == text, f"student_template/{path.name} drifted from reference/: run `make stubs`"


def test_stubs_keep_every_public_name_and_hide_solutions():
    for path, text in expected_stubs().items():
        reference = (path.parent.parent / "reference" / path.name).read_text()
        names = lambda src: {n.name for n in ast.parse(src).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert names(text) == names(reference)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text


def test_solution_region_becomes_a_todo():
    src = "def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert make_stub(src) == "def f(x):\n    '''Doc.'''\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"])
def test_unbalanced_markers_are_errors(src):
    with pytest.raises(StubError):
        make_stub(src)
