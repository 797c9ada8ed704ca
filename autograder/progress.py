"""Which assignment and exercise is being graded: a live status line on a terminal, plain lines otherwise.

On an interactive terminal one line is rewritten in place (``[ 12/105] linear_neuron ex3: title``) and erased
when grading ends, so the results table starts on a clean screen. Anywhere else (CI logs, Gradescope, a
notebook cell) a plain line is written when a new exercise starts: no carriage returns, no escape codes.
Progress never raises: a closed or broken stream only silences it.
"""
from __future__ import annotations

import shutil
from typing import TextIO


class Progress:
    """Reports one grading's progress on ``stream`` (None: silent). grade-all's progress over a whole class is
    :class:`autograder.bulk.ClassProgress`."""

    def __init__(self, stream: TextIO | None, *, live: bool | None = None) -> None:
        self.stream = stream
        self.live = _is_tty(stream) if live is None else live
        self.total = 0
        self.done = 0
        self._exercise: tuple[str, str] | None = None
        self._shown = False

    def start(self, total: int) -> None:
        """Grading is about to run ``total`` checks."""
        self.total, self.done = total, 0

    def check(self, assignment: str, exercise: str, title: str) -> None:
        """A check of ``assignment``/``exercise`` starts."""
        self.done += 1
        if self.live:
            self._status(f"[{self.done:>{len(str(self.total))}}/{self.total}] {assignment} {exercise}: {title}")
        elif (assignment, exercise) != self._exercise:
            self._line(f"grading {assignment} {exercise} ...")
        self._exercise = (assignment, exercise)

    def phase(self, text: str) -> None:
        """Something other than a check runs (drawing plots, writing the report)."""
        self._exercise = None
        if self.live:
            self._status(text + " ...")
        else:
            self._line(text + " ...")

    def finish(self) -> None:
        """Erase the status line."""
        if self.live and self._shown:
            self._write("\r\x1b[2K")
            self._shown = False

    def _status(self, text: str) -> None:
        width = shutil.get_terminal_size((80, 20)).columns - 1
        if len(text) > width:
            text = text[: max(0, width - 3)] + "..."
        self._shown = self._write("\r\x1b[2K" + text)

    def _line(self, text: str) -> None:
        self._write(text + "\n")

    def _write(self, text: str) -> bool:
        if self.stream is None:
            return False
        try:
            self.stream.write(text)
            self.stream.flush()
            return True
        except (OSError, ValueError):  # closed or broken stream: progress is a courtesy, never a failure
            self.stream = None
            return False


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False
