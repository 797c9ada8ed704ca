"""One control group per sandbox box: a memory limit, a process-count limit and CPU accounting for everything the
student's code starts, whatever it forks, where the host lets the grader create groups.

cgroup v1 (a hierarchy per controller: memory/, pids/, cpuacct/) and v2 (one unified tree) both exist in the wild;
either needs write access to the hierarchy, which root has on most Linux hosts and containers with a writable
/sys/fs/cgroup, and an ordinary user rarely has. Without it the box has rlimits only (see :mod:`autograder.limits`).
"""
from __future__ import annotations

import functools
import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
#: Our groups live under this name in each hierarchy.
PARENT = "neurograde"
#: Set to "0" to give boxes no control group of their own, as in a container whose /sys/fs/cgroup is read-only
#: (Docker's default, so Gradescope's): every process then stays in the grader's group, under its limits.
ENV_SWITCH = "NEUROGRADE_CGROUPS"
V1_CONTROLLERS = ("memory", "pids", "cpuacct")


@functools.lru_cache(maxsize=None)
def available() -> str | None:
    """"v1" or "v2" when boxes can get their own group here, else None (probed by creating one)."""
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return None
    for version in ("v2", "v1"):
        try:
            box = Box(f"probe-{os.getpid()}", memory_bytes=2**30, pids=64, version=version)
        except OSError:
            continue
        box.remove()
        return version
    return None


def _v2_root() -> Path | None:
    if (ROOT / "cgroup.controllers").is_file():  # a pure v2 host
        return ROOT
    if (ROOT / "unified" / "cgroup.controllers").is_file():  # hybrid: v2 has no controllers worth using
        return None
    return None


def _write(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


class Box:
    """The control group(s) of one box; raises OSError when they cannot be made."""

    def __init__(self, name: str, *, memory_bytes: int, pids: int, version: str | None = None) -> None:
        self.version = version or available()
        self.dirs: list[Path] = []
        if self.version == "v2":
            root = _v2_root()
            if root is None:
                raise OSError("no cgroup v2 hierarchy with controllers")
            parent = root / PARENT
            parent.mkdir(exist_ok=True)
            controllers = set((root / "cgroup.controllers").read_text().split())
            if not {"memory", "pids"} <= controllers:
                raise OSError("cgroup v2 lacks the memory or pids controller")
            _write(root / "cgroup.subtree_control", "+memory +pids")
            _write(parent / "cgroup.subtree_control", "+memory +pids")
            group = parent / name
            group.mkdir()
            self.dirs = [group]
            _write(group / "memory.max", str(memory_bytes))
            _write(group / "memory.swap.max", "0") if (group / "memory.swap.max").exists() else None
            _write(group / "pids.max", str(pids))
        elif self.version == "v1":
            for controller in V1_CONTROLLERS:
                base = ROOT / controller
                if not (base / "cgroup.procs").is_file():
                    raise OSError(f"no cgroup v1 {controller} hierarchy")
                (base / PARENT).mkdir(exist_ok=True)
                group = base / PARENT / name
                group.mkdir()
                self.dirs.append(group)
            _write(self.dirs[0] / "memory.limit_in_bytes", str(memory_bytes))
            _write(self.dirs[1] / "pids.max", str(pids))
        else:
            raise OSError("no cgroup hierarchy is writable here")

    def join(self) -> None:
        """Move the calling process into the box (in the child, before it drops privileges and execs)."""
        pid = str(os.getpid())
        for group in self.dirs:
            _write(group / "cgroup.procs", pid)

    def add(self, pid: int) -> None:
        """Move process ``pid`` into the box (the grader, for a box forked by the warm server)."""
        for group in self.dirs:
            _write(group / "cgroup.procs", str(pid))

    def pids(self) -> list[int]:
        found: set[int] = set()
        for group in self.dirs:
            try:
                found.update(int(p) for p in (group / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(found)

    def cpu_seconds(self) -> float | None:
        """CPU used by every process that ever ran in the box (exited ones included)."""
        try:
            if self.version == "v2":
                for line in (self.dirs[0] / "cpu.stat").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "usage_usec":
                        return int(value) / 1e6
                return None
            return int((self.dirs[2] / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError, IndexError):
            return None

    def memory_peak_bytes(self) -> int | None:
        name = "memory.peak" if self.version == "v2" else "memory.max_usage_in_bytes"
        try:
            return int((self.dirs[0] / name).read_text())
        except (OSError, ValueError, IndexError):
            return None

    def kill_all(self, rounds: int = 50) -> int:
        """SIGKILL every process in the box until none is left (a fork racing the sweep is caught next round)."""
        killed = 0
        for _ in range(rounds):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.005)
        return killed

    def remove(self) -> None:
        """Kill what is left and delete the group(s)."""
        self.kill_all()
        for group in self.dirs:
            remove_group(group)
        self.dirs = []


def remove_group(group: Path, seconds: float = 1.0) -> None:
    """Delete the control group ``group`` (gone already is fine). A killed process leaves its group only when it is
    reaped, so the kernel refuses a group that still holds one (EBUSY): retry for up to ``seconds``."""
    for _ in range(max(1, round(seconds / 0.01))):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
