"""What a module shipped to students keeps: its visible checks and what they reach, never the oracle.

``assignments/<a>/checks.py`` holds the hidden checks and, next to them, their private helpers, and it imports the
oracle (``from assignments.<a> import oracle``), which implements the exercises. For students the file loses:

1. the hidden check functions (:func:`cut_functions`: each with its decorators and the comments right above it);
2. every module-level private helper (a function, class or constant whose name starts with ``_``) that nothing
   left reaches: reachability starts at everything that is not a private definition (the visible checks, public
   names, imports, module-level statements) and follows the names each reached definition uses (the AST);
3. an import of the oracle that nothing left uses (a ``Recorded(...)`` lambda's ``oracle`` is its own parameter,
   not the module).

The rest of the text is kept as it is. :func:`oracle_uses` tells what still uses the oracle; the release stops
when anything shipped to students does.
"""
from __future__ import annotations

import ast
import re
import symtable
from typing import Iterable

#: The part of an assignment folder that implements the exercises.
ORACLE = "oracle"

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class PruneError(ValueError):
    """A module cannot be pruned as asked (a function to cut does not exist)."""


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _span(node: ast.stmt, lines: list[str]) -> tuple[int, int]:
    """(first, last) line of a top-level statement: its decorators and the comment lines directly above it
    included (a comment there describes it)."""
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    while start > 1 and lines[start - 2].lstrip().startswith("#"):
        start -= 1
    return start, node.end_lineno


def _drop_lines(source: str, spans: Iterable[tuple[int, int]]) -> str:
    drop = {n for first, last in spans for n in range(first, last + 1)}
    kept = [line for n, line in enumerate(source.splitlines(keepends=True), start=1) if n not in drop]
    return re.sub(r"\n{4,}", "\n\n\n", "".join(kept)).rstrip("\n") + "\n"


def function_spans(source: str) -> dict[str, tuple[int, int]]:
    """{name: (first line, last line)} (1-based, inclusive) of each top-level function."""
    lines = source.splitlines()
    return {node.name: _span(node, lines) for node in ast.parse(source).body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def cut_functions(source: str, names: Iterable[str]) -> str:
    """``source`` without the top-level functions ``names`` (decorators and leading comments included); the rest
    of the text is kept as it is, with runs of blank lines left by a cut shortened to two."""
    spans = function_spans(source)
    names = set(names)
    if missing := names - set(spans):
        raise PruneError(f"no top-level function {', '.join(sorted(missing))} to cut")
    return _drop_lines(source, (spans[n] for n in names))


def _defined_private(node: ast.stmt) -> set[str]:
    """The private names a top-level statement defines, when it is a definition of private names only."""
    if isinstance(node, _DEFS):
        return {node.name} if _private(node.name) else set()
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    names = [t.id for t in targets if isinstance(t, ast.Name)]
    if targets and len(names) == len(targets) and all(_private(n) for n in names):
        return set(names)
    return set()


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def unreachable_helpers(source: str, keep: Iterable[str] = ()) -> list[str]:
    """Private top-level names of ``source`` that nothing but other unreachable helpers uses."""
    tree = ast.parse(source)
    defs: dict[str, list[ast.stmt]] = {}
    roots: list[ast.stmt] = []
    for node in tree.body:
        names = _defined_private(node)
        for name in names:
            defs.setdefault(name, []).append(node)
        if not names:
            roots.append(node)
    todo = [n for node in roots for n in _used_names(node)] + list(keep)
    while todo:
        name = todo.pop()
        for node in defs.pop(name, ()):  # reached: what it uses is reached too
            todo += _used_names(node)
    return sorted(defs)


def drop_unreachable_helpers(source: str, keep: Iterable[str] = ()) -> str:
    """``source`` without its unreachable private helpers (:func:`unreachable_helpers`)."""
    gone = set(unreachable_helpers(source, keep))
    if not gone:
        return source
    lines = source.splitlines()
    spans = [_span(node, lines) for node in ast.parse(source).body
             if (names := _defined_private(node)) and names <= gone]
    return _drop_lines(source, spans)


# -- the oracle ------------------------------------------------------------------------------------------------------

def _is_oracle_module(module: str | None) -> bool:
    return module is not None and ORACLE in module.split(".")


def _oracle_bindings(tree: ast.Module) -> list[tuple[ast.stmt, ast.alias, str]]:
    """(import statement, alias, name bound) for every top-level import that binds the oracle or something of it."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            from_oracle = _is_oracle_module(node.module)
            for alias in node.names:
                if from_oracle or alias.name == ORACLE:
                    out.append((node, alias, alias.asname or alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_oracle_module(alias.name):
                    out.append((node, alias, alias.asname or alias.name.split(".")[0]))
    return out


def _global_uses(source: str) -> set[str]:
    """Names used as module globals anywhere in ``source`` (not as a parameter or local of a function)."""
    used: set[str] = set()

    def walk(table: symtable.SymbolTable, module: bool) -> None:
        for sym in table.get_symbols():
            if sym.is_referenced() and (module or sym.is_global()):
                used.add(sym.get_name())
        for child in table.get_children():
            walk(child, False)

    walk(symtable.symtable(source, "<shipped>", "exec"), True)
    return used


def oracle_imports(source: str) -> list[int]:
    """Lines of the imports of an oracle module (``from assignments.<a> import oracle``, ``import ...oracle``,
    ``from ...oracle import f``), anywhere in the file."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (_is_oracle_module(node.module)
                                                  or any(a.name == ORACLE for a in node.names)):
            lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(_is_oracle_module(a.name) for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and any(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                                and _is_oracle_module(a.value) for a in node.args):
            lines.append(node.lineno)  # importlib.import_module("assignments.x.oracle"), part(name, "oracle")
    return sorted(set(lines))


def oracle_uses(source: str) -> list[int]:
    """Lines where ``source`` imports the oracle or uses a name bound to it: empty for a module students may get."""
    tree = ast.parse(source)
    bound = {name for _, _, name in _oracle_bindings(tree)} & _global_uses(source)
    return sorted(set(oracle_imports(source)) | set(_global_name_lines(tree, bound)))


def _global_name_lines(node: ast.AST, names: set[str]) -> list[int]:
    """Lines where ``names`` are used as globals: not inside a function or lambda that binds them itself."""
    if not names:
        return []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        local = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
        if not isinstance(node, ast.Lambda):
            local |= {t.id for n in ast.walk(node) for t in getattr(n, "targets", [getattr(n, "target", None)])
                      if isinstance(t, ast.Name)} - {g for n in ast.walk(node) if isinstance(n, ast.Global)
                                                     for g in n.names}
        names = names - local
    lines = [node.lineno] if isinstance(node, ast.Name) and node.id in names else []
    for child in ast.iter_child_nodes(node):
        lines += _global_name_lines(child, names)
    return lines


def drop_unused_oracle_imports(source: str) -> str:
    """``source`` without the imports of the oracle (or of names from it) that nothing uses any more."""
    tree = ast.parse(source)
    used = _global_uses(source)
    unused: dict[ast.stmt, set[str]] = {}
    for node, alias, name in _oracle_bindings(tree):
        if name not in used:
            unused.setdefault(node, set()).add(alias.name)
    if not unused:
        return source
    lines = source.splitlines(keepends=True)
    out = []
    spans = {node.lineno: node for node in unused}
    n = 1
    while n <= len(lines):
        node = spans.get(n)
        if node is None:
            out.append(lines[n - 1])
            n += 1
            continue
        left = [a for a in node.names if a.name not in unused[node]]
        if left:  # rewrite the statement with the names still used
            indent = lines[n - 1][: len(lines[n - 1]) - len(lines[n - 1].lstrip())]
            node.names = left
            out.append(indent + ast.unparse(node) + "\n")
        n = node.end_lineno + 1
    return re.sub(r"\n{4,}", "\n\n\n", "".join(out)).rstrip("\n") + "\n"


def prune_checks(source: str, hidden: Iterable[str], keep: Iterable[str] = ()) -> str:
    """A checks file as students get it: hidden checks cut, unreachable private helpers dropped, the oracle's
    import dropped when nothing left uses it."""
    hidden = list(hidden)
    present = set(function_spans(source))
    source = cut_functions(source, [h for h in hidden if h in present])
    source = drop_unreachable_helpers(source, keep)
    return drop_unused_oracle_imports(source)
