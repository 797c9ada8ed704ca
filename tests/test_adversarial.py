"""Deliberate attacks on the grader: each one leaves a valid results.json written in time, gains no points,
leaves other assignments and the kit's data untouched, and leaves no process behind. Each attack is graded by the
real CLI (`python -m autograder grade`); the honest baseline it is compared with, by the test worker's warm grader
(:class:`tests.conftest.WarmGrader`, the same grading)."""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import KIT_ROOT, grade_warm, run_grader, score_by_exercise
from tests.test_engine import FAST_LIMITS, NEIGHBOUR, VICTIM, assert_neighbour_full, reference, validate
from tests.test_engine import fast_config  # noqa: F401  (fixture)

DATA_FILES = sorted((KIT_ROOT / "data").glob("*.csv"))
BASELINE = "\ndef gradient_1d(x, y, a, b):\n    return 0.0, 0.0\n"

# Every process an attack forks renames itself (its comm, which the host's /proc shows whatever namespaces it
# is in), so that the test finds it from outside without trusting anything the attack reports.
MARK = '''
import ctypes as _ctypes

def _mark():
    _ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)
'''

FORGE = MARK + '''
import atexit, json, os, sys, time

def _forge():
    doc = {"score": 1e6, "execution_time": 0.0, "output": "forged", "tests": []}
    try:
        args = open(f"/proc/{os.getppid()}/cmdline", "rb").read().split(b"\\0")
        path = args[args.index(b"--results") + 1].decode()
        with open(path, "w") as f:
            json.dump(doc, f)
    except Exception:
        pass
'''

ATTACKS = {
    # Forge the results file now, at exit, and from a detached grandchild that waits for grading to end.
    "forge-results": FORGE + '''
_forge()
atexit.register(_forge)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        _mark()
        time.sleep(4)
        _forge()
    os._exit(0)
''' + BASELINE,
    # Objects that claim to equal anything.
    "always-equal": '''
import numpy as _np

class _Liar(float):
    def __eq__(self, other):
        return True
    __hash__ = float.__hash__

class _Sneaky(_np.ndarray):
    def __eq__(self, other):
        return _np.ones(self.shape, dtype=bool)

class _UFunc:
    def __array_ufunc__(self, *args, **kwargs):
        return True
    def __eq__(self, other):
        return True

def gradient_1d(x, y, a, b):
    return _Liar(0.0), _np.zeros(1).view(_Sneaky)

def critical_learning_rate(x):
    return _UFunc()
''',
    # Write over the kit's data, through the interpreter's location.
    "tamper-data": '''
import sys
from pathlib import Path as _Path

def gradient_1d(x, y, a, b):
    for f in (_Path(sys.prefix).parent / "data").glob("*.csv"):
        try:
            f.write_text("0,0\\n")
        except OSError:
            pass
    return 0.0, 0.0
''',
    # Many sleeping children, some detached, then a huge allocation.
    "processes-and-memory": MARK + '''
import os, time
import numpy as _np

def gradient_1d(x, y, a, b):
    for i in range(40):
        if os.fork() == 0:
            if i % 2:
                os.setsid()
            _mark()
            time.sleep(120)
            os._exit(0)
    _np.ones(3 * 2**30 // 8 * 4)
    return 0.0, 0.0
''',
}


class _Watcher:
    """Records, from outside the sandbox, every process whose name is ``marker`` while it runs."""

    def __init__(self, marker: str) -> None:
        self.marker, self.seen, self._stop = marker.encode(), set(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.seen.update(_named(self.marker))
            time.sleep(0.05)

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join()
        return sorted(self.seen)


def _named(marker: bytes) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_bytes().strip() == marker:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _digests() -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in DATA_FILES}


def _alive(pids: list[int]) -> list[int]:
    """The processes among ``pids`` that still run (a zombie has ended: it only waits to be reaped)."""
    alive = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            continue
        if stat[stat.rfind(b")") + 2:].split()[0] != b"Z":
            alive.append(pid)
    return alive


@pytest.fixture
def kit_data_guard():
    """Restores the kit's data if an attack ever gets through, so that one failure cannot spoil the suite."""
    saved = {f: f.read_bytes() for f in DATA_FILES}
    yield
    for f, content in saved.items():
        if f.read_bytes() != content:
            f.write_bytes(content)


@pytest.fixture(scope="module")
def baseline(fast_config, tmp_path_factory) -> dict:
    """What the attacked file scores without its attack (the same for every attack): graded once, by the test
    worker's warm grader; each attack goes through the real CLI."""
    folder = tmp_path_factory.mktemp("baseline")
    for name, text in {VICTIM: reference(VICTIM) + BASELINE, NEIGHBOUR: reference(NEIGHBOUR)}.items():
        (folder / f"{name}.py").write_text(text)
    return grade_warm(folder, VICTIM, NEIGHBOUR, results=folder.parent / "baseline.json", config=fast_config)


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_attack_gains_nothing_and_breaks_nothing(attack, submission, fast_config, baseline, kit_data_guard,
                                                 tmp_path):
    marker = f"ngatk{secrets.token_hex(4)}"
    attack = attack.replace("MARKER", marker)
    files = {f"{VICTIM}.py": reference(VICTIM) + attack, f"{NEIGHBOUR}.py": reference(NEIGHBOUR)}
    before = _digests()
    results = tmp_path / "results.json"
    start = time.monotonic()
    watcher = _Watcher(marker)
    try:
        doc, _ = run_grader(submission(files, "attack"), VICTIM, NEIGHBOUR, results=results,
                            extra=("--config", str(fast_config)))
    finally:
        forked = watcher.stop()
    seconds = time.monotonic() - start
    validate(doc)
    assert seconds < FAST_LIMITS["time_limit"] + 60
    assert doc["score"] <= baseline["score"], "the attack gained points"
    attacked, top = score_by_exercise(doc, VICTIM)["ex1"]
    assert attacked <= score_by_exercise(baseline, VICTIM)["ex1"][0] < top
    assert_neighbour_full(doc)
    assert _digests() == before, "the kit's data changed"
    time.sleep(5)  # longer than the forging grandchild sleeps
    assert json.loads(results.read_text()) == doc, "results.json changed after grading ended"
    if "fork" in attack:
        assert forked, "the attack's processes never started: the test proves nothing"
    assert _alive(forked) == [], "student processes outlived the grading"
    assert _named(marker.encode()) == [], "student processes outlived the grading"
