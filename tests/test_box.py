"""The box every worker runs in, and the channel back from it, attacked directly through the Worker API.

Each test is a real attack from student code: what it could see, reach or send, and what it left behind. The
CLI-level attacks (whole gradings) are in tests/test_attacks.py and tests/test_adversarial.py.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder import isolation
from autograder.remote import Student
from autograder.sandbox import ProtocolViolation, StudentCrashed, StudentImportError, StudentTimeout, Worker
from tests.conftest import KIT_ROOT

IN_CI = os.environ.get("CI") == "true"

ATTACKER = r'''
import ctypes, os, socket, sys, time, threading

def facts():
    def readable(path):
        try:
            with open(path, "rb") as f:
                f.read(1)
            return True
        except OSError:
            return False
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    return {"uid": os.getuid(), "pid": os.getpid(), "pids": len(pids), "root": sorted(os.listdir("/")),
            "kit": [p for p in ("KIT/reference/linear_neuron.py", "KIT/grading.yml", "KIT/assignments/linear_neuron/checks.py",
                                "/etc/shadow", "/root") if readable(p) or os.path.isdir(p)],
            "exe": sys.executable}

def connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return "connected"
    except OSError as exc:
        return type(exc).__name__

def _reply_fd():
    # The one writable pipe besides stdout and stderr (a cold worker also names it last in its argv; a forked one
    # does not): what any submission can find in /proc/self/fd.
    import fcntl
    for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
        try:
            pipe = os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
        except OSError:
            continue
        if fd > 2 and pipe and writable:
            return fd
    raise RuntimeError("no reply channel found")

def forge(line):
    os.write(_reply_fd(), line.encode("latin-1"))
    return 1.0

def forge_later(line, delay):
    def later():
        time.sleep(delay)
        os.write(_reply_fd(), line.encode("latin-1"))
    threading.Thread(target=later, daemon=True).start()
    return 1.0

def flood_channel(megabytes):
    chunk = b"[]," * (2**20 // 3)
    for _ in range(megabytes):
        os.write(_reply_fd(), chunk)
    return 1.0

def freeze_soon():
    import signal
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGSTOP)).start()
    return 1.0

def fork_chain(name):
    # A detached chain: each link forks the next and exits at once, so every listing of processes sees a new pid.
    if os.fork() == 0:
        os.setsid()
        ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
        while True:
            if os.fork():
                os._exit(0)
    return 1.0

def echo(x):
    return x

def segfault():
    ctypes.string_at(0)
'''.replace("KIT", str(KIT_ROOT))


def _named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == name:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture
def box(tmp_path):
    module = tmp_path / "linear_neuron.py"
    module.write_text(ATTACKER)
    worker = Worker("linear_neuron", module, import_timeout=30, output_limit=10**6)
    yield worker, (lambda budget=20.0: Student(worker, "linear_neuron.box", time.monotonic() + budget))
    worker.close()


def test_ci_grades_in_namespaces():
    """CI installs bubblewrap (make test): a missing sandbox must fail loudly there, not pass quietly."""
    if not IN_CI:
        pytest.skip("only CI promises bubblewrap")
    iso = isolation.detect()
    assert iso.namespaces, f"no namespaces in CI: {iso.why_not}"
    assert os.geteuid() != 0 or (iso.uid_drop and iso.cgroup), iso.describe()


def test_the_box_shows_no_kit_no_other_process_and_no_network(box):
    if not isolation.detect().namespaces:
        pytest.skip(f"no namespaces here: {isolation.detect().why_not}")
    _, student = box
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        facts = student().facts()
        reached = student().connect(server.getsockname()[1])
    finally:
        server.close()
    assert facts["kit"] == [], f"student code could read {facts['kit']}"
    assert facts["pids"] <= 3, "student code sees processes outside its box"
    assert set(facts["root"]) <= {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "box", "tmp",
                                  "proc", "dev", *Path(sys.prefix).parts[1:2]}, facts["root"]
    assert reached != "connected", "student code reached the grader's loopback"
    if os.geteuid() == 0:
        assert facts["uid"] != 0


def test_two_boxes_never_share_a_uid(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only a root grader gives boxes uids of their own")
    workers = []
    for name in ("a", "b"):
        module = tmp_path / name / "linear_neuron.py"
        module.parent.mkdir()
        module.write_text(ATTACKER)
        workers.append(Worker("linear_neuron", module, import_timeout=30, output_limit=10**6))
    try:
        uids = {Student(w, "x", time.monotonic() + 20).facts()["uid"] for w in workers}
    finally:
        for w in workers:
            w.close()
    assert len(uids) == 2 and 0 not in uids


@pytest.mark.parametrize("line", [
    '{"id": 99, "ok": 2.0}\n',            # a well-formed reply to no request
    '{"id": 2, "ok": 5.0}\n',             # the right id for the next request, sent early
    "[" * 100_000 + "]" * 100_000 + "\n",  # nesting that would exhaust the decoder's recursion
    '{"id": 2, "ok": "\xff"}\n',           # not UTF-8 (sent as the byte 0xff)
], ids=["wrong-id", "early-reply", "deep", "bad-utf8"])
def test_a_forged_frame_kills_the_box_and_fails_that_call(box, line):
    worker, student = box
    s = student()
    with pytest.raises(ProtocolViolation, match="private channel"):
        s.forge(line)  # the forged frame comes before the call's own reply: that very call fails
    with pytest.raises(ProtocolViolation, match="private channel"):
        s.forge_later(line, 0.2)
        time.sleep(1.0)
        s.echo(1.0)  # a frame that arrives between two calls is seen at the next one
        s.echo(2.0)  # (under load it may pass for the next call's reply: then the real reply is the extra one)
    assert student().echo(3.0) == 3.0  # the next check gets a fresh box


def test_a_frame_from_a_thread_during_a_later_call_is_caught(box):
    _, student = box
    with pytest.raises(ProtocolViolation, match="private channel"):
        student().forge_later('{"id": 7, "ok": 1}\n', 0.5)
        for _ in range(40):
            student().echo(1.0)
            time.sleep(0.05)


def test_an_endless_frame_keeps_the_graders_memory_bounded(box):
    worker, student = box
    student().echo(0.0)
    before = _rss_mb()
    with pytest.raises(ProtocolViolation, match="longer than"):
        student().flood_channel(40)
    assert _rss_mb() - before < 100, "the grader buffered what the worker sent"


def test_a_worker_that_stops_reading_cannot_block_a_large_request(box):
    worker, student = box
    s = student(budget=3.0)
    s.freeze_soon()  # the worker stops itself once it has replied: nobody reads the request pipe any more
    time.sleep(0.6)
    began = time.monotonic()
    with pytest.raises(StudentTimeout, match="stopped reading"):
        s.echo("y" * 20_000_000)  # far more than a pipe holds
    assert time.monotonic() - began < 10


def test_a_crash_is_reported_with_its_signal(box):
    _, student = box
    with pytest.raises(StudentCrashed, match="killed by signal SIGSEGV"):
        student().segfault()


def test_a_detached_fork_chain_dies_with_the_box(box):
    worker, student = box
    name = "ngchain" + str(os.getpid() % 10000)
    student().fork_chain(name)
    time.sleep(0.5)
    assert _named(name), "the chain never ran: the test proves nothing"
    worker.close()
    time.sleep(0.3)
    assert _named(name) == [], "a process of the box outlived it"


def test_fallback_without_namespaces_still_kills_a_fork_chain_and_says_so(tmp_path):
    """No bubblewrap (a laptop, a container without user namespaces): the uid sweep, or the subreaper's sweep at
    the end of a grading, still ends the chain; results.json names the weaker isolation."""
    module = tmp_path / "linear_neuron.py"
    module.write_text(ATTACKER)
    results = tmp_path / "results.json"
    name = "ngfall" + str(os.getpid() % 10000)
    # A grader process of its own: a subreaper, as in a real grading, with namespaces turned off.
    wrapper = f"""
import json, time
from pathlib import Path
from autograder import isolation
from autograder.limits import become_subreaper, kill_strays_until_quiet
from autograder.remote import Student
from autograder.sandbox import Worker
become_subreaper()
w = Worker("linear_neuron", Path({str(module)!r}), import_timeout=30, output_limit=10**6)
Student(w, "x", time.monotonic() + 20).fork_chain({name!r})
time.sleep(0.5)
w.close()
kill_strays_until_quiet()
Path({str(results)!r}).write_text(isolation.detect().kind)
"""
    env = dict(os.environ, NEUROGRADE_NAMESPACES="0")
    proc = subprocess.run([sys.executable, "-c", wrapper], cwd=KIT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    kind = results.read_text()
    assert kind == ("uid+rlimits" if os.geteuid() == 0 else "rlimits")
    time.sleep(0.3)
    assert _named(name) == [], "the fork chain outlived the grading without namespaces"


def test_a_forged_first_message_is_caught(tmp_path):
    module = tmp_path / "linear_neuron.py"
    module.write_text(ATTACKER + "\nos.write(_reply_fd(), b'{\"id\": 0, \"ready\": true}\\n')\n")
    worker = Worker("linear_neuron", module, import_timeout=30, output_limit=10**6)
    try:
        # Both hellos may arrive in one read (an import problem) or the forged one first (the next call fails).
        with pytest.raises((StudentImportError, ProtocolViolation), match="private channel"):
            Student(worker, "x", time.monotonic() + 20).echo(1.0)
    finally:
        worker.close()


def test_the_runtime_is_mounted_over_the_private_tmp(tmp_path):
    """bubblewrap applies mounts in order: a kit cloned under /tmp (CI's clean clones) keeps its .venv visible."""
    if not isolation.detect().namespaces:
        pytest.skip(f"no namespaces here: {isolation.detect().why_not}")
    cmd = isolation.bwrap_command(tmp_path, {}, chdir="/box/work")
    tmpfs = cmd.index("--tmpfs")
    for folder in isolation.runtime_dirs():
        assert cmd.index(folder) > tmpfs, f"{folder} would be hidden by the private /tmp"
