"""Python sources the engine reads without running them (which thresholds a check reads, which libraries a file
imports, which conventions a catalogue defines): each fact is computed once per process and text.

A grade-server or a test worker reads the same checks and references at every grading; parsing them took a third
of a warm whole-kit grading's own CPU time. The facts are cached, not the syntax trees: the trees of the kit's
sources hold about 22 MB, which a grader would otherwise keep all its life, at a grading's memory peak too.
"""
from __future__ import annotations

import ast
import functools


def parse(source: str) -> ast.Module:
    """The syntax tree of ``source`` (not kept: callers cache what they derive from it)."""
    return ast.parse(source)


@functools.lru_cache(maxsize=256)
def imports(source: str, *, everywhere: bool) -> tuple[str, ...]:
    """The absolute modules ``source`` imports, in order: at its top level, or ``everywhere`` (inside functions
    too)."""
    tree = parse(source)
    found: list[str] = []
    for node in ast.walk(tree) if everywhere else tree.body:
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                   else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
        found += [m for m in modules if m not in found]
    return tuple(found)
