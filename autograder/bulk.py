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
- every assignment of every submission runs in a fresh box with its own namespaces, and as root its own uid, swept
  when the box closes (:mod:`autograder.sandbox`), so nothing a submission leaves running meets the next one;
  grade-all is also a child subreaper and kills any orphan a dead grader left behind;
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
from autograder.assignment import kit_hash
from autograder.config import KIT_ROOT

KEY_NAME = ".neurograde-key"
MANIFEST_NAME = ".manifest.json"
MANIFEST_VERSION = 1
#: Refuse zips that would unpack to more than this (a zip bomb must not fill the disk).
MAX_UNZIPPED_BYTES = 512 * 2**20


def contract_files() -> tuple[str, ...]:
    """The file names a submission may hold: one per assignment of grading.yml."""
    return tuple(f"{a}.py" for a in cfg.assignment_names())


def _flat_name() -> re.Pattern:
    """A Canvas-style flat download: ``<student>_<anything><assignment>[-N].py``."""
    names = "|".join(re.escape(a) for a in cfg.assignment_names())
    return re.compile(r"^(?P<student>[^_]+)_.*?(?P<name>" + names + r")(?:-\d+)?\.py$")


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
    worker: str = ""          # the cluster worker that graded it (grade-all --scheduler)


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
    flat = _flat_name()
    for entry in sorted(source.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            files = _contract_files_under(entry)
            if files:
                found.setdefault(names.get(entry.name, entry.name), {}).update(files)
        elif (m := flat.match(entry.name)):
            found.setdefault(m["student"], {})[f"{m['name']}.py"] = entry
    return [Submission(_safe_id(s), files) for s, files in sorted(found.items())]


def _contract_files_under(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    wanted = contract_files()
    for path in sorted(folder.rglob("*.py"), key=lambda p: (len(p.parts), str(p))):
        if path.name in wanted and path.name not in files and not path.is_symlink():
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
    h.update(kit_hash().encode())
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

#: Held while grade-all starts or kills processes, so the orphan sweep never mistakes a grader being started for
#: an orphan.
_PROCS = threading.RLock()
_KNOWN: set[int] = set()  # pids of our live grade-servers


def kill_orphans() -> int:
    """Kill what a dead grader left behind: grade-all is a child subreaper, so the orphans of a grader that died
    (or was killed by the code it was grading) become our children; anything that is not one of our live graders
    dies with its descendants, pass after pass until one finds nothing. Returns how many were killed."""
    with _PROCS:
        killed = 0
        for _ in range(50):
            found = _limits.kill_strays(keep=set(_KNOWN))
            killed += found
            if not found:
                break
        return killed


class GradingServer:
    """A long-lived grader process that grades one submission at a time (``grade-server``), so a class pays the
    grader's start-up and imports once per job slot, not once per student. Each submission still gets fresh
    workers for its code, and the server kills whatever that code left behind before it answers."""

    def __init__(self, slot: int, config_path: Path, log: Path) -> None:
        self.slot, self.config_path, self.log = slot, config_path, log
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        env = dict(os.environ)
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
            stop_session(proc)
            with _PROCS:
                _KNOWN.discard(proc.pid)


def stop_session(proc: subprocess.Popen) -> None:
    """Kill ``proc``'s process group (a grader started with ``start_new_session``), reap it, close its pipes."""
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
            if stream is not None:
                stream.close()
        except OSError:
            pass


def serve(config_path: Path) -> int:
    """The ``grade-server`` loop: one JSON request per line on stdin, one JSON reply per line on stdout."""
    from autograder import zygote
    from autograder.grader import grade
    from autograder.results import to_gradescope, write_json

    zygote.ForkServer.for_bulk()  # one warm server for the whole class: each box is a fork
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
    results = _fresh_results(out_dir, sub)
    start = time.monotonic()
    staged = next(iter(sub.files.values())).parent
    status = server.grade(staged, results, timeout)
    return _row(sub, results, status, time.monotonic() - start)


def grade_one_on_cluster(sub: Submission, out_dir: Path, runner, timeout: float) -> Row:
    """Grade one (staged) submission on a Dask cluster (:mod:`autograder.cluster`); the results.json bytes it
    sends back are written here, privately, and read exactly as a local grading's."""
    results = _fresh_results(out_dir, sub)
    start = time.monotonic()
    answer = runner.grade(sub.files, timeout)
    if answer.get("results") is not None:
        _write_private(results, answer["results"])
    row = _row(sub, results, answer["status"], time.monotonic() - start)
    row.isolation, row.worker = answer.get("isolation", ""), answer.get("worker", "")
    return row


def _fresh_results(out_dir: Path, sub: Submission) -> Path:
    """The path of ``sub``'s results.json in its private folder of ``out_dir``, with the results and fingerprint of
    an earlier grading removed (a grading that writes nothing must not leave the old verdict in place)."""
    folder = out_dir / sub.student
    _private_dir(folder)
    results = folder / "results.json"
    for old in (results, folder / ".fingerprint"):
        if old.exists() or old.is_symlink():
            old.unlink()
    return results


def _row(sub: Submission, results: Path, status: str, seconds: float) -> Row:
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
    return Row(sub.student, status, seconds, doc, results_sha256=digest)


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


class ClassProgress:
    """grade-all's progress over the whole class (one step per submission; one grading's own progress is
    :class:`autograder.progress.Progress`): a bar with an ETA on a terminal, one plain line per submission
    otherwise (CI logs)."""

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
              config_path: Path = cfg.DEFAULT_PATH, unsafe_no_sandbox: bool = False,
              scheduler: str | None = None) -> list[Row]:
    """Grade every submission found in ``source``; write each results.json and the CSV gradebook.

    With ``scheduler`` (a dask.distributed scheduler's address) the gradings run on that cluster's workers
    (:mod:`autograder.cluster`), each of which refuses to grade without its own sandbox; everything else is the
    same. Raises :class:`IsolationRefused` when this machine has no namespace isolation and ``unsafe_no_sandbox``
    is not set (for a local run)."""
    iso = isolation.detect()
    runner = None
    if scheduler is not None:
        from autograder.cluster import ClusterRunner
        runner = ClusterRunner(scheduler, config_path)
    elif (why := refusal(iso)) is not None:
        if not unsafe_no_sandbox:
            raise IsolationRefused(why)
        print(f"neurograde: warning: grading without namespace isolation ({iso.describe()}): students' code may "
              "read or change each other's files" + ("" if iso.uid_drop else ", the grader's and the results"),
              file=sys.stderr)
    config = cfg.load(config_path)
    timeout = config.time_budget() if timeout is None else timeout
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
    with tempfile.TemporaryDirectory(prefix="neurograde-batch-") as work:
        os.chmod(work, 0o700)
        staging = Path(work) / "staged"
        staging.mkdir(mode=0o700)
        subs = [stage(s, staging) for s in find_submissions(source, Path(work))]
        progress = ClassProgress(len(subs))
        rows: dict[str, Row] = {}
        notes: dict[str, str] = {}
        todo = []
        for sub in subs:
            # On a cluster every worker grades with namespaces (or refuses): that is the kind its results carry.
            key_now = fingerprint(sub, config_path, "namespaces" if runner is not None else iso.kind)
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
        servers = [] if runner is not None else [GradingServer(slot, config_path, out_dir / f".grader-{slot}.log")
                                                 for slot in range(min(jobs, len(todo)))]
        idle = list(servers)

        def run(sub: Submission, key_now: str) -> Row:
            if runner is not None:
                row = grade_one_on_cluster(sub, out_dir, runner, timeout)
            else:
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
                row.isolation = iso.kind
            row.note = notes.get(sub.student, "")
            if row.status == "ok":
                _write_private(out_dir / sub.student / ".fingerprint", key_now.encode())
                with lock:
                    trusted[sub.student] = {"fingerprint": key_now, "results_sha256": row.results_sha256,
                                            "isolation": row.isolation}
                    save_manifest(manifest_path, key, trusted)
            return row

        parallel = runner.slots() if runner is not None else len(servers)
        try:
            with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
                futures = [pool.submit(run, sub, key_now) for sub, key_now in todo]
                for future in as_completed(futures):
                    row = future.result()
                    rows[row.student] = row
                    progress.step(row)
        finally:
            for server in servers:
                server.close()
            if runner is not None:
                runner.close()
            kill_orphans()
    ordered = [rows[s.student] for s in subs]
    save_manifest(manifest_path, key, trusted)
    write_gradebook(ordered, out_csv, config)
    return ordered


def write_gradebook(rows: list[Row], path: Path, config: cfg.Config) -> None:
    """One line per student: per-exercise points, the known mistakes their failures named, total, status,
    isolation, wall seconds (written 0600). Made from each results.json's checks as data
    (:func:`~autograder.results.from_gradescope`), points by :func:`~autograder.results.totals`."""
    import io

    from autograder.results import from_gradescope, totals
    exercises = [(a.name, ex) for a in config.assignments.values() for ex in a.exercises]
    header = (["student"] + [f"{a}/{ex}" for a, ex in exercises]
              + ["mistakes", "total", "max", "status", "isolation", "seconds"])
    path.parent.mkdir(parents=True, exist_ok=True)
    f = io.StringIO(newline="")
    writer = csv.writer(f)
    writer.writerow(header)
    for row in rows:
        checks = from_gradescope(row.results or {})
        points = totals(checks)
        mistakes = dict.fromkeys(f"{r.assignment}/{r.exercise}: {dict(r.shown)['mistake']}" for r in checks
                                 if "mistake" in dict(r.shown))
        writer.writerow([row.student] + [f"{points.exercises[k].score:g}" if k in points.exercises else "0"
                                         for k in exercises]
                        + ["; ".join(mistakes), f"{points.total.score:g}", f"{points.total.max_score:g}", row.status,
                           row.isolation, f"{row.seconds:.1f}"])
    _write_private(path, f.getvalue().encode())
