"""Measure one whole grading as Gradescope would bill it: peak memory of the process tree, wall and CPU time.

``python -m autograder.release.measure [--cpus 0] -- COMMAND...`` runs COMMAND and polls /proc (Linux) for the
memory of COMMAND and every descendant: the sum of their RSS (an upper bound: shared libraries such as torch count
once per process) and the sum of their PSS (shared pages split between the processes sharing them, close to what
a container's memory limit sees). CPU time is the user + system time of the whole tree. ``--cpus 0`` pins the tree
to one CPU (``taskset``-like), the closest this machine gets to Gradescope's default half CPU: wall time with half a
CPU is at most about twice the CPU seconds reported.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

POLL_S = 0.02


@dataclass(frozen=True)
class Measurement:
    exit_status: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    peak_processes: int


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
            cpus: set[int] | None = None) -> Measurement:
    """Run ``cmd`` to completion and measure it (see the module docstring)."""
    preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
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
    return Measurement(exit_status=proc.returncode, wall_s=round(time.monotonic() - start, 2),
                       cpu_s=round(usage.ru_utime + usage.ru_stime, 2), peak_rss_mb=round(peak_rss / 1024, 1),
                       peak_pss_mb=round(peak_pss / 1024, 1), peak_processes=peak_n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.release.measure", description=__doc__.split("\n")[0])
    parser.add_argument("--cpus", help="comma-separated CPU numbers to pin the command to, e.g. 0")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to measure")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    cpus = {int(c) for c in args.cpus.split(",")} if args.cpus else None
    print(json.dumps(asdict(measure(command, cpus=cpus)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
