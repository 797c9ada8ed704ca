"""Limits on the process that runs student code, and cleanup of every process it may leave behind.

Applied in the forked child before it execs the worker: address space, CPU time, file size, number of processes,
no core dumps; when the grader runs as root, the child also drops to an unprivileged user, so student code can
neither read the grader's files that are private to root nor write the kit's data or the results.
"""
from __future__ import annotations

import ctypes
import os
import pwd
import resource
import signal
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder import uidagent

PR_SET_CHILD_SUBREAPER = 36
#: One BLAS/OpenMP thread: the data are small, and sums come out in the same order on every run.
THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
#: Root graders give every worker a uid of its own from this range (isolate's box ids: 60000 + box), held by a
#: lock file for as long as the worker lives, so that no two boxes on this machine ever share a uid and the
#: sweep of one box's uid cannot touch another's processes.
UID_BASE = 60000
UID_COUNT = 1000


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker process (see grading.yml ``defaults``)."""

    memory_bytes: int = 2 * 2**30      # address space: torch alone maps ~0.7 GB
    cpu_seconds: int = 300             # the worker's whole life, all calls together
    file_bytes: int = 64 * 2**20       # a runaway writer gets EFBIG, not a full disk
    processes: int = 256               # threads count too (BLAS, torch)
    user: str = "nobody"               # who student code runs as when the grader is root

    def sandbox_ids(self) -> tuple[int, int] | None:
        """(uid, gid) of the configured unprivileged user, or None when the grader is not root (it cannot switch
        users then) or when another user could not run this Python (see :func:`why_no_drop`). Workers run as a
        uid of their own (:func:`claim_uid`); this user only probes what an unprivileged user may do here."""
        if why_no_drop() is not None:
            return None
        try:
            entry = pwd.getpwnam(self.user)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            return 65534, 65534

    def preexec(self, uid: int | None = None, join_cgroup=None):
        """A ``preexec_fn`` for subprocess.Popen that applies these limits in the child: it joins the box's
        control group (while still privileged), sets the rlimits, then drops to ``uid`` (group ``uid`` too)."""

        def apply() -> None:
            if join_cgroup is not None:
                join_cgroup()
            _set(resource.RLIMIT_CORE, 0)
            _set(resource.RLIMIT_AS, self.memory_bytes)
            _set(resource.RLIMIT_CPU, self.cpu_seconds)
            _set(resource.RLIMIT_FSIZE, self.file_bytes)
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                _set(resource.RLIMIT_NPROC, self.processes)  # counted per user: only meaningful after the drop
        return apply


def why_no_drop() -> str | None:
    """Why student code cannot run as an unprivileged user here, or None when it can."""
    if os.geteuid() != 0:
        return "the grader does not run as root"
    import sysconfig
    paths = {os.path.realpath(sys.executable)} | {os.path.realpath(sysconfig.get_paths()[k])
                                                  for k in ("stdlib", "purelib", "platlib")}
    for path in sorted(paths):
        if not os.path.exists(path):
            continue
        for folder in [path, *Path(path).parents]:
            mode = os.stat(folder).st_mode
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                return (f"{folder} is not accessible to other users, so they cannot run {sys.executable}: "
                        "create the virtual environment from a Python installed outside it")
    return None


def _set(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def become_subreaper() -> bool:
    """Make orphaned descendants (a student's setsid + fork) our children instead of init's, so that
    :func:`kill_strays` can find them. Linux only; returns whether it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children_map(zombies: set[int] | None = None) -> dict[int, list[int]]:
    """parent pid -> child pids, from /proc; the pids of zombies are added to ``zombies`` when given."""
    children: dict[int, list[int]] = {}
    for pid, stat in _each_process("stat"):
        # The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(pid)
        if zombies is not None and fields[0] == b"Z":
            zombies.add(pid)
    return children


def _each_process(name: str):
    """(pid, the bytes of /proc/<pid>/<name>) for every process that still exists when it is read."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/{name}", "rb") as f:
                    yield int(entry), f.read()
            except OSError:
                continue


def descendants(pid: int | None = None) -> list[int]:
    """Every live descendant of ``pid`` (default: this process)."""
    if not os.path.isdir("/proc"):
        return []
    tree = _children_map()
    out, todo = [], list(tree.get(pid or os.getpid(), []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def kill_strays(keep: set[int] = frozenset()) -> int:
    """SIGKILL every descendant of this process except the processes in ``keep`` and their own descendants;
    reap the ones that were our children. Returns how many were alive (zombies are only reaped)."""
    zombies: set[int] = set()
    tree = _children_map(zombies)
    spared = set()
    agent = uidagent.agent_pid()  # the grader's own helper, not a stray
    todo = [*keep, *([agent] if agent else [])]
    while todo:
        p = todo.pop()
        spared.add(p)
        todo.extend(tree.get(p, []))
    victims, todo = [], list(tree.get(os.getpid(), []))
    while todo:
        p = todo.pop()
        if p not in spared:
            victims.append(p)
        todo.extend(tree.get(p, []))
    for p in victims:
        try:
            os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for p in victims:
        try:
            os.waitpid(p, 0)
        except ChildProcessError:  # not our child: init or its own parent reaps it
            pass
    return len([p for p in victims if p not in zombies])


def kill_strays_until_quiet(rounds: int = 50, keep: set[int] = frozenset()) -> int:
    """:func:`kill_strays` again and again until a pass finds nothing alive: a process that forks and exits in a
    loop may be missing from one listing, never from every one (each pass kills what it saw). Returns the count."""
    total = 0
    for _ in range(rounds):
        killed = kill_strays(keep)
        total += killed
        if not killed:
            break
    return total


def cpu_seconds_of_tree(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants, including the children each has reaped
    (read from /proc by the trusted process: nothing the student's code reports)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        # fields[11:15]: utime, stime, cutime, cstime (man 5 proc, counted from the state field)
        total += sum(int(v) for v in fields[11:15])
    return total / ticks


class UidLease:
    """A uid held for one box: released (after a sweep) by :meth:`release`."""

    def __init__(self, uid: int, fd: int) -> None:
        self.uid, self._fd = uid, fd

    def release(self) -> None:
        if self._fd >= 0:
            sweep_uid(self.uid)
            clear_keyrings(self.uid)
            os.close(self._fd)
            self._fd = -1


def clear_keyrings(uid: int) -> None:
    """Empty ``uid``'s user and user-session keyrings (root only). They belong to the uid, not to a process, and
    outlive every box: without this, the next box given the same uid would read what the last one stored there
    (found by a red-team attack on forked boxes, which share the host's user namespace)."""
    if os.geteuid() != 0:
        return
    _as_uid(uid, "clear")


def _as_uid(uid: int, action: str) -> None:
    """Do ``action`` ("kill": SIGKILL every process of ``uid``; "clear": empty its keyrings) as ``uid`` itself,
    what only the uid may do to its own processes and keyrings (root only): in a child of the small uid agent
    (:mod:`autograder.uidagent`), not in a fork of this large process."""
    uidagent.act_as(uid, action, UID_BASE, UID_COUNT)


def _lock_dir() -> Path:
    for base in ("/run", "/tmp"):
        if os.path.isdir(base) and os.access(base, os.W_OK):
            folder = Path(base) / "neurograde-uids"
            folder.mkdir(mode=0o700, exist_ok=True)
            if folder.is_symlink() or folder.stat().st_uid != os.geteuid():
                continue  # somebody else's folder: never trust its locks
            return folder
    raise OSError("no folder for uid locks")


def claim_uid() -> UidLease | None:
    """A free uid for one box, or None when student code cannot run as another user here (not root, or this
    Python is not runnable by other users). Anything a previous holder of the uid left running is killed."""
    import fcntl
    if why_no_drop() is not None:
        return None
    folder = _lock_dir()
    start = os.getpid() % UID_COUNT  # concurrent graders start their search at different places
    for k in range(UID_COUNT):
        uid = UID_BASE + (start + k) % UID_COUNT
        fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        sweep_uid(uid)
        clear_keyrings(uid)
        return UidLease(uid, fd)
    raise OSError(f"all {UID_COUNT} sandbox uids are in use")


def _alive_of_uid(uid: int) -> list[int]:
    alive = []
    for pid, status in _each_process("status"):
        fields = dict(line.split(b":", 1) for line in status.splitlines() if b":" in line)
        real_uids = fields.get(b"Uid", b"").split()
        if real_uids and int(real_uids[0]) == uid and not fields.get(b"State", b"").strip().startswith(b"Z"):
            alive.append(pid)
    return alive


def sweep_uid(uid: int, rounds: int = 20) -> int:
    """Kill every process of ``uid`` on this machine (root only): a child drops to ``uid`` and calls
    kill(-1, SIGKILL), which signals every process of that uid at once, so a process that forks in a loop cannot
    slip between a listing and a kill (a dying process cannot fork). Repeated until none is left; returns the
    rounds it took (0 when nothing was running)."""
    if os.geteuid() != 0:
        return 0
    for n in range(rounds):
        if not _alive_of_uid(uid):
            return n
        _as_uid(uid, "kill")
        _reap_orphans()
    return rounds


def _reap_orphans() -> None:
    """Collect the zombies of killed processes that were re-parented to us (we are a child subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
