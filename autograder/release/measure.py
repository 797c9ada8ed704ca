"""Measure one whole grading as Gradescope would bill it: peak memory of the process tree, wall and CPU time.

``python -m autograder.release.measure [--cpus 0] -- COMMAND...`` runs COMMAND and polls /proc (Linux) for the
memory of COMMAND and every descendant: the sum of their RSS (an upper bound: shared libraries such as torch count
once per process) and the sum of their PSS (shared pages split between the processes sharing them, close to what
a container's memory limit sees). CPU time is the user + system time of the whole tree. ``--cpus 0`` pins the tree
to one CPU (``taskset``-like), the closest this machine gets to Gradescope's default half CPU: wall time with half a
CPU is at most about twice the CPU seconds reported.

``--gradescope-limits`` runs COMMAND in a control group with Gradescope's default container limits, 768 MB of
memory (swap included) and half a CPU (a CFS quota of 50 ms per 100 ms), where the host lets us create one (root
with cgroup v1 memory and cpu controllers): the wall time is then what Gradescope's default container would take,
the group's own peak memory is reported, and an out-of-memory kill shows in ``oom_kills``. The boxes then get no
control group of their own (``NEUROGRADE_CGROUPS=0``): a container's /sys/fs/cgroup is read-only, so there every
process of the grading stays in the container's group, and here in the emulated one (a box's own group, a sibling
of it, would leave it: its memory would count against no limit).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

POLL_S = 0.02


@dataclass(frozen=True)
class Measurement:
    exit_status: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    peak_processes: int
    limits: str = ""               # "768 MB, 0.5 CPU (cgroup v1)" when run under Gradescope's limits
    cgroup_peak_mb: float = 0.0    # the control group's own peak memory (page cache included)
    oom_kills: int = 0


#: Gradescope's default autograder container.
GRADESCOPE_MEMORY_BYTES = 768 * 2**20
GRADESCOPE_CPU_QUOTA_US, CPU_PERIOD_US = 50_000, 100_000


class _LimitsGroup:
    """A cgroup v1 memory + cpu group with Gradescope's default limits (root only); OSError where impossible."""

    def __init__(self) -> None:
        root = Path("/sys/fs/cgroup")
        name = f"neurograde-measure-{os.getpid()}"
        self.memory, self.cpu = root / "memory" / name, root / "cpu" / name
        if not (root / "memory" / "cgroup.procs").is_file() or not (root / "cpu" / "cgroup.procs").is_file():
            raise OSError("no cgroup v1 memory and cpu hierarchies here")
        self.memory.mkdir()
        self.cpu.mkdir()
        (self.memory / "memory.limit_in_bytes").write_text(str(GRADESCOPE_MEMORY_BYTES))
        swap = self.memory / "memory.memsw.limit_in_bytes"
        if swap.exists():
            swap.write_text(str(GRADESCOPE_MEMORY_BYTES))
        (self.cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (self.cpu / "cpu.cfs_quota_us").write_text(str(GRADESCOPE_CPU_QUOTA_US))

    def join(self) -> None:
        for group in (self.memory, self.cpu):
            (group / "cgroup.procs").write_text(str(os.getpid()))

    def peak_mb(self) -> float:
        return round(int((self.memory / "memory.max_usage_in_bytes").read_text()) / 2**20, 1)

    def oom_kills(self) -> int:
        for line in (self.memory / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def remove(self) -> None:
        from autograder.cgroups import remove_group

        for group in (self.memory, self.cpu):
            remove_group(group, seconds=2.0)


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rfind(b")") + 2:].split()[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB; (0, 0) once it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


def measure(cmd: list[str], *, env: dict | None = None, cwd: str | None = None,
            cpus: set[int] | None = None, gradescope_limits: bool = False) -> Measurement:
    """Run ``cmd`` to completion and measure it (see the module docstring). With ``gradescope_limits`` it runs in a
    control group with Gradescope's default limits; raises OSError where the host cannot make one."""
    group = _LimitsGroup() if gradescope_limits else None
    if group is not None:
        from autograder import cgroups
        env = {**(os.environ if env is None else env), cgroups.ENV_SWITCH: "0"}

    def preexec() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)
        if group is not None:
            group.join()
    try:
        return _measure(cmd, env, cwd, preexec, group)
    finally:
        if group is not None:
            group.remove()


def _measure(cmd, env, cwd, preexec, group) -> Measurement:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, preexec_fn=preexec, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    peak_rss = peak_pss = peak_n = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        pids = _tree(proc.pid)
        mem = [_memory_kb(p) for p in pids]
        peak_rss = max(peak_rss, sum(m[0] for m in mem))
        peak_pss = max(peak_pss, sum(m[1] for m in mem))
        peak_n = max(peak_n, len(pids))
        time.sleep(POLL_S)
    proc.returncode = os.waitstatus_to_exitcode(status)
    limits = {}
    if group is not None:
        limits = {"limits": "768 MB, 0.5 CPU (cgroup v1)", "cgroup_peak_mb": group.peak_mb(),
                  "oom_kills": group.oom_kills()}
    return Measurement(exit_status=proc.returncode, wall_s=round(time.monotonic() - start, 2),
                       cpu_s=round(usage.ru_utime + usage.ru_stime, 2), peak_rss_mb=round(peak_rss / 1024, 1),
                       peak_pss_mb=round(peak_pss / 1024, 1), peak_processes=peak_n, **limits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.release.measure", description=__doc__.split("\n")[0])
    parser.add_argument("--cpus", help="comma-separated CPU numbers to pin the command to, e.g. 0")
    parser.add_argument("--gradescope-limits", action="store_true",
                        help="run in a cgroup with Gradescope's default limits (768 MB, half a CPU; root only)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to measure")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    cpus = {int(c) for c in args.cpus.split(",")} if args.cpus else None
    print(json.dumps(asdict(measure(command, cpus=cpus, gradescope_limits=args.gradescope_limits)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
