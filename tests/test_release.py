"""`make release`: the student bundle and the Gradescope autograders, proven end to end from what dist/ holds.

The release is built once per session (tests/release_support.py). The student zip is unpacked into an empty
folder and graded there with its own Makefile; each Gradescope zip is unpacked into a simulated /autograder
layout (the root given by AUTOGRADER_ROOT) and its run_autograder runs on the reference, the stubs, a submission
that crashes and a grader that dies. Every results.json is validated against the schema.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml

from autograder import assignment as parts
from autograder import config as cfg
from autograder import wire
from autograder.cli import QUIET_GRADE_FLAGS, build_parser
from autograder.limits import why_no_drop
from autograder.recorded import RECORD_FILE, Recorded
from autograder.release import gradescope, leakprobe, prune
from autograder.release.common import (Release, ReleaseError, check_functions, cut_functions, find_leaks,
                                       implementation_problems, oracle_problems, reduced_grading, unzip,
                                       verify_recorded)
from autograder.release.measure import measure
from autograder.stubs import make_stub
from tests.conftest import KIT_ROOT
from tests.release_support import built_dist, validate

CONFIG = cfg.load()
RELEASE = Release.load(dist=Path("unused"))
ASSIGNMENTS = RELEASE.assignments
ZIPS = list(gradescope.targets(RELEASE))
#: Gradescope's default autograder container: 768 MB of memory and half a CPU.
GRADESCOPE_MEMORY_MB = 768
#: Gradescope's default autograder timeout (10 minutes); with half a CPU, wall time is about 2 x CPU time.
GRADESCOPE_TIMEOUT_S = 600
#: Crashes the interpreter at import: the worker dies of SIGSEGV before any check runs.
CRASH = "import ctypes\nctypes.string_at(0)\n"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    return built_dist(tmp_path_factory, "student", "gradescope")


def total_points(assignments: list[str]) -> float:
    return sum(CONFIG.assignments[a].total_points for a in assignments)


# -- the steps' building blocks ---------------------------------------------------------------------------------

def test_cut_functions_removes_decorated_functions_and_keeps_the_rest():
    source = ("import x\n\n\n# about f\n@deco\n@deco2(1)\ndef test_f(a):\n    return 1\n\n\n"
              "def _helper():\n    pass\n\n\ndef test_g():\n    '''doc'''\n")
    out = cut_functions(source, ["test_f"])
    assert "test_f" not in out and "deco" not in out and "about f" not in out
    assert "def _helper():" in out and "def test_g():" in out and out.startswith("import x\n")
    assert check_functions(out) == ["test_g"]


def test_reduced_grading_keeps_visible_checks_with_their_total():
    raw = yaml.safe_load((KIT_ROOT / "grading.yml").read_text())
    reduced = reduced_grading(raw, ASSIGNMENTS, keep_hidden=False)
    config = cfg.parse(reduced)
    for a in ASSIGNMENTS:
        visible = [c for c in CONFIG.assignments[a].checks() if not c.hidden]
        assert [c.id for c in config.assignments[a].checks()] == [c.id for c in visible]
        assert config.assignments[a].total_points == sum(c.points for c in visible)


def test_leak_scan_finds_reference_code_and_hidden_checks(tmp_path):
    """The scan itself works: a folder holding the reference or a hidden check is caught."""
    for a in ASSIGNMENTS:
        (tmp_path / "ref").mkdir(exist_ok=True)
        (tmp_path / "ref" / f"{a}.py").write_text(make_stub(RELEASE.reference(a)) + "\n"
                                                  + RELEASE.reference(a).replace("### BEGIN SOLUTION", "")
                                                  .replace("### END SOLUTION", ""))
        assert any("reference" in p for p in find_leaks(tmp_path / "ref", RELEASE, implementations=False)), a
        if RELEASE.hidden_ids(a):
            (tmp_path / "checks.py").write_text(RELEASE.checks_file(a).read_text())
            problems = find_leaks(tmp_path / "checks.py", RELEASE, implementations=False)
            assert any("hidden check" in p for p in problems), a


def test_the_quiet_grade_flags_are_options_of_grade():
    args = build_parser().parse_args(["grade", *QUIET_GRADE_FLAGS])
    assert args.command == "grade" and QUIET_GRADE_FLAGS


# -- what students get of a checks file: no hidden check, no helper only hidden checks used, no oracle -------------

CHECKS = '''"""Checks."""
import numpy as np

from assignments.demo import oracle
from assignments.demo.mistakes import NAMED

#: seeds of the hidden check only
_HIDDEN_SEEDS = (0, 1)
_TOLERANCE = 1e-6
PUBLIC_HINT = "public names stay"

EXPECTED = Recorded("demo", {"path": lambda oracle: oracle.path(_data())})


def _data():
    return np.arange(3.0)


# the oracle's replay, used by the hidden check only
def _replay(x):
    return oracle.replay(x) + _HIDDEN_SEEDS[0]


def _close(a, b):
    return abs(a - b) < _TOLERANCE


@pytest.mark.slow
def test_visible(student):
    """Title."""
    assert _close(student.f(_data()), EXPECTED["path"])


def test_hidden(student):
    assert _close(student.f(1), _replay(1))
'''


def test_pruning_cuts_hidden_checks_their_helpers_and_the_unused_oracle_import():
    out = prune.prune_checks(CHECKS, ["test_hidden"])
    assert check_functions(out) == ["test_visible"] and "@pytest.mark.slow" in out
    for gone in ("test_hidden", "_replay", "_HIDDEN_SEEDS", "seeds of the hidden check", "the oracle's replay",
                 "from assignments.demo import oracle"):
        assert gone not in out, gone
    for kept in ("def _data", "def _close", "_TOLERANCE = 1e-6", "PUBLIC_HINT", "EXPECTED = Recorded",
                 "from assignments.demo.mistakes import NAMED", '"""Checks."""'):
        assert kept in out, kept
    assert prune.oracle_uses(out) == [] and prune.unreachable_helpers(out) == []
    assert prune.oracle_uses(CHECKS) == [4, 21]     # the import and the hidden helper's call; not the lambda
    # a helper that visible code still reaches keeps the oracle import, and the release refuses it
    still = prune.prune_checks(CHECKS.replace("_close(student.f(_data()), EXPECTED[\"path\"])",
                                              "_close(student.f(_data()), _replay(0))"), ["test_hidden"])
    assert "from assignments.demo import oracle" in still and prune.oracle_uses(still)


def test_pruning_keeps_helpers_another_shipped_module_imports():
    out = prune.prune_checks(CHECKS, ["test_hidden"], keep={"_replay"})
    assert "def _replay" in out and "_HIDDEN_SEEDS = (0, 1)" in out and "import oracle" in out


def test_an_oracle_file_or_an_oracle_import_is_a_leak_where_students_get_it(tmp_path):
    folder = tmp_path / "bundle" / "assignments" / "demo"
    folder.mkdir(parents=True)
    (folder / "oracle.py").write_text("def f():\n    return 1\n")
    (folder / "feedback.py").write_text("from assignments.demo import oracle\n\n\ndef g():\n    return oracle.f()\n")
    (folder / "checks.py").write_text("import importlib\nORACLE = importlib.import_module('assignments.demo.oracle')\n")
    (folder / "mistakes.py").write_text("E = {'k': lambda oracle: oracle.f()}\n")
    problems = oracle_problems(tmp_path / "bundle")
    assert len(problems) == 3 and not any("mistakes.py" in p for p in problems), problems
    assert any("oracle.py: the oracle" in p for p in problems)
    assert any("feedback.py: imports or uses the oracle (line 1, 5)" in p for p in problems), problems


# -- the leak scan: no implementation of an exercise ---------------------------------------------------------------

def test_the_leak_probe_has_a_case_or_a_reason_for_every_exercise():
    for a in ASSIGNMENTS:
        exercises = leakprobe.solved_exercises(RELEASE.reference(a))
        assert exercises and leakprobe.unprobed(a, RELEASE.reference(a)) == [], a
        probed = {c.exercise for c in leakprobe.cases_for(a, RELEASE.reference(a))}
        assert probed | set(leakprobe.not_probed(a)) == set(exercises), a
        assert not probed & set(leakprobe.not_probed(a)), a


def test_every_accepted_oracle_is_in_the_kit_with_a_reason():
    for a in ASSIGNMENTS:
        for qualified, why in leakprobe.accepted(a).items():
            names = qualified.split(".")
            for n in range(len(names) - 1, 0, -1):  # the longest prefix that is a file of the kit
                path = KIT_ROOT.joinpath(*names[:n]).with_suffix(".py")
                if path.is_file():
                    break
            *classes, function = names[n:]
            text = path.read_text()
            assert f"def {function}(" in text and all(f"class {c}" in text for c in classes), qualified
            assert why.strip(), qualified


#: What a student would copy out of a bundle: backprop's backward (the delta recursion) as a function, the
#: linear neuron's 1-D update step, and the same step with other parameter names (found positionally); next to
#: them, helpers that compute nothing an exercise returns.
PLANTED = '''
import numpy as np


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _grads(params, X, y):
    L = len(params) // 2
    acts = [X]
    for l in range(1, L + 1):
        acts.append(_sig(acts[-1] @ params[f"W{l}"] + params[f"b{l}"]))
    delta = 2.0 * (acts[-1] - y) / acts[-1].size * acts[-1] * (1 - acts[-1])
    out = {}
    for l in range(L, 0, -1):
        out[f"dW{l}"] = acts[l - 1].T @ delta
        out[f"db{l}"] = delta.sum(axis=0, keepdims=True)
        if l > 1:
            delta = delta @ params[f"W{l}"].T * acts[l - 1] * (1 - acts[l - 1])
    return out


def step_1d(x, y, a, b, lr):
    err = a * x + b - y
    return a - lr * np.mean(err * x), b - lr * np.mean(err)


def renamed(p, q, r, s, t, k):
    for _ in range(k):
        e = r * p + s - q
        r, s = r - t * np.mean(e * p), s - t * np.mean(e)
    return {"slope": r, "intercept": s}


def shape_of(X):
    return X.shape


def identity(x, y):
    return x, y


def mean_target(y):
    return float(np.mean(y))


class Replay:
    """A helper object: its methods are probed too."""

    def loss_gradient(self, y_true, y_pred):
        return 2.0 * (y_pred - y_true) / y_true.size

    def bce(self, y_true, y_pred):
        p = np.clip(y_pred, 1e-12, 1 - 1e-12)
        return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))
'''


def _planted_bundle(root: Path) -> Path:
    """A bundle whose assignments.demo.helpers holds PLANTED; returns the module's folder."""
    folder = root / "assignments" / "demo"
    folder.mkdir(parents=True)
    (root / "assignments" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    (folder / "helpers.py").write_text(PLANTED)
    return folder


def _zipped(root: Path, zipped: Path) -> Path:
    """``root``'s Python files in a zip, at the same relative paths."""
    with zipfile.ZipFile(zipped, "w") as zf:
        for path in root.rglob("*.py"):
            zf.write(path, path.relative_to(root).as_posix())
    return zipped


def test_the_leak_scan_catches_a_planted_copy_of_backward_and_of_an_update_step(tmp_path):
    folder = _planted_bundle(tmp_path / "bundle")
    problems = implementation_problems(tmp_path / "bundle", RELEASE)
    text = "\n".join(problems)
    assert "assignments.demo.helpers._grads computes what backprop's exercise NeuralNetworkScratch.backward" in text
    assert "assignments.demo.helpers.step_1d computes what linear_neuron's exercise LinearNeuron1D.fit" in text
    assert "assignments.demo.helpers.renamed computes what linear_neuron's exercise LinearNeuron1D.fit" in text
    assert "helpers._sig computes what backprop's exercise sigmoid" in text
    assert "helpers.Replay.bce computes what backprop's exercise bce_loss" in text
    assert "Replay.loss_gradient" not in text
    for innocent in ("shape_of", "identity", "mean_target"):
        assert f"helpers.{innocent} " not in text, problems
    # the same module in a zip; and what only graders get is not probed
    zipped = _zipped(tmp_path / "bundle", tmp_path / "bundle.zip")
    assert any("_grads computes" in p for p in find_leaks(zipped, RELEASE))
    assert not any("computes" in p for p in find_leaks(zipped, RELEASE, hidden_allowed=True))

def test_the_leak_scan_probes_each_distinct_content_once_and_sees_every_change(tmp_path, monkeypatch):
    """A release scans the same code several times (a folder, then its zip): one probe per distinct content, and
    a changed file is probed again."""
    runs = []
    monkeypatch.setattr(leakprobe, "_SCANNED", {})  # other tests of this process scanned the same code
    real_run = leakprobe.subprocess.run
    def counted(cmd, *args, **kwargs):
        if str(leakprobe.RUNNER) in cmd:  # (subprocess also serves the sandbox's own detection)
            runs.append(cmd)
        return real_run(cmd, *args, **kwargs)
    monkeypatch.setattr(leakprobe.subprocess, "run", counted)
    folder = _planted_bundle(tmp_path / "bundle")
    first = implementation_problems(tmp_path / "bundle", RELEASE)
    assert any("helpers._sig computes" in p for p in first) and len(runs) == 1
    zipped = _zipped(tmp_path / "bundle", tmp_path / "bundle.zip")
    findings = lambda problems: [p.split(": ", 1)[1] for p in problems]  # noqa: E731 (each names its folder)
    assert findings(implementation_problems(zipped, RELEASE)) == findings(first) and len(runs) == 1
    (folder / "helpers.py").write_text(PLANTED.replace("def _sig(", "def _sig_renamed("))
    changed = implementation_problems(tmp_path / "bundle", RELEASE)
    assert len(runs) == 2 and any("helpers._sig_renamed computes" in p for p in changed)
    assert not any("helpers._sig computes" in p for p in changed)


# -- the student bundle --------------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_student_bundle_and_zip_hold_no_reference_and_no_hidden_check(dist):
    folder = dist / "student"
    assert not (folder / "reference").exists() and not (folder / "tests").exists()
    assert not list(folder.rglob("stubs.py")) and not list(folder.rglob("release"))
    assert find_leaks(folder, RELEASE) == []
    assert find_leaks(dist / "student.zip", RELEASE) == []
    for a in ASSIGNMENTS:
        shipped = check_functions((folder / "assignments" / a / "checks.py").read_text())
        # Every visible check ships, and nothing else (grading order is grading.yml's, not the file's).
        assert sorted(shipped) == sorted(c.id for c in CONFIG.assignments[a].checks() if not c.hidden), a


@pytest.mark.e2e
def test_student_bundle_has_no_oracle_and_no_helper_only_hidden_checks_used(dist):
    folder = dist / "student"
    assert not list(folder.rglob("oracle.py")) and not list(folder.rglob("bugzoo.py"))
    assert oracle_problems(folder) == []
    for a in ASSIGNMENTS:
        text = (folder / "assignments" / a / "checks.py").read_text()
        assert prune.unreachable_helpers(text) == [], a
        assert prune.oracle_uses(text) == [], a
        kit = prune.unreachable_helpers(prune.cut_functions(RELEASE.checks_file(a).read_text(),
                                                            RELEASE.hidden_ids(a)))
        assert not any(f"def {name}(" in text or f"\n{name} =" in text for name in kit), a


def _kit_recorded(a: str, bundle: Path) -> dict[str, Recorded]:
    """{"module.NAME": instance} of the Recorded values the kit's modules of ``a`` define at module level and the
    bundle's copies of them still define."""
    found = {}
    for path in sorted((bundle / "assignments" / a).glob("*.py")):
        if "Recorded" in path.read_text():
            kept = {t.id for node in ast.parse(path.read_text()).body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
            module = parts.part(a, path.stem)
            found |= {f"{path.stem}.{n}": v for n, v in vars(module).items() if isinstance(v, Recorded) and n in kept}
    return found


@pytest.mark.e2e
def test_student_bundle_records_the_oracles_expected_values(dist):
    """Every value a shipped module declares with Recorded is in the bundle's expected.json, as the kit's oracle
    computes it (and the file holds nothing else)."""
    for a in ASSIGNMENTS:
        path = dist / "student" / "assignments" / a / RECORD_FILE
        declared = _kit_recorded(a, dist / "student")
        if not declared:
            assert not path.exists(), a
            continue
        recorded = json.loads(path.read_text())
        computed = {}
        for instance in declared.values():
            computed |= json.loads(json.dumps(instance.record()))
        assert recorded == computed, a
        for key, value in recorded.items():
            wire.decode(value)   # data the bundle's engine reads back


def test_a_kit_whose_expected_values_do_not_all_read_from_its_file_is_refused(tmp_path):
    """verify_recorded, run on the student bundle and on the engine beside each nbgrader and otter notebook, refuses
    an engine without an oracle where a declared expected value is missing from expected.json (students' visible
    check would stop with MissingRecord), and accepts it once the file holds every value."""
    shutil.copytree(KIT_ROOT / "autograder", tmp_path / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    demo = tmp_path / "assignments" / "demo"
    demo.mkdir(parents=True)
    (demo / "checks.py").write_text("from autograder.recorded import Recorded\n\n"
                                    "EXPECTED = Recorded('demo', {'path': lambda o: o.path(), "
                                    "'loss': lambda o: o.loss()})\n")
    (demo / RECORD_FILE).write_text(json.dumps({"path": wire.encode([1.0, 2.0])}))
    with pytest.raises(ReleaseError, match=r"checks.py: EXPECTED\['loss'\].*no value 'loss'"):
        verify_recorded(tmp_path, ["demo"])
    (demo / RECORD_FILE).write_text(json.dumps({"path": wire.encode([1.0, 2.0]), "loss": 0.5}))
    verify_recorded(tmp_path, ["demo"])


@pytest.mark.e2e
def test_student_zip_holds_the_bundle(dist):
    with zipfile.ZipFile(dist / "student.zip") as zf:
        names = set(zf.namelist())
    on_disk = {p.relative_to(dist / "student").as_posix() for p in (dist / "student").rglob("*") if p.is_file()}
    assert names == on_disk
    assert {"Makefile", "README.md", "grading.yml", "requirements.txt"} <= names
    assert {f"student_template/{a}.py" for a in ASSIGNMENTS} <= names


def make_grade(folder: Path, *extra: str) -> subprocess.CompletedProcess:
    """`make grade` in an unpacked bundle, with this interpreter standing in for the .venv it would create."""
    return subprocess.run(["make", "--no-print-directory", "grade", f"PY={sys.executable}", "VENV_READY=", *extra],
                          cwd=folder, capture_output=True, text=True, timeout=600)


@pytest.mark.e2e
def test_make_grade_in_the_unpacked_student_zip_gives_the_stub_table(dist, tmp_path):
    folder = unzip(dist / "student.zip", tmp_path / "fresh")
    proc = make_grade(folder)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Not implemented yet" in proc.stdout and "Total" in proc.stdout
    doc = json.loads((folder / "results" / "results.json").read_text())
    validate(doc)
    visible = [c for a in ASSIGNMENTS for c in CONFIG.assignments[a].checks() if not c.hidden]
    assert len(doc["tests"]) == len(visible) and doc["score"] == 0
    assert all(t["visibility"] == "visible" for t in doc["tests"])


@pytest.mark.e2e
def test_reference_scores_every_visible_point_in_the_student_bundle(dist, tmp_path):
    folder = unzip(dist / "student.zip", tmp_path / "fresh")
    shutil.copytree(KIT_ROOT / "reference", tmp_path / "solution")
    proc = make_grade(folder, f"SUBMISSION={tmp_path / 'solution'}")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads((folder / "results" / "results.json").read_text())
    validate(doc)
    visible = sum(c.points for a in ASSIGNMENTS for c in CONFIG.assignments[a].checks() if not c.hidden)
    assert doc["score"] == pytest.approx(visible), [t["name"] for t in doc["tests"] if t["score"] < t["max_score"]]


#: Run with a grader's folder first on sys.path (the kit, or an unpacked student bundle): judges each submission
#: in-process with that folder's engine, grading.yml and visible checks (of one exercise, when given); prints
#: {submission: {check: passed}}.
_VISIBLE_VERDICTS = """
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(root))
from autograder import config as cfg, inprocess, pipeline
from autograder.feedback import FeedbackSession
from autograder.progress import Progress
config = cfg.load(root / "grading.yml", code=root / "assignments")
out = {}
for key, (assignment, exercise, folder) in json.loads(pathlib.Path(sys.argv[2]).read_text()).items():
    only = None if exercise is None else (lambda c, e=exercise: c.exercise == e)
    plans = pipeline.select(config, [assignment], with_hidden=False, only=only)
    results = pipeline.run(plans, pathlib.Path(folder), workers=inprocess.workers,
                           feedback=FeedbackSession(enabled=False), progress=Progress(None))
    out[key] = {getattr(r, "check_id", r.name): bool(r.passed) for r in results}
print(json.dumps(out))
"""


def visible_verdicts(roots: list[Path], submissions: dict[str, tuple[str, str | None, str]],
                     tmp: Path) -> list[dict]:
    """The verdicts of each grader folder of ``roots``, judged at the same time (one process each)."""
    (tmp / "submissions.json").write_text(json.dumps(submissions))
    procs = [subprocess.Popen([sys.executable, "-I", "-B", "-c", _VISIBLE_VERDICTS, str(root),
                               str(tmp / "submissions.json")], cwd=tmp, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for root in roots]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=1800)
        assert proc.returncode == 0, stderr[-3000:]
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


@pytest.mark.e2e
def test_the_bundle_gives_the_kits_visible_verdicts_on_the_reference_stubs_and_every_zoo_variant(dist, tmp_path):
    """Issue 17's acceptance: the student bundle, without the oracle, judges every visible check as the kit does:
    on the reference and the stubs (every visible check), every bug-zoo mutant (the visible checks of its
    exercise) and every alternative (all of them), in-process: the same check code a sandboxed grading runs."""
    from autograder.zoo import build_source

    submissions = {}
    for a in ASSIGNMENTS:
        variants = {"reference": (None, RELEASE.reference(a)), "stub": (None, make_stub(RELEASE.reference(a)))}
        zoo = parts.part(a, "bugzoo")
        for variant in getattr(zoo, "MUTANTS", []):
            variants[variant.name] = (variant.exercise, build_source(a, variant))
        for variant in getattr(zoo, "ALTERNATIVES", []):
            variants[variant.name] = (None, build_source(a, variant))
        for name, (exercise, text) in variants.items():
            folder = tmp_path / "submissions" / a / name
            folder.mkdir(parents=True)
            (folder / f"{a}.py").write_text(text)
            submissions[f"{a}/{name}"] = (a, exercise, str(folder))
    bundle = unzip(dist / "student.zip", tmp_path / "bundle")
    kit, shipped = visible_verdicts([KIT_ROOT, bundle], submissions, tmp_path)
    assert kit.keys() == shipped.keys()
    differ = {k: {c: (kit[k][c], shipped[k].get(c)) for c in kit[k] if kit[k][c] != shipped[k].get(c)}
              for k in kit if kit[k] != shipped[k]}
    assert not differ, f"(kit, bundle) verdicts differ: {differ}"
    for a in ASSIGNMENTS:
        assert all(kit[f"{a}/reference"].values()) and not any(kit[f"{a}/stub"].values()), a


# -- Gradescope --------------------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_every_gradescope_zip_has_the_scripts_at_its_root_and_no_reference(dist):
    for name in ZIPS:
        path = dist / "gradescope" / f"{name}.zip"
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            setup = zf.read("setup.sh").decode()
        for script in ("setup.sh", "run_autograder"):
            assert script in infos, f"{name}.zip: {script} is not at the root"
            assert (infos[script].external_attr >> 16) & 0o111, f"{name}.zip: {script} is not executable"
        assert not any(n.startswith(("reference/", "tests/", "student_template/")) for n in infos)
        assert find_leaks(path, RELEASE, hidden_allowed=True) == []
        assert "download.pytorch.org/whl/cpu" in setup and "cu1" not in setup
        assert subprocess.run(["bash", "-n", "-c", setup]).returncode == 0


def gradescope_layout(dist: Path, name: str, root: Path, files: dict[str, str]) -> Path:
    """/autograder as Gradescope lays it out: source/ (the zip), run_autograder copied to the root, submission/."""
    unzip(dist / "gradescope" / f"{name}.zip", root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    for fname, text in files.items():
        (root / "submission" / fname).write_text(text)
    return root


def run_autograder(root: Path, python: str = sys.executable) -> tuple[dict, subprocess.CompletedProcess]:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "NEUROGRADE_PYTHON": python}
    proc = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((root / "results" / "results.json").read_text())
    validate(doc)
    return doc, proc


def submission_files(kind: str, assignments: list[str]) -> dict[str, str]:
    if kind == "reference":
        return {f"{a}.py": RELEASE.reference(a) for a in assignments}
    if kind == "stubs":
        return {f"{a}.py": make_stub(RELEASE.reference(a)) for a in assignments}
    return {f"{a}.py": CRASH for a in assignments}


@pytest.mark.e2e
@pytest.mark.parametrize("name", [n for n in ZIPS if n != gradescope.KIT_ZIP])
def test_gradescope_reference_scores_full_marks(dist, tmp_path, name):
    assignments = gradescope.targets(RELEASE)[name]
    files = {**submission_files("reference", assignments), "notes.txt": "not graded", "conftest.py": "raise SystemExit"}
    root = gradescope_layout(dist, name, tmp_path / "autograder", files)
    doc, proc = run_autograder(root)
    assert doc["score"] == pytest.approx(total_points(assignments)), proc.stdout[-3000:]
    assert sum(t["max_score"] for t in doc["tests"]) == pytest.approx(total_points(assignments))
    assert {t["tags"][0] for t in doc["tests"]} == set(assignments)
    assert any(t["visibility"] != "visible" for t in doc["tests"]) == any(RELEASE.hidden_ids(a) for a in assignments)


def zero_cases() -> list[tuple[str, str]]:
    """(zip, submission kind) pairs that must score 0: each assignment's zip with its stub and with a crash; the
    kit's zip once, with stubs and crashing files mixed (each kind already ran through every assignment)."""
    cases = [(name, kind) for name in ZIPS if name != gradescope.KIT_ZIP for kind in ("stubs", "crash")]
    return cases + [(gradescope.KIT_ZIP, "mixed")]


@pytest.mark.e2e
@pytest.mark.parametrize("name, kind", zero_cases())
def test_gradescope_stubs_and_crashes_score_zero(dist, tmp_path, name, kind):
    assignments = gradescope.targets(RELEASE)[name]
    if kind == "mixed":
        files = {f"{a}.py": (submission_files("stubs", [a]) if i % 2 else submission_files("crash", [a]))[f"{a}.py"]
                 for i, a in enumerate(assignments)}
    else:
        files = submission_files(kind, assignments)
    root = gradescope_layout(dist, name, tmp_path / "autograder", files)
    doc, _ = run_autograder(root)
    assert doc["score"] == 0
    assert sum(t["max_score"] for t in doc["tests"]) == pytest.approx(total_points(assignments))
    for t in doc["tests"]:
        if files[f"{t['tags'][0]}.py"] == CRASH:
            assert "killed by signal" in t["output"] or "could not be imported" in t["output"], t["output"]
        else:
            assert t["output"], t


@pytest.mark.e2e
def test_gradescope_finds_files_in_a_subfolder_and_ignores_symlinks(dist, tmp_path):
    a = ASSIGNMENTS[0]
    root = gradescope_layout(dist, a, tmp_path / "autograder", {})
    (root / "submission" / "my_project").mkdir()
    (root / "submission" / "my_project" / f"{a}.py").write_text(CRASH)   # crashes at once: quick to grade
    doc, proc = run_autograder(root)
    assert "my_project" in proc.stdout and all("killed by signal" in t["output"] for t in doc["tests"])
    shutil.rmtree(root / "results")
    shutil.rmtree(root / "submission" / "my_project")
    (root / "submission" / f"{a}.py").symlink_to(root / "source" / "assignments" / a / "checks.py")
    doc, _ = run_autograder(root)
    assert doc["score"] == 0 and all("missing" in t["output"] for t in doc["tests"])


@pytest.mark.e2e
def test_gradescope_writes_a_zero_with_a_message_when_the_grader_dies(dist, tmp_path):
    name = ZIPS[0]
    files = submission_files("reference", gradescope.targets(RELEASE)[name])
    root = gradescope_layout(dist, name, tmp_path / "interpreter", files)
    doc, proc = run_autograder(root, python="/bin/false")   # the interpreter itself fails
    assert doc["score"] == 0 and doc["tests"] == [] and "could not grade" in doc["output"]
    root = gradescope_layout(dist, name, tmp_path / "config", files)
    (root / "source" / "grading.yml").write_text("assignments: {bogus: 1}\n")   # the grader stops with an error
    doc, proc = run_autograder(root)
    assert doc["score"] == 0 and "exit status 3" in doc["output"], proc.stderr


#: Student code that lists the autograder's source and results folders at import, and fails if it can.
READ_PROBE = """

def _neurograde_try_to_read():
    import os
    for path in {paths!r}:
        try:
            os.listdir(path)
        except OSError:
            continue
        raise RuntimeError("student code could read " + path)


_neurograde_try_to_read()
"""


@pytest.mark.e2e
def test_whole_kit_reference_full_marks_private_checks_and_gradescope_limits(dist, request):
    """The kit's zip on the reference: full marks, measured. Where the sandbox can drop privileges (root, as on
    Gradescope), the reference also tries to list the autograder's source and results folders and would lose
    every point if it could. Peak memory of the whole process tree (proportional set size) stays under 768 MB;
    CPU time x 2 (half a CPU) under the default timeout. The numbers are printed for docs/instructors.md."""
    name = gradescope.KIT_ZIP
    assignments = gradescope.targets(RELEASE)[name]
    # Outside pytest's private (0700) tmp folders: only run_autograder's own permissions may keep students out.
    root = Path(tempfile.mkdtemp(prefix="neurograde-gs-test-"))
    root.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    drops = os.geteuid() == 0 and why_no_drop() is None
    probe = READ_PROBE.format(paths=(str(root / "source"), str(root / "results"))) if drops else ""
    gradescope_layout(dist, name, root, {f"{a}.py": RELEASE.reference(a) + probe for a in assignments})
    (root / "results").mkdir()
    for path in (root / "source", root / "results", *(root / "source").rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)   # readable to all until run_autograder locks it
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "NEUROGRADE_PYTHON": sys.executable}
    m = measure([str(root / "run_autograder")], env=env, cwd=str(root))
    print(f"whole-kit grading of the reference: {m}")
    assert m.exit_status == 0
    doc = json.loads((root / "results" / "results.json").read_text())
    validate(doc)
    assert doc["score"] == pytest.approx(total_points(assignments)), [
        t["output"] for t in doc["tests"] if t["score"] < t["max_score"]][:3]
    assert {t["tags"][0] for t in doc["tests"]} == set(assignments)
    if drops:
        assert "ran as root" not in doc["output"]
    assert m.peak_pss_mb < GRADESCOPE_MEMORY_MB, m
    assert 2 * m.cpu_s < GRADESCOPE_TIMEOUT_S, m
