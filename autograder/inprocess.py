"""A worker that runs the student's module in this very process: for the kit's own tests only.

The checks talk to it exactly as to the sandboxed :class:`~autograder.sandbox.Worker` (the same
:class:`~autograder.session.Session` runs each request, and values cross :mod:`autograder.wire`'s encoding both
ways), so a bug-zoo mutant is judged by the same check code in milliseconds instead of a sandbox start-up.
Nothing isolates it: never use it for code you did not write. The sandbox keeps its own end-to-end tests.
"""
from __future__ import annotations

import importlib
import itertools
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from autograder import assignment as parts
from autograder import session as sessions
from autograder import wire
from autograder.limits import THREAD_ENV
from autograder.sandbox import MissingFile, StudentError, StudentImportError, StudentTimeout, timed_start_up

_names = itertools.count()


class _Overran(BaseException):
    """Raised inside student code when a request outlives its deadline (BaseException: student code's
    ``except Exception`` does not swallow it)."""


class InProcessWorker:
    """The student's module for one assignment, imported here; one request at a time."""

    def __init__(self, assignment: str, module_file: Path | None, *, import_timeout: float = 30.0,
                 seed_salt: int = 0) -> None:
        self.assignment = assignment
        # Moves every request's seed: the kit's tests grade a correct solution under other seeds, as other
        # gradings would meet a student's unseeded randomness (a grading itself is repeatable, salt 0).
        self.seed_salt = seed_salt
        self.module_file = module_file
        self.import_timeout = import_timeout
        self.startup_seconds = 0.0
        self.generation = 0
        self._session: sessions.Session | None = None
        self._problem: Exception | None = None

    def prestart(self) -> None:
        pass

    def close(self) -> None:
        self._session = None
        self.generation += 1

    def output_tail(self, chars: int = 600) -> str:
        return ""

    def cpu_seconds(self) -> float | None:
        return time.process_time()

    def request(self, message: dict, deadline: float) -> Any:
        if self._session is None and self._problem is None:
            deadline += timed_start_up(self, self._start)
        if self._problem is not None:
            raise self._problem.with_traceback(None)
        if time.monotonic() >= deadline:
            raise StudentTimeout("no time left for this check: an earlier call used up its time limit")
        session = self._session
        if self.seed_salt:
            message = {**message, "seed": (int(message.get("seed", 0)) + 104729 * self.seed_salt) % 2**31}
        try:
            with _deadline(deadline):
                value = session.run(message)
                value = session.handle_of(value) if message.get("keep") else value
                encoded = wire.encode(value, handle_of=session.handle_of)
        except _Overran:
            self.close()
            raise StudentTimeout("your code did not finish in time") from None
        except BaseException as exc:  # student code may raise anything, SystemExit included
            err = sessions.describe_exception(exc, session.module_file)
            raise StudentError(err["type"], err["message"], err["where"], err["function"]) from None
        return wire.decode(encoded)

    def _start(self) -> None:
        if self.module_file is None:
            self._problem = MissingFile(f"{self.assignment}.py is missing from your submission: every check of "
                                        "this assignment scores 0")
            return
        # What a forked box gets from the fork server (torch._dynamo among it), imported before any deadline is
        # armed: an alarm inside a library's import would leave it half-initialised for every later check here.
        for library in parts.libraries(self.assignment):
            try:
                importlib.import_module(library)
            except Exception:  # the student's module says so when it imports it
                pass
        sessions.install_entropy()
        _one_thread()
        session = sessions.Session(str(self.module_file), f"neurograde_student_{next(_names)}", self.assignment,
                                   str(parts.probes_file(self.assignment)))
        sessions.seed_everything(self.seed_salt)
        try:
            with _deadline(time.monotonic() + self.import_timeout):
                session.import_module()
        except BaseException as exc:
            err = sessions.describe_exception(exc, session.module_file)
            self._problem = StudentImportError(f"{self.assignment}.py could not be imported: {err['type']}: "
                                               f"{err['message']}")
            return
        self._session = session


def _one_thread() -> None:
    """Compute single-threaded, as the sandboxed worker does (THREAD_ENV): the same numbers, and no
    oversubscription when several test processes share the cores."""
    os.environ.update(THREAD_ENV)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


class _deadline:
    """Interrupt the main thread at ``deadline`` (SIGALRM); elsewhere, no limit."""

    def __init__(self, deadline: float) -> None:
        self.seconds = max(1e-3, deadline - time.monotonic())
        self.armed = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> None:
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: Any) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)

    @staticmethod
    def _fire(signum: int, frame: Any) -> None:
        raise _Overran()


def workers(assignment: str, module_file: Path | None) -> InProcessWorker:
    """A :data:`~autograder.pipeline.WorkerFactory` for :func:`autograder.grader.grade`."""
    return InProcessWorker(assignment, module_file)
