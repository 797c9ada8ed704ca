"""Known-wrong (mutants) and known-right (alternatives) variants of the reference solutions."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"


@dataclass(frozen=True)
class Mutant:
    """A realistic student mistake: must lose points in ``exercise`` with a message containing ``says``."""

    name: str
    exercise: str
    says: str
    replace: list[tuple[str, str]]
    why: str = ""


@dataclass(frozen=True)
class Alternative:
    """A correct solution written differently: must keep full marks."""

    name: str
    replace: list[tuple[str, str]] = field(default_factory=list)
    source: str | None = None
    why: str = ""


def build_source(assignment: str, variant: Mutant | Alternative) -> str:
    """The variant's whole file: the reference with each ``(old, new)`` applied, or its own ``source``."""
    if getattr(variant, "source", None) is not None:
        return variant.source
    text = (REFERENCE_DIR / f"{assignment}.py").read_text()
    for old, new in variant.replace:
        count = text.count(old)
        if count != 1:
            raise ValueError(f"{assignment} zoo entry {variant.name!r}: {old!r} occurs {count} times in the "
                             "reference (expected exactly once); update the zoo")
        text = text.replace(old, new)
    return text
