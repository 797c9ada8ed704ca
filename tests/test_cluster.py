"""grade-all on a real dask.distributed cluster (autograder/cluster.py): a `dask scheduler` and two `dask worker`
processes on localhost, a class graded through them, one worker killed mid-run, and the gradebook compared with a
local run's (every column but the wall seconds and the worker)."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from autograder.zoo import build_source
from autograder.assignment import part
from tests.conftest import KIT_ROOT, grader_snapshot

pytestmark = pytest.mark.e2e

distributed = pytest.importorskip("distributed")

#: The cheapest assignment keeps the test short; the cluster path does not depend on which is graded.
ASSIGNMENT = "perceptron_adaline"
#: Columns that may differ between two gradings of the same class.
VOLATILE = ("seconds",)


@pytest.fixture(scope="module")
def kit():
    root = grader_snapshot()
    raw = yaml.safe_load((root / "grading.yml").read_text())
    raw["assignments"] = {ASSIGNMENT: {**raw["assignments"][ASSIGNMENT], "check_timeout": 3}}  # the hang: 3 s
    (root / "grading-one.yml").write_text(yaml.safe_dump(raw))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _class(root: Path) -> Path:
    """Eight students: references, stubs, mutants, a crash and a hang."""
    reference = (KIT_ROOT / "reference" / f"{ASSIGNMENT}.py").read_text()
    stub = (KIT_ROOT / "student_template" / f"{ASSIGNMENT}.py").read_text()
    mutants = part(ASSIGNMENT, "bugzoo").MUTANTS
    kinds = [reference, stub, build_source(ASSIGNMENT, mutants[0]), build_source(ASSIGNMENT, mutants[5]),
             reference + "\n\ndef count_parameters(layer_sizes):\n    import os\n    os._exit(3)\n",
             reference + "\n\ndef mnist_batch_shapes(batch_size=64):\n    while True:\n        pass\n",
             build_source(ASSIGNMENT, mutants[10]), reference]
    for i, text in enumerate(kinds):
        (root / f"student{i}").mkdir(parents=True)
        (root / f"student{i}" / f"{ASSIGNMENT}.py").write_text(text)
    return root


def _start(args: list[str], kit: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(kit)}
    return subprocess.Popen([sys.executable, "-m", *args], cwd=kit, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@pytest.fixture
def cluster(kit, tmp_path):
    """A scheduler and two single-threaded workers on localhost, started as an instructor would."""
    info = tmp_path / "scheduler.json"
    procs = [_start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                     "--no-dashboard", "--scheduler-file", str(info)], kit, tmp_path / "scheduler.log")]
    deadline = time.monotonic() + 60
    while not info.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert info.exists(), (tmp_path / "scheduler.log").read_text()[-2000:]
    address = json.loads(info.read_text())["address"]
    workers = [_start(["distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}"], kit, tmp_path / f"worker{i}.log")
               for i in range(2)]
    procs += workers
    from distributed import Client
    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    yield address, workers
    for proc in procs:
        _stop(proc)


def _grade_all(kit: Path, source: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(source), "--out", str(out),
                             "--config", str(kit / "grading-one.yml"), *extra], cwd=kit,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(path: Path) -> dict[str, dict]:
    return {r["student"]: {k: v for k, v in r.items() if k not in VOLATILE} for r in csv.DictReader(path.open())}


def test_a_class_graded_on_a_dask_cluster_survives_a_lost_worker_and_matches_a_local_run(kit, cluster, tmp_path):
    address, workers = cluster
    source = _class(tmp_path / "class")
    remote_out = tmp_path / "remote" / "gradebook.csv"
    proc = _grade_all(kit, source, remote_out, "--scheduler", address)
    # Kill one worker as soon as the first student is done: what it was grading must be graded by the other.
    killed = False
    deadline = time.monotonic() + 600
    students = remote_out.parent / "students"
    while proc.poll() is None and time.monotonic() < deadline:
        if not killed and students.is_dir() and any(students.glob("*/results.json")):
            _stop(workers[0])
            killed = True
        time.sleep(0.05)
    out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    assert proc.returncode == 0, err[-3000:]
    assert killed, "the class finished before a worker could be killed: the test proves nothing"
    assert "submissions a minute" in out and f"cluster {address}" in out, out

    local_out = tmp_path / "local" / "gradebook.csv"
    local = _grade_all(kit, source, local_out, "--jobs", "2")
    local.communicate(timeout=600)
    assert local.returncode == 0

    remote, here = _rows(remote_out), _rows(local_out)
    assert remote == here
    assert all(r["status"] == "ok" for r in remote.values()), remote
    assert float(remote["student0"]["total"]) == float(remote["student0"]["max"]) > 0
    assert float(remote["student1"]["total"]) == 0
    for student in remote:  # results travel back whole: the kept file is the one the row was read from
        doc = json.loads((remote_out.parent / "students" / student / "results.json").read_text())
        assert float(remote[student]["total"]) == pytest.approx(doc["score"])

    # A re-run trusts what the cluster graded: nothing changed, nothing is regraded.
    again = _grade_all(kit, source, remote_out, "--scheduler", address)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-3000:]
    assert all(r["status"] == "ok (unchanged)" for r in _rows(remote_out).values())


def test_a_worker_with_another_kit_refuses_to_grade(kit, tmp_path):
    """The key a task carries is the client's kit; a worker whose engine or checks differ answers with a status."""
    from autograder.cluster import grade_on_worker
    answer = grade_on_worker({f"{ASSIGNMENT}.py": b"x = 1\n"}, "", "another kit", 30)
    assert answer["status"] == "kit differs on worker" and answer["results"] is None
