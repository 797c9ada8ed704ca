"""Issue 11: grade-all isolates students from each other, as root and as an ordinary instructor.

A class of honest students (the reference) graded next to attackers: one leaves a detached survivor that hops to a
new pid in a loop and kills every process it can see, one looks for other students' files through /proc (cmdline,
cwd, root, fd) and the staging folders and submits whatever it finds, one rewrites other students' kept results,
fingerprints, the manifest and the gradebook (at import and from a detached loop). Every honest student keeps full
marks, the gradebook is right, no attack process outlives the batch, and a re-run regrades exactly what changed and
whatever was tampered with between the runs, never trusting a forged file. Without namespace isolation grade-all
refuses unless told ``--unsafe-no-sandbox``; ``grade`` (a student's own code) never refuses.

Everything goes through the real CLI, ``python -m autograder grade-all``, with a grading.yml holding only
linear_neuron (with short limits) so that a class grades in seconds.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import yaml

from tests.conftest import KIT_ROOT, grader_snapshot

pytestmark = pytest.mark.e2e

ASSIGNMENT = "linear_neuron"
FILE = f"{ASSIGNMENT}.py"
REFERENCE = (KIT_ROOT / "reference" / FILE).read_text()
STUB = (KIT_ROOT / "student_template" / FILE).read_text()
HONEST = ("alice", "bob", "carol")
ATTACKERS = ("killer", "snoop", "vandal")
INSTRUCTOR = "ng-instructor-test"
needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="creates a user and grades as root: run as root (CI does)")

# -- the attacks -------------------------------------------------------------------------------------------------
# Each attack's processes name themselves TOKEN (/proc/<pid>/comm), so the test can tell exactly which processes
# are the attack's, whatever namespace or uid they run in.

_COMMON = r'''
import os, signal, sys, time

TOKEN = "@TOKEN@"

def _name_me():
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(TOKEN)
    except OSError:
        pass

def _host_root():
    """True when this runs as root of the whole machine (not in a user namespace): kill(-1) would then hit
    every process of the machine, so the killer holds back (the uid-drop tests catch that case)."""
    if os.getuid() != 0:
        return False
    try:
        return open("/proc/self/uid_map").read().split()[:3] == ["0", "0", "4294967295"]
    except OSError:
        return True

def _detach(loop, seconds):
    """Run loop() in a grandchild in a session of its own, for at most ``seconds``."""
    if os.fork() == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                _name_me()
                end = time.time() + seconds
                try:
                    loop(end)
                except BaseException:
                    pass
        finally:
            os._exit(0)
    else:
        try:
            os.wait()
        except OSError:
            pass

def _cmdlines():
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                yield pid, open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            except OSError:
                pass
'''

KILLER = _COMMON + r'''
def _kill_everything(end):
    time.sleep(0.5)
    while time.time() < end:
        if os.fork() != 0:        # hop: a new pid every round, so a kill from a listing misses it
            os._exit(0)
        _name_me()
        if not _host_root():
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            for pid in os.listdir("/proc"):
                if pid.isdigit() and int(pid) != os.getpid():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
        time.sleep(0.05)

_detach(_kill_everything, 60)
'''

SNOOP = _COMMON + r'''
import glob

_MINE = open(__file__).read() if "__file__" in globals() else ""
_BUDGET = time.time() + 3.0

def _roots():
    """Places where other students' files may be: paths on any process's command line, any process's cwd, root
    and open files, and the grader's staging folders."""
    for pid, args in _cmdlines():
        for a in args:
            if a.startswith(b"/"):
                yield a.decode(errors="replace")
        for link in ("cwd", "root"):
            yield f"/proc/{pid}/{link}"
        yield f"/proc/{pid}/root/box"
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                yield os.path.dirname(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    for pattern in ("/tmp/neurograde*", "/tmp/neurograde*/*", "/tmp/neurograde*/*/*", "/run/neurograde*"):
        yield from glob.glob(pattern)

def _candidates():
    seen = set()
    for root in _roots():
        if time.time() > _BUDGET:
            return
        if os.path.isfile(root):
            root = os.path.dirname(root)
        for folder, dirs, files in os.walk(root):
            if time.time() > _BUDGET:
                return
            dirs[:] = [d for d in dirs if d not in (".git", ".venv", "proc", "sys", "dev", "usr", "lib")]
            if folder.count("/") - root.count("/") >= 4:
                dirs[:] = []
            if "linear_neuron.py" in files:
                path = os.path.join(folder, "linear_neuron.py")
                try:
                    text = open(path).read()
                except OSError:
                    continue
                if text != _MINE and text not in seen:
                    seen.add(text)
                    yield text

def _steal():
    import numpy as np
    for text in _candidates():
        found = {}
        try:
            exec(compile(text, "stolen", "exec"), found)
            found["gradient_1d"](np.array([1.0, 2.0]), np.array([1.0, 3.0]), 0.5, 0.1)
        except BaseException:
            continue
        globals().update({k: v for k, v in found.items() if not k.startswith("__")})
        return True
    return False

try:
    _steal()
except BaseException:
    pass
'''

VANDAL = _COMMON + r'''
import glob, hashlib, hmac, json

_FORGED = {"score": 1000000.0, "execution_time": 0.0, "output": "forged", "tests": []}
_ZERO = {"score": 0.0, "execution_time": 0.0, "output": "forged", "tests": []}

def _out_dirs():
    """Gradebook folders: the --out of any grade-all, the folder of any grader's open log files."""
    found = set()
    for pid, args in _cmdlines():
        for i, a in enumerate(args[:-1]):
            if a == b"--out":
                found.add(os.path.dirname(os.path.abspath(args[i + 1].decode(errors="replace"))))
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if "/students/" in target:
                    found.add(target.split("/students/")[0])
        except OSError:
            pass
    return found

def _write(path, text):
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError:
        pass

def _vandalise():
    for out in _out_dirs():
        for results in glob.glob(os.path.join(out, "students", "*", "results.json")):
            mine = os.path.basename(os.path.dirname(results)) == "vandal"
            _write(results, json.dumps(_FORGED if mine else _ZERO))
        for stamp in glob.glob(os.path.join(out, "students", "*", ".fingerprint")):
            if os.path.basename(os.path.dirname(stamp)) != "vandal":
                _write(stamp, "forged")
        for book in glob.glob(os.path.join(out, "*.csv")):
            _write(book, "student,total,max,status\nvandal,1000000,100,ok\n")
        try:  # with the key, a forged manifest would vouch for the forged results
            key = open(os.path.join(out, ".neurograde-key"), "rb").read()
            path = os.path.join(out, ".manifest.json")
            doc = json.load(open(path))
            for name, entry in doc["students"].items():
                entry["results_sha256"] = hashlib.sha256(
                    json.dumps(_FORGED if name == "vandal" else _ZERO).encode()).hexdigest()
            body = json.dumps({"version": doc["version"], "students": doc["students"]}, sort_keys=True,
                              separators=(",", ":"))
            doc["hmac"] = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
            _write(path, json.dumps(doc))
        except Exception:
            pass

def _keep_vandalising(end):
    while time.time() < end:
        _vandalise()
        time.sleep(0.3)

try:
    _vandalise()
except BaseException:
    pass
_detach(_keep_vandalising, 45)
'''


def _attack(source: str, token: str) -> str:
    """The stub (scores 0) with the attack run at import."""
    return STUB + "\n" + source.replace("@TOKEN@", token)


# -- helpers -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kit():
    """A snapshot of the grader that grade-all runs from (tests.conftest.grader_snapshot)."""
    root = grader_snapshot()
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _config(folder: Path, kit: Path = KIT_ROOT) -> Path:
    raw = yaml.safe_load((kit / "grading.yml").read_text())
    raw["assignments"] = {ASSIGNMENT: raw["assignments"][ASSIGNMENT]}
    raw["assignments"][ASSIGNMENT].update({"time_limit": 20, "check_timeout": 2, "import_timeout": 6})
    path = folder / "grading.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _make_class(root: Path, token: str, attackers=ATTACKERS) -> Path:
    sources = {"killer": KILLER, "snoop": SNOOP, "vandal": VANDAL}
    for student in HONEST:
        (root / student).mkdir(parents=True)
        (root / student / FILE).write_text(REFERENCE)
    for student in attackers:
        (root / student).mkdir(parents=True)
        (root / student / FILE).write_text(_attack(sources[student], token))
    return root


def _kit_digest(kit: Path, config: Path) -> str:
    """What grade-all's fingerprints cover besides the students' files."""
    h = hashlib.sha256(config.read_bytes())
    for part in ("autograder", "assignments"):
        for path in sorted((kit / part).rglob("*.py")):
            h.update(path.read_bytes())
    return h.hexdigest()


def _attack_pids(token: str) -> list[int]:
    """Live processes (not zombies waiting for their parent) named ``token``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            name = stat[stat.find(b"(") + 1:stat.rfind(b")")].decode(errors="replace")
            if name == token and stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X"):
                pids.append(int(entry))
    return pids


def _kill_attack(token: str) -> None:
    """Teardown: stop whatever this test's attack left running (by pid, found by its name), however it ran."""
    for _ in range(50):
        pids = _attack_pids(token)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)


def _gradebook(out: Path) -> dict[str, dict]:
    return {r["student"]: r for r in csv.DictReader(out.open())}


def _progress(stderr: str) -> dict[str, str]:
    """student -> what its progress line said."""
    return {m[1]: m[2] for m in re.finditer(r"^\[\d+/\d+\] (\S+): (.*)$", stderr, re.M)}


def _assert_class_graded_right(out: Path, isolation: str) -> dict[str, dict]:
    book = _gradebook(out)
    assert set(book) == {*HONEST, *ATTACKERS}, book
    header = next(csv.reader(out.open()))
    assert header[-5:] == ["total", "max", "status", "isolation", "seconds"], header
    for student in HONEST:
        row = book[student]
        assert row["status"].startswith("ok"), (student, row)
        assert float(row["total"]) == float(row["max"]) == 100, (student, row)
        assert row["isolation"] == isolation, row
        doc = json.loads((out.parent / "students" / student / "results.json").read_text())
        assert doc["score"] == pytest.approx(100), student
    # The attackers submitted the stub: whatever they did, they score what the stub scores.
    for student in ("snoop", "vandal"):
        assert float(book[student]["total"]) == 0, (student, book[student])
    assert float(book["killer"]["total"]) == 0, book["killer"]
    for student, row in book.items():
        doc = json.loads((out.parent / "students" / student / "results.json").read_text())
        assert float(row["total"]) == pytest.approx(doc["score"]), student
    return book


def _grade_class_twice(run, kit: Path, source: Path, out: Path, config: Path, token: str, isolation: str) -> None:
    """grade-all, check, tamper with kept files by hand and change one student, grade-all again, check."""
    kit_before = _kit_digest(kit, config)
    first = run(source, out, config)
    assert first.returncode == 0, first.stderr[-3000:]
    _assert_class_graded_right(out, isolation)
    # No attack process outlives the batch, and nothing changes the outputs once grade-all has returned.
    assert _attack_pids(token) == [], "an attack process survived grade-all"
    snapshot = {p: p.read_bytes() for p in out.parent.rglob("*") if p.is_file()}
    time.sleep(1.0)
    assert {p: p.read_bytes() for p in out.parent.rglob("*") if p.is_file()} == snapshot
    for path in out.parent.iterdir():
        if path.name in (".neurograde-key", ".manifest.json", out.name, "students"):
            assert not path.stat().st_mode & 0o077, f"{path} is readable by other users"
    for path in (out.parent / "students").rglob("*"):
        assert not path.stat().st_mode & 0o077, f"{path} is readable by other users"

    # Between the runs: bob changes his file; by hand, alice's kept results and carol's fingerprint are forged.
    (source / "bob" / FILE).write_text(REFERENCE + "\n# resubmitted\n")
    alice = out.parent / "students" / "alice" / "results.json"
    doc = json.loads(alice.read_text())
    doc["score"] = 1000.0
    alice.write_text(json.dumps(doc))
    (out.parent / "students" / "carol" / ".fingerprint").write_text("0" * 64)

    second = run(source, out, config)
    assert second.returncode == 0, second.stderr[-3000:]
    book = _assert_class_graded_right(out, isolation)
    said = _progress(second.stderr)
    assert set(said) == set(book), second.stderr
    assert _kit_digest(kit, config) == kit_before
    expected = {"bob": "regraded: files or grading setup changed",
                "alice": "regraded: results.json does not match the signed manifest",
                "carol": "regraded: .fingerprint does not match the signed manifest"}
    for student, reason in expected.items():
        assert reason in said[student], said
        assert book[student]["status"] == "ok", book[student]
    for student in ATTACKERS:  # nothing of theirs changed, and nothing they forged is trusted or believed
        assert "unchanged, skipped" in said[student], said
        assert book[student]["status"] == "ok (unchanged)", book[student]


# -- as root -----------------------------------------------------------------------------------------------------

@needs_root
def test_as_root_honest_students_keep_full_marks_next_to_attackers_and_a_rerun_trusts_nothing_forged(tmp_path, kit):
    token = "ng" + uuid.uuid4().hex[:10]
    source = _make_class(tmp_path / "class", token)
    config = _config(tmp_path, kit)
    out = tmp_path / "out" / "gradebook.csv"

    def run(source: Path, out: Path, config: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "autograder", "grade-all", str(source), "--jobs", "2",
                               "--out", str(out), "--config", str(config)],
                              cwd=kit, capture_output=True, text=True, timeout=300)
    try:
        _grade_class_twice(run, kit, source, out, config, token, "namespaces")
    finally:
        _kill_attack(token)


# -- as an ordinary user (an instructor on a laptop) ---------------------------------------------------------------

def _instructor() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(INSTRUCTOR)
    except KeyError:
        subprocess.run(["useradd", "--create-home", INSTRUCTOR], check=True, capture_output=True)
        return pwd.getpwnam(INSTRUCTOR)


def _as_instructor(*cmd: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "NEUROGRADE_NAMESPACES")}
    return subprocess.run(["runuser", "-u", INSTRUCTOR, "--", "env", *(f"{k}={v}" for k, v in env.items()), *cmd],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _runnable_by_instructor(kit: Path) -> None:
    """The instructor must be able to run this Python (the venv is built from /usr/bin/python3 for that) and
    read the kit snapshot."""
    probe = _as_instructor(sys.executable, "-c", "import autograder.bulk, autograder.grader", cwd=kit)
    if probe.returncode != 0:
        pytest.skip(f"{sys.executable} cannot be run by another user (build the venv from a system Python): "
                    f"{probe.stderr.strip()[-300:]}")


@needs_root
def test_as_an_ordinary_user_honest_students_keep_full_marks_next_to_attackers_and_a_rerun_trusts_nothing_forged(kit):
    user = _instructor()
    scratch = Path(tempfile.mkdtemp(prefix="ng-instructor-"))
    token = "ng" + uuid.uuid4().hex[:10]
    try:
        os.chown(scratch, user.pw_uid, user.pw_gid)
        os.chmod(scratch, 0o700)
        _runnable_by_instructor(kit)
        source = _make_class(scratch / "class", token)
        config = _config(scratch, kit)
        subprocess.run(["chown", "-R", f"{INSTRUCTOR}:", str(scratch / "class"), str(config)], check=True)
        out = scratch / "out" / "gradebook.csv"

        def run(source: Path, out: Path, config: Path) -> subprocess.CompletedProcess:
            return _as_instructor(sys.executable, "-m", "autograder", "grade-all", str(source), "--jobs", "2",
                                  "--out", str(out), "--config", str(config), cwd=kit)
        _grade_class_twice(run, kit, source, out, config, token, "namespaces")
        assert all(p.stat().st_uid == user.pw_uid for p in out.parent.rglob("*"))
    finally:
        _kill_attack(token)
        shutil.rmtree(scratch, ignore_errors=True)


# -- without namespaces ------------------------------------------------------------------------------------------

def test_without_namespaces_grade_all_refuses_unless_told_it_is_unsafe_and_grade_never_refuses(tmp_path, kit):
    source = tmp_path / "class"
    for student in ("alice", "bob"):
        (source / student).mkdir(parents=True)
        (source / student / FILE).write_text(REFERENCE)
    config = _config(tmp_path, kit)
    out = tmp_path / "out" / "gradebook.csv"
    env = dict(os.environ, NEUROGRADE_NAMESPACES="0")
    cmd = [sys.executable, "-m", "autograder", "grade-all", str(source), "--jobs", "2", "--out", str(out),
           "--config", str(config)]

    refused = subprocess.run(cmd, cwd=kit, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "NEUROGRADE_NAMESPACES=0" in lines[0]          # why (isolation.detect().why_not)
    assert "bubblewrap" in lines[0] and "--unsafe-no-sandbox" in lines[0]   # and what to do
    assert not out.exists() and not (out.parent / "students").exists()

    graded = subprocess.run([*cmd, "--unsafe-no-sandbox"], cwd=kit, env=env, capture_output=True, text=True,
                            timeout=300)
    assert graded.returncode == 0, graded.stderr[-3000:]
    book = _gradebook(out)
    kind = "uid+rlimits" if os.geteuid() == 0 else "rlimits"
    for student in ("alice", "bob"):
        assert book[student]["status"] == "ok" and float(book[student]["total"]) == 100, book[student]
        assert book[student]["isolation"] == kind
    assert "without namespace isolation" in graded.stderr  # the warning

    # A student's own code (make grade): never refused.
    own = subprocess.run([sys.executable, "-m", "autograder", "grade", "--submission", str(source / "alice"),
                          "--assignment", ASSIGNMENT, "--with-hidden", "--results", str(tmp_path / "own.json"), "--no-report",
                          "--config", str(config)], cwd=kit, env=env, capture_output=True, text=True,
                         timeout=300)
    assert own.returncode == 0, own.stderr[-3000:]
    assert json.loads((tmp_path / "own.json").read_text())["score"] == pytest.approx(100)


# -- the uid sweep that ends every box -----------------------------------------------------------------------------

HOPPER = r'''
import os, sys, time
end = time.time() + 30
while time.time() < end:
    if os.fork() != 0:      # a new pid every round: a kill from a listing keeps missing it
        os._exit(0)
    with open("/proc/self/comm", "w") as f:
        f.write(sys.argv[1])
    if os.fork() == 0:      # and a sleeping child each round
        time.sleep(30)
        os._exit(0)
    time.sleep(0.002)
'''


@needs_root
def test_a_uid_sweep_leaves_no_process_of_the_uid_even_one_that_forks_in_a_loop():
    """limits.sweep_uid (run when a box closes, and before its uid is reused) against a chain that takes a new pid
    every round; a kill from a single listing misses it (tests/test_box.py shows the chain runs)."""
    from autograder import limits
    token = "ng" + uuid.uuid4().hex[:10]
    lease = limits.claim_uid()
    assert lease is not None
    try:
        starter = subprocess.Popen([sys.executable, "-I", "-S", "-c", HOPPER, token], user=lease.uid,
                                   group=lease.uid, extra_groups=[], cwd="/", start_new_session=True)
        starter.wait(timeout=10)  # its first round exits at once: the rest lives on, detached
        # The chain needs two rounds to show three processes; a loaded machine (a full test run) may take seconds.
        deadline = time.monotonic() + 20
        while len(limits._alive_of_uid(lease.uid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(limits._alive_of_uid(lease.uid)) >= 3, "the forking chain never got going"
        limits.sweep_uid(lease.uid)
        assert limits._alive_of_uid(lease.uid) == []
        time.sleep(0.2)
        assert limits._alive_of_uid(lease.uid) == [] and _attack_pids(token) == []
    finally:
        _kill_attack(token)
        lease.release()


@needs_root
def test_as_an_ordinary_user_forked_boxes_share_nothing_writable(kit):
    """The fork server as an ordinary user runs as that user, and so do its boxes: the server's root, /etc, /dev and
    /dev/shm would be the box's to write, and shared with every later box (a red-team attack planted
    /etc/ld.so.preload there and read a later classmate's file). tests/test_forkserver.py's attacks, run as that
    user: only the box's own places are writable, nothing reaches the next box."""
    _instructor()
    _runnable_by_instructor(kit)
    shutil.copytree(KIT_ROOT / "tests", kit / "tests", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "redteam"))
    for path in [kit, *kit.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    proc = _as_instructor(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
                          "tests/test_forkserver.py", "-k", "unprivileged or leaves or reach", cwd=kit, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 3 and "skipped" not in proc.stdout, proc.stdout[-2000:]
