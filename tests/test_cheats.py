"""Issue 11, point 5: no grading fact is computed inside student code.

Three checks used to take the student's own process at its word (a time it measured, which rows a watched
scaler saw, predictions of whatever fit_cubic returned). Each submission below is the reference with one function
replaced by a cheat that imitates the behaviour the check looks for; each must lose that check's points and gain
nothing. The reference and every honest alternative of the bug zoo must keep full marks on these checks, in
repeated gradings (the timing, an unseeded generator and the noise measurement vary from run to run).
Every grading is sandboxed, by the test worker's warm grader (:class:`tests.conftest.WarmGrader`).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import pytest

from autograder.zoo import build_source
from tests.conftest import KIT_ROOT, grade_warm

VECTORISED = "test_forward_1d_is_vectorised"
NO_LEAK = "test_train_house_model_learns_the_same_model_whatever_the_test_set"
CUBIC = ("test_fit_cubic_reaches_r2_on_held_out_points", "test_fit_cubic_with_another_seed")
GUARDED = {"linear_neuron": (VECTORISED, NO_LEAK), "pytorch_basics": CUBIC}
#: Gradings of each honest submission (the issue's acceptance: five repeated runs of each) ...
REPEATS = 5
#: ... of what varies from one grading to the next when the code does not: the CPU time the grader reads around
#: forward. Everything else these checks judge is seeded per request and judged identically at every grading
#: (tests/test_determinism.py repeats the whole kit 20 times), so each honest file gets one sandboxed grading of
#: all guarded checks and REPEATS - 1 more of these.
RUN_TO_RUN = {"linear_neuron": (VECTORISED,)}


@dataclass(frozen=True)
class Cheat:
    """The reference with ``replace`` applied: must score 0 on ``checks`` and nothing more elsewhere."""

    name: str
    assignment: str
    checks: tuple[str, ...]
    replace: list[tuple[str, str]] = field(default_factory=list)
    why: str = ""


FORWARD = "        return self.a * np.asarray(x) + self.b\n"
_LOOP = ("        x = np.asarray(x, dtype=float)\n"
         "        out = np.array([self.a * v + self.b for v in x.ravel()]).reshape(x.shape)\n")
HOUSE_SCALING = "    X_train_s, X_test_s, _ = standardize(X_train, X_test)\n"
HOUSE_TARGET = "    model.fit(X_train_s, y_train, lr=lr, epochs=epochs, mode=\"minibatch\", batch_size=32)\n"
CUBIC_BODY = ("    model = make_mlp(1, hidden=64)\n    criterion = nn.MSELoss()\n"
              "    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)\n    for _ in range(500):\n"
              "        optimizer.zero_grad()\n        loss = criterion(model(x), y)\n        loss.backward()\n"
              "        optimizer.step()\n    return model\n")
_TRAIN = ("    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)\n    for _ in range({epochs}):\n"
          "        optimizer.zero_grad()\n        nn.MSELoss()(net(x), y).backward()\n        optimizer.step()\n")

CHEATS = [
    # --- forward is "vectorised" -------------------------------------------------------------------------------
    Cheat("loop_forward_that_stops_the_clocks", "linear_neuron", (VECTORISED,),
          [(FORWARD, "        import time\n"
                     "        for name in ('perf_counter', 'time', 'process_time', 'monotonic'):\n"
                     "            setattr(time, name, lambda: 0.0)\n" + _LOOP + "        return out\n")],
          why="a Python loop that freezes every clock of the process it runs in"),
    Cheat("loop_forward_with_a_cache", "linear_neuron", (VECTORISED,),
          [(FORWARD, "        x = np.asarray(x, dtype=float)\n"
                     "        key = (x.tobytes(), self.a, self.b)\n"
                     "        if key not in _CACHE:\n"
                     "            _CACHE.clear()\n"
                     "            _CACHE[key] = np.array([self.a * v + self.b for v in x.ravel()]).reshape(x.shape)\n"
                     "        return _CACHE[key]\n"),
           ("MODES = (\"batch\", \"sgd\", \"minibatch\")\n", "MODES = (\"batch\", \"sgd\", \"minibatch\")\n_CACHE = {}\n")],
          why="a Python loop whose results are cached, so that repeated timings of the same call look fast"),
    Cheat("loop_forward_put_off_until_read", "linear_neuron", (VECTORISED,),
          [(FORWARD, "        return _Lazy(self.a, self.b, x)\n"),
           ("MODES = (\"batch\", \"sgd\", \"minibatch\")\n",
            "MODES = (\"batch\", \"sgd\", \"minibatch\")\n\n\nclass _Lazy:\n"
            "    def __init__(self, a, b, x):\n        self.a, self.b, self.x = a, b, np.asarray(x, dtype=float)\n"
            "        self.shape = self.x.shape\n\n"
            "    def __array__(self, dtype=None, copy=None):\n"
            "        out = np.array([self.a * v + self.b for v in self.x.ravel()]).reshape(self.shape)\n"
            "        return out if dtype is None else out.astype(dtype)\n\n"
            "    def __sub__(self, other):\n        return np.asarray(self) - other\n\n"
            "    def __getitem__(self, i):\n        return np.asarray(self)[i]\n")],
          why="forward returns at once an object that runs the Python loop only when its values are read"),
    Cheat("loop_forward_that_skips_large_inputs", "linear_neuron", (VECTORISED,),
          [(FORWARD, "        x = np.asarray(x, dtype=float)\n"
                     "        if x.size > 100_000:\n            return np.empty_like(x)\n"
                     + _LOOP + "        return out\n")],
          why="a Python loop on small inputs (correct there) and an instant, wrong answer on large ones"),
    # --- no leakage (the checks see only the learned model and the MAE) ----------------------------------------
    Cheat("leak_mean_and_std_by_hand_over_train_and_test", "linear_neuron", (NO_LEAK,),
          [(HOUSE_SCALING, "    both = np.concatenate([X_train, X_test])\n"
                           "    mean, std = both.mean(axis=0), both.std(axis=0)\n"
                           "    X_train_s, X_test_s = (X_train - mean) / std, (X_test - mean) / std\n")],
          why="no scaler object at all: the statistics of train + test computed by hand"),
    Cheat("leak_vstack_then_standard_scaler", "linear_neuron", (NO_LEAK,),
          [(HOUSE_SCALING, "    scaler = StandardScaler().fit(np.vstack([X_train, X_test]))\n"
                           "    X_train_s, X_test_s = scaler.transform(X_train), scaler.transform(X_test)\n")],
          why="the classic: one StandardScaler fitted on train + test"),
    Cheat("leak_through_a_home_made_scaler", "linear_neuron", (NO_LEAK,),
          [(HOUSE_SCALING, "    scaler = _RunningScaler().update(X_train)\n    scaler.update(X_test)\n"
                           "    X_train_s, X_test_s = scaler.transform(X_train), scaler.transform(X_test)\n"),
           ("MODES = (\"batch\", \"sgd\", \"minibatch\")\n",
            "MODES = (\"batch\", \"sgd\", \"minibatch\")\n\n\nclass _RunningScaler:\n"
            "    def __init__(self):\n        self.rows = []\n\n"
            "    def update(self, X):\n        self.rows.extend(np.asarray(X, dtype=float).tolist())\n        return self\n\n"
            "    def transform(self, X):\n        data = np.array(self.rows)\n"
            "        return (np.asarray(X, dtype=float) - data.mean(axis=0)) / data.std(axis=0)\n")],
          why="a scaler class of one's own, updated with the test rows"),
    Cheat("leak_scaler_refitted_on_test_for_evaluation", "linear_neuron", (NO_LEAK,),
          [(HOUSE_SCALING, "    X_train_s, _, _ = standardize(X_train, X_test)\n"
                           "    X_test_s = StandardScaler().fit_transform(X_test)\n")],
          why="training is clean, but the test set is standardised with its own statistics for the MAE"),
    Cheat("leak_target_scaled_with_test_prices", "linear_neuron", (NO_LEAK,),
          [(HOUSE_TARGET + "    test_mae = float(np.mean(np.abs(model.forward(X_test_s) - "
                           "np.asarray(y_test, dtype=float).ravel())))\n",
            "    prices = np.concatenate([y_train, y_test])\n    mu, sd = prices.mean(), prices.std()\n"
            "    model.fit(X_train_s, (y_train - mu) / sd, lr=lr, epochs=epochs, mode=\"minibatch\", batch_size=32)\n"
            "    test_mae = float(np.mean(np.abs(model.forward(X_test_s) * sd + mu - y_test)))\n")],
          why="the features are clean, the target is scaled with statistics of train + test prices"),
    # --- fit_cubic learnt a network ----------------------------------------------------------------------------
    Cheat("cubic_module_that_returns_x_cubed", "pytorch_basics", CUBIC,
          [(CUBIC_BODY, "    class Cube(nn.Module):\n        def forward(self, inputs):\n"
                        "            return inputs ** 3\n\n    return Cube()\n")],
          why="an nn.Module with no layers that computes x^3 itself"),
    Cheat("cubic_x_cubed_next_to_unused_layers", "pytorch_basics", CUBIC,
          [(CUBIC_BODY, "    class Cube(nn.Module):\n        def __init__(self):\n            super().__init__()\n"
                        "            self.net = make_mlp(1, hidden=64)\n\n"
                        "        def forward(self, inputs):\n            return inputs ** 3\n\n    return Cube()\n")],
          why="the layers are there (untrained) but forward computes x^3 directly"),
    Cheat("cubic_a_lambda", "pytorch_basics", CUBIC,
          [(CUBIC_BODY, "    return lambda inputs: inputs ** 3\n")],
          why="a plain function, no network at all"),
    Cheat("cubic_untrained_network", "pytorch_basics", CUBIC,
          [(CUBIC_BODY, "    return make_mlp(1, hidden=64)\n")],
          why="a network that trains nothing"),
    Cheat("cubic_trained_layers_that_forward_ignores", "pytorch_basics", CUBIC,
          [(CUBIC_BODY, "    class Net(nn.Module):\n        def __init__(self):\n            super().__init__()\n"
                        "            self.net = make_mlp(1, hidden=8)\n\n"
                        "        def forward(self, inputs):\n            return inputs ** 3 + 0 * self.net(inputs)\n\n"
                        "    model = Net()\n    net = model.net\n" + _TRAIN.format(epochs=50) + "    return model\n")],
          why="briefly trained layers (so their parameters moved) that forward multiplies by 0"),
    Cheat("cubic_linear_subclass_that_cubes", "pytorch_basics", CUBIC,
          [(CUBIC_BODY, "    class Cubing(nn.Linear):\n        def forward(self, inputs):\n"
                        "            return inputs ** 3 + 0 * super().forward(inputs)\n\n"
                        "    net = nn.Sequential(Cubing(1, 1))\n" + _TRAIN.format(epochs=5) + "    return net\n")],
          why="a subclass of nn.Linear whose forward is not a Linear's"),
]


def _cheat_pairs() -> list:
    """The cheats two by two, one of each assignment where possible: one grading then judges both."""
    by = {a: [c for c in CHEATS if c.assignment == a] for a in GUARDED}
    longest = max(len(v) for v in by.values())
    pairs = [[v[i] for v in by.values() if i < len(v)] for i in range(longest)]
    return [pytest.param(pair, id="+".join(c.name for c in pair)) for pair in pairs]


@pytest.mark.parametrize("pair", _cheat_pairs())
def test_cheat_loses_the_check_it_imitates_and_gains_nothing(pair, submission):
    """Sandboxed gradings of the checks each cheat imitates (the rest of its file is the reference)."""
    folder = submission({f"{c.assignment}.py": build_source(c.assignment, c) for c in pair})
    scores = _graded(folder, [c.assignment for c in pair], [check for c in pair for check in c.checks], 1)[0]
    for cheat in pair:
        for check_id in cheat.checks:
            score, top, output = scores[check_id]
            assert score == 0, f"cheat {cheat.name} ({cheat.why}) kept {score} points on {check_id}:\n{output}"


def _honest() -> list:
    """Pairs of honest files, one of each assignment per folder, so that one grading serves both: the reference
    (variant None) and every alternative of the bug zoo."""
    variants = {assignment: [("reference", None)] + [
        (v.name, v) for v in importlib.import_module(f"assignments.{assignment}.bugzoo").ALTERNATIVES]
        for assignment in GUARDED}
    longest = max(len(v) for v in variants.values())
    pairs = []
    for i in range(longest):
        pair = {a: v[i] for a, v in variants.items() if i < len(v)}
        pairs.append(pytest.param(pair, id="+".join(name for name, _ in pair.values())))
    return pairs


def _source(assignment: str, variant) -> str:
    return (KIT_ROOT / "reference" / f"{assignment}.py").read_text() if variant is None else (
        build_source(assignment, variant))


def _graded(folder, assignments: list[str], checks: list[str], repeats: int) -> list[dict]:
    """``repeats`` sandboxed gradings of ``checks`` only, by this test worker's warm grader (the grader's start-up
    is paid once, every grading still starts fresh sandboxed workers): [{check id: [score, max, output]}] each."""
    runs = []
    for run in range(repeats):
        doc = grade_warm(folder, *assignments, only=checks, results=folder.parent / f"results-{run}.json")
        runs.append({t["extra_data"]["check_id"]: [t["score"], t["max_score"], t["output"]] for t in doc["tests"]})
    assert all(set(run) == set(checks) for run in runs), runs
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("pair", _honest())
def test_honest_code_keeps_these_checks_in_repeated_gradings(pair, submission):
    folder = submission({f"{a}.py": _source(a, variant) for a, (_, variant) in pair.items()})
    runs = _graded(folder, list(pair), [c for a in pair for c in GUARDED[a]], 1)
    varying = [a for a in pair if a in RUN_TO_RUN]
    if varying:
        runs += _graded(folder, varying, [c for a in varying for c in RUN_TO_RUN[a]], REPEATS - 1)
    for run, scores in enumerate(runs, start=1):
        for assignment, (name, _) in pair.items():
            lost = {c: scores[c] for c in GUARDED[assignment] if c in scores and scores[c][0] < scores[c][1]}
            assert not lost, f"{assignment} {name}, run {run}: lost points on " + "\n".join(
                f"{c}: {score}/{top}\n{output}" for c, (score, top, output) in lost.items())
