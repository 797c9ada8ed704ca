"""The fork server's trusted side: one warm process per grader (so one per bulk-grading slot) that forks a fresh,
isolated worker for every box, so that a box costs a fork instead of importing numpy, scikit-learn and torch.

The warm process (:mod:`autograder.zygote_main`) runs in a bubblewrap box like a cold worker's (namespaces, the
slot's unprivileged uid, rlimits) and never runs student code. Each box it forks gets its own user, mount, PID, IPC
and UTS namespaces nested inside, a private /tmp and /box/work, only its own files, a /proc of its own, the box's
control group (joined before the box starts, by the grader, as root), rlimits, and no capabilities: what
:mod:`autograder.isolation` promises for a cold box holds for a forked one, and nothing is shared with the box
before (IOI's isolate gives each run a fresh box the same way; the fork is Android's zygote, nsjail's listening
mode and Chromium's fork server).

The server is for bulk grading: the warm graders of ``grade-all`` and of a Dask worker turn it on
(:meth:`ForkServer.for_bulk`), and pay its start-up once for a whole class. A single ``grade`` (a student's
``make grade``, a Gradescope container) starts a cold process per box: the server would hold every assignment's
libraries at once (scikit-learn next to torch) for one grading, about 140 MB more at its peak than cold boxes, which
each hold only their own assignment's libraries. Where the warm process cannot be used (no bubblewrap, nested user
namespaces refused), :class:`autograder.sandbox.Worker` starts cold boxes in bulk too.
"""
from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder import isolation
from autograder.assignment import preloadable
from autograder.limits import THREAD_ENV, Limits, descendants, why_no_drop

PACKAGE_DIR = Path(__file__).resolve().parent
#: The runtime of the warm process: the worker's files and the server itself.
RUNTIME_FILES = ("__init__.py", "wire.py", "session.py", "worker.py", "zygote_main.py")
#: "0": cold boxes everywhere; "1": the fork server for every grading, a single ``grade`` too (the kit's attack
#: suite attacks forked boxes through the command line this way); unset: the fork server in bulk grading only.
ENV_SWITCH = "NEUROGRADE_FORKSERVER"
#: What a server imports when nobody said what the grading needs: every contract file's libraries.
DEFAULT_PRELOAD = ("numpy", "sklearn.preprocessing", "torch", "torch.nn", "torch.utils.data")
#: How long the warm process may take to say whether nested namespaces work, and to import the libraries.
VERDICT_SECONDS = 20.0
READY_SECONDS = 120.0
#: What a root server keeps: to unshare and mount (a box's namespaces), to switch to the box's uid, and to empty
#: the box's bounding set. Everything else (reading others' files, ptrace, the network) is dropped.
ROOT_CAPABILITIES = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")


class ForkedProcess:
    """One box forked by the server: what :class:`autograder.sandbox.Worker` needs of a process (``pid``,
    ``stdout``, ``poll``, ``wait``, ``kill``). ``pid`` is C's pid on the host, found by the grader in /proc."""

    def __init__(self, server: "ForkServer", job: int, stdout) -> None:
        self.server, self.job, self.stdout = server, job, stdout
        self.pid: int | None = None
        self.returncode: int | None = None
        self.started = threading.Event()   # forked, in its control group, and told to go (or failed)
        self._exited = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired("forked worker", timeout)
        return self.returncode

    def _ended(self, code: int) -> None:
        self.returncode = code
        self.started.set()
        self._exited.set()

    def kill(self) -> None:
        """SIGKILL C and everything under it (G's death ends its PID namespace, and with it every process there)."""
        pid = self.pid
        if pid is None:
            return
        for p in [pid, *descendants(pid)]:
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class ForkServer:
    """The warm process of this grader; :meth:`shared` gives it (started on first use)."""

    _shared: "ForkServer | None" = None
    _lock = threading.Lock()
    #: What the next server imports before forking (a grading asks for its assignments' libraries first).
    _wanted: tuple[str, ...] = ()
    #: Whether this process grades in bulk (a warm grader): the server is used by default only then.
    _bulk = False

    @classmethod
    def for_bulk(cls, on: bool = True) -> None:
        """Say that this process is a warm grader of many submissions: its boxes are forked by the server unless
        ``NEUROGRADE_FORKSERVER=0``. Without it, only ``NEUROGRADE_FORKSERVER=1`` turns the server on."""
        cls._bulk = on

    @classmethod
    def wanted_here(cls) -> bool:
        """Whether this process's boxes should come from the server (where the server can work)."""
        switch = os.environ.get(ENV_SWITCH, "")
        return switch == "1" or (switch != "0" and cls._bulk)

    @classmethod
    def want(cls, libraries: "tuple[str, ...]") -> None:
        """Warm the next server with ``libraries`` too (a running server keeps what it has: a box that needs more
        imports it itself, as a cold box does)."""
        cls._wanted = tuple(dict.fromkeys(cls._wanted + tuple(libraries)))

    @classmethod
    def shared(cls, limits: Limits) -> "ForkServer | None":
        """The running server, started if needed; None when boxes must be started cold here. Call it from the
        thread that will outlive the boxes (bubblewrap's --die-with-parent follows the forking thread)."""
        if not cls.wanted_here() or not isolation.detect().namespaces:
            return None
        with cls._lock:
            server = cls._shared
            if server is not None and server.limits != limits:
                server.close()
                server = None
            if server is None or server.dead:
                if server is not None:
                    server.close()
                server = cls._shared = ForkServer(limits, cls._wanted or DEFAULT_PRELOAD)
        return server if server.usable() else None

    @classmethod
    def shutdown(cls) -> None:
        with cls._lock:
            if cls._shared is not None:
                cls._shared.close()
                cls._shared = None

    def __init__(self, limits: Limits, preload: "tuple[str, ...]" = ()) -> None:
        self.limits = limits
        self.preload = preloadable(preload)
        self.dead = False
        self.why_not = ""
        self._verdict = threading.Event()
        self._ready = threading.Event()
        self._jobs: dict[int, tuple[ForkedProcess, object, int]] = {}
        self._next_job = 0
        self._send_lock = threading.Lock()
        self._host_pid: int | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="neurograde-forkserver-"))
        runtime = self._tmp / "runtime" / "autograder"
        runtime.mkdir(parents=True)
        for rel in RUNTIME_FILES:
            shutil.copyfile(PACKAGE_DIR / rel, runtime / rel)
        self.jobs_dir = self._tmp / "jobs"
        self.jobs_dir.mkdir()
        for path in [self._tmp, *self._tmp.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        # A root grader that may drop to other uids runs the server as root (in bubblewrap's namespaces, without a
        # user namespace, with only the capabilities it needs to build boxes), so that every box gets a uid of
        # its own, as a cold box does; otherwise the server and its boxes run as the grader's user.
        self.rootful = why_no_drop() is None
        self._tmp.chmod(0o700)  # nobody but the grader's user (and the server) may enter
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL") if k in os.environ}
        env.update(THREAD_ENV, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg",
                   HOME="/box/work", TMPDIR="/tmp", MPLCONFIGDIR="/tmp")
        flags = isolation.namespace_flags()
        if self.rootful:
            flags = [f for f in flags if f != "--unshare-user"]
            for cap in ROOT_CAPABILITIES:
                flags += ["--cap-add", cap]
        cmd = isolation.bwrap_command(None, env, chdir=Path("/"), flags=flags, open_parents=self.rootful, binds=[
            ("--perms", "0755", "--dir", "/box"),  # else the folder is the server's alone (0700 under a root server)
            ("--ro-bind", str(self._tmp / "runtime"), "/box/runtime"),
            ("--ro-bind", str(self.jobs_dir), "/box/jobs"),
            ("--dir", "/box/job"), ("--dir", "/box/work"), ("--dir", "/box/keep")])
        self._log = open(self._tmp / "server.log", "wb")
        self._proc = subprocess.Popen(
            [*cmd, sys.executable, "-I", "/box/runtime/autograder/zygote_main.py", "/box/runtime",
             str(theirs.fileno()), ",".join(self.preload)],
            cwd="/", env={}, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            pass_fds=(theirs.fileno(),), start_new_session=True, preexec_fn=_no_core_dumps)
        theirs.close()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        atexit.register(self.close)

    # -- state ---------------------------------------------------------------------------------------------
    def usable(self) -> bool:
        """Whether boxes can be forked here (waits for the trial box, a few milliseconds after start)."""
        if not self._verdict.wait(VERDICT_SECONDS):
            self.why_not = "the fork server did not answer"
        return not self.dead and not self.why_not

    def keep_pids(self) -> set[int]:
        """The server's own processes (not its boxes): spared by the end-of-grading sweep."""
        return {self._proc.pid} if not self.dead else set()

    # -- boxes ---------------------------------------------------------------------------------------------
    def spawn(self, files: dict[str, Path], *, module: str, assignment: str, env: dict[str, str],
              uid: int | None = None, needs: "tuple[str, ...]" = (),
              cgroup_join=None) -> tuple[ForkedProcess, int, int]:
        """Stage ``files`` (name in the box -> host file) and ask for a box; returns the process, the request
        write end and the reply read end. The box starts when the server is ready; ``cgroup_join(host_pid)`` runs
        before it is told to go."""
        with self._send_lock:
            self._next_job += 1
            job = self._next_job
        folder = self.jobs_dir / str(job)
        (folder / "submission").mkdir(parents=True)
        for rel, src in files.items():
            shutil.copyfile(src, folder / rel)
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        go_r, go_w = os.pipe()
        proc = ForkedProcess(self, job, os.fdopen(out_r, "rb"))
        self._jobs[job] = (proc, cgroup_join, go_w)
        message = {"job": job, "dir": f"/box/jobs/{job}", "module": module, "assignment": assignment, "env": env,
                   "uid": uid if self.rootful else None, "needs": list(needs),
                   # The runtime's folders under /tmp, which the box's own /tmp must not hide.
                   "keep": [d for d in isolation.runtime_dirs() if d.startswith("/tmp/")],
                   "limits": {"memory_bytes": self.limits.memory_bytes, "cpu_seconds": self.limits.cpu_seconds,
                              "file_bytes": self.limits.file_bytes, "processes": self.limits.processes}}
        try:
            with self._send_lock:
                socket.send_fds(self._sock, [json.dumps(message).encode()], [req_r, resp_w, out_w, go_r])
        except OSError:
            self._jobs.pop(job, None)
            os.close(go_w)
            proc._ended(128 + signal.SIGKILL)
        finally:
            for fd in (req_r, resp_w, out_w, go_r):
                os.close(fd)
        return proc, req_w, resp_r

    def cancel(self, proc: ForkedProcess) -> None:
        """Stop a box (killed if it runs; if it waits for its go, it ends when the go pipe closes)."""
        proc.kill()
        entry = self._jobs.get(proc.job)
        if entry is not None and entry[2] >= 0:
            self._jobs[proc.job] = (proc, None, -1)
            _close_quietly(entry[2])

    def forget(self, proc: ForkedProcess) -> None:
        """The box has ended: remove its staged files."""
        self._jobs.pop(proc.job, None)
        shutil.rmtree(self.jobs_dir / str(proc.job), ignore_errors=True)

    # -- the server's messages -----------------------------------------------------------------------------
    def _read(self) -> None:
        try:
            while True:
                data = self._sock.recv(1 << 16)
                if not data:
                    break
                self._handle(json.loads(data))
        except (OSError, ValueError):
            pass
        self.dead = True
        self._verdict.set()
        self._ready.set()
        for proc, _, go_w in list(self._jobs.values()):
            _close_quietly(go_w)
            proc.kill()
            proc._ended(128 + signal.SIGKILL)

    def _handle(self, message: dict) -> None:
        if "nested" in message:
            if not message["nested"]:
                self.why_not = f"nested namespaces are refused here ({str(message.get('why'))[:200]})"
            else:
                self._host_pid = self._find_host_pid(self._proc.pid, int(message["pid"]))
            self._verdict.set()
            return
        if message.get("ready"):
            self._ready.set()
            return
        entry = self._jobs.get(message.get("job"))
        if entry is None:
            return
        proc, cgroup_join, go_w = entry
        if "pid" in message:
            proc.pid = self._find_host_pid(self._host_pid, int(message["pid"]), children_only=True)
            try:
                if proc.pid is None:
                    raise OSError("the forked box is not in /proc")
                if cgroup_join is not None:
                    cgroup_join(proc.pid)
                os.write(go_w, b"g")
            except OSError:
                proc.kill()
            finally:
                _close_quietly(go_w)
                self._jobs[proc.job] = (proc, None, -1)
                proc.started.set()
        elif "exit" in message:
            proc._ended(int(message["exit"]))

    @staticmethod
    def _find_host_pid(root: int | None, inner: int, children_only: bool = False) -> int | None:
        """The host pid of the process under ``root`` whose pid in its own (innermost) namespace is ``inner``."""
        if root is None:
            return None
        for _ in range(100):
            candidates = descendants(root)
            if children_only:
                candidates = [p for p in candidates if _ppid(p) == root]
            for pid in candidates:
                if _ns_pids(pid)[-1:] == [inner]:
                    return pid
            time.sleep(0.005)
        return None

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        self.dead = True
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in descendants(self._proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._proc.wait()
        self._sock.close()
        self._log.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _no_core_dumps() -> None:
    # The server's own limits: no core dumps. A box's limits are set in the box (the server forks for hours in
    # bulk grading, so a CPU limit of its own would end it).
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _close_quietly(fd: int) -> None:
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


def _ns_pids(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"NSpid:"):
                    return [int(v) for v in line.split()[1:]]
    except OSError:
        pass
    return []


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rfind(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None
