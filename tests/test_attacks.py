"""Issue 11's attack suite, run through the real CLI: one test per attack in tests/attacks/.

Each attack is the attacked contract file (``linear_neuron.py``) of a submission that also holds the reference
``backprop.py``; both are graded with the hidden checks by ``python -m autograder grade``. Whatever the attack does,
the acceptance criteria of the issue must hold:

- ``grade`` exits 0 within its time limit with a schema-valid results.json;
- the attacked assignment gains nothing over its honest equivalent (check by check), the neighbour keeps full marks;
- no process started by the submission is alive afterwards (found through /proc by a marker in argv/environment);
- reference/, autograder/, data/, grading.yml and a planted classmate's file are unchanged (and, for the attacks
  that turn a successful read into points, were not readable), nothing the attack wrote is left in /tmp, the test's
  localhost listener saw no connection;
- the grader process's peak RSS (VmHWM, polled every 20 ms) stays within 100 MB of an honest grading's.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
import yaml

from autograder import zygote
from tests import attacks
from tests.attacks import CANARY_TOKEN, NEIGHBOUR, VICTIM, Context
from tests.conftest import KIT_ROOT, shared_once

pytestmark = pytest.mark.e2e

ATTACKS = attacks.load()
SCHEMA = json.loads((KIT_ROOT / "autograder" / "results.schema.json").read_text())
#: Short limits for the attacked assignment (same checks, same points); the neighbour keeps grading.yml's.
FAST_LIMITS = {"time_limit": 15, "check_timeout": 4, "import_timeout": 8}
#: Wall-clock allowance for one grading: the victim's limits, the neighbour's few seconds, slack for a busy machine.
GRADE_TIMEOUT = FAST_LIMITS["time_limit"] + FAST_LIMITS["import_timeout"] + 25
RSS_MARGIN_KB = 100 * 1024
#: Past this the grader is killed at once: the machine is shared, and the test has failed anyway.
RSS_EMERGENCY_KB = 3 * 1024 * 1024
GUARDED = ("reference", "autograder", "assignments", "data", "grading.yml")
#: What the snapshot of the kit leaves out (the grader runs from a snapshot: other people edit the working tree).
SNAPSHOT_IGNORE = shutil.ignore_patterns(".git", ".venv", "results", "dist", "build", "__pycache__", "*.pyc",
                                         ".pytest_cache", "*.egg-info")
LITTER_DIRS = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")]
#: A single ``grade`` starts cold boxes; the attacks go to boxes forked by the fork server, as in grade-all (the
#: more involved of the two; test_engine's and test_adversarial's hostile submissions and test_box meet cold boxes).
ATTACK_ENV = {**os.environ, zygote.ENV_SWITCH: "1"}


# -- running the grader --------------------------------------------------------------------------------------------

@dataclass
class Grading:
    returncode: int | None
    seconds: float
    timed_out: bool
    peak_kb: int
    doc: dict | None
    stdout: str
    stderr: str
    killed_for_memory: bool = False
    problems: list[str] = field(default_factory=list)


def _proc_stat_fields(pid: int) -> list[bytes] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _proc_stat_fields(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], list(children.get(root, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _kill(pids) -> None:
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def grade(kit: Path, folder: Path, results: Path, config: Path) -> Grading:
    """Grade ``folder`` (victim + neighbour, hidden checks) with the real CLI; the grader process's own peak RSS is
    polled from /proc every 20 ms. A grading that overruns GRADE_TIMEOUT is killed with its whole tree."""
    cmd = [sys.executable, "-m", "autograder", "grade", "--submission", str(folder), "--assignment", VICTIM,
           "--assignment", NEIGHBOUR, "--with-hidden", "--no-report", "--results", str(results),
           "--config", str(config)]
    out_path, err_path = results.with_suffix(".stdout"), results.with_suffix(".stderr")
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=kit, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=ATTACK_ENV,
                                start_new_session=True)
    peak = [0]
    emergency = [False]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            hwm = _status_kb(proc.pid, "VmHWM")
            if hwm is not None:
                peak[0] = max(peak[0], hwm)
                if hwm > RSS_EMERGENCY_KB and not emergency[0]:
                    emergency[0] = True
                    _kill([*_descendants(proc.pid), proc.pid])
            done.wait(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    timed_out = False
    try:
        proc.wait(timeout=GRADE_TIMEOUT)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill([*_descendants(proc.pid), proc.pid])
        proc.wait()
    seconds = time.monotonic() - start
    done.set()
    poller.join()
    doc = None
    if results.exists():
        try:
            doc = json.loads(results.read_text())
        except ValueError:
            doc = None
    return Grading(proc.returncode, seconds, timed_out, peak[0], doc,
                   out_path.read_text(errors="replace"), err_path.read_text(errors="replace"), emergency[0])


def check_scores(doc: dict) -> dict[tuple[str, str], float]:
    return {(t["tags"][0], t["name"]): t["score"] for t in doc["tests"]}


def assignment_total(doc: dict, assignment: str) -> tuple[float, float]:
    tests = [t for t in doc["tests"] if t["tags"][0] == assignment]
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)


# -- what must not change ------------------------------------------------------------------------------------------

def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def digests(kit: Path) -> dict[str, str]:
    return {str(p.relative_to(kit)): hashlib.sha256(p.read_bytes()).hexdigest()
            for name in GUARDED for p in _files(kit / name)}


def marked_changes(marker: str) -> list[Path]:
    """Files of the real working tree's guarded folders that carry ``marker`` in their name or text: what an
    attack that reached /work/main wrote (other changes there are colleagues' edits, never touched here)."""
    out = []
    for name in GUARDED:
        for p in _files(KIT_ROOT / name):
            try:
                if marker in p.name or marker.encode() in p.read_bytes():
                    out.append(p)
            except OSError:
                pass
    return out


def _is_marked(pid: int, needle: bytes) -> bool:
    fields = _proc_stat_fields(pid)
    if fields is None or fields[0] == b"Z":  # gone, or a zombie (it has ended: it only waits to be reaped)
        return False
    for part in ("cmdline", "environ"):
        try:
            if needle in Path(f"/proc/{pid}/{part}").read_bytes():
                return True
        except OSError:
            pass
    return False


def marked_processes(marker: str, probe_seconds: float = 1.0, kill: bool = False) -> list[int]:
    """Live processes whose argv or environment holds ``marker``: one scan of /proc (newest pids first), then,
    for ``probe_seconds``, the few newest pids over and over. A chain that forks and exits every millisecond is
    never in one full scan (each pid is gone before the scan reads it) but it is always the newest process.
    ``kill``: SIGKILL each one the moment it is found."""
    needle = marker.encode()
    me = os.getpid()
    found: set[int] = set()

    def look(pids) -> None:
        for p in pids:
            if p != me and _is_marked(p, needle):
                found.add(p)
                if kill:
                    _kill([p])

    look(sorted((int(e) for e in os.listdir("/proc") if e.isdigit()), reverse=True))
    end = time.monotonic() + probe_seconds
    while time.monotonic() < end:
        try:
            last = int(Path("/proc/loadavg").read_text().split()[-1])
        except (OSError, ValueError):
            break
        look(range(last, max(last - 8, 1), -1))
        time.sleep(0.0005)
    return sorted(found)


def kill_marked(marker: str, seconds: float = 15.0) -> None:
    """Kill everything carrying ``marker`` until three probes in a row find nothing (a fork chain moves)."""
    clean, end = 0, time.monotonic() + seconds
    while clean < 3 and time.monotonic() < end:
        clean = 0 if marked_processes(marker, probe_seconds=0.1, kill=True) else clean + 1


def litter(marker: str) -> list[Path]:
    out = []
    for d in LITTER_DIRS:
        try:
            entries = list(d.iterdir())
        except OSError:
            continue
        for p in entries:
            if marker in p.name:
                out.append(p)
            elif p.is_dir() and not p.is_symlink():
                try:
                    out += [q for q in p.iterdir() if marker in q.name]
                except OSError:
                    pass
    return out


# -- fixtures --------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kit():
    """A snapshot of the working tree, as world-readable as the kit itself: the grader under attack runs from it,
    so that concurrent edits of /work/main neither change what is tested nor look like an attack's doing."""
    root = Path(tempfile.mkdtemp(prefix="neurograde-kit-"))
    root.chmod(0o755)
    snapshot = root / "kit"
    shutil.copytree(KIT_ROOT, snapshot, ignore=SNAPSHOT_IGNORE)
    pristine = {p: p.read_bytes() for name in GUARDED for p in _files(snapshot / name)}
    yield snapshot, pristine
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def attack_config(kit) -> Path:
    raw = yaml.safe_load((kit[0] / "grading.yml").read_text())
    raw["assignments"][VICTIM].update(FAST_LIMITS)
    path = kit[0] / "grading-attacks.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="module")
def classmate():
    """A classmate's submission, world-readable as in an unpacked class export (the file of another student that
    the sandbox must keep out of reach); its text is a working solution, tagged with a token."""
    folder = Path(tempfile.mkdtemp(prefix="neurograde-class-export-"))
    student = folder / "student-0042"
    student.mkdir()
    path = student / f"{VICTIM}.py"
    path.write_text(attacks.reference() + f"\n# {CANARY_TOKEN}\n")
    for p in (folder, student):
        p.chmod(0o755)
    path.chmod(0o644)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


class Honest:
    """The honest equivalents, graded the same way in this module: the reference with ``gradient_1d`` returning
    ``(0.0, 0.0)`` (what every attack's own ``gradient_1d`` returns), the stubs, and (graded when first needed) the
    reference with a Python-loop forward. Best score per check over the runs (a second run is made before blaming
    an attack for a point: timing checks can flake on a busy machine). The first run of each kind is graded once
    per test session and shared by the pytest-xdist workers; a second run is the worker's own."""

    def __init__(self, kit: Path, root: Path, config: Path, session: pytest.TempPathFactory) -> None:
        self.kit, self.root, self.config, self.session = kit, root, config, session
        self.best: dict[str, dict[tuple[str, str], float]] = {}
        self.totals: dict[str, float] = {}
        self.runs: dict[str, int] = {}
        self.peaks_kb: list[int] = []

    @staticmethod
    def victim_source(kind: str) -> str:
        if kind == "gradient_stub":
            return attacks.reference() + "\n\ndef gradient_1d(x, y, a, b):\n    return 0.0, 0.0\n"
        if kind == "loop_forward":
            from tests.attacks.patch_probe_lazy_forward import honest_source
            return honest_source()
        assert kind == "stubs"
        return attacks.stub()

    def _grade(self, kind: str, n: int) -> dict:
        """One honest grading: {"scores": [[assignment, check, score], ...], "total": score, "peak_kb": grader's}."""
        folder = self.root / f"honest-{kind}-{n}"
        folder.mkdir()
        (folder / f"{VICTIM}.py").write_text(self.victim_source(kind))
        (folder / f"{NEIGHBOUR}.py").write_text(attacks.reference(NEIGHBOUR))
        g = grade(self.kit, folder, self.root / f"honest-{kind}-{n}.json", self.config)
        assert g.returncode == 0 and g.doc is not None, f"honest grading failed:\n{g.stdout[-2000:]}\n{g.stderr[-2000:]}"
        jsonschema.validate(g.doc, SCHEMA)
        return {"scores": [[a, name, score] for (a, name), score in check_scores(g.doc).items()],
                "total": g.doc["score"], "peak_kb": g.peak_kb}

    def _first(self, kind: str) -> dict:
        """The first honest grading of ``kind`` in this test session: graded by the first pytest-xdist worker that
        needs it, read by the others from the session's shared folder (the same kit, the same limits)."""
        def build(out: Path) -> None:
            out.mkdir()
            (out / "grading.json").write_text(json.dumps(self._grade(kind, 1)))

        return json.loads((shared_once(self.session, f"attack-honest-{kind}", build) / "grading.json").read_text())

    def run(self, kind: str) -> None:
        n = self.runs[kind] = self.runs.get(kind, 0) + 1
        outcome = self._first(kind) if n == 1 else self._grade(kind, n)
        best = self.best.setdefault(kind, {})
        for a, name, score in outcome["scores"]:
            best[(a, name)] = max(best.get((a, name), 0.0), score)
        self.totals[kind] = max(self.totals.get(kind, 0.0), outcome["total"])
        self.peaks_kb.append(outcome["peak_kb"])

    def gains(self, kind: str, doc: dict) -> list[str]:
        """Checks of ``doc`` that scored above the honest equivalent (after one more honest run if any did)."""
        if kind not in self.best:
            self.run(kind)
        def over() -> list[str]:
            best = self.best[kind]
            return [f"{a}/{name}: {score} > honest {best.get((a, name), 0.0)}"
                    for (a, name), score in check_scores(doc).items() if score > best.get((a, name), 0.0)]
        found = over()
        if found and self.runs[kind] < 2:
            self.run(kind)
            found = over()
        return found


@pytest.fixture(scope="module")
def honest(kit, tmp_path_factory, attack_config) -> Honest:
    h = Honest(kit[0], tmp_path_factory.mktemp("honest"), attack_config, tmp_path_factory)
    for kind in ("gradient_stub", "stubs"):
        h.run(kind)
    return h


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 counting the connections it accepts."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    accepted: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except (socket.timeout, OSError):
                continue
            accepted.append(f"{addr[0]}:{addr[1]}")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def kit_guard(kit):
    """Puts the snapshot back after each attack, so that one failure cannot spoil the rest of the suite. The real
    working tree is never written here (colleagues edit it concurrently); what an attack wrote there is reported."""
    snapshot, pristine = kit
    yield
    for p in {p for name in GUARDED for p in _files(snapshot / name)} - pristine.keys():
        p.unlink()
    for p, content in pristine.items():
        if not p.exists() or p.read_bytes() != content:
            p.write_bytes(content)


# -- the test ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ATTACKS), ids=sorted(ATTACKS))
def test_attack(name, kit, honest, attack_config, classmate, listener, kit_guard, tmp_path):
    module = ATTACKS[name]
    marker = f"ngattack-{name}-{uuid.uuid4().hex[:12]}"
    port, accepted = listener
    ctx = Context(marker=marker, host_pidns=os.readlink("/proc/self/ns/pid"), port=port)
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / f"{VICTIM}.py").write_text(module.source(ctx))
    (folder / f"{NEIGHBOUR}.py").write_text(attacks.reference(NEIGHBOUR))
    results = tmp_path / "results.json"
    before = digests(kit[0])
    classmate_before = classmate.read_bytes()
    try:
        g = grade(kit[0], folder, results, attack_config)
        alive = marked_processes(marker, probe_seconds=0.6)  # a chain that forks and exits, a sleeper
        problems: list[str] = []
        if g.timed_out:
            problems.append(f"grader hung: killed after {GRADE_TIMEOUT} s")
        elif g.returncode != 0:
            problems.append(f"grader exited {g.returncode}: {g.stderr.strip()[-800:]}")
        elif g.seconds > GRADE_TIMEOUT:
            problems.append(f"grading took {g.seconds:.0f} s")
        if g.killed_for_memory:
            problems.append(f"grader killed at {g.peak_kb // 1024} MB peak RSS (emergency cap)")
        doc = g.doc
        if doc is None:
            problems.append("no results.json")
        else:
            try:
                jsonschema.validate(doc, SCHEMA)
            except jsonschema.ValidationError as exc:
                problems.append(f"results.json does not match the schema: {exc.message[:300]}")
                doc = None
        if doc is not None:
            gained = honest.gains(module.HONEST, doc)
            if gained:
                got, top = assignment_total(doc, VICTIM)
                problems.append(f"the attack gained points ({VICTIM} {got}/{top}, honest {module.HONEST} "
                                f"{honest.totals[module.HONEST]} in all): " + "; ".join(gained[:6]))
            got, top = assignment_total(doc, NEIGHBOUR)
            if top == 0 or got < top:
                lost = [t["name"] for t in doc["tests"] if t["tags"][0] == NEIGHBOUR and t["score"] < t["max_score"]]
                problems.append(f"{NEIGHBOUR} lost points: {got}/{top} ({', '.join(lost[:5])})")
        if alive:
            problems.append(f"processes started by the submission alive after grading: {alive[:10]}")
        after = digests(kit[0])
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        if changed:
            problems.append(f"kit files changed: {changed[:8]}")
        if tampered := marked_changes(marker):
            problems.append(f"files of {KIT_ROOT} written by the submission: {[str(p) for p in tampered[:5]]}")
        if classmate.read_bytes() != classmate_before:
            problems.append("the classmate's file changed")
        left = litter(marker)
        if left:
            problems.append(f"files written by the submission left behind: {[str(p) for p in left[:5]]}")
        if accepted:
            problems.append(f"the submission connected to 127.0.0.1:{port} ({len(accepted)} connection(s))")
        if doc is not None and results.exists() and json.loads(results.read_text()) != g.doc:
            problems.append("results.json changed after the grader exited")
        limit = max(honest.peaks_kb) + RSS_MARGIN_KB
        if g.peak_kb > limit:
            problems.append(f"grader peak RSS {g.peak_kb // 1024} MB > honest {max(honest.peaks_kb) // 1024} MB "
                            f"+ {RSS_MARGIN_KB // 1024} MB")
        assert not problems, f"{name} ({module.DESCRIPTION}):\n- " + "\n- ".join(problems)
    finally:
        kill_marked(marker)
        for p in litter(marker):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
