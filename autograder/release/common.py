"""Steps shared by the release targets: what to ship, the engine without hidden checks (nor the oracle, nor the
helpers only they used), the expected values recorded for the visible checks, reduced grading.yml files,
deterministic zips, and the leak scan that proves no reference code, no hidden check, no oracle and no
implementation of an exercise left the kit.

Every target is an ordered list of :class:`Step` s (small functions of a :class:`Release`), printed as they run,
so an instructor can read what a release does in the order it does it.
"""
from __future__ import annotations

import ast
import copy
import functools
import io
import json
import re
import shutil
import stat
import types
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import yaml

from autograder import config as cfg
from autograder import assignment as parts
from autograder.config import KIT_ROOT
from autograder.release import leakprobe, prune
from autograder.release.prune import cut_functions, function_spans  # noqa: F401 - cut_functions: part of this API
from autograder.stubs import BEGIN, END

#: Engine modules students and graders never need: stub generation reads reference/ (and spells the solution
#: markers), and the release package builds these very bundles.
ENGINE_EXCLUDE = ("stubs.py", "release")
#: Files of an assignment folder no bundle carries: the written questions with their rubric (the release writes
#: what students and graders get of them: the handout section, the nbgrader cells, the Gradescope written part).
NOT_SHIPPED = ("questions.yml",)
#: A fixed timestamp for every zip member: the same kit gives byte-identical zips.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
#: Solution lines shorter than this are too generic to prove a leak (``return loss``, ``else:``).
MIN_LEAK_CHARS = 24
#: Consecutive solution lines that, found together in a shipped file, count as leaked reference code.
LEAK_WINDOW = 3


class ReleaseError(RuntimeError):
    """The kit cannot be released as it is (a leak, an invalid reduced grading.yml, a missing piece)."""


@dataclass
class Release:
    """What every step reads: the kit, its validated and raw grading.yml, where to write, and a logger."""

    kit: Path
    dist: Path
    config: cfg.Config
    raw: dict
    assignments: list[str]
    log: Callable[[str], None] = print
    notes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, dist: Path, kit: Path = KIT_ROOT, log: Callable[[str], None] = print) -> "Release":
        path = kit / "grading.yml"
        config = cfg.load(path)
        raw = yaml.safe_load(path.read_text())
        return cls(kit=kit, dist=Path(dist), config=config, raw=raw, assignments=released_assignments(kit, config),
                   log=log)

    # -- facts about the kit -------------------------------------------------------------------------------
    def checks_file(self, assignment: str) -> Path:
        return self.kit / "assignments" / assignment / "checks.py"

    def reference(self, assignment: str) -> str:
        return (self.kit / "reference" / f"{assignment}.py").read_text()

    def hidden_ids(self, assignment: str) -> list[str]:
        return [c.id for c in self.config.assignments[assignment].checks() if c.hidden]

    def all_hidden_ids(self) -> list[str]:
        return [cid for a in self.assignments for cid in self.hidden_ids(a)]


@dataclass(frozen=True)
class Step:
    """One small, single-purpose release step."""

    title: str
    run: Callable[[Release], None]


def run_steps(target: str, steps: list[Step], release: Release) -> None:
    """Run ``steps`` in order, printing ``[target] i/n title`` before each."""
    for number, step in enumerate(steps, start=1):
        release.log(f"[{target}] {number}/{len(steps)} {step.title}")
        step.run(release)


def released_assignments(kit: Path, config: cfg.Config) -> list[str]:
    """The assignments ready to ship: a grading.yml section, a reference solution and a checks file."""
    return [a for a in config.assignments if (kit / "reference" / f"{a}.py").is_file()
            and (kit / "assignments" / a / "checks.py").is_file()]


def quiet_grade_flags() -> list[str]:
    """Options of this engine's ``grade`` command that skip work nobody reads in a release (the HTML report of a
    Gradescope or notebook grading): baked into the scripts, since each ships with this very engine."""
    from autograder.cli import QUIET_GRADE_FLAGS

    return list(QUIET_GRADE_FLAGS)


# -- check functions of a checks file ----------------------------------------------------------------------------

def check_functions(source: str) -> list[str]:
    """The check functions (top-level ``test_*``) of a checks file, in file order."""
    return [n.name for n in ast.parse(source).body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test_")]


def function_source(source: str, name: str) -> str:
    """The text of one top-level function, decorators and leading comments included."""
    start, end = function_spans(source)[name]
    return "".join(source.splitlines(keepends=True)[start - 1:end])


# -- grading.yml reduced to what a target ships -----------------------------------------------------------------

def reduced_grading(raw: dict, assignments: Iterable[str], *, keep_hidden: bool,
                    thresholds: Mapping[str, Iterable[str]] | None = None) -> dict:
    """A copy of grading.yml with only ``assignments`` and, unless ``keep_hidden``, only visible checks; each
    total_points is the sum of what is kept, so the engine's validation still holds. ``thresholds``: {assignment:
    the threshold names its shipped code reads} (the others, read only by hidden checks, are left out: the engine
    refuses a threshold nothing reads)."""
    out = copy.deepcopy(raw)
    wanted = list(assignments)
    out["assignments"] = {a: out["assignments"][a] for a in wanted}
    for name, body in out["assignments"].items():
        if thresholds is not None and name in thresholds and body.get("thresholds"):
            keep = set(thresholds[name])
            body["thresholds"] = {k: v for k, v in body["thresholds"].items() if k in keep}
        total = 0.0
        for exercise in body["exercises"].values():
            checks = {cid: c for cid, c in exercise["checks"].items()
                      if keep_hidden or c.get("visibility", "visible") == "visible"}
            exercise["checks"] = checks
            total += sum(float(c["points"]) for c in checks.values())
        body["total_points"] = int(total) if total == int(total) else total
    cfg.parse(out, source="reduced grading.yml", code=None)  # the engine must accept it (its code: verify_engine)
    return out


def shipped_threshold_reads(dest: Path, assignments: Iterable[str]) -> dict[str, set[str]]:
    """{assignment: the thresholds its code in ``dest/assignments/<a>/`` reads}; an assignment whose code reads a
    threshold by a computed name keeps them all (left out here)."""
    out = {}
    for a in assignments:
        names, dynamic = cfg.assignment_reads(dest / "assignments" / a)
        if not dynamic:
            out[a] = set(names)
    return out


def write_grading(raw: dict, path: Path, header: str) -> None:
    """Write a (reduced) grading.yml with a comment saying where it comes from."""
    text = yaml.safe_dump(raw, sort_keys=False, default_flow_style=None, width=110)
    path.write_text("".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text)


# -- copying --------------------------------------------------------------------------------------------------

def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo")) or n.startswith(".")}


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a folder without caches or dot files."""
    shutil.copytree(src, dst, ignore=_ignore, dirs_exist_ok=True)


def copy_engine(release: Release, dest: Path, assignments: Iterable[str], *, hidden: bool) -> Path:
    """Copy the grading engine into ``dest/autograder`` (every module but the release tooling) and the folders
    ``dest/assignments/<a>/`` of ``assignments``; never the bug zoo. For students (not ``hidden``): without the
    oracle, checks.py without its hidden checks and the private helpers only they reached
    (:func:`prune.prune_checks`), and no module importing the oracle when nothing in it uses it any more."""
    src = release.kit / "autograder"
    out = dest / "autograder"

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = _ignore(folder, names)
        if Path(folder) == src:
            skipped |= set(ENGINE_EXCLUDE) & set(names)
        return skipped

    shutil.copytree(src, out, ignore=ignore, dirs_exist_ok=True)
    (dest / "assignments").mkdir(exist_ok=True)
    shutil.copyfile(release.kit / "assignments" / "__init__.py", dest / "assignments" / "__init__.py")
    for a in assignments:
        target = dest / "assignments" / a
        target.mkdir(parents=True, exist_ok=True)
        # The written questions' rubric is for graders only; the handout carries the questions themselves.
        shipped = [p for p in parts.shipped_parts(a, to_students=not hidden) if p.name not in NOT_SHIPPED]
        for path in shipped:
            shutil.copyfile(path, target / path.name)
        if hidden:
            continue
        for path in shipped:
            if path.suffix == ".py" and path.name != "checks.py":
                (target / path.name).write_text(prune.drop_unused_oracle_imports(path.read_text()))
        source = release.checks_file(a).read_text()
        used_elsewhere = imported_names(shipped, f"assignments.{a}.checks")
        try:
            (target / "checks.py").write_text(prune.prune_checks(source, release.hidden_ids(a), keep=used_elsewhere))
        except prune.PruneError as exc:
            raise ReleaseError(f"assignments/{a}/checks.py: {exc}") from None
    return out


def imported_names(paths: Iterable[Path], module: str) -> set[str]:
    """Names the Python files ``paths`` import from ``module`` (``from <module> import x``)."""
    package, _, leaf = module.rpartition(".")
    names: set[str] = set()
    for path in paths:
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.module == module or (node.level == 1 and node.module == leaf):
                    names |= {a.name for a in node.names}
    return names


def copy_data(release: Release, dest: Path) -> None:
    """The kit's data files (CSV, checksums, datasheet), which autograder.datasets reads and verifies."""
    copy_tree(release.kit / "data", dest / "data")


def verify_engine(folder: Path, assignments: Iterable[str]) -> None:
    """The copied engine's grading.yml loads and names exactly the check functions its checks files define."""
    try:
        config = cfg.load(folder / "grading.yml", code=folder / "assignments")
    except cfg.ConfigError as exc:
        raise ReleaseError(f"{folder.name}: {exc}") from None
    for a in assignments:
        if a in config.assignments:
            functions = check_functions((folder / "assignments" / a / "checks.py").read_text())
            try:
                cfg.match_checks(config.assignments[a], functions)
            except cfg.ConfigError as exc:
                raise ReleaseError(f"{folder.name}: {exc}") from None


# -- expected values recorded for the visible checks ----------------------------------------------------------------

def _top_level_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) \
            else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def record_expected(release: Release, dest: Path, assignments: Iterable[str]) -> dict[str, int]:
    """Write ``dest/assignments/<a>/expected.json``: every value declared by a module-level
    :class:`~autograder.recorded.Recorded` that the modules shipped in ``dest/assignments/<a>/`` still define,
    computed from the kit's oracle (:meth:`Recorded.record`). Returns {assignment: number of values}; an
    assignment with nothing to record gets no file."""
    from autograder.recorded import RECORD_FILE, MissingRecord, Recorded

    counts = {}
    for a in assignments:
        folder = dest / "assignments" / a
        values: dict[str, object] = {}
        for path in sorted(folder.glob("*.py")):
            text = path.read_text()
            if "Recorded" not in text:
                continue
            kept = _top_level_names(text)
            module = parts.part(a, path.stem)
            for name, obj in vars(module).items() if module else ():
                if not (isinstance(obj, Recorded) and name in kept):
                    continue
                if obj.assignment != a:
                    raise ReleaseError(f"assignments/{a}/{path.name}: {name} records values of {obj.assignment}")
                try:
                    recorded = obj.record()
                except MissingRecord as exc:
                    raise ReleaseError(f"assignments/{a}/{path.name}: {name}: {exc}") from None
                for key, value in recorded.items():
                    if key in values and values[key] != value:
                        raise ReleaseError(f"assignments/{a}: two different expected values are named {key!r}")
                    values[key] = value
        if values:
            (folder / RECORD_FILE).write_text(json.dumps(values, sort_keys=True) + "\n")
        counts[a] = len(values)
    return counts


#: Run in a bundle (its folder first on sys.path, no oracle there): reads every declared expected value.
_READ_RECORDED = """
import importlib, json, pathlib, sys
root = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(root))
from autograder.recorded import Recorded
problems = []
for a in json.loads(sys.argv[2]):
    for path in sorted((root / "assignments" / a).glob("*.py")):
        if "Recorded" not in path.read_text():
            continue
        module = importlib.import_module(f"assignments.{a}.{path.stem}")
        for name, obj in vars(module).items():
            if isinstance(obj, Recorded):
                for key in obj.computations:
                    try:
                        obj[key]
                    except Exception as exc:
                        problems.append(f"assignments/{a}/{path.name}: {name}[{key!r}]: {exc}")
print(json.dumps(problems))
"""


def verify_recorded(folder: Path, assignments: Iterable[str]) -> None:
    """In the bundle ``folder`` (no oracle), every expected value its modules declare is read from its file."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="neurograde-recorded-") as cwd:
        proc = subprocess.run([sys.executable, "-I", "-B", "-c", _READ_RECORDED, str(folder),
                               json.dumps(list(assignments))], capture_output=True, text=True, cwd=cwd, timeout=600,
                              env={"PATH": "/usr/bin:/bin", "HOME": cwd, "MPLCONFIGDIR": cwd, "MPLBACKEND": "Agg"})
    try:
        problems = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ReleaseError(f"{folder}: its modules could not be imported to read the expected values:\n"
                           f"{proc.stderr[-2000:]}") from None
    if problems:
        raise ReleaseError(f"{folder}: expected values that cannot be read:\n  " + "\n  ".join(problems))


# -- zips -----------------------------------------------------------------------------------------------------

def write_zip(folder: Path, zip_path: Path) -> Path:
    """Zip the contents of ``folder`` (not the folder itself) with fixed dates and sorted members; executable
    files stay executable."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, path.read_bytes())
    return zip_path


def unzip(zip_path: Path, dest: Path) -> Path:
    """Extract a zip made by :func:`write_zip`, restoring the executable bits."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = dest / info.filename
            zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
    return dest


# -- the leak scan --------------------------------------------------------------------------------------------

def _normal_lines(text: str) -> list[str]:
    """Lines stripped of indentation and trailing comments' whitespace, blank and comment-only lines dropped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def solution_regions(source: str) -> list[list[str]]:
    """The lines of each solution region of a reference file."""
    regions, current = [], None
    for line in source.splitlines():
        if BEGIN.match(line):
            current = []
        elif END.match(line):
            regions.append(current or [])
            current = None
        elif current is not None:
            current.append(line)
    return regions


def reference_fingerprints(reference: str) -> list[tuple[str, ...]]:
    """Windows of solution code whose appearance anywhere outside reference/ means the solution leaked: every
    LEAK_WINDOW consecutive code lines of a region, or a whole shorter region when it is long enough to be
    specific."""
    prints = []
    for region in solution_regions(reference):
        lines = _normal_lines("\n".join(region))
        if len(lines) >= LEAK_WINDOW:
            prints += [tuple(lines[i:i + LEAK_WINDOW]) for i in range(len(lines) - LEAK_WINDOW + 1)]
        elif lines and sum(map(len, lines)) >= MIN_LEAK_CHARS:
            prints.append(tuple(lines))
    return prints


def _bodies(source: str) -> Mapping[str, frozenset[str]]:
    """{function or method name: ast dumps of its bodies} of a Python source (empty when it does not parse)."""
    return _bodies_of(source)


@functools.lru_cache(maxsize=8192)
def _bodies_of(source: str) -> Mapping[str, frozenset[str]]:
    # Cached by text: a release scans the same engine files in every target and zip (about 2,600 parses of ~250
    # distinct texts), and parsing and dumping them was a third of `make release`.
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return types.MappingProxyType({})
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]  # the docstring is public: stubs keep it
            out.setdefault(node.name, set()).add(ast.dump(ast.Module(body=body, type_ignores=[])))
    return types.MappingProxyType({name: frozenset(found) for name, found in out.items()})


def shipped_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every text a folder or zip ships: zips are opened, notebooks read cell by cell."""
    if path.is_dir():
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            yield from _texts_of(str(p.relative_to(path)), p.read_bytes())
    else:
        yield from _texts_of(path.name, path.read_bytes())


def _texts_of(name: str, data: bytes) -> Iterator[tuple[str, str]]:
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield from _texts_of(f"{name}!{info.filename}", zf.read(info))
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    yield name, text
    if name.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
        except ValueError:
            return
        for i, cell in enumerate(cells):
            src = cell.get("source", "")
            yield f"{name}#cell{i}", "".join(src) if isinstance(src, list) else src


@dataclass(frozen=True)
class _LeakIndex:
    fingerprints: dict            # window of solution lines -> assignment
    ref_bodies: dict              # function name -> ast dumps of reference bodies holding a solution
    hidden: dict                  # hidden check id -> (title, ast dumps of its body)


def _leak_index(release: Release) -> _LeakIndex:
    """What a shipped text is compared with, from the release's references and checks (as they are now: the key
    holds their texts, so an edited file is indexed again)."""
    return _leak_index_of(tuple((a, release.reference(a), release.checks_file(a).read_text(),
                                 tuple(release.hidden_ids(a))) for a in release.assignments))


@functools.lru_cache(maxsize=8)
def _leak_index_of(sources: tuple[tuple[str, str, str, tuple[str, ...]], ...]) -> _LeakIndex:
    fingerprints, ref_bodies, hidden = {}, {}, {}
    for a, reference, source, hidden_ids in sources:
        for fp in reference_fingerprints(reference):
            fingerprints[fp] = a
        markers = [n for n, line in enumerate(reference.splitlines(), start=1) if BEGIN.match(line)]
        solved = {n.name for n in ast.walk(ast.parse(reference))
                  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and any(n.lineno <= m <= n.end_lineno for m in markers)}
        for name, bodies in _bodies(reference).items():
            if name in solved:
                ref_bodies.setdefault(name, set()).update(bodies)
        bodies = _bodies(source)
        docs = {n.name: (ast.get_docstring(n) or "").strip() for n in ast.parse(source).body
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for cid in hidden_ids:
            title = docs.get(cid, "").splitlines()[:1]
            hidden[cid] = (title[0] if title else "", bodies.get(cid, frozenset()))
    return _LeakIndex(fingerprints, ref_bodies, hidden)


def find_leaks(path: Path, release: Release, *, hidden_allowed: bool = False,
               implementations: bool | None = None) -> list[str]:
    """Everything in ``path`` (folder or zip) that should not be there: the solution markers, windows of
    reference solution code, a function body equal to a reference body that holds a solution, and, unless
    ``hidden_allowed`` (what only graders get), any hidden check (its id, its title, or its body), the oracle or
    a use of it, and (``implementations``, by default where hidden checks are not allowed) any function that
    computes an exercise's answer."""
    index = _leak_index(release)
    fingerprints = index.fingerprints
    sizes = {len(fp) for fp in fingerprints}
    hidden = {} if hidden_allowed else index.hidden
    problems = []
    for name, text in shipped_texts(path):
        if "BEGIN SOLUTION" in text or "END SOLUTION" in text:
            problems.append(f"{name}: holds a solution marker (BEGIN/END SOLUTION)")
        lines = _normal_lines(text)
        if fingerprints and lines:
            windows = {tuple(lines[i:i + k]) for k in sizes for i in range(len(lines) - k + 1)}
            for fp in fingerprints.keys() & windows:
                problems.append(f"{name}: holds reference code of {fingerprints[fp]}.py: {' / '.join(fp)[:120]}")
        bodies = _bodies(text) if name.endswith(".py") or "#cell" in name else {}
        for fname, found in bodies.items():
            if found & index.ref_bodies.get(fname, set()):
                problems.append(f"{name}: function {fname} has the reference solution's body")
        for cid, (title, hidden_bodies) in hidden.items():
            if cid in text:
                problems.append(f"{name}: names the hidden check {cid}")
            if title and title in text:
                problems.append(f"{name}: holds the title of the hidden check {cid}: {title!r}")
            if any(found & hidden_bodies for found in bodies.values()):
                problems.append(f"{name}: holds the body of the hidden check {cid}")
    if not hidden_allowed:
        problems += oracle_problems(path)
    if implementations if implementations is not None else not hidden_allowed:
        problems += implementation_problems(path, release)
    return sorted(set(problems))


def _engine_file(name: str) -> bool:
    """A file of the grading engine (autograder/...), as opposed to an assignment's modules or a loose file."""
    return "autograder" in re.split(r"[/!]", name)[:-1]


def oracle_problems(path: Path) -> list[str]:
    """An oracle file, or a Python text of an assignment (or a notebook cell) that imports or uses the oracle."""
    problems = []
    for name, text in shipped_texts(path):
        if re.search(rf"(^|[/!]){prune.ORACLE}\.py$", name):
            problems.append(f"{name}: the oracle (it implements the exercises) must not ship to students")
            continue
        if _engine_file(name) or not (name.endswith(".py") or "#cell" in name):
            continue
        try:
            lines = prune.oracle_uses(text)
        except (SyntaxError, ValueError):
            continue
        if lines:
            problems.append(f"{name}: imports or uses the oracle (line {', '.join(map(str, lines[:5]))}); students "
                            "get recorded values instead (autograder.recorded)")
    return problems


def _materialized(path: Path, tmp: Path) -> Path:
    """A folder holding the Python files of ``path`` (a folder as it is; a zip unpacked; a file copied)."""
    if path.is_dir():
        return path
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            zf.extractall(tmp)
        return tmp
    shutil.copyfile(path, tmp / path.name)
    return tmp


def implementation_problems(path: Path, release: Release) -> list[str]:
    """Functions shipped in ``path`` that compute an exercise's answer (:mod:`autograder.release.leakprobe`), and
    exercises the probe has no case for."""
    import tempfile

    problems = []
    cases = []
    for a in release.assignments:
        reference = release.reference(a)
        problems += [f"{a}: the leak probe has no case for the exercise {e} (add one to "
                     f"assignments/{a}/leakcases.py, or say in its NOT_PROBED why nothing can be copied from it)"
                     for e in leakprobe.unprobed(a, reference)]
        cases += leakprobe.cases_for(a, reference)
    with tempfile.TemporaryDirectory(prefix="neurograde-leakscan-") as tmp:
        folder = _materialized(path, Path(tmp))
        try:
            findings, broken = leakprobe.scan(folder, cases, fallback=release.kit)
        except RuntimeError as exc:
            raise ReleaseError(str(exc)) from None
    seen = {}
    for f in findings:
        seen.setdefault((f["module"], f["function"], f["assignment"], f["exercise"]), []).append(
            f"{f['result']}, called {f['call']}")
    for (module, function, a, exercise), how in sorted(seen.items()):
        finding = f"{module}.{function} computes what {a}'s exercise {exercise} must return"
        accepted = leakprobe.accepted(a).get(f"{module}.{function}")
        if accepted:
            note = f"leak probe: {finding}; accepted: {accepted}"
            if note not in release.notes:  # the same for every scan of the same module
                release.notes.append(note)
        else:
            problems.append(f"{path.name}: {finding} ({'; '.join(dict.fromkeys(how))}): an implementation of "
                            "the exercise")
    problems += [f"{path.name}: {b} (cannot be probed for implementations)" for b in broken
                 if not b.startswith("autograder.")]
    return problems


def assert_no_leaks(path: Path, release: Release, *, hidden_allowed: bool = False) -> None:
    """Stop the release when :func:`find_leaks` finds anything."""
    if problems := find_leaks(path, release, hidden_allowed=hidden_allowed):
        raise ReleaseError(f"{path} must not ship:\n  " + "\n  ".join(problems[:40]))
