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

PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker process (see grading.yml ``defaults``)."""

    memory_bytes: int = 2 * 2**30      # address space: torch alone maps ~0.7 GB
    cpu_seconds: int = 300             # the worker's whole life, all calls together
    file_bytes: int = 64 * 2**20       # a runaway writer gets EFBIG, not a full disk
    processes: int = 256               # threads count too (BLAS, torch)
    user: str = "nobody"               # who student code runs as when the grader is root

    def sandbox_ids(self) -> tuple[int, int] | None:
        """(uid, gid) to drop to, or None when the grader is not root (it cannot switch users then) or when
        another user could not run this Python (see :func:`why_no_drop`)."""
        if why_no_drop() is not None:
            return None
        if uid := os.environ.get("NEUROGRADE_SANDBOX_UID"):  # bulk grading: one uid per concurrent grader
            return int(uid), int(uid)
        try:
            entry = pwd.getpwnam(self.user)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            return 65534, 65534

    def preexec(self):
        """A ``preexec_fn`` for subprocess.Popen that applies these limits in the child."""
        ids = self.sandbox_ids()

        def apply() -> None:
            _set(resource.RLIMIT_CORE, 0)
            _set(resource.RLIMIT_AS, self.memory_bytes)
            _set(resource.RLIMIT_CPU, self.cpu_seconds)
            _set(resource.RLIMIT_FSIZE, self.file_bytes)
            if ids is not None:
                uid, gid = ids
                os.setgroups([])
                os.setgid(gid)
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


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


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
    reap the ones that were our children. Returns how many were killed."""
    tree = _children_map()
    spared = set()
    todo = list(keep)
    while todo:
        p = todo.pop()
        spared.add(p)
        todo.extend(tree.get(p, []))
    victims = [p for p in descendants() if p not in spared]
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
    return len(victims)


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
