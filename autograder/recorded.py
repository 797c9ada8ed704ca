"""Expected values recorded at release time, so that what ships to students holds numbers, not an implementation.

The oracle (``assignments/<name>/oracle.py``) implements the exercises: it stays with instructors (the kit,
Gradescope, nbgrader's autograder). A visible check or a feedback plot that needs an exact value for *fixed*
inputs (a trajectory from given parameters on a given data set, an expected loss curve) declares it once::

    EXPECTED = Recorded("linear_neuron", {
        "abalone_batch_path": lambda oracle: oracle.batch_trajectory(*_abalone(), lr=0.25, epochs=500),
    })
    ...
    path = EXPECTED["abalone_batch_path"]

In the kit the value is computed from the oracle (once per process). ``make release`` evaluates every declared
value and writes them to ``assignments/<name>/expected.json`` in the student bundle, which has no oracle: there the
same line reads the recorded value. Values are plain data (numbers, lists, dicts, NumPy arrays), stored with
:mod:`autograder.wire`'s encoding, so arrays come back as arrays.
"""
from __future__ import annotations

import json
from types import ModuleType
from typing import Any, Callable, Mapping

from autograder import assignment as parts
from autograder import wire

RECORD_FILE = "expected.json"


class MissingRecord(LookupError):
    """A value was asked for that neither an oracle nor the recorded file can give."""


class Recorded:
    """Named expected values of one assignment: computed from its oracle, or read from its recorded file."""

    def __init__(self, assignment: str, computations: Mapping[str, Callable[[ModuleType], Any]]) -> None:
        self.assignment = assignment
        self.computations = dict(computations)
        self._values: dict[str, Any] = {}
        self._file: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        if key not in self.computations:
            raise MissingRecord(f"{self.assignment}: no expected value named {key!r} is declared")
        if key not in self._values:
            oracle = parts.part(self.assignment, "oracle")
            if oracle is not None:
                value = self.computations[key](oracle)
                # The same round trip as the recorded file: the kit sees exactly what students' bundles see.
                self._values[key] = wire.decode(json.loads(json.dumps(wire.encode(value))))
            else:
                self._values[key] = self._recorded(key)
        return self._values[key]

    def record(self) -> dict[str, Any]:
        """Every declared value, encoded for :data:`RECORD_FILE` (``make release`` writes it)."""
        oracle = parts.part(self.assignment, "oracle")
        if oracle is None:
            raise MissingRecord(f"{self.assignment}: recording needs assignments/{self.assignment}/oracle.py")
        return {key: wire.encode(compute(oracle)) for key, compute in self.computations.items()}

    def _recorded(self, key: str) -> Any:
        if self._file is None:
            path = parts.folder(self.assignment) / RECORD_FILE
            try:
                self._file = json.loads(path.read_text())
            except OSError:
                raise MissingRecord(f"{self.assignment}: neither oracle.py nor {RECORD_FILE} is here; run "
                                    "`make release` to record the expected values") from None
        if key not in self._file:
            raise MissingRecord(f"{self.assignment}: {RECORD_FILE} has no value {key!r}: re-run `make release`")
        return wire.decode(self._file[key])
