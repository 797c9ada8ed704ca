"""The kit's data: reproducible build, integrity checks, the loader's API and the facts the chapter relies on."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import datasets

KIT_ROOT = Path(__file__).resolve().parent.parent
DATA = KIT_ROOT / "data"
SHARED = KIT_ROOT.parent / "shared" / "datasets"
BUILDER = KIT_ROOT / "scripts" / "build_data.py"
CSV_FILES = ("abalone_mini.csv", "house_mini.csv")
BUILT_FILES = (*CSV_FILES, "SHA256SUMS", "README.md")

needs_shared = pytest.mark.skipif(not (SHARED / "abalone_uci.csv").is_file(),
                                  reason=f"raw datasets not present at {SHARED} (only needed to rebuild data/)")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded_digests() -> dict[str, str]:
    lines = (DATA / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def run_builder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BUILDER), *args], capture_output=True, text=True, timeout=120)


def critical_lr(X: np.ndarray) -> float:
    """2 / lambda_max of X1^T X1 / n with X1 = [X, 1] (loss mean(1/2 (y - u)^2))."""
    X1 = np.hstack([X, np.ones((len(X), 1))])
    return float(2.0 / np.linalg.eigvalsh(X1.T @ X1 / len(X))[-1])


def batch_gd_losses(X: np.ndarray, y: np.ndarray, lr: float, epochs: int) -> np.ndarray:
    """MSE per epoch of batch gradient descent from zero weights, the kit's gradient convention."""
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            r = X @ w + b - y
            losses.append(np.mean(r ** 2))
            w, b = w - lr * X.T @ r / len(y), b - lr * np.mean(r)
    return np.array(losses)


# --- build ------------------------------------------------------------------------------------------------

@needs_shared
def test_rebuild_from_shared_is_byte_identical(tmp_path: Path) -> None:
    proc = run_builder("--shared", str(SHARED), "--out", str(tmp_path))
    if proc.returncode != 0:
        pytest.fail(f"build_data.py failed:\n{proc.stdout}\n{proc.stderr}")
    differing = [n for n in BUILT_FILES if (tmp_path / n).read_bytes() != (DATA / n).read_bytes()]
    if differing:
        pytest.fail(f"rebuilding changed {differing}: run `make data` and commit, or fix the builder")


def test_builder_refuses_raw_files_with_wrong_digest(tmp_path: Path) -> None:
    # Needs no ../shared: any bytes other than the published raw files must be refused.
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "abalone_uci.csv").write_text("sex,length\nM,0.456\n")
    (shared / "kc_house_sample.csv").write_text("id,price\n1,2\n")
    proc = run_builder("--shared", str(shared), "--out", str(tmp_path / "out"))
    if proc.returncode == 0 or "abalone_uci.csv" not in proc.stderr or "sha256" not in proc.stderr:
        pytest.fail(f"a raw file with the wrong digest was accepted:\n{proc.stdout}\n{proc.stderr}")
    if (tmp_path / "out").exists():
        pytest.fail("the builder wrote output despite a digest mismatch")


def test_builder_missing_shared_gives_one_line_error(tmp_path: Path) -> None:
    proc = run_builder("--shared", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    if proc.returncode == 0 or "missing raw file" not in proc.stderr or "Traceback" in proc.stderr:
        pytest.fail(f"expected a clear error for a missing --shared directory:\n{proc.stderr}")


# --- integrity --------------------------------------------------------------------------------------------

def test_sha256sums_lists_exactly_the_csv_files_with_their_digests() -> None:
    recorded = recorded_digests()
    if sorted(recorded) != sorted(CSV_FILES):
        pytest.fail(f"SHA256SUMS lists {sorted(recorded)}, expected {sorted(CSV_FILES)}")
    for name in CSV_FILES:
        if sha256(DATA / name) != recorded[name]:
            pytest.fail(f"data/{name} does not match data/SHA256SUMS")


def test_datasheet_states_digests_rows_sources_and_licences() -> None:
    sheet = (DATA / "README.md").read_text()
    for name, digest in recorded_digests().items():
        if digest not in sheet:
            pytest.fail(f"data/README.md does not state the sha256 of {name}")
    for needle in ("10.24432/C55C7W", "CC BY 4.0", "CC0", "scripts/build_data.py", "| 1045 |", "| 1361 |"):
        if needle not in sheet:
            pytest.fail(f"data/README.md lacks {needle!r}")
    for column in (*datasets.ABALONE_COLUMNS, "price", *datasets.HOUSE_FEATURES):
        if not re.search(rf"^\| {column} \|", sheet, flags=re.M):
            pytest.fail(f"data/README.md does not document column {column!r}")


def test_tampered_copy_is_detected_and_named(tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    target = copy / "house_mini.csv"
    target.write_bytes(target.read_bytes().replace(b"221900", b"221901", 1))
    with pytest.raises(datasets.DataIntegrityError, match="house_mini.csv"):
        datasets.load_house(data_dir=copy)
    # The untouched file of the same copy still loads.
    if len(datasets.load_abalone(data_dir=copy)) != 1045:
        pytest.fail("the intact abalone copy did not load")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    (copy / "abalone_mini.csv").unlink()
    with pytest.raises(datasets.DataIntegrityError, match="abalone_mini.csv"):
        datasets.load_abalone(data_dir=copy)


def test_loader_reads_only_the_kit_data_directory() -> None:
    if datasets.DATA_DIR.resolve() != DATA.resolve():
        pytest.fail(f"DATA_DIR is {datasets.DATA_DIR}, expected the kit's data/ ({DATA})")
    if "shared/datasets" in Path(datasets.__file__).read_text():
        pytest.fail("autograder/datasets.py mentions ../shared: grading must not depend on it")


def test_importing_the_loader_does_not_import_pandas() -> None:
    code = "import sys, autograder.datasets as d; d.make_spirals(); print('pandas' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=KIT_ROOT, capture_output=True, text=True, timeout=60)
    if proc.stdout.strip() != "False":
        pytest.fail(f"importing autograder.datasets pulled in pandas:\n{proc.stdout}{proc.stderr}")


# --- real frames ------------------------------------------------------------------------------------------

def test_abalone_frame_columns_types_and_rows() -> None:
    df = datasets.load_abalone()
    if list(df.columns) != list(datasets.ABALONE_COLUMNS) or len(df) != 1045:
        pytest.fail(f"abalone: columns {list(df.columns)}, {len(df)} rows")
    if set(df["sex"]) != {"M", "F", "I"} or df["rings"].dtype.kind != "i" or df.isna().any().any():
        pytest.fail("abalone: sex must be M/F/I, rings integers, no missing values")
    if not all(df[c].dtype == np.float64 for c in datasets.ABALONE_NUMERIC):
        pytest.fail("abalone: measurements must be float64")


def test_abalone_features_shapes_and_one_hot() -> None:
    X, y, names = datasets.abalone_features()
    if X.shape != (1045, 10) or y.shape != (1045,) or X.dtype != np.float64 or y.dtype != np.float64:
        pytest.fail(f"abalone_features: X {X.shape} {X.dtype}, y {y.shape} {y.dtype}")
    if names[-3:] != ["sex_F", "sex_I", "sex_M"] or len(names) != 10:
        pytest.fail(f"abalone_features names: {names}")
    if not np.array_equal(X[:, -3:].sum(axis=1), np.ones(1045)):
        pytest.fail("abalone_features: each row must have exactly one sex indicator set")


def test_house_frame_columns_types_and_rows() -> None:
    df = datasets.load_house()
    if list(df.columns) != ["price", *datasets.HOUSE_FEATURES] or len(df) != 1361:
        pytest.fail(f"house: columns {list(df.columns)}, {len(df)} rows")
    if not all(df[c].dtype.kind in "if" for c in df.columns) or df.isna().any().any():
        pytest.fail("house: every column must be numeric, with no missing values")
    if not ((df["zipcode"] // 1000 == 98).all() and df["price"].between(1e5, 1e7).all()):
        pytest.fail("house: zip codes must be raw 98xxx numbers and prices plain dollars")
    if not (df["sqft_living"] == df["sqft_above"] + df["sqft_basement"]).all():
        pytest.fail("house: sqft_living = sqft_above + sqft_basement should hold in every row")


def test_house_features_shapes() -> None:
    X, y, names = datasets.house_features()
    if X.shape != (1361, 18) or y.shape != (1361,) or X.dtype != np.float64 or names != list(datasets.HOUSE_FEATURES):
        pytest.fail(f"house_features: X {X.shape} {X.dtype}, y {y.shape}, names {names}")


def test_frames_are_cached_but_returned_as_copies() -> None:
    first = datasets.load_house()
    first.loc[0, "price"] = -1
    if datasets.load_house().loc[0, "price"] == -1:
        pytest.fail("modifying a returned frame changed the cache")


# --- the chapter's claim about learning rates -------------------------------------------------------------

def test_raw_house_features_need_a_learning_rate_around_1e_10() -> None:
    X, _, _ = datasets.house_features()
    lr = critical_lr(X)
    if not 1e-11 < lr < 1e-9:
        pytest.fail(f"critical lr on raw house features is {lr:.3g}, the chapter says about 1e-10")


def test_raw_house_gradient_descent_converges_below_and_blows_up_above_the_critical_lr() -> None:
    X, y, _ = datasets.house_features()
    lr = critical_lr(X)
    below, above = batch_gd_losses(X, y, 0.9 * lr, 50), batch_gd_losses(X, y, 1.1 * lr, 200)
    if not (np.all(np.isfinite(below)) and below[-1] < below[0]):
        pytest.fail(f"lr {0.9 * lr:.3g} should converge on raw features")
    if np.isfinite(above[-1]) and above[-1] < 1e6 * above[0]:
        pytest.fail(f"lr {1.1 * lr:.3g} should blow up on raw features")


def test_standardised_house_features_allow_learning_rates_around_0_1() -> None:
    # The chapter's "lr 0.01 to 1 work" needs lambda_max <= 2; with all 18 standardised features it is about
    # 5.2 (correlated size features), so the honest guarantee is lr 0.1 with margin, not 0.5 (see data/README.md).
    X, y, _ = datasets.house_features()
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    lr = critical_lr(Xs)
    if not 0.2 < lr < 2.0:
        pytest.fail(f"critical lr on standardised house features is {lr:.3g}")
    losses = batch_gd_losses(Xs, y, 0.1, 50)
    if not (np.all(np.isfinite(losses)) and losses[-1] < losses[0]):
        pytest.fail("lr 0.1 should converge on standardised house features")
    if critical_lr(Xs) / critical_lr(X) < 1e8:
        pytest.fail("standardising should raise the critical lr by many orders of magnitude")


# --- synthetic sets ---------------------------------------------------------------------------------------

def test_xor_and_truth_tables() -> None:
    X, y = datasets.make_xor()
    Xa, ya = datasets.make_and()
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    if not (np.array_equal(X, inputs) and np.array_equal(Xa, inputs)):
        pytest.fail("XOR/AND inputs must be the 4 rows (0,0), (0,1), (1,0), (1,1)")
    if y.shape != (4, 1) or ya.shape != (4, 1) or y.dtype != np.float64:
        pytest.fail("XOR/AND labels must have shape (4, 1), float64")
    if y.ravel().tolist() != [0, 1, 1, 0] or ya.ravel().tolist() != [0, 0, 0, 1]:
        pytest.fail("wrong XOR/AND labels")
    X[0, 0] = 5.0
    if datasets.make_xor()[0][0, 0] != 0.0:
        pytest.fail("make_xor returned a shared array that callers can corrupt")


@pytest.mark.parametrize("n_points", [200, 50, 2])
def test_spirals_shapes_balance_and_determinism(n_points: int) -> None:
    X, y = datasets.make_spirals(n_points)
    X2, y2 = datasets.make_spirals(n_points)
    if X.shape != (n_points, 2) or y.shape != (n_points, 1) or X.dtype != np.float64:
        pytest.fail(f"make_spirals({n_points}): X {X.shape}, y {y.shape}")
    if set(np.unique(y)) != {0.0, 1.0} or y.sum() != n_points // 2:
        pytest.fail("spirals: two classes of n_points / 2 each")
    if not (np.array_equal(X, X2) and np.array_equal(y, y2)):
        pytest.fail("make_spirals is not deterministic")
    if np.array_equal(X, datasets.make_spirals(n_points, seed=1)[0]):
        pytest.fail("make_spirals ignores its seed")


def test_spirals_are_interleaved_arms_not_linearly_separable() -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = datasets.make_spirals(400, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    if not 10 < radius.max() < 15:
        pytest.fail(f"spiral radius reaches {radius.max():.3g}, expected about 13.6 (780 degrees)")
    # Class 1 is class 0 rotated by 180 degrees.
    if not np.allclose(X[:200], -X[200:]):
        pytest.fail("without noise the second arm should be the first one rotated by 180 degrees")
    accuracy = LogisticRegression().fit(X, y.ravel()).score(X, y.ravel())
    if accuracy > 0.75:
        pytest.fail(f"a linear classifier reaches {accuracy:.2f} on the spirals: they should need depth")


def test_spirals_reject_odd_counts() -> None:
    with pytest.raises(ValueError):
        datasets.make_spirals(201)


def test_linear_data_has_the_stated_coefficients() -> None:
    X, y, w, b = datasets.make_linear(n=500, m=4, noise=0.1, seed=3)
    if X.shape != (500, 4) or y.shape != (500,) or w.shape != (4,) or not isinstance(b, float):
        pytest.fail(f"make_linear shapes: X {X.shape}, y {y.shape}, w {w.shape}, b {type(b)}")
    coef, *_ = np.linalg.lstsq(np.hstack([X, np.ones((500, 1))]), y, rcond=None)
    if not np.allclose(coef, [*w, b], atol=0.05):
        pytest.fail(f"least squares recovers {coef}, stated {[*w, b]}")
    residual = y - X @ w - b
    if not 0.08 < residual.std() < 0.12:
        pytest.fail(f"noise std {residual.std():.3g}, expected 0.1")
    again = datasets.make_linear(n=500, m=4, noise=0.1, seed=3)
    if not all(np.array_equal(a, c) for a, c in zip((X, y, w, b), again)):
        pytest.fail("make_linear is not deterministic")


def test_cubic_data() -> None:
    x, y = datasets.make_cubic()
    if x.shape != (1000, 1) or y.shape != (1000, 1) or x.dtype != np.float64:
        pytest.fail(f"make_cubic shapes: x {x.shape}, y {y.shape}")
    if not np.array_equal(y, x ** 3):
        pytest.fail("make_cubic: y must be exactly x^3")
    if not (abs(x.mean()) < 0.15 and 0.9 < x.std() < 1.1):
        pytest.fail(f"make_cubic: x should be N(0, 1), mean {x.mean():.3g}, std {x.std():.3g}")
    if not np.array_equal(x, datasets.make_cubic()[0]):
        pytest.fail("make_cubic is not deterministic")


def test_train_test_split_indices() -> None:
    train, test = datasets.train_test_split_indices(1361, test_fraction=0.2, seed=0)
    if len(test) != 273 or len(train) != 1088:
        pytest.fail(f"split sizes {len(train)}/{len(test)}, expected 1088/273 (test = ceil(0.2 n))")
    if not np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1361)):
        pytest.fail("train and test indices must be disjoint and cover 0..n-1")
    again = datasets.train_test_split_indices(1361, test_fraction=0.2, seed=0)
    if not (np.array_equal(train, again[0]) and np.array_equal(test, again[1])):
        pytest.fail("train_test_split_indices is not deterministic")
    if np.array_equal(test, datasets.train_test_split_indices(1361, seed=1)[1]):
        pytest.fail("train_test_split_indices ignores its seed")
    with pytest.raises(ValueError):
        datasets.train_test_split_indices(10, test_fraction=1.0)


def test_iris_and_make_regression_without_scikit_learn_equal_scikit_learns():
    """The grader reads iris and draws make_regression's sets itself (importing scikit-learn costs about 1.2 s per
    grading): bit for bit what scikit-learn gives, on the checks' own seeds and others across the range of the
    random seeds they draw (below 10,000), with 1 to 5 features and 1 to 1,000 samples."""
    from sklearn.datasets import load_iris, make_regression

    iris = load_iris()
    data, target = datasets.load_iris()
    assert data.dtype == np.float64 and np.array_equal(data, iris.data)
    assert np.array_equal(target, iris.target)
    from assignments.perceptron_adaline.checks import REGRESSION_SEEDS

    for seed in (0, 1, 7, 43, 1234, 9999, *REGRESSION_SEEDS):
        for n_features in (1, 2, 3, 5):
            for n_samples in (1, 50, 200, 1000):
                ours = datasets.make_regression(n_samples, n_features, noise=10, seed=seed)
                theirs = make_regression(n_samples=n_samples, n_features=n_features, n_informative=n_features,
                                         noise=10, bias=0, coef=True, random_state=seed)
                for a, b in zip(ours, theirs):
                    assert a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b), \
                        (seed, n_features, n_samples)


def test_the_tables_read_without_pandas_equal_the_frames_to_the_last_bit():
    """The grader reads abalone and house without pandas (about 0.3 s of CPU per grading): every column, the
    feature matrices and their memory layout (the layout decides the rounding of a matrix product) are pandas'."""
    for frame, table in ((datasets.load_abalone(), datasets.abalone_columns()),
                         (datasets.load_house(), datasets.house_columns())):
        assert list(table) == list(frame.columns)
        for column, values in table.items():
            if frame[column].dtype == object:
                assert values.dtype.kind == "U" and list(values) == list(frame[column]), column
            else:
                assert np.array_equal(values, frame[column].to_numpy(dtype=np.float64)), column
        columns = [c for c in frame.columns if frame[c].dtype != object]
        from_frame, from_table = frame[columns].to_numpy(dtype=np.float64), datasets.matrix(table, columns)
        assert np.array_equal(from_frame, from_table) and from_frame.strides == from_table.strides
    for features, frame in ((datasets.abalone_features, datasets.load_abalone()),
                            (datasets.house_features, datasets.load_house())):
        (X, y, names), (X_pd, y_pd, names_pd) = features(), features(frame)
        assert names == names_pd and np.array_equal(y, y_pd) and np.array_equal(X, X_pd)
        assert X.strides == X_pd.strides and X.dtype == X_pd.dtype == np.float64
