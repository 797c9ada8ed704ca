"""Shared by the release tests: each target of `python -m autograder release` built once per test session, even
under pytest-xdist."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import KIT_ROOT, shared_once

SCHEMA = json.loads((KIT_ROOT / "autograder" / "results.schema.json").read_text())


TARGETS = ("student", "gradescope", "nbgrader", "otter")


def _release(dist: Path, target: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--dist", str(dist), "--only", target],
                          cwd=KIT_ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"make release (--only {target}) failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def built_dist(tmp_path_factory: pytest.TempPathFactory, *targets: str) -> Path:
    """dist/ as `make release` writes it, with at least ``targets`` (default: all). Each target is built once per
    session, into one shared dist folder, by the first test that needs it: the nbgrader and otter round trips
    start after their own target, not after all four (each target writes and cleans only its own part)."""
    dist = shared_once(tmp_path_factory, "dist-folder", lambda out: out.mkdir())
    for target in targets or TARGETS:
        shared_once(tmp_path_factory, f"dist-{target}", lambda _out, target=target: _release(dist, target))
    return dist


def validate(doc: dict) -> None:
    """A results.json Gradescope accepts, as the kit's schema describes it."""
    jsonschema.validate(doc, SCHEMA)
