"""The fork server (autograder/zygote.py): every box it forks is as isolated as a cold one, and nothing passes from
one box to the next. Each test is a real attack from student code through the Worker API, then a look from the
trusted side (the host's /proc, the next box)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import isolation, uidagent_main, zygote
from autograder.assignment import part
from autograder import limits as _limits
from autograder.limits import Limits
from autograder.remote import Student
from autograder.sandbox import StudentImportError, Worker
from autograder.zoo import build_source
from tests.conftest import KIT_ROOT



@pytest.fixture(autouse=True)
def server():
    if not isolation.detect().namespaces:
        pytest.skip(f"no namespaces here: {isolation.detect().why_not}")
    zygote.ForkServer.for_bulk()  # as grade-all's graders do; undone below, the next test may want cold boxes
    try:
        found = zygote.ForkServer.shared(Limits())
        if found is None:
            pytest.skip("no fork server here (nested namespaces are refused)")
        yield found
    finally:
        zygote.ForkServer.for_bulk(False)

PROBE = r'''
import os, signal, subprocess, sys, time

def leave_traces(marker):
    """What a box could leave for the next one: files in every writable place, a detached sleeper."""
    written = []
    for folder in ("/tmp", os.getcwd(), os.environ.get("HOME", "/"), "/box/job", "/box/jobs", "/box/runtime", "/",
                   "/etc", "/dev", "/dev/shm", "/box/keep"):
        try:
            with open(os.path.join(folder, marker), "w") as f:
                f.write(marker)
            written.append(folder)
        except OSError:
            pass
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            sys.argv[0] = marker
            import ctypes
            ctypes.CDLL(None).prctl(15, marker.encode()[:15], 0, 0, 0)
            time.sleep(60)
        os._exit(0)
    return written

def look(marker):
    """What a box can see: files left by an earlier box, processes, its identity and privileges."""
    found = []
    for folder in ("/tmp", os.getcwd(), os.environ.get("HOME", "/"), "/box/job", "/box/jobs", "/", "/etc", "/dev",
                   "/dev/shm", "/box/keep"):
        try:
            found += [os.path.join(folder, n) for n in os.listdir(folder) if marker in n]
        except OSError:
            pass
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    try:
        jobs = os.listdir("/box/jobs")
    except OSError as exc:
        jobs = type(exc).__name__
    return {"found": found, "pids": pids, "uid": os.getuid(), "jobs": jobs, "job": sorted(os.listdir("/box/job")),
            "cap_eff": status["CapEff"].strip(), "cap_bnd": status["CapBnd"].strip(),
            "no_new_privs": status["NoNewPrivs"].strip()}

def kill_everything():
    """Signal every pid the box can name (kill(-1) and each /proc entry): the server must not be among them."""
    for p in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        if p != os.getpid():
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    return 1
'''


@pytest.fixture
def probe_file(tmp_path):
    path = tmp_path / "linear_neuron.py"
    path.write_text(PROBE)
    return path


def _box(module: Path) -> tuple[Worker, Student]:
    worker = Worker("linear_neuron", module, import_timeout=60, output_limit=10**6)
    return worker, Student(worker, "x", time.monotonic() + 60)


def _host_processes_named(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker[:15].encode() in Path(f"/proc/{entry}/comm").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def test_a_forked_box_is_unprivileged_alone_in_its_namespaces_and_sees_no_other_job(probe_file):
    worker, student = _box(probe_file)
    try:
        seen = student.look("nothing-to-find")
        assert isinstance(worker._proc, zygote.ForkedProcess), "the box was not forked: this test proves nothing"
    finally:
        worker.close()
    assert seen["cap_eff"] == "0000000000000000" and seen["cap_bnd"] == "0000000000000000", seen
    assert seen["no_new_privs"] == "1", seen
    assert seen["pids"] == [1, 2], f"the box sees processes besides its own init and worker: {seen['pids']}"
    assert seen["jobs"] in ([], "PermissionError"), f"other jobs' folders are visible: {seen['jobs']}"
    assert seen["job"] == ["probes.py", "submission"], seen["job"]
    if os.geteuid() == 0:
        assert seen["uid"] not in (0, 65534), f"a root grader's box runs as uid {seen['uid']}, not one of its own"


def test_nothing_a_box_leaves_reaches_the_next_box(probe_file):
    marker = f"ngzyg{os.getpid() % 100000}"
    first, student = _box(probe_file)
    try:
        written = student.leave_traces(marker)
        time.sleep(0.3)
        assert "/tmp" in written, "the box could not even write its own /tmp: the test proves nothing"
        # Only the box's own places: the server's root, /etc and /dev are shared by every box it forks (and are
        # the box's user's own when the server is not root), so they must be read-only in the box.
        assert set(written) <= {"/tmp", "/box/work", "/dev/shm"}, f"shared places were written: {written}"
        assert _host_processes_named(marker), "the sleeper never ran: the test proves nothing"
        first_uid = student.look(marker)["uid"]
    finally:
        first.close()
    time.sleep(0.2)
    assert _host_processes_named(marker) == [], "a process of the box outlived it"
    second, student = _box(probe_file)
    try:
        seen = student.look(marker)
    finally:
        second.close()
    assert seen["found"] == [], f"the next box found what the previous one left: {seen['found']}"
    if os.geteuid() == 0:  # a uid is reused only after its sweep (limits.claim_uid): nothing of it may be alive
        assert not _limits._alive_of_uid(first_uid), "a process of the previous box's uid is alive"


def test_a_box_that_signals_everything_it_can_name_leaves_the_server_working(probe_file, server):
    worker, student = _box(probe_file)
    try:
        try:
            student.kill_everything()
        except Exception:
            pass  # the box may well kill itself: what matters is what is left outside it
    finally:
        worker.close()
    assert not server.dead and server._proc.poll() is None, "a box killed the fork server"
    began = time.monotonic()
    worker, student = _box(probe_file)
    try:
        assert student.look("x")["pids"] == [1, 2]
    finally:
        worker.close()
    assert time.monotonic() - began < 5, "the next box was not forked from the warm server"


def test_a_dead_server_is_replaced_and_its_boxes_end_with_a_message(probe_file, server):
    worker, student = _box(probe_file)
    try:
        student.look("x")
        os.killpg(server._proc.pid, signal.SIGKILL)  # the server, not the box: its boxes die with it
        deadline = time.monotonic() + 10
        while not server.dead and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.dead
    finally:
        worker.close()
    worker, student = _box(probe_file)
    try:
        assert student.look("x")["pids"] == [1, 2]
        assert zygote.ForkServer._shared is not server
    finally:
        worker.close()


def test_a_box_that_cannot_import_its_module_says_so(tmp_path):
    module = tmp_path / "linear_neuron.py"
    module.write_text("raise ValueError('at import')\n")
    worker, student = _box(module)
    try:
        with pytest.raises(StudentImportError, match="ValueError: at import"):
            student.look("x")
    finally:
        worker.close()


def test_forked_and_cold_boxes_grade_alike(tmp_path):
    """The same submission graded with the fork server and with cold boxes (NEUROGRADE_FORKSERVER=0): the same
    score for every check."""
    sub = tmp_path / "submission"
    sub.mkdir()
    # A typical mistake (the zoo's first), so that failing checks and their messages are compared too.
    (sub / "linear_neuron.py").write_text(build_source("linear_neuron", part("linear_neuron", "bugzoo").MUTANTS[0]))
    scores = {}
    for mode in ("1", "0"):
        out = tmp_path / f"results-{mode}.json"
        env = {**os.environ, zygote.ENV_SWITCH: mode}
        proc = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submission", str(sub),
                               "--assignment", "linear_neuron", "--with-hidden", "--no-report", "--results",
                               str(out)], cwd=KIT_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        doc = json.loads(out.read_text())
        scores[mode] = {t["name"]: (t["score"], t.get("output", "")) for t in doc["tests"]}
    assert scores["1"] == scores["0"]


def test_a_box_imports_what_the_server_did_not_preload(tmp_path):
    """A library the warm server never imported is imported by the box from the Python runtime, even when the
    runtime lives under /tmp (a kit cloned there with its .venv: the box's own /tmp must not hide it)."""
    module = tmp_path / "linear_neuron.py"
    module.write_text("def lazy_import():\n    import sklearn.linear_model, email.mime.text\n"
                      "    return sklearn.linear_model.__name__\n")
    server = zygote.ForkServer(Limits(), preload=())
    try:
        assert server.usable(), server.why_not
        worker = Worker("linear_neuron", module, import_timeout=60, output_limit=10**6)
        saved, zygote.ForkServer._shared = zygote.ForkServer._shared, server
        try:
            assert Student(worker, "x", time.monotonic() + 60).lazy_import() == "sklearn.linear_model"
            assert isinstance(worker._proc, zygote.ForkedProcess)
        finally:
            worker.close()
            zygote.ForkServer._shared = saved
    finally:
        server.close()


def test_two_boxes_of_one_server_cannot_reach_each_other(tmp_path):
    """Each box has a network namespace of its own: a box listening on an abstract unix socket or on loopback is
    out of reach of another box forked by the same server at the same time."""
    module = tmp_path / "linear_neuron.py"
    module.write_text(
        "import socket\n_kept = []\n"
        "def listen(name):\n"
        "    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); u.bind('\\0' + name); u.listen(1)\n"
        "    t = socket.socket(); t.bind(('127.0.0.1', 0)); t.listen(1)\n"
        "    _kept.extend([u, t]); return t.getsockname()[1]\n"
        "def reach(name, port):\n"
        "    out = []\n"
        "    for family, address in ((socket.AF_UNIX, '\\0' + name), (socket.AF_INET, ('127.0.0.1', port))):\n"
        "        s = socket.socket(family, socket.SOCK_STREAM); s.settimeout(1)\n"
        "        try:\n"
        "            s.connect(address); out.append('connected')\n"
        "        except OSError as exc:\n"
        "            out.append(type(exc).__name__)\n"
        "    return out\n")
    name = f"ngzyg-net-{os.getpid()}"
    first, a = _box(module)
    second, b = _box(module)
    try:
        port = a.listen(name)
        assert a.reach(name, port)[0] == "connected", "the listener is not there: the test proves nothing"
        assert "connected" not in b.reach(name, port)
        assert isinstance(first._proc, zygote.ForkedProcess) and isinstance(second._proc, zygote.ForkedProcess)
    finally:
        first.close()
        second.close()


KEYS = r'''
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_ADD_KEY, SYS_KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]

def plant(description):
    """Store a secret in the uid's user and user-session keyrings (they belong to the uid, not to the box)."""
    return [_libc.syscall(SYS_ADD_KEY, b"user", description.encode(), b"secret", 6, ctypes.c_int(ring))
            for ring in (-4, -5)]

def find(description):
    return [_libc.syscall(SYS_KEYCTL, 10, ctypes.c_int(ring), b"user", description.encode(), 0) for ring in (-4, -5)]
'''


def test_nothing_a_box_stores_in_its_uids_keyrings_outlives_it(tmp_path):
    """A uid's keyrings outlive its processes (a forked box shares the host's user namespace): the grader empties
    them when it releases the uid, so the next box given that uid finds nothing."""
    if os.geteuid() != 0 or os.uname().machine not in ("x86_64", "aarch64"):
        pytest.skip("only a root grader gives boxes uids of their own")
    module = tmp_path / "linear_neuron.py"
    module.write_text(KEYS)
    description = f"ngzyg-key-{os.getpid()}"
    worker, student = _box(module)
    try:
        assert all(k > 0 for k in student.plant(description)), "no key was stored: the test proves nothing"
        uid = worker._uid.uid
        assert all(k > 0 for k in student.find(description))
    finally:
        worker.close()
    # What the next holder of the uid would see, looked at as that uid from the trusted side.
    read, write = os.pipe()

    def look() -> None:
        namespace: dict = {}
        exec(KEYS, namespace)
        os.write(write, repr(namespace["find"](description)).encode())
    uidagent_main.as_uid(uid, look)
    os.close(write)
    found = eval(os.read(read, 1000).decode())
    os.close(read)
    assert all(k < 0 for k in found), f"uid {uid}'s keyrings still hold what the last box stored: {found}"


def test_the_server_preloads_what_torch_would_import_at_a_boxs_first_optimizer():
    """torch.optim imports torch._dynamo at the first optimizer it builds (1.2 s of CPU in every box otherwise): a
    torch assignment's box needs it from the server, and a numpy-only assignment's does not."""
    from autograder.assignment import LAZY_PARTS, libraries

    probe = ("import sys, torch\nbefore = 'torch._dynamo' in sys.modules\n"
             "torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)\n"
             "print(before, 'torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120).stdout.split()
    assert out == ["False", "True"], f"torch no longer imports torch._dynamo lazily ({out}): update LAZY_PARTS"
    assert libraries("pytorch_basics")[-len(LAZY_PARTS["torch"]):] == LAZY_PARTS["torch"]
    assert not set(libraries("linear_neuron")) & set(LAZY_PARTS["torch"])
