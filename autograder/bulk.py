"""Grade a whole class: ``python -m autograder grade-all DIR [--jobs N] [--out gradebook.csv] [--force]``.

What DIR may be (see :func:`find_submissions`):
- a folder with one subfolder per student (the subfolder's name is the student id; the contract files may sit
  anywhere inside it, e.g. Moodle's ``Jane Doe_123_assignsubmission_file_/``);
- a Gradescope export zip (``submission_<id>/`` folders, named after the students listed in its
  ``submission_metadata.yml`` when present) or any zip holding one of the layouts here;
- an LMS download folder of flat files whose names carry the student id before the first underscore and end with
  a contract file name, e.g. Canvas's ``doejane_1234_5678_linear_neuron.py`` (``-1`` re-upload suffixes allowed).

Submissions are graded with the hidden checks by ``jobs`` long-lived grader processes (``grade-server``), each under a
wall-clock limit per submission and with its own sandbox uid; a crash, a hang or an attack ends that student's row
with a status (a hung grader is killed and replaced), never the batch. Each student's
results.json is kept beside the gradebook; a re-run skips students whose files and grading setup did not change.

Isolation between students (issue 11):
- grading other people's code needs namespace isolation (:func:`autograder.isolation.detect`); without it
  grade-all refuses unless the instructor passes ``--unsafe-no-sandbox`` (``grade`` on one's own code never refuses);
- every submission is staged in a folder only the grader can read (0700, files 0600), so is the unzipped class, and
  ``students/`` with the kept results, the key and the manifest are private to the grader too;
- as root, each job slot leases a uid of its own (a lock file, so two concurrent batches never share one) and that
  uid is swept (every process of it SIGKILLed until none is left) before and after every submission, so nothing a
  submission leaves running meets the next one; grade-all is also a child subreaper and kills any orphan a dead
  grader left behind;
- a re-run trusts kept results only through an HMAC-signed manifest (``.manifest.json``, key ``.neurograde-key``,
  both 0600): a student is skipped only if the manifest verifies, its fingerprint matches the one computed now and
  the ``.fingerprint`` file, and its results.json hashes to the recorded sha256; anything else is regraded.
"""
from __future__ import annotations

import csv
import errno
import hashlib
import hmac
import json
import os
import re
import select
import shutil
import signal
import stat as _stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from autograder import config as cfg
from autograder import isolation
from autograder import limits as _limits
from autograder.config import ASSIGNMENTS, KIT_ROOT

CONTRACT_FILES = tuple(f"{a}.py" for a in ASSIGNMENTS)
#: Each grader process gets its own sandbox uid, so concurrent students cannot signal each other's processes: the
#: first free one from here (held by a lock file for the batch's life).
SANDBOX_UID_BASE = 64000
SANDBOX_UID_COUNT = 1000
KEY_NAME = ".neurograde-key"
MANIFEST_NAME = ".manifest.json"
MANIFEST_VERSION = 1
#: Refuse zips that would unpack to more than this (a zip bomb must not fill the disk).
MAX_UNZIPPED_BYTES = 512 * 2**20
_FLAT = re.compile(r"^(?P<student>[^_]+)_.*?(?P<name>" + "|".join(a for a in ASSIGNMENTS) + r")(?:-\d+)?\.py$")


@dataclass(frozen=True)
class Submission:
    student: str
    files: dict[str, Path]  # contract file name -> where it is


@dataclass
class Row:
    student: str
    status: str
    seconds: float
    results: dict | None
    isolation: str = ""       # how the student's code was isolated when these results were made
    note: str = ""            # why a kept result was not trusted (shown in the progress line)
    results_sha256: str = ""  # of the results.json bytes this row was read from


class IsolationRefused(ValueError):
    """grade-all will not run other people's code without namespace isolation (unless told it is unsafe)."""


# -- finding submissions ---------------------------------------------------------------------------------------

def find_submissions(source: Path, workdir: Path) -> list[Submission]:
    """The students' submissions in ``source`` (a folder or a zip), sorted by student id."""
    source = Path(source)
    if source.is_file() and zipfile.is_zipfile(source):
        target = workdir / "unzipped"
        _safe_unzip(source, target)
        roots = [p for p in target.iterdir() if not p.name.startswith((".", "__MACOSX"))]
        # A zip usually wraps everything in one top folder (Gradescope: assignment_<id>_export/).
        source = roots[0] if len(roots) == 1 and roots[0].is_dir() else target
    if not source.is_dir():
        raise ValueError(f"{source} is neither a folder nor a zip file")
    names = _gradescope_names(source)
    found: dict[str, dict[str, Path]] = {}
    for entry in sorted(source.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            files = _contract_files_under(entry)
            if files:
                found.setdefault(names.get(entry.name, entry.name), {}).update(files)
        elif (m := _FLAT.match(entry.name)):
            found.setdefault(m["student"], {})[f"{m['name']}.py"] = entry
    return [Submission(_safe_id(s), files) for s, files in sorted(found.items())]


def _contract_files_under(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.py"), key=lambda p: (len(p.parts), str(p))):
        if path.name in CONTRACT_FILES and path.name not in files and not path.is_symlink():
            files[path.name] = path
    return files


def _gradescope_names(folder: Path) -> dict[str, str]:
    """submission_<id> -> student name, from Gradescope's submission_metadata.yml (when the export has one)."""
    meta = folder / "submission_metadata.yml"
    if not meta.is_file():
        return {}
    import yaml
    try:
        data = yaml.safe_load(meta.read_text()) or {}
    except yaml.YAMLError:
        return {}
    out = {}
    for key, info in data.items():
        try:
            submitters = info[":submitters"] if ":submitters" in info else info["submitters"]
            out[str(key)] = str(submitters[0].get(":name") or submitters[0].get("name"))
        except (KeyError, IndexError, TypeError, AttributeError):
            continue
    return out


def _safe_id(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]+", "_", student).strip("._") or "unnamed"


def _safe_unzip(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        total = sum(i.file_size for i in z.infolist())
        if total > MAX_UNZIPPED_BYTES:
            raise ValueError(f"{archive} would unpack to {total / 2**20:.0f} MB: refusing")
        root = target.resolve()
        for info in z.infolist():
            dest = (target / info.filename).resolve()
            if not dest.is_relative_to(root):
                raise ValueError(f"{archive}: entry {info.filename!r} points outside the archive")
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        z.extractall(target)
    _make_private(target)


def _make_private(root: Path) -> None:
    """Folders 0700 and files 0600 under ``root`` (and root): readable by the grader's user only."""
    root.chmod(0o700)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o700, follow_symlinks=False)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o600)


# -- grading ---------------------------------------------------------------------------------------------------

def fingerprint(sub: Submission, config_path: Path, isolation_kind: str = "") -> str:
    """Changes when the student's files, grading.yml, the checks or the kind of isolation change."""
    h = hashlib.sha256()
    for name in sorted(sub.files):
        h.update(name.encode() + b"\0" + sub.files[name].read_bytes() + b"\0")
    h.update(Path(config_path).read_bytes())
    for check in sorted((KIT_ROOT / "autograder").rglob("*.py")):
        h.update(check.read_bytes())
    h.update(b"\0isolation=" + isolation_kind.encode())
    return h.hexdigest()


def refusal(iso: isolation.Isolation) -> str | None:
    """Why grade-all will not run other people's code here (one line), or None when it has namespaces."""
    if iso.namespaces:
        return None
    return (f"refusing to grade a class without namespace isolation ({iso.why_not or 'bubblewrap unavailable'}): "
            "a submission could read or change other students' files and results. Install bubblewrap "
            "(apt-get install bubblewrap; unprivileged user namespaces must be allowed), or pass "
            "--unsafe-no-sandbox to grade with rlimits" + (" and a uid per job" if iso.uid_drop else "")
            + " only")


# -- processes of a slot -------------------------------------------------------------------------------------

#: Held while grade-all starts or kills processes, so the orphan sweep never mistakes a grader being started (or
#: a sweep helper) for an orphan.
_PROCS = threading.RLock()
_KNOWN: set[int] = set()  # pids of our live grade-servers


class SlotUid:
    """A uid for one job slot, held by a lock file for the batch's life so that two batches on this machine never
    share one (their sweeps would kill each other's workers)."""

    def __init__(self, uid: int, fd: int) -> None:
        self.uid, self._fd = uid, fd

    @classmethod
    def claim(cls, taken: set[int]) -> "SlotUid":
        import fcntl
        folder = _slot_lock_dir()
        for uid in range(SANDBOX_UID_BASE, SANDBOX_UID_BASE + SANDBOX_UID_COUNT):
            if uid in taken:
                continue
            fd = os.open(folder / f"slot-{uid}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            return cls(uid, fd)
        raise OSError(f"all {SANDBOX_UID_COUNT} bulk-grading uids are in use")

    def release(self) -> None:
        if self._fd >= 0:
            sweep_uid(self.uid)
            os.close(self._fd)
            self._fd = -1


def _slot_lock_dir() -> Path:
    for base in ("/run", tempfile.gettempdir()):
        folder = Path(base) / "neurograde-bulk-uids"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        st = os.lstat(folder)
        if not _is_private_dir(st):
            continue  # somebody else's folder (or a symlink): never trust its locks
        return folder
    raise OSError("no private folder for the bulk-grading uid locks")


def _is_private_dir(st: os.stat_result) -> bool:
    return _stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022


def sweep_uid(uid: int) -> None:
    """Kill every process of ``uid`` (root only), with :func:`autograder.limits.sweep_uid` when the sandbox offers
    it, else :func:`_sweep_uid`."""
    if os.geteuid() != 0:
        return
    with _PROCS:
        sweeper = getattr(_limits, "sweep_uid", None)
        if sweeper is not None:
            sweeper(uid)
        else:
            _sweep_uid(uid)


_SWEEP_CODE = r"""
import os, signal, sys, time
me = os.getpid()
def alive():
    n = 0
    for e in os.listdir("/proc"):
        if not e.isdigit() or int(e) == me:
            continue
        try:
            with open("/proc/%s/status" % e, "rb") as f:
                st = f.read()
        except OSError:
            continue
        uid = gone = None
        for line in st.splitlines():
            if line.startswith(b"Uid:"):
                uid = line.split()[1:]
            elif line.startswith(b"State:"):
                gone = line.split()[1] in (b"Z", b"X")
        if uid and str(os.getuid()).encode() in uid and not gone:
            n += 1
    return n
end = time.monotonic() + 10
while True:
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if not alive():
        sys.exit(0)
    if time.monotonic() > end:
        sys.exit(1)
    time.sleep(0.01)
"""


def _sweep_uid(uid: int) -> bool:
    """A helper that runs as ``uid`` calls kill(-1, SIGKILL) until no process of ``uid`` is left: from a process of
    that uid, kill(-1) signals every process of the uid but itself at once (a process forking in a loop cannot slip
    through). Root only; returns whether the uid ended up empty. Falls back to killing from a listing as root when
    the helper cannot start (for instance when the uid is at its process limit)."""
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _SWEEP_CODE], user=uid, group=uid,
                              extra_groups=[], cwd="/", env={}, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        done = False
    if not done:
        for _ in range(200):
            pids = _pids_of_uid(uid)
            if not pids:
                return True
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)
        return not _pids_of_uid(uid)
    return True


def _pids_of_uid(uid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                status = f.read()
        except OSError:
            continue
        uids = state = None
        for line in status.splitlines():
            if line.startswith(b"Uid:"):
                uids = [int(v) for v in line.split()[1:]]
            elif line.startswith(b"State:"):
                state = line.split()[1]
        if uids and uid in uids and state not in (b"Z", b"X"):
            out.append(int(entry))
    return out


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2:].split()  # the command name may hold spaces and parentheses
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def kill_orphans() -> int:
    """Kill what a dead grader left behind: grade-all is a child subreaper, so the orphans of a grader that died
    (or was killed by the code it was grading) become our children; anything among them that is not one of our
    live graders dies with its descendants. Returns how many were killed."""
    with _PROCS:
        killed = 0
        for _ in range(50):
            tree = _children_map()
            strays = [p for p in tree.get(os.getpid(), []) if p not in _KNOWN]
            if not strays:
                break
            victims, todo = [], list(strays)
            while todo:
                p = todo.pop()
                victims.append(p)
                todo.extend(tree.get(p, []))
            for p in victims:
                try:
                    os.kill(p, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            for p in strays:
                try:
                    os.waitpid(p, 0)
                except ChildProcessError:
                    pass
            killed += len(victims)
        return killed


class GradingServer:
    """A long-lived grader process that grades one submission at a time (``grade-server``), so a class pays the
    grader's start-up and imports once per job slot, not once per student. Each submission still gets fresh
    workers for its code, and the server kills whatever that code left behind before it answers; as root, the
    slot's uid is swept before and after each submission too (:func:`sweep_uid`)."""

    def __init__(self, slot: int, config_path: Path, log: Path, uid: int | None = None) -> None:
        self.slot, self.config_path, self.log, self.uid = slot, config_path, log, uid
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        env = dict(os.environ)
        env.pop("NEUROGRADE_SANDBOX_UID", None)
        if self.uid is not None:
            env["NEUROGRADE_SANDBOX_UID"] = str(self.uid)
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            with _PROCS:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "autograder", "grade-server", "--config", str(self.config_path)],
                    cwd=KIT_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=fd, start_new_session=True)
                _KNOWN.add(self._proc.pid)
        finally:
            os.close(fd)

    def sweep(self) -> None:
        if self.uid is not None:
            sweep_uid(self.uid)

    def grade(self, submission: Path, results: Path, timeout: float) -> str:
        """Grade ``submission`` into ``results``; returns the status ("ok", "timeout", "grader died")."""
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            self._start()
        proc = self._proc
        try:
            proc.stdin.write(json.dumps({"submission": str(submission), "results": str(results)}).encode() + b"\n")
            proc.stdin.flush()
        except OSError:
            self.close()
            return "grader died"
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else b""
        if not line:
            self.close()
            return "timeout" if not ready else "grader died"
        try:
            return str(json.loads(line).get("status", "grader died"))
        except ValueError:
            self.close()
            return "grader died"

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait()
            except ChildProcessError:
                pass
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            with _PROCS:
                _KNOWN.discard(proc.pid)
        self.sweep()


def serve(config_path: Path) -> int:
    """The ``grade-server`` loop: one JSON request per line on stdin, one JSON reply per line on stdout."""
    from autograder.grader import grade
    from autograder.results import to_gradescope, write_json

    config = cfg.load(config_path)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            run = grade(Path(request["submission"]), list(config.assignments), with_hidden=True, config=config)
            write_json(to_gradescope(run), Path(request["results"]))
            status = "ok"
        except Exception as exc:  # a grader bug: report it for this student and keep serving the others
            print(f"grading {request['submission']} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            status = "grader error"
        sys.stdout.write(json.dumps({"status": status}) + "\n")
        sys.stdout.flush()
    return 0


def stage(sub: Submission, staging: Path) -> Submission:
    """Copy a submission's contract files into ``staging/<student>`` (0700, files 0600): the grader's user reads
    them, no sandbox uid can, and what is graded is exactly what was fingerprinted."""
    folder = staging / sub.student
    folder.mkdir(mode=0o700)
    files = {}
    for name, path in sub.files.items():
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(fd, "wb") as f:
            f.write(Path(path).read_bytes())
        files[name] = folder / name
    return Submission(sub.student, files)


def grade_one(sub: Submission, out_dir: Path, server: GradingServer, timeout: float) -> Row:
    """Grade one (staged) submission on a warm server; the row's status says how it ended."""
    folder = out_dir / sub.student
    _private_dir(folder)
    results = folder / "results.json"
    for old in (results, folder / ".fingerprint"):
        if old.exists() or old.is_symlink():
            old.unlink()
    start = time.monotonic()
    staged = next(iter(sub.files.values())).parent
    server.sweep()  # nothing of an earlier submission (or an earlier batch) may meet this one
    try:
        status = server.grade(staged, results, timeout)
    finally:
        server.sweep()  # nor outlive it
    doc, digest = None, ""
    if results.is_file() and not results.is_symlink():
        raw = results.read_bytes()
        try:
            doc = json.loads(raw)
            digest = hashlib.sha256(raw).hexdigest()
        except ValueError:
            status, doc = "invalid results", None
    elif status == "ok":
        status = "no results"
    return Row(sub.student, status, time.monotonic() - start, doc, results_sha256=digest)


def _private_dir(folder: Path) -> None:
    """Create ``folder`` (and missing parents) 0700; an existing one must be ours and not a symlink."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.lstat(folder)
    if not _stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise ValueError(f"{folder} is not a folder of yours: refusing to keep results there")
    if st.st_mode & 0o077:
        os.chmod(folder, 0o700)


# -- kept results: key, manifest ---------------------------------------------------------------------------------

def _load_key(path: Path) -> tuple[bytes, str]:
    """The batch key (created 0600 on first use); a key another user could read or replace is thrown away (every
    kept result is then regraded). Returns (key, note)."""
    note = ""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        fd = -1
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        path.unlink()
        fd, note = -1, f"{path.name} was a symlink: replaced, every kept result is regraded"
    if fd >= 0:
        with open(fd, "rb") as f:
            st = os.fstat(f.fileno())
            key = f.read()
        if st.st_uid == os.geteuid() and not st.st_mode & 0o077 and len(key) >= 32:
            return key, ""
        path.unlink()
        note = f"{path.name} was readable or writable by others: replaced, every kept result is regraded"
    key = os.urandom(32).hex().encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with open(fd, "wb") as f:
        f.write(key)
    return key, note


def _manifest_mac(key: bytes, students: dict) -> str:
    body = json.dumps({"version": MANIFEST_VERSION, "students": students}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def load_manifest(path: Path, key: bytes) -> tuple[dict, str]:
    """The verified per-student entries of the manifest, and a note when it exists but does not verify."""
    try:
        if path.is_symlink():
            return {}, f"{path.name} is a symlink: not trusted, every kept result is regraded"
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}, ""
    except (OSError, ValueError):
        return {}, f"{path.name} is unreadable: not trusted, every kept result is regraded"
    try:
        students, mac = doc["students"], str(doc["hmac"])
        ok = (doc.get("version") == MANIFEST_VERSION and isinstance(students, dict)
              and hmac.compare_digest(mac, _manifest_mac(key, students)))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        return {}, f"{path.name} does not verify with the batch key: not trusted, every kept result is regraded"
    return students, ""


def save_manifest(path: Path, key: bytes, students: dict) -> None:
    doc = {"version": MANIFEST_VERSION, "students": students, "hmac": _manifest_mac(key, students)}
    _write_private(path, json.dumps(doc, indent=1, sort_keys=True).encode())


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically, 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with open(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def kept_row(sub: Submission, out_dir: Path, entry: dict | None, key_now: str) -> tuple[Row | None, str]:
    """The kept results of ``sub`` when they can be trusted (row, ""), else (None, why it is regraded)."""
    folder = out_dir / sub.student
    if entry is None:  # never graded by this grader, or its record was dropped
        kept = any(os.path.lexists(folder / name) for name in (".fingerprint", "results.json"))
        return None, "kept results are not in the signed manifest" if kept else ""
    if entry.get("fingerprint") != key_now:
        return None, "files or grading setup changed"
    stamp, results = folder / ".fingerprint", folder / "results.json"
    try:
        if stamp.is_symlink() or results.is_symlink():
            return None, "kept files were replaced by links"
        if stamp.read_text() != key_now:
            return None, ".fingerprint does not match the signed manifest"
        raw = results.read_bytes()
    except (OSError, UnicodeDecodeError):
        return None, "kept results are missing"
    if not hmac.compare_digest(hashlib.sha256(raw).hexdigest(), str(entry.get("results_sha256"))):
        return None, "results.json does not match the signed manifest"
    try:
        doc = json.loads(raw)
    except ValueError:
        return None, "results.json is not JSON"
    return Row(sub.student, "ok (unchanged)", 0.0, doc, isolation=str(entry.get("isolation", "")),
               results_sha256=entry["results_sha256"]), ""


class Progress:
    """A progress bar with an ETA on a terminal; one plain line per submission otherwise (CI logs)."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.start = time.monotonic()
        self.live = stream.isatty()
        self._lock = threading.Lock()

    def step(self, row: Row, skipped: bool = False) -> None:
        with self._lock:
            self.done += 1
            elapsed = time.monotonic() - self.start
            eta = elapsed / self.done * (self.total - self.done)
            what = "unchanged, skipped" if skipped else f"{row.status}, {row.seconds:.1f} s"
            if row.note:
                what += f", regraded: {row.note}"
            if self.live:
                filled = int(30 * self.done / max(1, self.total))
                self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                                  f"ETA {int(eta) // 60}:{int(eta) % 60:02d}  {row.student[:24]:<24}")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"[{self.done}/{self.total}] {row.student}: {what} (ETA {eta:.0f} s)\n")
            self.stream.flush()


def grade_all(source: Path, out_csv: Path, *, jobs: int = 2, force: bool = False, timeout: float | None = None,
              config_path: Path = cfg.DEFAULT_PATH, unsafe_no_sandbox: bool = False) -> list[Row]:
    """Grade every submission found in ``source``; write each results.json and the CSV gradebook.

    Raises :class:`IsolationRefused` when this machine has no namespace isolation and ``unsafe_no_sandbox`` is
    not set."""
    iso = isolation.detect()
    if (why := refusal(iso)) is not None:
        if not unsafe_no_sandbox:
            raise IsolationRefused(why)
        print(f"neurograde: warning: grading without namespace isolation ({iso.describe()}): students' code may "
              "read or change each other's files" + ("" if iso.uid_drop else ", the grader's and the results"),
              file=sys.stderr)
    config = cfg.load(config_path)
    timeout = timeout or sum(a.time_limit + a.import_timeout for a in config.assignments.values()) + 30
    out_csv = Path(out_csv)
    out_root = out_csv.parent
    out_root.mkdir(parents=True, exist_ok=True)
    out_dir = out_root / "students"
    _private_dir(out_dir)
    key, key_note = _load_key(out_root / KEY_NAME)
    manifest_path = out_root / MANIFEST_NAME
    manifest, manifest_note = load_manifest(manifest_path, key)
    for note in (key_note, manifest_note):
        if note:
            print(f"neurograde: {note}", file=sys.stderr)
    trusted = dict(manifest)
    _limits.become_subreaper()  # orphans of a grader killed by student code come to us (kill_orphans)
    # Student code that runs as the grader's own user (no namespaces, no uid drop) could reach a warm grader:
    # then each submission gets a fresh one.
    recycle = not iso.namespaces and not iso.uid_drop
    leases: list[SlotUid] = []
    with tempfile.TemporaryDirectory(prefix="neurograde-batch-") as work:
        os.chmod(work, 0o700)
        staging = Path(work) / "staged"
        staging.mkdir(mode=0o700)
        subs = [stage(s, staging) for s in find_submissions(source, Path(work))]
        progress = Progress(len(subs))
        rows: dict[str, Row] = {}
        notes: dict[str, str] = {}
        todo = []
        for sub in subs:
            key_now = fingerprint(sub, config_path, iso.kind)
            row, why = (None, "") if force else kept_row(sub, out_dir, manifest.get(sub.student), key_now)
            if row is not None:
                rows[sub.student] = row
                progress.step(row, skipped=True)
            else:
                trusted.pop(sub.student, None)
                notes[sub.student] = why
                todo.append((sub, key_now))
        if todo:
            save_manifest(manifest_path, key, trusted)  # what is being regraded is no longer vouched for
        lock = threading.Lock()
        try:
            if os.geteuid() == 0 and _limits.why_no_drop() is None:
                taken: set[int] = set()
                for _ in range(min(jobs, len(todo))):
                    leases.append(SlotUid.claim(taken))
                    taken.add(leases[-1].uid)
            servers = [GradingServer(slot, config_path, out_dir / f".grader-{slot}.log",
                                     leases[slot].uid if leases else None)
                       for slot in range(min(jobs, len(todo)))]
            idle = list(servers)

            def run(sub: Submission, key_now: str) -> Row:
                with lock:
                    server = idle.pop()
                try:
                    row = grade_one(sub, out_dir, server, timeout)
                    if recycle:
                        server.close()
                    kill_orphans()
                finally:
                    with lock:
                        idle.append(server)
                row.isolation, row.note = iso.kind, notes.get(sub.student, "")
                if row.status == "ok":
                    _write_private(out_dir / sub.student / ".fingerprint", key_now.encode())
                    with lock:
                        trusted[sub.student] = {"fingerprint": key_now, "results_sha256": row.results_sha256,
                                                "isolation": iso.kind}
                        save_manifest(manifest_path, key, trusted)
                return row

            try:
                with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
                    futures = [pool.submit(run, sub, key_now) for sub, key_now in todo]
                    for future in as_completed(futures):
                        row = future.result()
                        rows[row.student] = row
                        progress.step(row)
            finally:
                for server in servers:
                    server.close()
                kill_orphans()
        finally:
            for lease in leases:
                lease.release()
    ordered = [rows[s.student] for s in subs]
    save_manifest(manifest_path, key, trusted)
    write_gradebook(ordered, out_csv, config)
    return ordered


def write_gradebook(rows: list[Row], path: Path, config: cfg.Config) -> None:
    """One line per student: per-exercise points, total, status, isolation, wall seconds (written 0600)."""
    import io
    exercises = [(a.name, ex) for a in config.assignments.values() for ex in a.exercises]
    header = ["student"] + [f"{a}/{ex}" for a, ex in exercises] + ["total", "max", "status", "isolation", "seconds"]
    path.parent.mkdir(parents=True, exist_ok=True)
    f = io.StringIO(newline="")
    writer = csv.writer(f)
    writer.writerow(header)
    for row in rows:
        points = {key: 0.0 for key in exercises}
        top = 0.0
        for test in (row.results or {}).get("tests", []):
            key = tuple(test["tags"][:2])
            points[key] = points.get(key, 0.0) + float(test["score"])
            top += float(test["max_score"])
        total = float((row.results or {}).get("score", 0.0))
        writer.writerow([row.student] + [f"{points[k]:g}" for k in exercises]
                        + [f"{total:g}", f"{top:g}", row.status, row.isolation, f"{row.seconds:.1f}"])
    _write_private(path, f.getvalue().encode())
