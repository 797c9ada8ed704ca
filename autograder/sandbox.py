"""The trusted side of the sandbox: one worker process per assignment, in a box of its own, with time and output
limits and a channel that trusts no byte from the worker.

The worker (:mod:`autograder.worker`) imports the student's module once and runs requests on it. Each worker gets a
fresh box (:mod:`autograder.isolation`): bubblewrap namespaces where they work, a uid of its own when grading as
root, a control group where the host offers one, rlimits always. A request that overruns its time kills the box;
the next request starts a fresh one. Everything the student's code prints is drained here and capped.

The student's code runs in the same process as the worker's end of the reply pipe, so every frame is treated as
hostile: request ids are echoed and checked, a frame's size, nesting and object count are checked before it is
decoded (:func:`autograder.wire.loads_untrusted`), every read and write has a deadline, and anything an honest
worker never sends kills the box and fails the current check with :class:`ProtocolViolation`.
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
from typing import Any, Callable

from autograder import assignment as assignment_parts, cgroups, isolation, wire, zygote
from autograder.limits import THREAD_ENV, Limits, UidLease, claim_uid, cpu_seconds_of_tree

PACKAGE_DIR = Path(__file__).resolve().parent
#: What the worker needs of the grader, copied next to each worker: it never reads the kit itself, so the kit
#: (and its hidden checks) can stay private to the grader's user.
RUNTIME_FILES = ("__init__.py", "wire.py", "session.py", "worker.py")

#: Environment variables passed through to student code; everything else is dropped.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT", "TMPDIR")


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


class ProtocolViolation(StudentCrashed):
    """The worker sent what an honest worker never sends: the submission wrote to the grader's channel."""

    def __init__(self, what: str) -> None:
        super().__init__(f"your code wrote to the grader's private channel ({what}), so the process running it "
                         "was stopped: never write to, close or duplicate file descriptors your code did not open")


#: How long a worker whose reply channel reached its end may take to exit before that counts as a violation.
EXIT_GRACE_SECONDS = 2.0

#: Where the box's parts appear inside the namespaces (host paths never reach student code there).
BOX_MOUNT = "/box"


class Worker:
    """A student module running in a box of its own; :meth:`request` is the only way in."""

    def __init__(self, assignment: str, module_file: Path | None, *, import_timeout: float,
                 output_limit: int, limits: Limits = Limits()) -> None:
        self.assignment = assignment
        self.limits = limits
        self.module_file = module_file
        self.import_timeout = import_timeout
        self.output_limit = output_limit
        self.isolation = isolation.detect()
        self.generation = 0  # bumps when a process ends; handles from an older generation are stale
        self.startup_seconds = 0.0  # time spent starting processes: the grader's cost, not the check's
        self._proc: subprocess.Popen | None = None
        self._import_problem: StudentProblem | None = None
        self._tmp: Path | None = None
        self._uid: UidLease | None = None
        self._cgroup: cgroups.Box | None = None
        self._output = _OutputDrain(output_limit)
        self._starter: threading.Thread | None = None
        self._hello_deadline: float | None = 0.0
        self._server: zygote.ForkServer | None = None
        self._next_id = 0

    # -- lifecycle -----------------------------------------------------------------------------------------
    def _spawn(self) -> None:
        """Stage the box and start the worker in it (fast: it does not wait for the student's import)."""
        if self.module_file is None:
            self._import_problem = MissingFile(f"{self.assignment}.py is missing from your submission: every "
                                               "check of this assignment scores 0")
            raise self._import_problem
        probes = assignment_parts.probes_file(self.assignment)
        if (server := zygote.ForkServer.shared(self.limits)) is not None:
            self._spawn_forked(server, probes)
            return
        # 0700: neither other boxes' uids nor other users can read the staged file or list the box.
        self._tmp = Path(tempfile.mkdtemp(prefix="neurograde-box-"))
        # Only the contract file is copied, alone in a fresh folder: nothing else the submission holds
        # (a conftest.py, a numpy.py) can be imported, and the worker runs outside the kit.
        staged = self._tmp / "submission" / f"{self.assignment}.py"
        staged.parent.mkdir()
        shutil.copyfile(self.module_file, staged)
        runtime = self._tmp / "runtime"
        (runtime / "autograder").mkdir(parents=True)
        for rel in RUNTIME_FILES:
            shutil.copyfile(PACKAGE_DIR / rel, runtime / "autograder" / rel)
        # The assignment's probes run next to the student's code; nothing else of its folder enters the box.
        if (probes := assignment_parts.probes_file(self.assignment)).is_file():
            shutil.copyfile(probes, runtime / "probes.py")
        workdir = self._tmp / "work"
        workdir.mkdir()
        for path in self._tmp.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        self._uid = claim_uid()
        uid = self._uid.uid if self._uid is not None else None
        if uid is not None:
            os.chown(self._tmp, uid, uid)   # the box's own uid may enter it; nobody else (0700)
            os.chown(workdir, uid, uid)     # the only folder student code may write to
        if self.isolation.cgroup:
            try:
                self._cgroup = cgroups.Box(self._tmp.name, memory_bytes=self.limits.memory_bytes,
                                           pids=self.limits.processes, version=self.isolation.cgroup)
            except OSError:
                self._cgroup = None
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env.update(THREAD_ENV, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
        preload = assignment_parts.preloadable(assignment_parts.declared_libraries(self.assignment) or ())
        worker_args = [self.assignment, self.assignment, str(req_r), str(resp_w), ",".join(preload)]
        if self.isolation.namespaces:
            inside = Path(BOX_MOUNT)
            env.update(HOME=str(inside / "work"), TMPDIR="/tmp", MPLCONFIGDIR="/tmp")
            cmd = [*isolation.bwrap_command(self._tmp, env, chdir=inside / "work"),
                   sys.executable, "-I", str(inside / "runtime" / "autograder" / "worker.py"),
                   str(inside / "runtime"), str(inside / "submission" / staged.name), *worker_args]
            cwd, popen_env = "/", {}
        else:
            env.update(HOME=str(workdir))
            cmd = [sys.executable, "-I", str(runtime / "autograder" / "worker.py"), str(runtime), str(staged),
                   *worker_args]
            cwd, popen_env = workdir, env
        self._proc = subprocess.Popen(
            cmd, cwd=cwd, env=popen_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(req_r, resp_w), start_new_session=True,
            preexec_fn=self.limits.preexec(uid, self._cgroup.join if self._cgroup else None))
        os.close(req_r)
        os.close(resp_w)
        os.set_blocking(req_w, False)  # every write has a deadline: a worker that stops reading cannot block us
        self._req_fd = req_w
        self._resp_fd = resp_r
        self._buf = bytearray()  # appended in place: a long frame is not copied once per read
        self._next_id = 0
        self._output.attach(self._proc)
        self._hello_deadline = time.monotonic() + self.import_timeout

    def _spawn_forked(self, server: "zygote.ForkServer", probes: Path) -> None:
        """A box forked by the warm server: the same namespaces, limits and control group as a cold box."""
        files = {f"submission/{self.assignment}.py": self.module_file}
        if probes.is_file():
            files["probes.py"] = probes
        if self.isolation.cgroup:
            try:
                self._cgroup = cgroups.Box(f"forked-{os.getpid()}-{id(self)}-{self.generation}",
                                           memory_bytes=self.limits.memory_bytes, pids=self.limits.processes,
                                           version=self.isolation.cgroup)
            except OSError:
                self._cgroup = None
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env.update(THREAD_ENV, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg",
                   HOME=f"{BOX_MOUNT}/work", TMPDIR="/tmp", MPLCONFIGDIR="/tmp")
        self._server = server
        self._uid = claim_uid() if server.rootful else None
        self._proc, req_w, resp_r = server.spawn(files, module=self.assignment, assignment=self.assignment,
                                                 env=env, uid=self._uid.uid if self._uid else None,
                                                 needs=assignment_parts.libraries(self.assignment),
                                                 cgroup_join=self._cgroup.add if self._cgroup else None)
        os.set_blocking(req_w, False)
        self._req_fd, self._resp_fd = req_w, resp_r
        self._buf = bytearray()
        self._next_id = 0
        self._output.attach(self._proc)
        self._hello_deadline = None  # set when the box starts: waiting for the warm server is start-up time

    def _await_hello(self) -> None:
        """Wait for the worker to import the student's module; import problems are kept for every request."""
        if self._hello_deadline is None:
            self._proc.started.wait(zygote.READY_SECONDS)
            self._hello_deadline = time.monotonic() + self.import_timeout
        try:
            hello = self._read_message(self._hello_deadline, during="importing your module", expect_id=0)
            err = hello.get("import_error")
            if set(hello) == {"id", "ready"}:
                return
            if set(hello) != {"id", "import_error"} or type(err) is not dict:
                self._violation("a malformed first message")
        except StudentProblem as exc:  # a loop, a flood, an exit or a forged frame at import: every later call
            self._import_problem = StudentImportError(  # would repeat it
                f"{self.assignment}.py could not be imported: {exc}")
            raise self._import_problem from None
        text = _field(err, "type", 100)
        message = _field(err, "message", 2000)
        text = f"{text}: {message}" if message else text
        where = f" ({_field(err, 'where', 500)})" if err.get("where") else ""
        if err.get("type") == "SystemExit":
            text = f"your module called sys.exit() / exit() while it was being imported (code {message!r})"
        self._import_problem = StudentImportError(f"{self.assignment}.py could not be imported: {text}{where}")
        self.close()
        raise self._import_problem

    def _start(self) -> None:
        self._spawn()
        self._await_hello()

    def prestart(self) -> None:
        """Start the process now, so that its imports overlap the grader's other work; the next request waits
        for it. The process is forked on the calling thread (bubblewrap's --die-with-parent follows the thread
        that forked it); only the wait for its import runs in the background."""
        if self._proc is None and self._import_problem is None and self._starter is None:
            try:
                self._spawn()
            except Exception:  # a MissingFile is cached in _import_problem; anything else is retried on request
                return
            self._starter = threading.Thread(target=self._await_quietly, daemon=True)
            self._starter.start()

    def _await_quietly(self) -> None:
        try:
            self._await_hello()
        except Exception:  # StudentProblems are cached in _import_problem
            pass

    def _join_starter(self) -> float:
        if self._starter is None:
            return 0.0
        began = time.monotonic()
        self._starter.join()
        self._starter = None
        return time.monotonic() - began

    def close(self) -> None:
        """Kill everything in the box and remove it."""
        if self._starter is not None and self._starter is not threading.current_thread():
            self._join_starter()
        proc, self._proc = self._proc, None
        if proc is not None:
            self.generation += 1  # objects of the old process are gone: their handles must not reach a new one
            _kill_group(proc)
            os.close(self._req_fd)
            os.close(self._resp_fd)
            if isinstance(proc, zygote.ForkedProcess):
                self._server.cancel(proc)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                self._server.forget(proc)
            else:
                proc.wait()
            self._output.detach()
        self._end_box()

    def _end_box(self) -> None:
        # The PID namespace ends with its first process; the control group and the uid sweep catch anything that
        # got out of it (and everything, where there are no namespaces).
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._uid is not None:
            self._uid.release()
            self._uid = None
        # Same user as the grader and no namespaces: what this box detached cannot be told from another box's
        # processes here, so the grader sweeps every stray at the end of the grading (limits.kill_strays).
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
            deadline += timed_start_up(self, self._start)
        if time.monotonic() >= deadline:
            raise StudentTimeout("no time left for this check: an earlier call used up its time limit")
        self._expect_silence()
        self._output.mark()
        self._next_id += 1
        rid = self._next_id
        self._write(wire.dumps({**message, "id": rid}), deadline)
        reply = self._read_message(deadline, during="a call", expect_id=rid)
        keys = set(reply)
        if keys == {"id", "error"} and type(reply["error"]) is dict:
            err = reply["error"]
            raise StudentError(_field(err, "type", 100), _field(err, "message", 2000), _field(err, "where", 500),
                               _field(err, "function", 100))
        if keys != {"id", "ok"}:
            self._violation("a reply that is neither a value nor an error")
        try:
            return wire.decode(reply["ok"])
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            self._violation(f"a value that is not plain data: {str(exc)[:80]}")

    def output_tail(self, chars: int = 600) -> str:
        """What the student's code printed during the last request (its end, at most ``chars``)."""
        return self._output.tail(chars)

    def cpu_seconds(self) -> float | None:
        """CPU seconds used so far by the box's processes, read from the trusted side: the control group's
        accounting (every process that ever ran in the box) where there is one, else the live process tree and
        the children it reaped; None when no worker runs."""
        proc = self._proc
        if proc is None:
            return None
        if self._cgroup is not None and (seconds := self._cgroup.cpu_seconds()) is not None:
            return seconds
        return cpu_seconds_of_tree(proc.pid) if os.path.isdir("/proc") else None

    def _violation(self, what: str):
        self.close()
        raise ProtocolViolation(what)

    def _expect_silence(self) -> None:
        """Between two requests an honest worker says nothing: anything waiting on the channel was forged."""
        if self._buf:
            self._violation("a message nobody asked for")
        ready, _, _ = select.select([self._resp_fd], [], [], 0)
        if ready:
            if os.read(self._resp_fd, 1):
                self._violation("a message nobody asked for")
            self._died_during("the time between two calls")

    def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise StudentTimeout("time limit reached while sending a call: your code stopped reading the "
                                     "grader's requests")
            _, ready, _ = select.select([], [self._req_fd], [], min(remaining, 0.2))
            if not ready:
                if self._proc is not None and self._proc.poll() is not None:
                    self._died_during("a call")
                continue
            try:
                view = view[os.write(self._req_fd, view[:1 << 16]):]
            except BlockingIOError:
                continue
            except OSError:  # BrokenPipeError: the worker is gone
                self._died_during("a call")

    def _read_message(self, deadline: float, *, during: str, expect_id: int) -> dict:
        scanned = 0
        while self._buf.find(b"\n", scanned) < 0:
            scanned = len(self._buf)
            if scanned > wire.MAX_FRAME_BYTES:
                self._violation(f"a message longer than {wire.MAX_FRAME_BYTES // 2**20} MB")
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
        line, _, rest = self._buf.partition(b"\n")
        self._buf = bytearray()
        if rest:
            self._violation("more than one message for one request")
        try:
            reply = wire.loads_untrusted(line)
        except wire.WireError as exc:
            self._violation(str(exc))
        if type(reply) is not dict or reply.get("id") != expect_id or type(reply.get("id")) is not int:
            self._violation("a message that answers no request")
        return reply

    def _died_during(self, during: str):
        proc = self._proc
        flooded = self._output.flooded
        try:
            code = proc.wait(timeout=EXIT_GRACE_SECONDS) if proc is not None else None
        except subprocess.TimeoutExpired:  # alive, yet its end of the channel is closed or points elsewhere
            self._violation("the reply channel was closed or redirected while your code kept running")
        if code is not None and code > 128 and self.isolation.namespaces:
            code = 128 - code  # bubblewrap exits with 128 + N when the worker dies of signal N, as a shell does
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


def _field(err: dict, key: str, limit: int) -> str:
    """A text field of an error report from the worker, as a bounded string whatever was sent."""
    value = err.get(key, "")
    return (value if type(value) is str else "")[:limit]


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


def timed_start_up(worker: Any, start: Callable[[], None]) -> float:
    """Run ``start`` (a worker's start-up: the libraries, the student's module) and return its seconds, counted in
    ``worker.startup_seconds``: start-up is never a check's time (the caller moves its deadline by as much)."""
    began = time.monotonic()
    try:
        start()
    finally:
        spent = time.monotonic() - began
        worker.startup_seconds += spent
    return spent


def _kill_group(proc: "subprocess.Popen | zygote.ForkedProcess") -> None:
    """SIGKILL the worker's process group: forked grandchildren die with it (a forked box: its whole tree, and
    with its first process its PID namespace)."""
    if isinstance(proc, zygote.ForkedProcess):
        proc.kill()
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
