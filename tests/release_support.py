"""Shared by the release tests: one `python -m autograder release` per test session, even under pytest-xdist."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import jsonschema
import pytest

from tests.conftest import KIT_ROOT

SCHEMA = json.loads((KIT_ROOT / "autograder" / "results.schema.json").read_text())


def shared_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder made once per test session by ``build(folder)``, shared by the pytest-xdist workers (the first to
    take the lock builds it; a failure is re-raised in every test that needs it)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    root = (base.parent / f"shared-{run_id}" if run_id else base / "shared") / name
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".done").exists():
            try:
                build(root / "out")
            except BaseException as exc:  # noqa: BLE001 - remembered for the other workers, then re-raised
                (root / ".failed").write_text(f"{type(exc).__name__}: {exc}")
                raise
            finally:
                (root / ".done").touch()
    if (root / ".failed").exists():
        pytest.fail(f"building {name} failed:\n{(root / '.failed').read_text()[-4000:]}")
    return root / "out"


def _release(dist: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--dist", str(dist)],
                          cwd=KIT_ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"make release failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/ as `make release` writes it, built once per session."""
    return shared_once(tmp_path_factory, "dist", _release)


def validate(doc: dict) -> None:
    """A results.json Gradescope accepts, as the kit's schema describes it."""
    jsonschema.validate(doc, SCHEMA)
