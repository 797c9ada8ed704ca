"""The trusted side of the sandbox: one worker process per assignment, with time and output limits.

The worker (:mod:`autograder.worker`) imports the student's module once and runs requests on it. A request that
overruns its time kills the worker's whole process group; the next request starts a fresh worker. Everything the
student's code prints is drained here and capped, so a flood cannot fill a disk or a pipe.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from autograder import wire
from autograder.limits import Limits

PACKAGE_DIR = Path(__file__).resolve().parent
#: What the worker needs of the grader, copied next to each worker: it never reads the kit itself, so the kit
#: (and its hidden checks) can stay private to the grader's user.
RUNTIME_FILES = ("__init__.py", "wire.py", "worker.py", "probes/__init__.py")

#: Environment variables passed through to student code; everything else is dropped.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "TMPDIR")
#: One BLAS/OpenMP thread: the data are small, and sums come out in the same order on every run.
THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


class StudentProblem(Exception):
    """Student code did not return normally; ``str()`` is a message written for the student."""


class StudentError(StudentProblem):
    """Student code raised an exception (type, message and the last line of the student's file it ran)."""

    def __init__(self, exc_type: str, message: str, where: str, function: str = "") -> None:
        self.exc_type, self.message, self.where, self.function = exc_type, message, where, function
        text = f"{exc_type}: {message}" if message else exc_type
        super().__init__(f"{text} ({where})" if where else text)


class StudentImportError(StudentProblem):
    """The module could not be imported (syntax error, exception or exit at import)."""


class MissingFile(StudentProblem):
    """The submission has no file for this assignment."""


class StudentTimeout(StudentProblem):
    """A call overran its time limit and was killed."""


class StudentCrashed(StudentProblem):
    """The worker process ended during a call (os._exit, a signal, an output flood, memory)."""


class Worker:
    """A student module running in its own process group; :meth:`request` is the only way in."""

    def __init__(self, assignment: str, module_file: Path | None, *, import_timeout: float,
                 output_limit: int, limits: Limits = Limits()) -> None:
        self.assignment = assignment
        self.limits = limits
        self.module_file = module_file
        self.import_timeout = import_timeout
        self.output_limit = output_limit
        self.generation = 0  # bumps when a process ends; handles from an older generation are stale
        self.startup_seconds = 0.0  # time spent starting processes: the grader's cost, not the check's
        self._proc: subprocess.Popen | None = None
        self._import_problem: StudentProblem | None = None
        self._tmp: Path | None = None
        self._output = _OutputDrain(output_limit)
        self._starter: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def _start(self) -> None:
        if self.module_file is None:
            self._import_problem = MissingFile(f"{self.assignment}.py is missing from your submission: every "
                                               "check of this assignment scores 0")
            raise self._import_problem
        self._tmp = Path(tempfile.mkdtemp(prefix=f"neurograde-{self.assignment}-"))
        # Only the contract file is copied, alone in a fresh folder: nothing else the submission holds
        # (a conftest.py, a numpy.py) can be imported, and the worker runs outside the kit.
        staged = self._tmp / "submission" / f"{self.assignment}.py"
        staged.parent.mkdir()
        shutil.copyfile(self.module_file, staged)
        runtime = self._tmp / "runtime"
        for rel in (*RUNTIME_FILES, f"probes/{self.assignment}.py"):
            if (PACKAGE_DIR / rel).exists():
                (runtime / "autograder" / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(PACKAGE_DIR / rel, runtime / "autograder" / rel)
        workdir = self._tmp / "work"
        workdir.mkdir()
        ids = self.limits.sandbox_ids()
        for path in (self._tmp, *self._tmp.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        if ids is not None:
            os.chown(workdir, *ids)  # the only folder student code may write to
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env.update(THREAD_ENV, HOME=str(workdir), PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1",
                   MPLBACKEND="Agg")
        cmd = [sys.executable, "-I", str(runtime / "autograder" / "worker.py"), str(runtime), str(staged),
               self.assignment, self.assignment, str(req_r), str(resp_w)]
        self._proc = subprocess.Popen(
            cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(req_r, resp_w), start_new_session=True,
            preexec_fn=self.limits.preexec())
        os.close(req_r)
        os.close(resp_w)
        self._req = os.fdopen(req_w, "wb", buffering=0)
        self._resp_fd = resp_r
        self._buf = b""
        self._output.attach(self._proc)
        try:
            hello = self._read_message(time.monotonic() + self.import_timeout, during="importing your module")
        except StudentProblem as exc:  # a loop, a flood or an exit at import: every later call would repeat it
            self._import_problem = StudentImportError(f"{self.assignment}.py could not be imported: {exc}")
            raise self._import_problem from None
        if "import_error" in hello:
            err = hello["import_error"]
            text = f"{err['type']}: {err['message']}" if err["message"] else err["type"]
            where = f" ({err['where']})" if err.get("where") else ""
            if err["type"] == "SystemExit":
                text = f"your module called sys.exit() / exit() while it was being imported (code {err['message']!r})"
            self._import_problem = StudentImportError(
                f"{self.assignment}.py could not be imported: {text}{where}")
            self.close()
            raise self._import_problem

    def prestart(self) -> None:
        """Start the process in the background, so that its imports overlap the grader's other work; the next
        request waits for it. Problems at import are kept and raised by that request."""
        if self._proc is None and self._import_problem is None and self._starter is None:
            self._starter = threading.Thread(target=self._start_quietly, daemon=True)
            self._starter.start()

    def _start_quietly(self) -> None:
        try:
            self._start()
        except Exception:  # StudentProblems are cached in _import_problem; anything else is retried on request
            pass

    def _join_starter(self) -> float:
        if self._starter is None:
            return 0.0
        began = time.monotonic()
        self._starter.join()
        self._starter = None
        return time.monotonic() - began

    def close(self) -> None:
        """Kill the worker's whole process group and remove its folders."""
        self._join_starter()
        proc, self._proc = self._proc, None
        if proc is not None:
            self.generation += 1  # objects of the old process are gone: their handles must not reach a new one
            _kill_group(proc)
            try:
                self._req.close()
            except OSError:
                pass
            os.close(self._resp_fd)
            proc.wait()
            self._output.detach()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- requests ------------------------------------------------------------------------------------------
    def request(self, message: dict, deadline: float) -> Any:
        """Send one request; return the decoded value (handles stay :class:`wire.Handle`)."""
        waited = self._join_starter()  # waiting for a background start is start-up time, not the check's
        self.startup_seconds += waited
        deadline += waited
        if self._import_problem is not None:
            # A fresh traceback each time: re-raising the same exception object would grow its traceback by one
            # check's frames per check, and pytest's failure report of every later check with it (quadratic).
            raise self._import_problem.with_traceback(None)
        if self._proc is None:
            began = time.monotonic()
            try:
                self._start()
            finally:
                self.startup_seconds += time.monotonic() - began
                deadline += time.monotonic() - began
        if time.monotonic() >= deadline:
            raise StudentTimeout("no time left for this check: an earlier call used up its time limit")
        self._output.mark()
        try:
            self._req.write(wire.dumps(message))
        except (BrokenPipeError, OSError):
            self._died_during("a call")
        reply = self._read_message(deadline, during="a call")
        if "error" in reply:
            err = reply["error"]
            raise StudentError(str(err.get("type")), str(err.get("message", "")), str(err.get("where", "")),
                               str(err.get("function", "")))
        if "ok" not in reply:
            self.close()
            raise StudentCrashed("the worker sent a malformed reply")
        return wire.decode(reply["ok"])

    def cpu_seconds(self) -> float | None:
        """CPU seconds used so far by the sandbox's processes (live ones and the reaped children they waited
        for), read from the trusted side; None when no worker runs or /proc is not there."""
        proc = self._proc
        if proc is None or not os.path.isdir("/proc"):
            return None
        from autograder.limits import cpu_seconds_of_tree
        return cpu_seconds_of_tree(proc.pid)

    def output_tail(self, chars: int = 600) -> str:
        """What the student's code printed during the last request (its end, at most ``chars``)."""
        return self._output.tail(chars)

    def _read_message(self, deadline: float, *, during: str) -> dict:
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise StudentTimeout(f"time limit reached during {during}: is there an endless loop, or far more "
                                     "epochs or data than asked for?")
            # Poll in short slices: a process forked by student code may hold the reply pipe open after the
            # worker itself has died, so end-of-file alone would not tell.
            ready, _, _ = select.select([self._resp_fd], [], [], min(remaining, 0.2))
            if not ready:
                if self._proc is not None and self._proc.poll() is not None:
                    self._died_during(during)
                continue
            chunk = os.read(self._resp_fd, 1 << 20)
            if not chunk:
                self._died_during(during)
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        try:
            reply = wire.loads(line)
        except ValueError:
            self.close()
            raise StudentCrashed("the worker sent a malformed reply") from None
        if type(reply) is not dict:
            self.close()
            raise StudentCrashed("the worker sent a malformed reply")
        return reply

    def _died_during(self, during: str):
        proc = self._proc
        flooded = self._output.flooded
        code = proc.wait() if proc is not None else None
        self.close()
        if flooded:
            raise StudentCrashed(f"your code printed more than {self.output_limit // 1_000_000} MB during {during} "
                                 "and was stopped: remove print statements from loops")
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            raise StudentCrashed(f"the process running your code was killed by signal {name} during {during} "
                                 "(a crash, or a resource limit such as memory)")
        raise StudentCrashed(f"the process running your code ended during {during} (exit code {code}): "
                             "do not call os._exit(), sys.exit() or exit() in your functions")


class _OutputDrain:
    """Reads everything the worker prints, keeps a tail, and kills the worker past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._tail = b""
        self._since_mark = 0
        self.flooded = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def attach(self, proc: subprocess.Popen) -> None:
        self.flooded = False
        self._since_mark = 0
        self._tail = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, args=(proc, self._stop), daemon=True)
        self._thread.start()

    def detach(self) -> None:
        """Stop draining; a process the student detached may still hold the pipe, so do not wait for EOF."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None

    def mark(self) -> None:
        with self._lock:
            self._tail = b""
            self._since_mark = 0

    def tail(self, chars: int) -> str:
        with self._lock:
            return self._tail[-chars:].decode("utf-8", "replace")

    def _pump(self, proc: subprocess.Popen, stop: threading.Event) -> None:
        stream = proc.stdout
        while not stop.is_set():
            ready, _, _ = select.select([stream], [], [], 0.1)
            if not ready:
                continue
            chunk = stream.read1(1 << 16)
            if not chunk:
                break
            with self._lock:
                self._since_mark += len(chunk)
                self._tail = (self._tail + chunk)[-4096:]
                over = self._since_mark > self.limit
            if over and not self.flooded:
                self.flooded = True
                _kill_group(proc)
        stream.close()


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the worker's process group: forked grandchildren die with it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
