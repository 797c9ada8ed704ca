"""Acting as a sandbox uid without forking the grader.

Only a uid itself may kill all of its processes at once (kill(-1) as that uid) or empty its own keyrings, so a
root grader does both in a child that becomes the uid (:func:`autograder.limits.sweep_uid`,
:func:`autograder.limits.clear_keyrings`): about four times for every box, sixteen times for a whole-kit grading.
Forking the grader for that copies the page tables of a process of several hundred MB (torch, the checks' data)
and tears them down again: 6-8 % of a warm grading's CPU, measured. The children are therefore forked by a small
agent instead (``uidagent_main.py``, a few MB), started once per grader process and spoken to over a pipe that
only the grader holds. Where the agent cannot be started or has died, the grader forks itself, as before.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from autograder import uidagent_main

_SCRIPT = Path(__file__).with_name("uidagent_main.py")


class UidAgent:
    """The running agent of this process (:func:`agent`)."""

    def __init__(self, base: int, count: int) -> None:
        self._proc = subprocess.Popen([sys.executable, "-I", "-S", str(_SCRIPT), str(base), str(count)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      cwd="/", env={}, close_fds=True)
        self.pid = self._proc.pid
        self._lock = threading.Lock()

    def act(self, uid: int, action: str) -> str:
        """Have the agent do ``action`` ("kill" or "clear") as ``uid``: its answer ("ok", "refused"), or "" when
        it is gone."""
        with self._lock:
            try:
                self._proc.stdin.write(f"{action} {uid}\n".encode())
                self._proc.stdin.flush()
                return self._proc.stdout.readline().decode("ascii", "replace").strip()
            except (OSError, ValueError):
                return ""

    def alive(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> None:
        try:
            self._proc.stdin.close()  # end of input ends the agent
        except OSError:
            pass
        self._proc.wait()
        self._proc.stdout.close()


_AGENT: UidAgent | None = None
_AGENT_PID_OWNER = 0  # the process that started _AGENT (a forked child must not use its parent's pipes)
_START_LOCK = threading.Lock()


def agent(base: int, count: int) -> UidAgent | None:
    """This process's agent (started on first use, restarted if it died), or None where it cannot run."""
    global _AGENT, _AGENT_PID_OWNER
    with _START_LOCK:
        if _AGENT is not None and _AGENT_PID_OWNER == os.getpid() and _AGENT.alive():
            return _AGENT
        try:
            _AGENT, _AGENT_PID_OWNER = UidAgent(base, count), os.getpid()
        except OSError:
            _AGENT = None
        return _AGENT


def agent_pid() -> int | None:
    """The pid of this process's running agent, which the end-of-grading sweep of strays must spare."""
    running = _AGENT
    return running.pid if running is not None and _AGENT_PID_OWNER == os.getpid() and running.alive() else None


def act_as(uid: int, action: str, base: int, count: int) -> None:
    """Do ``action`` ("kill" or "clear") as ``uid`` (root only): through the agent, else in a fork of this process."""
    if not base <= uid < base + count:
        raise ValueError(f"uid {uid} is not a sandbox uid")
    running = agent(base, count)
    answer = running.act(uid, action) if running is not None else ""
    if answer == "ok":
        return
    if answer:
        raise ValueError(f"the uid agent refused {action} {uid}: {answer}")
    uidagent_main.as_uid(uid, uidagent_main.ACTIONS[action])
