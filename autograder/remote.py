"""Proxies through which checks talk to student code that runs in the worker.

``student.gradient_1d(x, y, a, b)`` calls the student's function in the worker and returns plain data;
``neuron = student.LinearNeuron1D()`` returns a :class:`RemoteObject`, whose attributes read and write in the
worker (``neuron.a = 0.5``, ``neuron.fit(x, y)``, ``neuron.history``). ``student.probe("name", ...)`` runs a helper
from ``autograder/probes/<assignment>.py`` next to the student's code, for what needs the live objects (timing a
loop, evaluating a torch model, watching a scaler). Checks never import student code themselves.
"""
from __future__ import annotations

import time
import zlib
from typing import Any

from autograder import wire
from autograder.sandbox import StudentCrashed, Worker


class Student:
    """The student's module for one assignment, as seen by one check."""

    def __init__(self, worker: Worker, check_id: str, deadline: float) -> None:
        object.__setattr__(self, "_worker", worker)
        object.__setattr__(self, "_deadline", deadline)
        object.__setattr__(self, "_seed_base", zlib.crc32(check_id.encode()))
        object.__setattr__(self, "_calls", 0)
        object.__setattr__(self, "_startup_before", worker.startup_seconds)
        object.__setattr__(self, "_budget", None)
        object.__setattr__(self, "_spent", 0.0)
        object.__setattr__(self, "_pinned_seed", None)
        object.__setattr__(self, "last_round_trip", 0.0)

    def limit_to(self, seconds: float) -> "Student":
        """Allow the student's code at most ``seconds`` over all of this proxy's requests (on top of the wall-clock
        deadline). Time the check spends judging in the trusted process is not counted: a busy machine or a costly
        oracle must not eat the student's budget."""
        object.__setattr__(self, "_budget", float(seconds))
        return self

    def pin_seed(self, seed: int | None) -> "Student":
        """Reseed every following request with ``seed`` (None: back to one seed per request rank). Paired calls
        under one pinned seed see the same global random streams, so a seeded or global-RNG student gives the
        same answer twice, and any difference between them is the student's own unseeded randomness."""
        object.__setattr__(self, "_pinned_seed", None if seed is None else int(seed) % 2**31)
        return self

    def hold(self, value: Any) -> "RemoteObject":
        """Send plain data to the worker once and name it by a handle, so that later requests (a timed call)
        pass only the handle."""
        return self._send("hold", args=(value,), keep=True)

    def call_kept(self, target: "RemoteObject | str", *args: Any, **kwargs: Any) -> "RemoteObject":
        """Call a student function (by module-level name) or a remote callable, leaving the result in the worker
        as a handle: :attr:`last_round_trip` is then the call's own cost, measured by this (trusted) process,
        without the cost of sending the result back."""
        if isinstance(target, str):
            return self._send("call", name=target, args=args, kwargs=kwargs, keep=True)
        return self._send("call", target=target, args=args, kwargs=kwargs, keep=True)

    def cpu_seconds(self) -> float | None:
        """CPU seconds used so far by every process of the student's sandbox, read by the trusted process (the
        box's control group, else /proc); None when it cannot be measured here."""
        return self._worker.cpu_seconds()

    # The worker reseeds random, NumPy and torch before every request with a seed derived from the check and the
    # request's rank in it: grading is deterministic, yet two calls in one check see different random streams.
    def _send(self, op: str, *, target: Any = None, name: str | None = None, args: tuple = (),
              kwargs: dict | None = None, keep: bool = False) -> Any:
        worker: Worker = self._worker
        calls = self._calls + 1
        object.__setattr__(self, "_calls", calls)
        seed = self._pinned_seed if self._pinned_seed is not None else (self._seed_base + 7919 * calls) % 2**31
        message = {"op": op, "name": name, "seed": seed, "keep": keep,
                   "target": None if target is None else wire.encode(self._unwrap(target)),
                   "args": wire.encode([self._unwrap(a) for a in args]),
                   "kwargs": wire.encode({k: self._unwrap(v) for k, v in (kwargs or {}).items()})}
        # Restarting a worker (after a timeout or a crash) re-imports the module: that time is not the check's.
        deadline = self._deadline + worker.startup_seconds - self._startup_before
        began, startup = time.monotonic(), worker.startup_seconds
        if self._budget is not None:
            deadline = min(deadline, began + max(0.0, self._budget - self._spent))
        try:
            value = worker.request(message, deadline)
        finally:
            used = time.monotonic() - began - (worker.startup_seconds - startup)
            object.__setattr__(self, "_spent", self._spent + used)
            object.__setattr__(self, "last_round_trip", used)
        return self._wrap(value, worker.generation)

    def _unwrap(self, value: Any) -> Any:
        if isinstance(value, RemoteObject):
            if value._generation != self._worker.generation:
                raise StudentCrashed("an object from before the worker restarted was used (an earlier call failed)")
            return value._handle
        if isinstance(value, (list, tuple)):
            return type(value)(self._unwrap(v) for v in value)
        if isinstance(value, dict):
            return {k: self._unwrap(v) for k, v in value.items()}
        return value

    def _wrap(self, value: Any, generation: int) -> Any:
        if isinstance(value, wire.Handle):
            return RemoteObject(self, value, generation)
        if isinstance(value, list):
            return [self._wrap(v, generation) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(v, generation) for v in value)
        if isinstance(value, dict):
            return {k: self._wrap(v, generation) for k, v in value.items()}
        return value

    def __getattr__(self, name: str) -> "RemoteFunction":
        if name.startswith("__"):
            raise AttributeError(name)
        return RemoteFunction(self, name)

    def get(self, name: str) -> Any:
        """The value of a module-level name (a RemoteObject for functions and classes)."""
        return self._send("getattr", name=name)

    def probe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``autograder.probes.<assignment>.<name>(module, *args, **kwargs)`` in the worker."""
        return self._send("probe", name=name, args=args, kwargs=kwargs)

    def seconds_left(self) -> float:
        extra = self._worker.startup_seconds - self._startup_before
        left = self._deadline + extra - time.monotonic()
        if self._budget is not None:
            left = min(left, self._budget - self._spent)
        return max(0.0, left)

    def output(self) -> str:
        """The end of what the student's code printed during the last call."""
        return self._worker.output_tail()


class RemoteFunction:
    """A module-level name of the student's module, called in the worker."""

    def __init__(self, student: Student, name: str) -> None:
        self._student, self._name = student, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._student._send("call", name=self._name, args=args, kwargs=kwargs)

    def __repr__(self) -> str:
        return f"<student function {self._name}>"


class RemoteObject:
    """An object that lives in the worker: attribute reads, writes and calls are requests."""

    def __init__(self, student: Student, handle: wire.Handle, generation: int) -> None:
        object.__setattr__(self, "_student", student)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_generation", generation)

    @property
    def type_name(self) -> str:
        return self._handle.type_name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._student._send("getattr", target=self, name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._student._send("setattr", target=self, name=name, args=(value,))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._student._send("call", target=self, args=args, kwargs=kwargs)

    def __repr__(self) -> str:
        return f"<student {self._handle.type_name} object>"
