"""Benchmark of grading (``make bench``): a measurement, not a test.

Prints one table: wall time and CPU time (of a run nobody watches) and peak memory (PSS of the whole process tree,
sampled in a second run: sampling slows what it samples) of grading the reference and the stubs per assignment and
for the whole kit with hidden checks (in cold boxes, as ``grade`` starts them, and the whole kit again through the
fork server, as grade-all's graders do); the floor, a bare process that imports the same libraries and runs each
reference function once on the same kind of data; and the throughput of bulk grading 50 mixed submissions with
--jobs 2, locally and on a local Dask cluster (unobserved runs too).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from autograder.config import assignment_names  # noqa: E402
from autograder.limits import THREAD_ENV  # noqa: E402

ASSIGNMENTS = assignment_names()

TARGET_WALL = 10.0
TARGET_FLOOR_RATIO = 1.3
TARGET_RSS_MB = 768
TARGET_PER_MINUTE = 90

FLOOR = r"""
import sys, numpy as np
sys.path.insert(0, "{reference}")
sys.path.insert(0, "{kit}")
from autograder import datasets
import sklearn.preprocessing, sklearn.linear_model, pandas
names = {names!r}
if "linear_neuron" in names:
    import linear_neuron as ln
    X, y, _ = datasets.abalone_features()
    ln.gradient_1d(X[:, 0], y, 0.1, 0.2)
    n1 = ln.LinearNeuron1D(); n1.fit(X[:, 0], y, lr=0.5, epochs=50)
    ln.critical_learning_rate(X[:, 0])
    n = ln.LinearNeuron(); n.fit(X, y, lr=0.1, epochs=50, mode="minibatch")
    Xh, yh, _ = datasets.house_features()
    tr, te = datasets.train_test_split_indices(len(yh))
    ln.train_house_model(Xh[tr], yh[tr], Xh[te], yh[te], epochs=200)
if "backprop" in names:
    import backprop as bp
    X, y = datasets.make_xor()
    bp.train_single_neuron(X, y, epochs=1000)
    net = bp.NeuralNetworkScratch([2, 4, 1]); net.train(X, y, epochs=2000)
    Xs, ys = datasets.make_spirals()
    Xs = (Xs - Xs.mean(0)) / Xs.std(0)
    mb = bp.NeuralNetworkMiniBatch([2, 16, 16, 1]); mb.train_minibatch(Xs, ys, epochs=300)
if "pytorch_basics" in names:
    import torch, pytorch_basics as pb
    X, y, _, _ = datasets.make_linear()
    Xt, yt = pb.to_tensors(X, y)
    pb.train_linear_model(Xt, yt, epochs=100)
    pb.train_with_loader(torch.nn.Linear(X.shape[1], 1), pb.make_loader(Xt, yt), epochs=10)
    pb.collapse_linear_stack(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    pb.fit_cubic(seed=0)
if "perceptron_adaline" in names:
    import perceptron_adaline as pa
    from sklearn.datasets import load_iris, make_regression
    iris = load_iris()
    X, y = iris.data[:100][:, [0, 2]], iris.target[:100]
    pa.Perceptron(2).train(X, y, epochs=10, shuffle=True)
    Xr, yr = make_regression(n_samples=1000, n_features=2, n_informative=2, noise=10, random_state=0)
    pa.normal_equation(Xr, yr); pa.gradient_descent_path(Xr, yr)
    pa.numerical_gradient(lambda w: float((w ** 3).sum()), np.ones((2, 3)))
    pa.Adaline(2).train((X - X.mean(0)) / X.std(0), y.astype(float), epochs=20, batch_size=7)
    pa.count_parameters([2, 3, 1]); pa.mnist_batch_shapes()
    pa.random_search(Xr, yr, n_trials=1000)
"""


def measure(cmd: list[str], cwd: Path = KIT, env: dict | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s of the process and its waited-for children, peak summed PSS MB of its tree), from two runs:
    the times from one nobody watches, the memory from another sampled every 20 ms. Reading a process's PSS walks
    its page tables under its memory lock, so sampling slows what it samples (by about a third for a class graded
    with --jobs 2: 24 a minute sampled, 35 unsampled)."""
    wall, cpu = timed(cmd, cwd, env)
    return wall, cpu, peak_pss_mb(cmd, cwd, env)


def timed(cmd: list[str], cwd: Path = KIT, env: dict | None = None) -> tuple[float, float]:
    """(wall s, CPU s of the process and its waited-for children) of one run, unobserved."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def peak_pss_mb(cmd: list[str], cwd: Path = KIT, env: dict | None = None) -> float:
    """Peak summed PSS (MB) of the process tree of one run, sampled every 20 ms."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.02)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    done.set()
    sampler.join()
    return peak[0] / 2**20


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
            fields = stat[stat.rfind(b")") + 2:].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += _pss(p, rss.get(p, 0))
        todo.extend(children.get(p, []))
    return total


def _pss(pid: int, rss: int) -> int:
    """The proportional set size of ``pid`` (pages shared with other processes split between them, as a
    container's memory limit sees them: the fork server's boxes share its libraries), else its RSS where PSS may
    not be read. A process whose memory map is gone or being torn down (a killed box exiting) counts 0: its RSS
    would count the pages it shares with the fork server once more for each such process (a whole-kit peak of
    about 1,300-1,500 MB instead of about 720 MB)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
        return 0  # an exiting process: smaps_rollup is there but empty
    except (FileNotFoundError, ProcessLookupError):
        return 0
    except (OSError, ValueError, IndexError):
        pass
    return rss


def grade_cmd(submission: Path, names: list[str], out: Path) -> list[str]:
    # As Gradescope grades: hidden checks, no HTML report (the report's own cost is measured in its tests).
    cmd = [sys.executable, "-m", "autograder", "grade", "--with-hidden", "--no-report", "--submission",
           str(submission), "--results", str(out)]
    for n in names:
        cmd += ["--assignment", n]
    return cmd


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bulk", type=int, default=50, help="submissions in the bulk run (0 to skip)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="neurograde-bench-"))
    rows = []
    try:
        groups = [[a] for a in ASSIGNMENTS] + [list(ASSIGNMENTS)]
        for names in groups:
            label = names[0] if len(names) == 1 else "whole kit"
            # The floor runs with the worker's one-thread BLAS/OpenMP settings, so both do the same arithmetic.
            floor = measure([sys.executable, "-c", FLOOR.format(reference=KIT / "reference", kit=KIT, names=names)],
                            env={**os.environ, **THREAD_ENV})
            ref = measure(grade_cmd(KIT / "reference", names, tmp / "r.json"))
            stub = measure(grade_cmd(KIT / "student_template", names, tmp / "s.json"))
            rows.append((label, ref, stub, floor))
        # A single grading starts cold boxes; the fork server is grade-all's. The same whole-kit grading through
        # the server, for comparison: its peak holds every assignment's libraries at once.
        forked = {**os.environ, "NEUROGRADE_FORKSERVER": "1"}
        names = list(ASSIGNMENTS)
        rows.append(("whole kit, fork server", measure(grade_cmd(KIT / "reference", names, tmp / "r.json"), env=forked),
                     measure(grade_cmd(KIT / "student_template", names, tmp / "s.json"), env=forked), rows[-1][3]))
        print(f"{'grading (hidden checks)':<24}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}   "
              f"{'stubs wall':>10}{'CPU':>6}{'MB':>6}   {'floor wall':>10}{'CPU':>6}{'MB':>6}  ratio")
        for label, ref, stub, floor in rows:
            print(f"{label:<24}{ref[0]:>8.2f}{ref[1]:>8.2f}{ref[2]:>9.0f}   {stub[0]:>10.2f}{stub[1]:>6.2f}"
                  f"{stub[2]:>6.0f}   {floor[0]:>10.2f}{floor[1]:>6.2f}{floor[2]:>6.0f}  {ref[0] / floor[0]:.2f}x")
        kit = rows[-2]
        print(f"\nwhole kit: {kit[1][0]:.2f} s wall (target < {TARGET_WALL:g} s), {kit[1][0] / kit[3][0]:.2f}x its "
              f"floor (target < {TARGET_FLOOR_RATIO:g}x), peak {max(r[1][2] for r in rows[:-1]):.0f} MB "
              f"(target < {TARGET_RSS_MB} MB)")
        gradescope_limits(tmp)
        if args.bulk:
            per_minute = bulk(tmp, args.bulk)
            print(f"bulk: {args.bulk} mixed submissions with --jobs 2: {per_minute:.1f} per minute "
                  f"(target >= {TARGET_PER_MINUTE})")
            on_dask = bulk_on_dask(tmp)
            if on_dask is not None:
                print(f"bulk on a local Dask cluster (scheduler + 2 single-threaded workers): {on_dask:.1f} per "
                      f"minute, {on_dask / per_minute:.0%} of local (target: no more than 15 % slower)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def bulk(tmp: Path, count: int) -> float:
    """Submissions per minute for a class of ``count``: one that crashes its box (os._exit in a function), one
    that hangs (an endless loop in a function), the rest cycling through the reference, the stubs and two
    mutants per assignment; graded with --jobs 2 and the hidden checks."""
    from autograder.zoo import build_source
    import importlib
    kinds: list[dict[str, str]] = [
        {f"{a}.py": (KIT / "reference" / f"{a}.py").read_text() for a in ASSIGNMENTS},
        {f"{a}.py": (KIT / "student_template" / f"{a}.py").read_text() for a in ASSIGNMENTS},
    ]
    for a in ASSIGNMENTS:
        try:
            zoo = importlib.import_module(f"assignments.{a}.bugzoo")
        except ModuleNotFoundError:
            continue
        for mutant in zoo.MUTANTS[:2]:
            files = {f"{b}.py": (KIT / "reference" / f"{b}.py").read_text() for b in ASSIGNMENTS}
            files[f"{a}.py"] = build_source(a, mutant)
            kinds.append(files)
    first = ASSIGNMENTS[0]
    reference = {f"{a}.py": (KIT / "reference" / f"{a}.py").read_text() for a in ASSIGNMENTS}
    crash = dict(reference)
    crash[f"{first}.py"] += "\n\nimport os as _os\n_original = {name}\ndef {name}(*a, **k):\n    _os._exit(3)\n"
    hang = dict(reference)
    hang[f"{first}.py"] += "\n\ndef {name}(*a, **k):\n    while True:\n        pass\n"
    name = _first_function(reference[f"{first}.py"])
    crash[f"{first}.py"] = crash[f"{first}.py"].replace("{name}", name)
    hang[f"{first}.py"] = hang[f"{first}.py"].replace("{name}", name)
    kinds = [crash, hang, *kinds]
    root = tmp / "class"
    for i in range(count):
        folder = root / f"s{i:03d}"
        folder.mkdir(parents=True)
        for file_name, text in kinds[i if i < 2 else 2 + (i - 2) % (len(kinds) - 2)].items():
            (folder / file_name).write_text(text)
    wall, _ = timed([sys.executable, "-m", "autograder", "grade-all", str(root), "--jobs", "2",
                     "--out", str(tmp / "bulk" / "gradebook.csv")])
    return count / wall * 60


def bulk_on_dask(tmp: Path) -> float | None:
    """The same class through a local dask.distributed cluster (a scheduler and two single-threaded workers, started
    as an instructor would): submissions per minute, or None where Dask is not installed."""
    import json
    try:
        import distributed  # noqa: F401
    except ImportError:
        return None
    env = {**os.environ, "PYTHONPATH": str(KIT)}
    info = tmp / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(info)], cwd=KIT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                    "--no-nanny", "--no-dashboard"], cwd=KIT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(2)]
        from distributed import Client
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            # Each worker's warm grader starts with its first submission, as a local slot's does.
        root = tmp / "class"
        count = sum(1 for p in root.iterdir() if p.is_dir())
        wall, _ = timed([sys.executable, "-m", "autograder", "grade-all", str(root), "--scheduler", address,
                         "--out", str(tmp / "bulk-dask" / "gradebook.csv")])
        return count / wall * 60
    finally:
        import signal
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def gradescope_limits(tmp: Path) -> None:
    """The whole-kit Gradescope zip on the reference, in a simulated /autograder, under Gradescope's default limits
    (768 MB, half a CPU) emulated with a control group where the host allows one."""
    import json
    import zipfile
    from autograder.release.measure import measure
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "autograder", "release", "--dist", str(dist), "--only", "gradescope"],
                   cwd=KIT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = tmp / "autograder"
    with zipfile.ZipFile(dist / "gradescope" / "neurograde.zip") as zf:
        zf.extractall(root / "source")
    for script in ("run_autograder", "setup.sh"):
        (root / "source" / script).chmod(0o755)
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    for a in ASSIGNMENTS:
        shutil.copyfile(KIT / "reference" / f"{a}.py", root / "submission" / f"{a}.py")
    (root / "results").mkdir()
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "NEUROGRADE_PYTHON": sys.executable}
    try:
        m = measure([str(root / "run_autograder")], env=env, cwd=str(root), gradescope_limits=True)
    except OSError as exc:
        print(f"gradescope limits: not emulated here ({exc})")
        return
    doc = json.loads((root / "results" / "results.json").read_text())
    top = sum(t["max_score"] for t in doc["tests"])
    print(f"gradescope whole-kit zip under {m.limits}: reference {doc['score']:g} / {top:g}, {m.wall_s:.1f} s wall, "
          f"{m.cpu_s:.1f} s CPU, peak {m.cgroup_peak_mb:.0f} MB in the group ({m.peak_pss_mb:.0f} MB PSS), "
          f"{m.oom_kills} out-of-memory kills")


def _first_function(source: str) -> str:
    import ast
    return next(node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef))


if __name__ == "__main__":
    raise SystemExit(main())
