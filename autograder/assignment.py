"""Where an assignment's parts live: everything but its solution is in ``assignments/<name>/``.

======================  ===========================================================================  ==============
file                    what it holds                                                                ships to
======================  ===========================================================================  ==============
``README.md``           the handout                                                                  students
``explore.ipynb``       the explore notebook                                                         students
``checks.py``           the checks (``test_*`` functions), visible and hidden                        visible part
``probes.py``           helpers that run next to the student's code in the sandbox                   students
``feedback.py``         the plot gatherers of the HTML report (``GATHERERS``)                        students
``oracle.py``           the expected-value maths, used by hidden checks and the plots                instructors
``mistakes.py``         the mistake catalogue: named mistakes, how to recognise them, what to say    students
``bugzoo.py``           known-wrong mutants and known-right alternatives of the reference            instructors
======================  ===========================================================================  ==============

The list of assignments is grading.yml's (``config.Config.assignments``); nothing else names them. The solution
is ``reference/<name>.py`` and the stub ``student_template/<name>.py``, generated from it.
"""
from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable

KIT_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS_DIR = KIT_ROOT / "assignments"


#: Parts of an assignment folder that never leave the instructor's kit (both need reference/).
KIT_ONLY = ("bugzoo.py", "leakcases.py")
#: Parts that never reach students: the expected-value maths (it implements the exercises).
GRADER_ONLY = ("oracle.py",)
#: The handout, which every bundle carries.
HANDOUT = ("README.md", "explore.ipynb")


def shipped_parts(name: str, *, to_students: bool) -> list[Path]:
    """The files of ``assignments/<name>/`` a bundle carries (checks.py still holds its hidden checks here)."""
    skip = set(KIT_ONLY) | (set(GRADER_ONLY) if to_students else set())
    return sorted(p for p in folder(name).iterdir()
                  if p.is_file() and p.name not in skip and not p.name.startswith(".") and p.suffix != ".pyc")


def folder(name: str) -> Path:
    return ASSIGNMENTS_DIR / name


def probes_file(name: str) -> Path:
    return folder(name) / "probes.py"


def part(name: str, part_name: str) -> ModuleType | None:
    """``assignments/<name>/<part_name>.py`` imported (None when the assignment has no such part)."""
    if not (folder(name) / f"{part_name}.py").is_file():
        return None
    if str(KIT_ROOT) not in sys.path:  # the kit's root holds the assignments package; the grader may run elsewhere
        sys.path.append(str(KIT_ROOT))
    return importlib.import_module(f"assignments.{name}.{part_name}")


def check_functions(name: str) -> dict[str, Callable]:
    """The assignment's check functions (top-level ``test_*`` of its checks.py), in file order."""
    module = part(name, "checks")
    if module is None:
        return {}
    found = [(fn.__code__.co_firstlineno, fn_name, fn) for fn_name, fn in vars(module).items()
             if fn_name.startswith("test_") and inspect.isfunction(fn) and fn.__module__ == module.__name__]
    return {fn_name: fn for _, fn_name, fn in sorted(found)}


#: Libraries a contract file may import that are worth importing before the student's code (the fork server's
#: warm process, :mod:`autograder.zygote`): the heavy ones of the chapter.
HEAVY_LIBRARIES = ("numpy", "scipy", "pandas", "sklearn", "torch")


def preloadable(modules: Iterable[str]) -> tuple[str, ...]:
    """Of ``modules``, the dotted names of the chapter's heavy libraries: what a box imports before the student's
    module (a fork server, or a cold box ahead of its assignment); nothing else reaches a command line."""
    return tuple(m for m in modules if m.split(".")[0] in HEAVY_LIBRARIES
                 and m.replace(".", "").replace("_", "").isalnum())


#: The library whose boxes make a grading's memory peak (torch and its lazy parts: about 300 MB in a process).
MEMORY_PEAK_LIBRARY = "torch"


def memory_peak(name: str) -> bool:
    """Whether the assignment's box is a grading's memory peak (its contract file imports torch): the next box
    does not start next to it. False where the kit cannot tell (:func:`declared_libraries`)."""
    return MEMORY_PEAK_LIBRARY in (m.split(".")[0] for m in declared_libraries(name) or ())


def _heavy_imports(path: Path, *, everywhere: bool) -> list[str]:
    """The modules of :data:`HEAVY_LIBRARIES` that ``path`` imports: at its top level, or ``everywhere`` (inside
    functions too)."""
    from autograder import pysource
    return [m for m in pysource.imports(path.read_text(), everywhere=everywhere)
            if m.split(".")[0] in HEAVY_LIBRARIES]


def declared_libraries(name: str) -> tuple[str, ...] | None:
    """The heavy libraries the assignment's contract file imports, read from the kit's own copy of it (the
    reference, else the stub; never the student's file), e.g. ``("numpy", "sklearn.preprocessing")``; None in a
    kit that has neither (a Gradescope zip)."""
    for kind in ("reference", "student_template"):
        path = KIT_ROOT / kind / f"{name}.py"
        if path.is_file():
            return _with_lazy_parts(_heavy_imports(path, everywhere=False))
    return None


def libraries(name: str) -> tuple[str, ...]:
    """:func:`declared_libraries`, or every heavy library where the kit cannot tell (what a fork server, paid once
    for many boxes, imports then; a cold box imports nothing ahead instead)."""
    declared = declared_libraries(name)
    return declared if declared is not None else _with_lazy_parts(list(HEAVY_LIBRARIES))


#: Parts of a library that it imports only at a first use every contract file of it makes: torch.optim imports
#: torch._dynamo when it builds its first optimizer (1.2 s of CPU, in every box unless the fork server has it).
LAZY_PARTS = {"torch": ("torch._dynamo",)}


def _with_lazy_parts(modules: list[str]) -> tuple[str, ...]:
    found = list(modules)
    for module in modules:
        found += [m for m in LAZY_PARTS.get(module.split(".")[0], ()) if m not in found]
    return tuple(found)


def kit_hash() -> str:
    """A hash of what decides a grade besides the submission and grading.yml: the engine and every assignment's
    checks, probes, oracle and plots (grade-all's fingerprints and a cluster task's kit key)."""
    import hashlib
    h = hashlib.sha256()
    for part_name in ("autograder", "assignments"):
        for source in sorted((KIT_ROOT / part_name).rglob("*.py")):
            h.update(str(source.relative_to(KIT_ROOT)).encode() + b"\0" + source.read_bytes() + b"\0")
    return h.hexdigest()
