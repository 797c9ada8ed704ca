"""The course's datasets: two small real tables and the synthetic sets, all deterministic.

Real data (read only from the kit's ``data/`` directory, see ``data/README.md`` for the datasheet):

- ``load_abalone()`` / ``abalone_features()``: abalone measurements -> rings (1,045 rows).
- ``load_house()`` / ``house_features()`` / ``HOUSE_FEATURES``: King County house sales -> price (1,361 rows),
  features in their raw units (square feet, years, zip codes), so un-normalised gradient descent needs a
  learning rate around 1e-10.

Each CSV is checked against ``data/SHA256SUMS`` the first time it is loaded; a modified file raises
``DataIntegrityError`` naming it. Frames are cached; every call returns a fresh copy, so callers may modify it.

Synthetic data (float64, deterministic from ``seed`` via ``np.random.default_rng(seed)``):
``make_xor``, ``make_and``, ``make_spirals``, ``make_linear``, ``make_cubic``; plus
``train_test_split_indices``.

scikit-learn's sets that the lecture notebooks use, without importing scikit-learn (about 1.2 s of CPU in every
grading that needs them): ``load_iris()`` reads the iris table scikit-learn ships, ``make_regression(...)`` draws
exactly what ``sklearn.datasets.make_regression`` draws for the same seed (tests/test_data.py compares them).

pandas is imported only by ``load_abalone`` and ``load_house`` (the frames students get): the grader reads the same
tables as {column: array} without it (``abalone_columns``, ``house_columns``, and ``abalone_features`` /
``house_features`` by default), and the synthetic generators cost just a NumPy import.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

__all__ = [
    "DATA_DIR",
    "DataIntegrityError",
    "HOUSE_FEATURES",
    "load_abalone",
    "abalone_features",
    "load_house",
    "house_features",
    "abalone_columns",
    "house_columns",
    "matrix",
    "train_test_split_indices",
    "make_xor",
    "make_and",
    "make_spirals",
    "make_linear",
    "make_cubic",
    "load_iris",
    "make_regression",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

ABALONE_FILE = "abalone_mini.csv"
HOUSE_FILE = "house_mini.csv"

ABALONE_COLUMNS = ("sex", "length", "diameter", "height", "whole_weight", "shucked_weight",
                   "viscera_weight", "shell_weight", "rings")
ABALONE_NUMERIC = ABALONE_COLUMNS[1:-1]
ABALONE_SEXES = ("F", "I", "M")

HOUSE_TARGET = "price"
#: The house features, in file order: every column but ``price``.
HOUSE_FEATURES: tuple[str, ...] = (
    "bedrooms", "bathrooms", "sqft_living", "sqft_lot", "floors", "waterfront", "view", "condition", "grade",
    "sqft_above", "sqft_basement", "yr_built", "yr_renovated", "zipcode", "lat", "long", "sqft_living15",
    "sqft_lot15",
)

_frames: dict[str, "pd.DataFrame"] = {}


class DataIntegrityError(RuntimeError):
    """A data file is missing, or its bytes differ from the digest recorded in data/SHA256SUMS."""


def _expected_digests(data_dir: Path) -> dict[str, str]:
    sums = data_dir / "SHA256SUMS"
    if not sums.is_file():
        raise DataIntegrityError(f"{sums} is missing; restore data/ from the kit's repository")
    digests = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            digests[name.lstrip("*")] = digest
    return digests


def verify_file(name: str, data_dir: Path | None = None) -> Path:
    """Return the path of ``data_dir/name`` after checking its sha256 against ``data_dir/SHA256SUMS``.

    Raises DataIntegrityError (naming the file) if it is missing, unlisted, or modified.
    """
    data_dir = DATA_DIR if data_dir is None else Path(data_dir)
    path = data_dir / name
    expected = _expected_digests(data_dir).get(name)
    if expected is None:
        raise DataIntegrityError(f"{name} is not listed in {data_dir / 'SHA256SUMS'}")
    if not path.is_file():
        raise DataIntegrityError(f"{path} is missing; restore data/ from the kit's repository")
    seen = hashlib.sha256(path.read_bytes()).hexdigest()
    if seen != expected:
        raise DataIntegrityError(
            f"{path} was modified: its sha256 is {seen}, but data/SHA256SUMS records {expected}. "
            f"Restore it (git checkout -- data/{name}) or rebuild with `make data`.")
    return path


def _load(name: str, data_dir: Path | None = None) -> "pd.DataFrame":
    """Verified, cached frame of one CSV; a copy is returned so the cache cannot be altered by callers."""
    import pandas as pd

    key = str((DATA_DIR if data_dir is None else Path(data_dir)).resolve() / name)
    if key not in _frames:
        _frames[key] = pd.read_csv(verify_file(name, data_dir))
    return _frames[key].copy()


_columns: dict[str, dict[str, np.ndarray]] = {}


def _load_columns(name: str, text_columns: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """{column: array} of one verified CSV without pandas (the grader's side: importing pandas costs about 0.3 s
    of CPU per grading): float64 columns, ``text_columns`` as str arrays; fresh arrays on every call.
    tests/test_data.py proves them equal to :func:`load_abalone`'s and :func:`load_house`'s frames."""
    import csv

    if name not in _columns:
        with open(verify_file(name), newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        header, body = rows[0], rows[1:]
        _columns[name] = {column: np.array([r[i] for r in body], dtype=str if column in text_columns else np.float64)
                          for i, column in enumerate(header)}
    return {column: values.copy() for column, values in _columns[name].items()}


def matrix(table: "Mapping[str, Any]", columns: "Sequence[str]") -> np.ndarray:
    """(n, len(columns)) float64 of a table's ``columns`` ({column: array} or a DataFrame), column-major as pandas'
    ``df[columns].to_numpy()`` gives it (the same layout, so the same matrix products to the last bit)."""
    return np.asfortranarray(np.column_stack([np.asarray(table[c], dtype=np.float64) for c in columns]))


def abalone_columns() -> dict[str, np.ndarray]:
    """The abalone table as {column: array}: ``sex`` str, every other column float64 (``rings`` too)."""
    return _load_columns(ABALONE_FILE, text_columns=("sex",))


def house_columns() -> dict[str, np.ndarray]:
    """The house table as {column: array}, every column float64."""
    return _load_columns(HOUSE_FILE)


def load_abalone(data_dir: Path | None = None) -> "pd.DataFrame":
    """The abalone table, 1,045 rows.

    Columns: ``sex`` (str, "M"/"F"/"I"), ``length``, ``diameter``, ``height``, ``whole_weight``,
    ``shucked_weight``, ``viscera_weight``, ``shell_weight`` (float64; lengths in mm / 200, weights in g / 200),
    ``rings`` (int64, the target; age is about rings + 1.5 years).
    """
    return _load(ABALONE_FILE, data_dir)


def abalone_features(df: "pd.DataFrame | None" = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Design matrix and target for abalone: (X (n, 10) float64, y (n,) float64, names).

    X holds the 7 numeric measurements followed by a one-hot encoding of sex (``sex_F``, ``sex_I``, ``sex_M``);
    y is ``rings``. ``names`` lists X's 10 column names in order. ``df`` defaults to the abalone table (read
    without pandas: :func:`abalone_columns`).
    """
    if df is None:
        df = abalone_columns()  # the same values, without importing pandas
    numeric = matrix(df, ABALONE_NUMERIC)
    sex = np.asarray(df["sex"])
    unknown = sorted(set(sex) - set(ABALONE_SEXES))
    if unknown:
        raise ValueError(f"abalone_features: unknown sex values {unknown}; expected M, F or I")
    onehot = np.stack([(sex == s).astype(np.float64) for s in ABALONE_SEXES], axis=1)
    X = np.hstack([numeric, onehot])
    y = np.asarray(df["rings"], dtype=np.float64)
    names = list(ABALONE_NUMERIC) + [f"sex_{s}" for s in ABALONE_SEXES]
    return X, y, names


def load_house(data_dir: Path | None = None) -> "pd.DataFrame":
    """The King County house sales table, 1,361 rows, all columns numeric.

    Columns: ``price`` (US dollars, the target) followed by ``HOUSE_FEATURES`` in raw units: bedrooms,
    bathrooms, sqft_living, sqft_lot, floors, waterfront (0/1), view (0-4), condition (1-5), grade (1-13),
    sqft_above, sqft_basement, yr_built, yr_renovated (0 = never), zipcode, lat, long, sqft_living15,
    sqft_lot15. Note sqft_living = sqft_above + sqft_basement exactly, so linear weights are not unique.
    """
    return _load(HOUSE_FILE, data_dir)


def house_features(df: "pd.DataFrame | None" = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Design matrix and target for house prices: (X (n, 18) float64, y (n,) float64, names).

    X holds ``HOUSE_FEATURES`` (every column but price) in raw units, unscaled; y is ``price`` in dollars.
    ``df`` defaults to the house table (read without pandas: :func:`house_columns`).
    """
    if df is None:
        df = house_columns()  # the same values, without importing pandas
    names = list(HOUSE_FEATURES)
    X = matrix(df, names)
    y = np.asarray(df[HOUSE_TARGET], dtype=np.float64)
    return X, y, names


def train_test_split_indices(n: int, test_fraction: float = 0.2,
                             seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random split of ``range(n)``: (train_idx (n - k,), test_idx (k,)), int64, k = ceil(test_fraction * n).

    Disjoint, together covering 0..n-1, each sorted ascending; deterministic from ``seed``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    n_test = int(np.ceil(test_fraction * n))
    if n_test < 1 or n_test >= n:
        raise ValueError(f"cannot split {n} examples with test_fraction={test_fraction}: a set would be empty")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_test:]).astype(np.int64), np.sort(order[:n_test]).astype(np.int64)


_BOOLEAN_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def make_xor() -> tuple[np.ndarray, np.ndarray]:
    """XOR truth table: X (4, 2) rows (0,0), (0,1), (1,0), (1,1); y (4, 1) = [0, 1, 1, 0]."""
    return _BOOLEAN_INPUTS.copy(), np.array([[0.0], [1.0], [1.0], [0.0]])


def make_and() -> tuple[np.ndarray, np.ndarray]:
    """AND truth table: X (4, 2) rows (0,0), (0,1), (1,0), (1,1); y (4, 1) = [0, 0, 0, 1]."""
    return _BOOLEAN_INPUTS.copy(), np.array([[0.0], [0.0], [0.0], [1.0]])


# Each arm turns through 780 degrees (just over two turns), as in the classic two-spirals benchmark.
_SPIRAL_TURN = 780.0 * np.pi / 180.0


def make_spirals(n_points: int = 200, noise: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms: X (n_points, 2) float64, raw (not standardised), y (n_points, 1) in {0, 1}.

    The first n_points / 2 rows are class 0, the rest class 1 (the arm rotated by 180 degrees). Angles t are
    sqrt(U[0, 1)) * 780 degrees (denser towards the outside), the radius equals t (up to about 13.6), and
    Gaussian noise with standard deviation ``noise`` is added to each coordinate. ``n_points`` must be even.
    """
    if n_points < 2 or n_points % 2:
        raise ValueError(f"n_points must be a positive even number (two equal classes), got {n_points}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    half = n_points // 2
    t = np.sqrt(rng.random(half)) * _SPIRAL_TURN
    arm = np.stack([-np.cos(t) * t, np.sin(t) * t], axis=1)
    X = np.vstack([arm, -arm]) + noise * rng.standard_normal((n_points, 2))
    y = np.concatenate([np.zeros(half), np.ones(half)]).reshape(-1, 1)
    return X, y


def make_linear(n: int = 200, m: int = 3, noise: float = 0.1,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Linear data with known coefficients: (X (n, m), y (n,), w (m,), b float).

    X ~ N(0, 1) entrywise; w ~ N(0, 1) entrywise and b ~ N(0, 1); y = X @ w + b + noise * N(0, 1).
    Shapes follow the linear neuron's conventions (y and w are 1-D).
    """
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(m)
    b = float(rng.standard_normal())
    X = rng.standard_normal((n, m))
    y = X @ w + b + noise * rng.standard_normal(n)
    return X, y, w, b


def make_cubic(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The cubic regression set: x (n, 1) ~ N(0, 1), y (n, 1) = x ** 3 exactly (no noise)."""
    x = np.random.default_rng(seed).standard_normal((n, 1))
    return x, x ** 3


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris, as ``sklearn.datasets.load_iris()`` gives it: (data (150, 4) float64, target (150,) int in
    {0, 1, 2}: setosa, versicolor, virginica), read from the CSV file scikit-learn ships (nothing is downloaded)."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise DataIntegrityError("scikit-learn is not installed: it ships the iris table")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "iris.csv"
    lines = path.read_text(encoding="utf-8").split()
    n, m = (int(v) for v in lines[0].split(",")[:2])
    rows = [line.split(",") for line in lines[1:n + 1]]
    if len(rows) != n or any(len(r) != m + 1 for r in rows):
        raise DataIntegrityError(f"{path}: expected {n} rows of {m} features and a class")
    data = np.array([[float(v) for v in r[:m]] for r in rows], dtype=np.float64)
    return data, np.array([int(r[m]) for r in rows], dtype=int)


def make_regression(n_samples: int, n_features: int, noise: float, seed: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sklearn.datasets.make_regression(n_samples, n_features, n_informative=n_features, noise=noise, bias=0,
    coef=True, random_state=seed)``, drawn the same way from the same ``np.random.RandomState(seed)``: X (n, m)
    standard normal, coef (m,) uniform in [0, 100), y = X @ coef + noise * N(0, 1), then rows and columns shuffled
    (X, y and coef alike)."""
    generator = np.random.RandomState(seed)
    X = generator.standard_normal(size=(n_samples, n_features))
    truth = 100 * generator.uniform(size=(n_features, 1))
    y = np.dot(X, truth)
    if noise > 0:
        y += generator.normal(scale=noise, size=y.shape)
    rows = np.arange(n_samples)
    generator.shuffle(rows)
    X, y = X[rows], y[rows]
    columns = np.arange(n_features)
    generator.shuffle(columns)
    X[:, :] = X[:, columns]
    return X, np.squeeze(y), np.squeeze(truth[columns])
