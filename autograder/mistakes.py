"""Known mistakes, and the one way every check names them.

Each assignment keeps its catalogue as data in ``assignments/<name>/mistakes.py``: a :class:`Mistake` has a name
(its id), what to tell the student in the chapter's words, the section of the handout that states the rule it
breaks, and optionally a title (shown as "Mistake:" instead of the name), the handout :class:`Convention` it
breaks (shown as "Rule:") and a replay. A replay rebuilds the mistake's wrong answer from correct ingredients the
check supplies (the correct value, a cache, a model of the gradients, a value the oracle recorded for it), never
from the exercise itself: hints name the mistake and the section, they never print the line that fixes it.

A check that sees a wrong answer asks :func:`recognise`: which known mistake, replayed, reproduces what was seen?
Then it fails naming it (:func:`fail_as`), or with its own general hint when none does (:func:`fail_with`), through
:func:`autograder.checking.fail`, so that the result keeps the mistake and the rule as data.

This module ships to students with the engine: it holds no maths of any exercise.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Mapping, NoReturn, TypeVar, Union

import numpy as np

from autograder.checking import fail


def handout(section: str) -> str:
    """How a hint points to a section of the handout."""
    return f"(handout: {section})"


@dataclass(frozen=True)
class Convention:
    """A rule of the handout that a check enforces, shown as "Rule:" when the check fails.

    ``section`` names the handout section that states it (a heading, optionally followed by ", 'label'");
    ``stated`` is a phrase of that section, compared with case and whitespace normalised, that proves the handout
    states the rule (tests/test_conventions.py; the checks declare what they enforce in grading.yml)."""

    name: str
    text: str
    section: str
    stated: str = ""

    def __str__(self) -> str:
        return f"{self.text} {handout(self.section)}"


@dataclass(frozen=True)
class Mistake:
    """A known mistake: its name, what to say (in the chapter's words; it may hold ``{fields}`` that
    :meth:`filled` fills in, such as the learning rate used), the handout section to reread, and optionally a
    title to show instead of the name, the convention it breaks, and its replay (what it is depends on the
    catalogue; None where the mistake is recognised by a property of the student's object instead)."""

    name: str
    says: str
    section: str
    title: str = ""
    convention: Convention | None = None
    replay: Any = None

    @property
    def hint(self) -> str:
        return f"{self.says} {handout(self.section)}"

    @property
    def label(self) -> str:
        """How a failure names the mistake ("Mistake:")."""
        return self.title or self.name

    def filled(self, **details: Any) -> "Mistake":
        """The mistake with the ``{fields}`` of what it says filled in from ``details``."""
        return replace(self, says=self.says.format(**details)) if details else self


Catalogue = Mapping[str, Mistake]


def catalogue(*mistakes: Mistake) -> dict[str, Mistake]:
    """Mistakes by name, in the order given: :func:`recognise` tries them in that order."""
    return {m.name: m for m in mistakes}


class AnyOf(tuple):
    """What a replay gives when the mistake has several forms (an eps of one's own: any of several eps): any of
    them reproduces it."""


Suspect = TypeVar("Suspect")


def recognise(seen: Any, suspects: Union[Mapping[str, Suspect], Iterable[Suspect]],
              replay: Callable[[Suspect], Any], close: Callable[[Any, Any], bool]) -> Suspect | None:
    """The first known mistake of ``suspects`` (a catalogue, or mistakes in the order to try them) whose replay,
    ``replay(mistake)``, is ``close`` to what was seen; None when none is.

    A replay that cannot happen with these inputs is skipped: it gives None, or raises ValueError (X @ (u - y) when
    n != m), ZeroDivisionError or FloatingPointError. A replay giving :class:`AnyOf` values reproduces the
    mistake when any of them is close to what was seen."""
    for mistake in (suspects.values() if isinstance(suspects, Mapping) else suspects):
        try:
            with np.errstate(all="ignore"):
                candidate = replay(mistake)
                if candidate is None:
                    continue
                forms = candidate if isinstance(candidate, AnyOf) else (candidate,)
                if any(close(seen, form) for form in forms):
                    return mistake
        except (ValueError, ZeroDivisionError, FloatingPointError):
            continue
    return None


def fail_as(mistake: Mistake, expected: str, seen: str, *, convention: Convention | str | None = None,
            **details: Any) -> NoReturn:
    """Fail naming ``mistake`` (recognised by the check): its words (``details`` fill in their fields), and as rule
    the mistake's own convention, else the check's ``convention``."""
    mistake = mistake.filled(**details)
    fail(expected, seen, mistake.hint, mistake=mistake.label, convention=mistake.convention or convention)


def fail_with(expected: str, seen: str, found: Mistake | None, *, otherwise: str,
              convention: Convention | str | None = None) -> NoReturn:
    """Fail naming the mistake :func:`recognise` found, or, when no known mistake reproduces what was seen, with the
    check's general hint ``otherwise`` and its rule ``convention``."""
    if found is not None:
        fail_as(found, expected, seen, convention=convention)
    fail(expected, seen, otherwise, convention=convention)
