"""grade-all past one machine: each submission graded on an existing ``dask.distributed`` cluster.

``python -m autograder grade-all CLASS --scheduler tcp://HOST:8786`` sends every submission that needs grading to
the cluster; everything else is the same code as a local run (:func:`autograder.bulk.grade_all`): finding and
staging submissions, the skip-unchanged manifest, the progress bar, the gradebook. Only "who runs one grading"
changes, from a local warm grader (:class:`autograder.bulk.GradingServer`) to a Dask task,
:func:`grade_on_worker`, which runs that same warm grader on the worker's machine, sandbox and all.

What travels (no shared file system is assumed): the task carries the contract files' bytes, the text of the
grading configuration and the kit's key (a hash of the engine and the assignments); the worker refuses to grade
with a kit that differs from the client's, and refuses without namespace isolation, as grade-all does locally. The
result carries the results.json bytes, the status, the isolation the worker had, and the worker's name. Results
are written on the client, never on the worker.

A worker that dies mid-grading (killed, out of memory, a lost machine) is Dask's to handle: the scheduler gives its
tasks to another worker. A submission that kills every worker it meets ends, after the scheduler's
``allowed-failures``, with the status "worker died". Each Dask worker needs the kit at the same commit, its pinned
requirements and bubblewrap (docs/instructors.md, "Grading on a cluster").
"""
from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

from autograder.config import KIT_ROOT

#: How many submissions are in flight per worker thread: one graded, one queued, so a worker never waits.
IN_FLIGHT_PER_THREAD = 2


def kit_key() -> str:
    """The client's kit, as a worker must have it: :func:`autograder.assignment.kit_hash`."""
    from autograder.assignment import kit_hash
    return kit_hash()


# -- the worker's side -----------------------------------------------------------------------------------------

_local = threading.local()


def _server(config_text: str):
    """This worker thread's warm grader for this configuration (kept between tasks, like a local slot's)."""
    from autograder.bulk import GradingServer
    digest = hashlib.sha256(config_text.encode()).hexdigest()[:16]
    current = getattr(_local, "server", None)
    if current is not None and current[0] == digest:
        return current[1]  # a dead one restarts itself at its next grading
    if current is not None:
        current[1].close()
    folder = Path(tempfile.mkdtemp(prefix="neurograde-dask-slot-"))
    config = folder / "grading.yml"
    config.write_text(config_text)
    server = GradingServer(threading.get_ident() % 1000, config, folder / "grader.log")
    _local.server = (digest, server)
    return server


def grade_on_worker(files: dict[str, bytes], config_text: str, key: str, timeout: float) -> dict:
    """One submission, graded on this Dask worker: the contract files are staged privately, graded with the hidden
    checks by a warm grader in the kit's sandbox, and the results.json bytes are returned (never written here)."""
    from autograder import isolation
    from autograder.bulk import refusal

    where = socket.gethostname()
    if key != kit_key():
        return {"status": "kit differs on worker", "results": None, "isolation": "", "worker": where}
    iso = isolation.detect()
    if refusal(iso) is not None:
        return {"status": "worker has no sandbox", "results": None, "isolation": iso.kind, "worker": where}
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="neurograde-dask-") as tmp:
        os.chmod(tmp, 0o700)
        folder = Path(tmp) / "submission"
        folder.mkdir(mode=0o700)
        for name, data in files.items():
            if "/" in name or name.startswith("."):
                return {"status": "bad file name", "results": None, "isolation": iso.kind, "worker": where}
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with open(fd, "wb") as f:
                f.write(data)
        results = Path(tmp) / "results.json"
        status = _server(config_text).grade(folder, results, timeout)
        data = results.read_bytes() if results.is_file() and not results.is_symlink() else None
    return {"status": status, "results": data, "isolation": iso.kind, "worker": where,
            "seconds": time.monotonic() - began}


# -- the client's side -----------------------------------------------------------------------------------------

class ClusterRunner:
    """Sends submissions to the cluster at ``address`` and turns each answer into a gradebook row."""

    def __init__(self, address: str, config_path: Path) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ValueError("--scheduler needs dask.distributed: pip install -r requirements-cluster.txt") from None
        self.client = Client(address, timeout="30s")
        self.config_text = Path(config_path).read_text()
        self.key = kit_key()

    def slots(self) -> int:
        """How many gradings to keep in flight: the cluster's threads, twice."""
        threads = sum(self.client.nthreads().values())
        return max(1, threads) * IN_FLIGHT_PER_THREAD

    def grade(self, files: dict[str, Path], timeout: float) -> dict:
        """Grade one submission on the cluster; returns what :func:`grade_on_worker` returned, or a status."""
        from distributed import KilledWorker
        payload = {name: Path(path).read_bytes() for name, path in files.items()}
        future = self.client.submit(grade_on_worker, payload, self.config_text, self.key, timeout, pure=False)
        try:
            return future.result()
        except KilledWorker:
            return {"status": "worker died", "results": None, "isolation": "", "worker": ""}
        except Exception as exc:  # the cluster itself failed this task: the row says so, the class goes on
            return {"status": f"cluster error: {type(exc).__name__}", "results": None, "isolation": "",
                    "worker": ""}

    def close(self) -> None:
        self.client.close()
