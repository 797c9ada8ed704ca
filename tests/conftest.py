"""Shared helpers for the kit's own tests: grade a directory with the real CLI, in a subprocess."""
from __future__ import annotations

import fcntl
import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from autograder.limits import THREAD_ENV

# Single-threaded NumPy/torch in the test processes too, as in the sandbox: several pytest workers share 2 cores.
os.environ.update(THREAD_ENV)

KIT_ROOT = Path(__file__).resolve().parent.parent


#: The suite's longest tests (node ids, or their start), longest first: only a schedule, it changes no outcome.
#: pytest-xdist's work stealing first gives each worker a contiguous share of the collected tests; each of these
#: starts one share, so the longest ones run side by side from the start instead of one after the other at the end.
LONGEST_FIRST = (
    "tests/test_release_nbgrader.py::test_nbgrader_round_trip",
    "tests/test_otter.py::test_otter_assign_check_export_and_gradescope",
    "tests/test_release.py::test_the_bundle_gives_the_kits_visible_verdicts",
    "tests/test_cluster.py::test_a_class_graded_on_a_dask_cluster",
    "tests/test_bulk.py::test_a_class_grades_and_the_gradebook_matches",
    "tests/test_bulk_isolation.py::test_as_root_honest_students",
    "tests/test_bulk_isolation.py::test_as_an_ordinary_user_honest_students",
    "tests/test_determinism.py::test_reference_scores_full_marks_identically_over_repeated_gradings[linear_neuron]",
    "tests/test_determinism.py::test_reference_scores_full_marks_identically_over_repeated_gradings[backprop]",
    "tests/test_determinism.py::test_reference_scores_full_marks_identically_over_repeated_gradings[pytorch_basics]",
    "tests/test_release.py::test_whole_kit_reference_full_marks",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers < 2:
        return
    rank = {prefix: i for i, prefix in enumerate(LONGEST_FIRST)}
    def rank_of(item: pytest.Item) -> int | None:
        return next((r for prefix, r in rank.items() if item.nodeid.startswith(prefix)), None)
    long = sorted((i for i in items if rank_of(i) is not None), key=rank_of)
    rest = [i for i in items if rank_of(i) is None]
    # Share k of the rest gets long tests k, k + workers, ... in front (the shares' sizes stay as xdist cuts them).
    shares = [rest[k * len(rest) // workers:(k + 1) * len(rest) // workers] for k in range(workers)]
    items[:] = [t for k in range(workers) for t in [*long[k::workers], *shares[k]]]


def run_grader(submission: Path, *assignments: str, hidden: bool = True, results: Path | None = None,
               timeout: float = 300, extra: tuple[str, ...] = (), report: bool = False
               ) -> tuple[dict, subprocess.CompletedProcess]:
    """Grade ``submission`` through ``python -m autograder grade``; returns (results.json, the process).

    The HTML report (plots gathered from the student's code) is skipped unless ``report``: the report's own tests
    exercise it, and drawing it for every mutant would double the suite's time."""
    results = results or Path(submission).parent / f"results-{Path(submission).name}.json"
    cmd = [sys.executable, "-m", "autograder", "grade", "--submission", str(submission), "--results", str(results)]
    for a in assignments:
        cmd += ["--assignment", a]
    if hidden:
        cmd.append("--with-hidden")
    if not report:
        cmd.append("--no-report")
    proc = subprocess.run([*cmd, *extra], cwd=KIT_ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"grader exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(results.read_text()), proc


def score_by_exercise(doc: dict, assignment: str) -> dict[str, tuple[float, float]]:
    """{exercise: (score, max_score)} for one assignment of a results.json (the points of
    :func:`autograder.results.totals`, as every view shows them)."""
    from autograder.results import from_gradescope, totals

    return {ex: (p.score, p.max_score) for ex, p in totals(from_gradescope(doc)).assignment(assignment).items()}


@functools.cache
def kit_config():
    """The kit's grading.yml, read once per test process: the in-process judgings of the bug zoo and the repeated
    gradings would otherwise spend about 0.1 s each re-reading and re-validating it."""
    from autograder import config as cfg

    return cfg.load()


def judge_in_process(folder: Path, assignment: str, *, exercise: str | None = None,
                     hidden: bool = True, seed_salt: int = 0) -> list:
    """The CheckResults of ``assignment``'s checks (those of ``exercise`` only, if given) on ``folder``'s file, run
    in this process (:mod:`autograder.inprocess`): the checks' verdicts without a sandbox's start-up. Only for
    code we wrote (the bug zoo); the sandbox has its own end-to-end tests."""
    from autograder import inprocess, pipeline
    from autograder.feedback import FeedbackSession
    from autograder.progress import Progress

    plans = pipeline.select(kit_config(), [assignment], with_hidden=hidden,
                            only=None if exercise is None else (lambda c: c.exercise == exercise))
    def workers(name: str, path: Path | None) -> inprocess.InProcessWorker:
        return inprocess.InProcessWorker(name, path, seed_salt=seed_salt)

    return pipeline.run(plans, Path(folder), workers=workers, feedback=FeedbackSession(enabled=False),
                        progress=Progress(None))


def session_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder of this test session shared by its pytest-xdist workers (one run's workers share
    PYTEST_XDIST_TESTRUNUID; without xdist, the session's own temporary folder)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent / f"shared-{run_id}" if run_id else base / "shared") / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shared_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder made once per test session by ``build(folder)``, shared by the pytest-xdist workers (the first to
    take the lock builds it; a failure is re-raised in every test that needs it)."""
    root = session_folder(tmp_path_factory, name)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".done").exists():
            try:
                build(root / "out")
            except BaseException as exc:  # noqa: BLE001 - remembered for the other workers, then re-raised
                (root / ".failed").write_text(f"{type(exc).__name__}: {exc}")
                raise
            finally:
                (root / ".done").touch()
    if (root / ".failed").exists():
        pytest.fail(f"building {name} failed:\n{(root / '.failed').read_text()[-4000:]}")
    return root / "out"


def grader_snapshot() -> Path:
    """A world-readable copy of the grader (autograder/, assignments/, data/, grading.yml) in a fresh folder, for
    tests that run grade-all from it: its fingerprints cover the grader's sources, so a re-run's "unchanged" must
    not depend on nobody editing the working tree meanwhile. The caller removes it."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="ng-kit-"))
    root.chmod(0o755)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("autograder", "assignments", "data"):
        shutil.copytree(KIT_ROOT / folder, root / folder, ignore=ignore)
    shutil.copy2(KIT_ROOT / "grading.yml", root / "grading.yml")
    return root


@pytest.fixture
def submission(tmp_path: Path):
    """Make a submission folder from {file name: source}."""
    def make(files: dict[str, str], name: str = "sub") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for fname, text in files.items():
            (folder / fname).write_text(text)
        return folder
    return make


class WarmGrader:
    """Grades through one long-lived grader process (:mod:`tests.warm_server`) per test worker: the grading of
    ``python -m autograder grade`` (the same :func:`autograder.grader.grade`, sandbox and fork server) without
    paying the grader's start-up and imports again at every grading. Every grading still starts fresh sandboxed
    workers for the submission's code, and the grader kills what they leave before it answers. Tests of the
    command line itself (its output, exit codes, the attacks of issue 11) use :func:`run_grader`."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._folder: Path | None = None

    def _start(self) -> None:
        import tempfile

        self._folder = Path(tempfile.mkdtemp(prefix="ng-warm-grader-"))
        with open(self._folder / "grader.log", "ab") as log:
            self._proc = subprocess.Popen([sys.executable, "-m", "tests.warm_server"], cwd=KIT_ROOT,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                          start_new_session=True)

    def grade(self, submission: Path, *assignments: str, hidden: bool = True, results: Path | None = None,
              config: Path | None = None, only: list[str] | None = None, timeout: float = 300) -> dict:
        """results.json of grading ``submission`` (``assignments``, default all; ``only``: these check ids)."""
        import select

        if self._proc is None or self._proc.poll() is not None:
            self.close()
            self._start()
        results = results or Path(submission).parent / f"results-{Path(submission).name}.json"
        request = {"submission": str(submission), "results": str(results), "assignments": list(assignments),
                   "hidden": hidden, "config": None if config is None else str(config), "only": only}
        proc = self._proc
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        if not (ready and proc.stdout.readline()):
            log = (self._folder / "grader.log").read_text(errors="replace")[-3000:]
            self.close()
            raise AssertionError(f"the warm grader {'died' if ready else 'timed out'}:\n{log}")
        return json.loads(results.read_text())

    def close(self) -> None:
        import shutil

        from autograder.bulk import stop_session

        proc, self._proc = self._proc, None
        if proc is not None:
            stop_session(proc)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


#: This test worker's warm grader, started by its first grading.
WARM = WarmGrader()


def grade_warm(submission: Path, *assignments: str, **options) -> dict:
    """:meth:`WarmGrader.grade` on this test worker's warm grader."""
    return WARM.grade(submission, *assignments, **options)


def pytest_sessionfinish(session: pytest.Session) -> None:
    WARM.close()
