"""The sandboxed worker on its own: where and as whom student code runs, and what comes back from it."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.limits import Limits, why_no_drop
from autograder.remote import RemoteObject, Student
from autograder.sandbox import StudentCrashed, StudentError, StudentTimeout, Worker
from tests.conftest import KIT_ROOT

PROBE_MODULE = '''
import os, sys, time
import numpy as np

def where():
    return {"cwd": os.getcwd(), "uid": os.getuid(), "env": sorted(os.environ), "path": sys.path}

def rand():
    return float(np.random.rand())

def nap(seconds):
    time.sleep(seconds)
    return seconds

def hog():
    return np.ones(3 * 2**30 // 8 * 4).sum()   # 12 GB

def boom():
    raise ValueError("bad mode")

class Box:
    def __init__(self):
        self.value = 1.0

def liar():
    class Liar:
        def __eq__(self, other):
            return True
        def __array_ufunc__(self, *args, **kwargs):
            return True
    return Liar()

def sneaky_array():
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, dtype=bool)
    return np.zeros(3).view(Sneaky)

def object_array():
    return np.array([1.0, "x"], dtype=object)
'''


@pytest.fixture
def student(tmp_path):
    module = tmp_path / "linear_neuron.py"
    module.write_text(PROBE_MODULE)
    worker = Worker("linear_neuron", module, import_timeout=30, output_limit=10**6)
    yield lambda budget=10.0: Student(worker, "linear_neuron.test", time.monotonic() + budget)
    worker.close()


def test_student_code_runs_outside_the_kit_with_a_minimal_environment(student):
    info = student().where()
    assert not Path(info["cwd"]).resolve().is_relative_to(KIT_ROOT)
    assert not any(Path(p).resolve() == KIT_ROOT for p in info["path"] if p)
    assert "PYTEST_CURRENT_TEST" not in info["env"] and "PYTHONPATH" not in info["env"]


def test_student_code_runs_unprivileged_when_grading_as_root(student):
    if os.geteuid() != 0:
        pytest.skip("the grader is not root here: there is no privilege to drop")
    assert why_no_drop() is None, f"student code would run as root: {why_no_drop()} (rebuild .venv: rm -rf .venv && make test)"
    assert student().where()["uid"] != 0


def test_every_call_is_reseeded_from_the_check_and_its_rank(student):
    first = [student().rand(), student().rand()]
    s = student()
    again = [s.rand(), s.rand()]
    assert first[0] == again[0]             # same check, same rank: same stream
    assert again[0] != again[1]             # two calls in one check differ


def test_exceptions_time_limits_and_memory(student):
    with pytest.raises(StudentError) as err:
        student().boom()
    assert err.value.exc_type == "ValueError" and "line" in err.value.where
    with pytest.raises(StudentTimeout):
        student(budget=1.0).nap(30)
    assert student().nap(0) == 0            # a fresh worker after the kill
    with pytest.raises(StudentError) as err:
        student().hog()
    assert err.value.exc_type == "MemoryError"


def test_objects_claiming_equality_stay_remote(student):
    s = student()
    assert isinstance(s.liar(), RemoteObject)
    assert isinstance(s.object_array(), RemoteObject)
    arr = s.sneaky_array()
    assert type(arr) is np.ndarray and not np.array_equal(arr, np.ones(3))


def test_remote_objects_read_write_and_go_stale_after_a_restart(student):
    s = student()
    box = s.Box()
    box.value = 2.5
    assert box.value == 2.5
    with pytest.raises(StudentTimeout):
        student(budget=1.0).nap(30)
    with pytest.raises(StudentCrashed):
        box.value


def test_a_single_grading_starts_cold_boxes_and_a_bulk_grader_forks_them(tmp_path, monkeypatch):
    """The fork server is grade-all's (ForkServer.for_bulk in its graders): a single grading's boxes are cold
    unless NEUROGRADE_FORKSERVER=1, and NEUROGRADE_FORKSERVER=0 keeps a bulk grader's boxes cold too."""
    from autograder import zygote
    saved = zygote.ForkServer._bulk
    try:
        table = {}
        for bulk in (False, True):
            zygote.ForkServer.for_bulk(bulk)
            for switch in ("", "0", "1"):
                monkeypatch.setenv(zygote.ENV_SWITCH, switch)
                table[bulk, switch] = zygote.ForkServer.wanted_here()
        assert table == {(False, ""): False, (False, "0"): False, (False, "1"): True,
                         (True, ""): True, (True, "0"): False, (True, "1"): True}
        zygote.ForkServer.for_bulk(False)
        monkeypatch.delenv(zygote.ENV_SWITCH)
        module = tmp_path / "linear_neuron.py"
        module.write_text("def pid():\n    import os\n    return os.getpid()\n")
        worker = Worker("linear_neuron", module, import_timeout=30, output_limit=10**6)
        try:
            assert Student(worker, "t", time.monotonic() + 30).pid() > 0
            assert not isinstance(worker._proc, zygote.ForkedProcess), "a single grading's box was forked"
        finally:
            worker.close()
    finally:
        zygote.ForkServer.for_bulk(saved)


def test_under_gradescopes_emulated_limits_boxes_stay_in_the_limited_group(tmp_path):
    """measure --gradescope-limits runs the grading with NEUROGRADE_CGROUPS=0, as in a container whose cgroupfs is
    read-only: no box gets a group of its own (which, a sibling of the emulated group, would escape its 768 MB)."""
    import subprocess
    import sys
    from autograder import cgroups
    from autograder.release.measure import measure
    seen = tmp_path / "seen"
    probe = ("import sys; from autograder import cgroups, isolation; "
             "open(sys.argv[1], 'w').write(f'{cgroups.available()} {isolation.detect().cgroup}')")
    try:
        m = measure([sys.executable, "-c", probe, str(seen)], cwd=str(KIT_ROOT), gradescope_limits=True)
    except OSError as exc:
        pytest.skip(f"no emulated limits here: {exc}")
    assert m.exit_status == 0
    assert seen.read_text() == "None None"
    # Without the switch, where this host gives boxes groups, the same probe sees them (the test proves something).
    subprocess.run([sys.executable, "-c", probe, str(seen)], cwd=KIT_ROOT, check=True,
                   env={k: v for k, v in os.environ.items() if k != cgroups.ENV_SWITCH})
    assert seen.read_text().split()[0] in ("v1", "v2")


def test_a_cold_box_has_its_assignments_libraries_before_the_students_module(tmp_path):
    """As a forked box finds them in the fork server: pytorch_basics' cold box imported torch and what torch.optim
    imports only at the first optimizer (torch._dynamo) before the student's module, which itself imports nothing."""
    module = tmp_path / "pytorch_basics.py"
    module.write_text("import sys\n\ndef loaded():\n    return sorted(m for m in ('torch', 'torch._dynamo', 'sklearn')"
                      " if m in sys.modules)\n")
    worker = Worker("pytorch_basics", module, import_timeout=60, output_limit=10**6)
    try:
        assert Student(worker, "t", time.monotonic() + 60).loaded() == ["torch", "torch._dynamo"]
    finally:
        worker.close()
