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
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import select
import shutil
import signal
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
from autograder.config import ASSIGNMENTS, KIT_ROOT

CONTRACT_FILES = tuple(f"{a}.py" for a in ASSIGNMENTS)
#: Each grader process gets its own sandbox uid, so concurrent students cannot signal each other's processes.
SANDBOX_UID_BASE = 64000
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
        z.extractall(target)


# -- grading ---------------------------------------------------------------------------------------------------

def fingerprint(sub: Submission, config_path: Path) -> str:
    """Changes when the student's files, grading.yml or the checks change."""
    h = hashlib.sha256()
    for name in sorted(sub.files):
        h.update(name.encode() + b"\0" + sub.files[name].read_bytes() + b"\0")
    h.update(Path(config_path).read_bytes())
    for check in sorted((KIT_ROOT / "autograder").rglob("*.py")):
        h.update(check.read_bytes())
    return h.hexdigest()


class GradingServer:
    """A long-lived grader process that grades one submission at a time (``grade-server``), so a class pays the
    grader's start-up and imports once per job slot, not once per student. Each submission still gets fresh
    workers for its code, and the server kills whatever that code left behind before it answers."""

    def __init__(self, slot: int, config_path: Path, log: Path) -> None:
        self.slot, self.config_path, self.log = slot, config_path, log
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        env = dict(os.environ, NEUROGRADE_SANDBOX_UID=str(SANDBOX_UID_BASE + self.slot))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "autograder", "grade-server", "--config", str(self.config_path)],
            cwd=KIT_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log.open("a"), start_new_session=True)

    def grade(self, submission: Path, results: Path, timeout: float) -> str:
        """Grade ``submission`` into ``results``; returns the status ("ok", "timeout", "grader died")."""
        if self._proc is None or self._proc.poll() is not None:
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
            proc.wait()


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


def grade_one(sub: Submission, out_dir: Path, server: GradingServer, timeout: float) -> Row:
    """Grade one submission on a warm server; the row's status says how it ended."""
    folder = out_dir / sub.student
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    if results.exists():
        results.unlink()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="neurograde-bulk-") as tmp:
        staged = Path(tmp) / "submission"
        staged.mkdir()
        for name, path in sub.files.items():
            shutil.copyfile(path, staged / name)
        status = server.grade(staged, results, timeout)
    doc = None
    if results.is_file():
        try:
            doc = json.loads(results.read_text())
        except ValueError:
            status = "invalid results"
    elif status == "ok":
        status = "no results"
    return Row(sub.student, status, time.monotonic() - start, doc)


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
              config_path: Path = cfg.DEFAULT_PATH) -> list[Row]:
    """Grade every submission found in ``source``; write each results.json and the CSV gradebook."""
    config = cfg.load(config_path)
    timeout = timeout or sum(a.time_limit + a.import_timeout for a in config.assignments.values()) + 30
    out_csv = Path(out_csv)
    out_dir = out_csv.parent / "students"
    with tempfile.TemporaryDirectory(prefix="neurograde-batch-") as work:
        subs = find_submissions(source, Path(work))
        progress = Progress(len(subs))
        rows: dict[str, Row] = {}
        todo = []
        for sub in subs:
            stamp = out_dir / sub.student / ".fingerprint"
            key = fingerprint(sub, config_path)
            previous = out_dir / sub.student / "results.json"
            if not force and stamp.is_file() and stamp.read_text() == key and previous.is_file():
                rows[sub.student] = Row(sub.student, "ok (unchanged)", 0.0, json.loads(previous.read_text()))
                progress.step(rows[sub.student], skipped=True)
            else:
                todo.append((sub, key))
        out_dir.mkdir(parents=True, exist_ok=True)
        servers = [GradingServer(slot, config_path, out_dir / f".grader-{slot}.log") for slot in range(jobs)]
        idle = list(servers)
        lock = threading.Lock()

        def run(sub: Submission, key: str) -> Row:
            with lock:
                server = idle.pop()
            try:
                row = grade_one(sub, out_dir, server, timeout)
            finally:
                with lock:
                    idle.append(server)
            if row.status == "ok":
                (out_dir / sub.student / ".fingerprint").write_text(key)
            return row

        try:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(run, sub, key) for sub, key in todo]
                for future in as_completed(futures):
                    row = future.result()
                    rows[row.student] = row
                    progress.step(row)
        finally:
            for server in servers:
                server.close()
    ordered = [rows[s.student] for s in subs]
    write_gradebook(ordered, out_csv, config)
    return ordered


def write_gradebook(rows: list[Row], path: Path, config: cfg.Config) -> None:
    """One line per student: per-exercise points, total, status, wall seconds."""
    exercises = [(a.name, ex) for a in config.assignments.values() for ex in a.exercises]
    header = ["student"] + [f"{a}/{ex}" for a, ex in exercises] + ["total", "max", "status", "seconds"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
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
                            + [f"{total:g}", f"{top:g}", row.status, f"{row.seconds:.1f}"])
