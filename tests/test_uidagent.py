"""The uid agent (autograder/uidagent.py): a root grader acts as a sandbox uid (kill its processes, empty its
keyrings) through a small helper instead of forking itself; the helper does nothing else, for nobody else, and
does not outlive its grader. tests/test_forkserver.py and tests/test_bulk_isolation.py show that the keyring
clearing and the uid sweep still work end to end."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from autograder import limits, uidagent
from tests.test_adversarial import _alive as running_of

needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="only a root grader gives boxes uids of their own: run as root (CI does)")


def _alive(pid: int) -> bool:
    return bool(running_of([pid]))


@needs_root
def test_a_uid_sweep_kills_the_uids_processes_without_forking_the_grader(monkeypatch):
    lease = limits.claim_uid()
    assert lease is not None
    try:
        sleeper = subprocess.Popen(["sleep", "60"], user=lease.uid, group=lease.uid, extra_groups=[], cwd="/",
                                   start_new_session=True)
        assert limits._alive_of_uid(lease.uid) == [sleeper.pid]

        def no_fork():
            raise AssertionError("the grader forked itself to act as a uid")
        monkeypatch.setattr(os, "fork", no_fork)
        limits.sweep_uid(lease.uid)
        limits.clear_keyrings(lease.uid)
        assert limits._alive_of_uid(lease.uid) == [] and not _alive(sleeper.pid)
        assert uidagent.agent_pid() is not None
    finally:
        monkeypatch.undo()
        lease.release()


@needs_root
def test_the_agent_acts_only_as_a_sandbox_uid_and_only_as_asked():
    agent = uidagent.UidAgent(limits.UID_BASE, limits.UID_COUNT)
    try:
        # Root, a system user, a uid past the range, an unknown action, a malformed line: refused, nothing done.
        for uid, action in ((0, "kill"), (1, "kill"), (limits.UID_BASE + limits.UID_COUNT, "kill"),
                            (limits.UID_BASE, "exec"), (limits.UID_BASE, "kill extra")):
            assert agent.act(uid, action) == "refused", (uid, action)
        assert agent.act(limits.UID_BASE, "clear") == "ok"
        assert _alive(os.getpid())  # had "kill 0" been done, this test would not be here to check
    finally:
        agent.close()
    assert not _alive(agent.pid)
    with pytest.raises(ValueError, match="not a sandbox uid"):
        uidagent.act_as(0, "kill", limits.UID_BASE, limits.UID_COUNT)


@needs_root
def test_the_agent_ends_with_the_grader_that_started_it():
    """A grader killed mid-grading (a hung grade-all slot is SIGKILLed) leaves no root process behind."""
    starter = subprocess.Popen(
        [sys.executable, "-c", "import os, sys; from autograder import uidagent, limits; "
         "a = uidagent.agent(limits.UID_BASE, limits.UID_COUNT); print(a.pid, flush=True); "
         "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    pid = int(starter.stdout.readline())
    assert _alive(pid)
    starter.kill()
    starter.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid), "the uid agent outlived its grader"


REACH = r'''
import os, signal, sys
pid = int(sys.argv[1])
found = []
for how in ("write its input", "signal it", "read its memory"):
    try:
        if how == "write its input":
            with open(f"/proc/{pid}/fd/0", "wb") as f:
                f.write(b"kill 0\n")
        elif how == "signal it":
            os.kill(pid, signal.SIGKILL)
        else:
            open(f"/proc/{pid}/mem", "rb").close()
        found.append(how)
    except OSError:
        pass
print(found)
'''


@needs_root
def test_student_code_running_as_a_sandbox_uid_cannot_reach_the_agent():
    """Where boxes share the host's /proc (uid+rlimits, as in Gradescope's container), a student process knows the
    agent's pid: it can neither feed the agent a request, nor signal it, nor read its memory."""
    lease = limits.claim_uid()
    assert lease is not None
    running = uidagent.agent(limits.UID_BASE, limits.UID_COUNT)
    try:
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", REACH, str(running.pid)], user=lease.uid,
                              group=lease.uid, extra_groups=[], cwd="/", capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "[]", f"a sandbox uid reached the uid agent: {proc.stdout}"
        assert _alive(running.pid) and running.act(lease.uid, "clear") == "ok"
    finally:
        lease.release()


@needs_root
def test_a_dead_agent_is_replaced():
    first = uidagent.agent(limits.UID_BASE, limits.UID_COUNT)
    os.kill(first.pid, 9)
    deadline = time.monotonic() + 10
    while _alive(first.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    lease = limits.claim_uid()  # clears the uid's keyrings: through a new agent
    try:
        second = uidagent.agent(limits.UID_BASE, limits.UID_COUNT)
        assert second is not first and second.pid != first.pid and second.act(lease.uid, "clear") == "ok"
    finally:
        lease.release()
