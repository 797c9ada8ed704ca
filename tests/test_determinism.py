"""The reference gets full marks with hidden checks, identically over 20 gradings: no check is flaky."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autograder.config import assignment_names

ASSIGNMENTS = assignment_names()
from tests.conftest import KIT_ROOT

REPEATS = 20  # the issues' acceptance bar

SCRIPT = """
import json, sys
from pathlib import Path
from autograder import config as cfg
from autograder.grader import grade
config = cfg.load()
for _ in range(int(sys.argv[2])):
    run = grade(Path("reference"), [sys.argv[1]], with_hidden=True, config=config)
    print(json.dumps([[r.check_id, r.score, r.max_score, r.output] for r in run.results]), flush=True)
"""


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_scores_full_marks_identically_over_repeated_gradings(assignment):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, assignment, str(REPEATS)], cwd=KIT_ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("[")]
    assert len(runs) == REPEATS
    first = runs[0]
    lost = [(check, output) for check, score, top, output in first if score < top]
    assert not lost, f"the reference lost points: {lost}"
    for i, run in enumerate(runs[1:], start=2):
        assert run == first, f"grading {i} differs from grading 1"
