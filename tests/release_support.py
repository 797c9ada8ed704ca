"""Shared by the release tests: one `python -m autograder release` per test session, even under pytest-xdist."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import KIT_ROOT

SCHEMA = json.loads((KIT_ROOT / "autograder" / "results.schema.json").read_text())


def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/ as `make release` writes it, built once per session (xdist workers share it under a lock)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    root = base.parent / f"release-{run_id}" if run_id else base / "release"
    root.mkdir(parents=True, exist_ok=True)
    dist = root / "dist"
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "built").exists():
            proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--dist", str(dist)],
                                  cwd=KIT_ROOT, capture_output=True, text=True, timeout=600)
            (root / "release.log").write_text(proc.stdout + proc.stderr)
            if proc.returncode != 0:
                (root / "failed").write_text(proc.stderr)
            (root / "built").touch()
    if (root / "failed").exists():
        pytest.fail(f"make release failed:\n{(root / 'failed').read_text()[-4000:]}")
    return dist


def validate(doc: dict) -> None:
    """A results.json Gradescope accepts, as the kit's schema describes it."""
    jsonschema.validate(doc, SCHEMA)
