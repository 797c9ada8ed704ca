#!/usr/bin/env python3
"""Build the kit's small datasets in ``data/`` from the raw copies in ``../shared/datasets/``.

Writes ``data/abalone_mini.csv``, ``data/house_mini.csv``, ``data/SHA256SUMS`` and the datasheet
``data/README.md``. The datasheet also documents the data the ``perceptron_adaline`` assignment takes from
scikit-learn (iris, shipped inside the package, and ``make_regression``'s synthetic sets): nothing of them is
written to ``data/``, but the iris file of the pinned scikit-learn is checked against its published digest and the
facts the datasheet states about both are computed from them. The build is deterministic and byte-reproducible:

- the raw files are checked against the sha256 published in ``../shared/datasets/README.md``;
- rows are selected by position (every k-th row), never by a random generator, so the result cannot change
  with a NumPy or pandas release;
- numbers are parsed with the standard library and written with ``repr`` (the shortest text that reads back
  as the same float64), integers as plain integers, ``\\n`` line endings.

Usage: ``python scripts/build_data.py [--shared DIR] [--out DIR] [--check]``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
from pathlib import Path

import numpy as np

KIT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = KIT_ROOT.parent / "shared" / "datasets"
DEFAULT_OUT = KIT_ROOT / "data"

# Published in ../shared/datasets/README.md; a raw file with another digest is not the file the datasheet
# describes, so the build refuses to run on it.
RAW_SHA256 = {
    "abalone_uci.csv": "2a74a71f011379866620127e5a5e13f05867cfc9c18084634fbc34c6aeb12dc3",
    "kc_house_sample.csv": "8af3a8a287c46ad0593077daeb5a7ac89dc2998ba4d1d2aced8386aa28f28238",
}

# Every 4th of the 4,177 abalone rows (rows 0, 4, 8, ...): 1,045 rows, enough for stable fits while
# keeping grading fast. Position-based so it never depends on a library's RNG.
ABALONE_STEP = 4
# The house sample has only 1,361 rows: keep them all.
HOUSE_STEP = 1

ABALONE_COLUMNS = [
    # (raw header, clean name, kind)
    ("sex", "sex", "str"),
    ("length", "length", "float"),
    ("diameter", "diameter", "float"),
    ("height", "height", "float"),
    ("whole weight", "whole_weight", "float"),
    ("shucked weight", "shucked_weight", "float"),
    ("viscera weight", "viscera_weight", "float"),
    ("shell weight", "shell_weight", "float"),
    ("rings", "rings", "int"),
]

HOUSE_COLUMNS = [
    ("price", "int"),
    ("bedrooms", "int"),
    ("bathrooms", "float"),
    ("sqft_living", "int"),
    ("sqft_lot", "int"),
    ("floors", "float"),
    ("waterfront", "int"),
    ("view", "int"),
    ("condition", "int"),
    ("grade", "int"),
    ("sqft_above", "int"),
    ("sqft_basement", "int"),
    ("yr_built", "int"),
    ("yr_renovated", "int"),
    ("zipcode", "int"),
    ("lat", "float"),
    ("long", "float"),
    ("sqft_living15", "int"),
    ("sqft_lot15", "int"),
]
HOUSE_DROPPED = ("id", "date")

ABALONE_DOC = {
    "sex": ("-", "M (male), F (female) or I (infant)"),
    "length": ("mm / 200", "longest shell measurement"),
    "diameter": ("mm / 200", "shell width, perpendicular to length"),
    "height": ("mm / 200", "height with meat in shell"),
    "whole_weight": ("g / 200", "whole abalone"),
    "shucked_weight": ("g / 200", "weight of the meat"),
    "viscera_weight": ("g / 200", "gut weight after bleeding"),
    "shell_weight": ("g / 200", "shell after drying"),
    "rings": ("count", "growth rings (integer); age in years is about rings + 1.5. The regression target"),
}

HOUSE_DOC = {
    "price": ("US dollars", "sale price (integer). The regression target"),
    "bedrooms": ("count", "bedrooms"),
    "bathrooms": ("count", "bathrooms; fractions count partial bathrooms (0.5 = toilet and sink, no shower)"),
    "sqft_living": ("sq ft", "interior living space"),
    "sqft_lot": ("sq ft", "land lot"),
    "floors": ("count", "floors (levels); 1.5 = a floor and a half"),
    "waterfront": ("0/1", "1 if the property overlooks the waterfront"),
    "view": ("0-4", "how good the view is"),
    "condition": ("1-5", "overall condition"),
    "grade": ("1-13", "King County building grade (construction and design quality)"),
    "sqft_above": ("sq ft", "interior space above ground level"),
    "sqft_basement": ("sq ft", "interior space below ground level (sqft_living = sqft_above + sqft_basement)"),
    "yr_built": ("year", "year built"),
    "yr_renovated": ("year", "year of the last renovation, 0 if never renovated"),
    "zipcode": ("-", "US ZIP code (98xxx), kept as a raw number on purpose: the chapter's example of a "
                "feature whose scale is meaningless"),
    "lat": ("degrees", "latitude"),
    "long": ("degrees", "longitude (negative = west)"),
    "sqft_living15": ("sq ft", "mean living space of the 15 nearest neighbours (2015)"),
    "sqft_lot15": ("sq ft", "mean lot size of the 15 nearest neighbours (2015)"),
}


# Iris as scikit-learn ships it (``sklearn/datasets/data/iris.csv``, read by ``sklearn.datasets.load_iris``): the
# sha256 of that file in scikit-learn 1.7.2, the version requirements.txt pins. Another copy (another scikit-learn)
# is not the data this datasheet describes, so the build refuses it.
IRIS_FILE = "iris.csv"
IRIS_SHA256 = "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449"
IRIS_COLUMNS = ("sepal length", "sepal width", "petal length", "petal width")
IRIS_SPECIES = ("setosa", "versicolor", "virginica")
# What perceptron_adaline uses: (species as label 0, species as label 1, feature columns).
IRIS_PERCEPTRON = (0, 1, (0, 2))
IRIS_ADALINE = (1, 2, (1, 2))
# The Adaline split: np.random.default_rng(IRIS_SPLIT_SEED).permutation(100), the first IRIS_TRAIN rows train.
IRIS_SPLIT_SEED, IRIS_TRAIN = 1, 70
# make_regression as the lecture's notebook calls it (random_state=42); the grader draws other seeds too.
REGRESSION_ARGS = {"n_samples": 1000, "n_features": 2, "n_informative": 2, "noise": 10, "bias": 0, "coef": True}
REGRESSION_NOTEBOOK_SEED = 42


def sha256_of(path: Path) -> str:
    """Hex sha256 digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_raw(shared: Path) -> None:
    """Raise SystemExit if a raw file is missing or differs from the digest published for it."""
    for name, expected in RAW_SHA256.items():
        path = shared / name
        if not path.is_file():
            raise SystemExit(f"build_data: missing raw file {path} (use --shared DIR)")
        seen = sha256_of(path)
        if seen != expected:
            raise SystemExit(f"build_data: {path} has sha256 {seen}, expected {expected}; refusing to build")


def parse_int(text: str) -> int:
    """Parse an integer written plainly, quoted, or in float notation such as ``1.225e+006``."""
    text = text.strip().strip('"')
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise ValueError(f"expected an integer, got {text!r}") from None
        return int(value)


def parse_float(text: str) -> float:
    """Parse a float, tolerating surrounding quotes."""
    return float(text.strip().strip('"'))


def format_value(value: object) -> str:
    """Stable text for one cell: ints as digits, floats as repr (shortest round-trip), strings unchanged."""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def read_raw(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a raw CSV file."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def build_abalone(shared: Path) -> tuple[list[str], list[list[object]]]:
    """Clean header and selected rows of the abalone data."""
    header, rows = read_raw(shared / "abalone_uci.csv")
    index = {name: i for i, name in enumerate(header)}
    out = []
    for row in rows[::ABALONE_STEP]:
        clean: list[object] = []
        for raw_name, _, kind in ABALONE_COLUMNS:
            text = row[index[raw_name]]
            if kind == "str":
                if text not in ("M", "F", "I"):
                    raise ValueError(f"abalone: unexpected sex {text!r}")
                clean.append(text)
            elif kind == "int":
                clean.append(parse_int(text))
            else:
                clean.append(parse_float(text))
        out.append(clean)
    return [name for _, name, _ in ABALONE_COLUMNS], out


def build_house(shared: Path) -> tuple[list[str], list[list[object]]]:
    """Clean header and selected rows of the house data (id and date dropped)."""
    header, rows = read_raw(shared / "kc_house_sample.csv")
    index = {name: i for i, name in enumerate(header)}
    out = []
    for row in rows[::HOUSE_STEP]:
        clean: list[object] = []
        for name, kind in HOUSE_COLUMNS:
            text = row[index[name]]
            clean.append(parse_int(text) if kind == "int" else parse_float(text))
        out.append(clean)
    return [name for name, _ in HOUSE_COLUMNS], out


def to_csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    """CSV text with LF line endings and stable number formatting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([format_value(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def critical_lr(X: np.ndarray) -> float:
    """2 / lambda_max of H = X1^T X1 / n, X1 = [X, 1]: the divergence threshold of batch gradient descent
    on E = mean(1/2 (y - X1 theta)^2), the kit's convention."""
    X1 = np.hstack([X, np.ones((X.shape[0], 1))])
    H = X1.T @ X1 / X.shape[0]
    return float(2.0 / np.linalg.eigvalsh(H)[-1])


def house_critical_lrs(rows: list[list[object]]) -> tuple[float, float]:
    """Critical learning rates on the raw and on the standardised house features (all rows, price dropped)."""
    X = np.array([[float(v) for v in row[1:]] for row in rows])
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    return critical_lr(X), critical_lr(Xs)


def iris_path() -> Path:
    """Where the installed scikit-learn keeps iris.csv (the file ``load_iris`` reads)."""
    from importlib import resources
    return Path(str(resources.files("sklearn.datasets.data") / IRIS_FILE))


def verify_iris() -> Path:
    """Raise SystemExit unless the installed scikit-learn ships the iris file the datasheet describes."""
    try:
        path = iris_path()
    except ModuleNotFoundError:
        raise SystemExit("build_data: scikit-learn is not installed (the datasheet documents its iris data)") from None
    if not path.is_file():
        raise SystemExit(f"build_data: missing {path} (scikit-learn's iris data)")
    seen = sha256_of(path)
    if seen != IRIS_SHA256:
        raise SystemExit(f"build_data: {path} has sha256 {seen}, expected {IRIS_SHA256} (scikit-learn 1.7.2); "
                         "refusing to build")
    return path


def linearly_separable(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether a line (hyperplane) separates the two classes strictly: a linear program with the margin
    constraints s_i (x_i . w + b) >= 1, s_i = +1 or -1, is feasible."""
    from scipy.optimize import linprog
    signs = np.where(y == 1, 1.0, -1.0)
    A = -signs[:, None] * np.column_stack([X, np.ones(len(y))])
    result = linprog(np.zeros(X.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(y)), bounds=(None, None), method="highs")
    return bool(result.status == 0)


def iris_facts() -> dict:
    """What the datasheet says about iris and about the make_regression set, computed from them."""
    from sklearn.datasets import load_iris, make_regression
    iris = load_iris()
    X, target = np.asarray(iris.data, dtype=np.float64), np.asarray(iris.target)
    facts: dict = {"rows": len(target), "counts": [int(np.sum(target == k)) for k in range(3)],
                   "names": list(iris.target_names)}
    for key, (zero, one, columns) in (("perceptron", IRIS_PERCEPTRON), ("adaline", IRIS_ADALINE)):
        keep = (target == zero) | (target == one)
        rows = np.flatnonzero(keep)
        Xs, ys = X[keep][:, list(columns)], (target[keep] == one).astype(int)
        facts[key] = {"rows": (int(rows[0]), int(rows[-1])), "separable": linearly_separable(Xs, ys),
                      "ranges": {label: [(float(Xs[ys == label, j].min()), float(Xs[ys == label, j].max()))
                                         for j in range(len(columns))] for label in (0, 1)}}
    keep = (target == IRIS_ADALINE[0]) | (target == IRIS_ADALINE[1])
    ys = (target[keep] == IRIS_ADALINE[1]).astype(int)
    order = np.random.default_rng(IRIS_SPLIT_SEED).permutation(len(ys))
    train, test = order[:IRIS_TRAIN], order[IRIS_TRAIN:]
    facts["adaline"]["split"] = {"train": [int(np.sum(ys[train] == k)) for k in (0, 1)],
                                 "test": [int(np.sum(ys[test] == k)) for k in (0, 1)]}
    Xr, yr, coef = make_regression(**REGRESSION_ARGS, random_state=REGRESSION_NOTEBOOK_SEED)
    facts["regression"] = {"coef": [float(c) for c in coef],
                           "lstsq": [float(c) for c in np.linalg.lstsq(Xr, yr, rcond=None)[0]]}
    return facts


def iris_section(facts: dict) -> str:
    """The datasheet's section on the data perceptron_adaline takes from scikit-learn."""
    species = ", ".join(f"{k} {name} ({count} rows)" for k, (name, count) in
                        enumerate(zip(facts["names"], facts["counts"])))

    def pair(key: str, spec: tuple, use: str) -> str:
        zero, one, columns = spec
        fact = facts[key]
        ranges = "; ".join(
            f"{IRIS_COLUMNS[c]}: {IRIS_SPECIES[zero]} {fact['ranges'][0][j][0]:.1f}-{fact['ranges'][0][j][1]:.1f}, "
            f"{IRIS_SPECIES[one]} {fact['ranges'][1][j][0]:.1f}-{fact['ranges'][1][j][1]:.1f}"
            for j, c in enumerate(columns))
        verdict = ("yes: a linear program finds a line that puts each species strictly on its own side"
                   if fact["separable"] else "no: a linear program finds no line that puts each species strictly "
                   "on its own side")
        return (f"rows {fact['rows'][0]}-{fact['rows'][1]} (target {zero} or {one}), {IRIS_SPECIES[zero]} as label 0 "
                f"and {IRIS_SPECIES[one]} as label 1; columns {columns[0]} and {columns[1]} ({IRIS_COLUMNS[columns[0]]} "
                f"and {IRIS_COLUMNS[columns[1]]}), {use}.\n"
                f"  - Ranges (cm): {ranges}.\n"
                f"  - Linearly separable in these two features: {verdict}.")

    split = facts["adaline"]["split"]
    coef, lstsq = facts["regression"]["coef"], facts["regression"]["lstsq"]
    return f"""## Iris and make_regression (perceptron_adaline; from scikit-learn, not stored here)

The `perceptron_adaline` assignment takes its data from scikit-learn, which the kit installs (`requirements.txt`
pins scikit-learn 1.7.2): nothing is downloaded and nothing is stored in this directory.

### Iris

- **Source:** R. A. Fisher, "The use of multiple measurements in taxonomic problems", Annals of Eugenics 7 (1936),
  179-188 (measurements by Edgar Anderson). The copy used is the one scikit-learn ships,
  `sklearn/datasets/data/{IRIS_FILE}`, read by `sklearn.datasets.load_iris()`; in scikit-learn 1.7.2 its sha256 is
  `{IRIS_SHA256}` (the build checks it). scikit-learn's description says its copy follows Fisher's paper, like
  R's `iris`, and differs from the UCI Machine Learning Repository's `iris.data` in two data points that UCI has
  wrong.
- **Licence:** the UCI Machine Learning Repository distributes Iris (dataset 53, DOI
  [10.24432/C56C76](https://doi.org/10.24432/C56C76)) under CC BY 4.0; attribution: Fisher, R. A. (1936). Iris.
  UCI Machine Learning Repository. scikit-learn itself is BSD-3-Clause, and its description of the data names
  no other licence.
- **Shape:** {facts['rows']} rows, four measurements in cm (columns 0-3: {", ".join(IRIS_COLUMNS)}) and the
  species as target: {species}, in that order.
- **Exercise 1 (the perceptron):** {pair("perceptron", IRIS_PERCEPTRON, "raw, in cm")}
- **Exercise 4 (Adaline):** {pair("adaline", IRIS_ADALINE, "standardised")}
  - Split 70/30 by `np.random.default_rng({IRIS_SPLIT_SEED}).permutation(100)`: its first {IRIS_TRAIN} entries index
    the training rows ({split['train'][0]} versicolor, {split['train'][1]} virginica), the other {100 - IRIS_TRAIN} the
    test rows ({split['test'][0]} versicolor, {split['test'][1]} virginica). Both parts are standardised with the
    mean and standard deviation (`np.std`, as StandardScaler computes it) of the training rows only.

### make_regression

`sklearn.datasets.make_regression(n_samples=1000, n_features=2, n_informative=2, noise=10, bias=0, coef=True)`
(exercise 2, and the lecture notebook's first part): two independent standard-normal features, the target
`X @ coef` plus Gaussian noise of standard deviation 10, no intercept, and the true `coef`. Synthetic: generated
when needed, never stored. The lecture's notebook uses `random_state=42` (true coefficients
({coef[0]:.4f}, {coef[1]:.4f}), least squares ({lstsq[0]:.4f}, {lstsq[1]:.4f}) with scikit-learn 1.7.2); the grader
draws other seeds of its own, so a submission cannot be tuned to one data set.
"""


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def datasheet(abalone: tuple[list[str], list[list[object]]], house: tuple[list[str], list[list[object]]],
              digests: dict[str, str], lr_raw: float, lr_std: float, iris: str) -> str:
    """The text of data/README.md."""
    ab_header, ab_rows = abalone
    ho_header, ho_rows = house
    sexes = {s: sum(1 for r in ab_rows if r[0] == s) for s in ("F", "I", "M")}
    ab_table = markdown_table(["column", "type", "unit", "meaning"], [
        [name, kind, ABALONE_DOC[name][0], ABALONE_DOC[name][1]] for _, name, kind in ABALONE_COLUMNS])
    ho_table = markdown_table(["column", "type", "unit", "meaning"], [
        [name, kind, HOUSE_DOC[name][0], HOUSE_DOC[name][1]] for name, kind in HOUSE_COLUMNS])
    return f"""# Datasheet: the kit's data

<!-- Generated by scripts/build_data.py; do not edit by hand (run `make data`). -->

Two small real tabular datasets used by the `linear_neuron` assignment, built deterministically from the raw
copies in `../shared/datasets/` (provenance of those copies: `../shared/datasets/README.md`). Load them with
`autograder.datasets` (`load_abalone()`, `load_house()`, `abalone_features()`, `house_features()`), which reads
only this directory and checks each file against `SHA256SUMS` before use. The synthetic sets of the course
(XOR, AND, two-class spirals, linear data with known coefficients, y = x^3) are generated by that module from
fixed seeds and are not stored here. The `perceptron_adaline` assignment uses iris and `make_regression` from
scikit-learn: they are documented below too, but not stored here either.

| file | rows | columns | sha256 |
|---|---|---|---|
| `abalone_mini.csv` | {len(ab_rows)} | {len(ab_header)} | `{digests['abalone_mini.csv']}` |
| `house_mini.csv` | {len(ho_rows)} | {len(ho_header)} | `{digests['house_mini.csv']}` |

Rows are data rows (each file also has one header row). Files are UTF-8, comma-separated, LF line endings,
no quoting, no missing values.

## abalone_mini.csv

Physical measurements of abalone (sea snails); the task is predicting the number of shell rings, an age
proxy, from measurements that are much easier to take than counting rings under a microscope.

- **Source:** UCI Machine Learning Repository, "Abalone" (Nash, Sellers, Talbot, Cawthorn and Ford, 1994),
  <https://archive.ics.uci.edu/dataset/1/abalone>, DOI [10.24432/C55C7W](https://doi.org/10.24432/C55C7W).
- **Licence:** Creative Commons Attribution 4.0 International (CC BY 4.0). Attribution: Nash, W., Sellers, T.,
  Talbot, S., Cawthorn, A., and Ford, W. (1994). Abalone [Dataset]. UCI Machine Learning Repository.
  https://doi.org/10.24432/C55C7W. Changes made here: a subset of rows, renamed columns (below).
- **Rows:** {len(ab_rows)} of the 4,177 in the original: every {ABALONE_STEP}th row in file order (rows 0, {ABALONE_STEP},
  {2 * ABALONE_STEP}, ...). Sex counts: F {sexes['F']}, I {sexes['I']}, M {sexes['M']}.
- **Units:** as in the UCI file, the continuous measurements were divided by 200 by the original donors
  (so `length` 0.455 means 91 mm). Quirks of the original are kept if they fall in the subset (a few rows
  with height 0 or a part weight above the whole weight).

{ab_table}

`abalone_features()` returns the 7 numeric measurements plus a one-hot encoding of sex (`sex_F`, `sex_I`,
`sex_M`) as X (n, 10) and `rings` as y (n,), both float64.

## house_mini.csv

Sales of houses in King County (Seattle area, Washington, USA) between May 2014 and May 2015.

- **Source:** "House Sales in King County, USA", Kaggle dataset `harlfoxem/housesalesprediction`
  (`kc_house_data.csv`, 21,613 rows), from King County public records.
- **Licence:** CC0 1.0 (public domain dedication). No attribution is required; we credit the Kaggle dataset
  and King County anyway.
- **Rows:** all {len(ho_rows)} rows of the sample in `../shared/datasets/kc_house_sample.csv` (ten evenly spaced
  blocks of the full file, in file order; see its README). 11 houses appear twice: repeat sales, as in the
  original. Real outliers are kept (e.g. 0 bedrooms, 11 bedrooms).
- **Changes:** `id` and `date` dropped; quotes removed from `floors` and `zipcode`; prices written in the raw
  file like `1.225e+006` are written as plain integers (`1225000`); every other value is unchanged.
- **Raw scales on purpose.** Features are kept in their raw units (square feet in the thousands, lots in the
  tens of thousands, years and zip codes near 2,000 and 98,000) because the chapter uses them to show why
  gradient descent needs normalisation. With the kit's loss convention E = mean(1/2 (y - X1 theta)^2),
  X1 = [X, 1], batch gradient descent diverges above lr = 2 / lambda_max(X1^T X1 / n). On all
  {len(ho_rows)} rows and the {len(ho_header) - 1} features (`HOUSE_FEATURES`, everything but price):

  | features | critical learning rate 2 / lambda_max |
  |---|---|
  | raw | {lr_raw:.3g} |
  | standardised (z-scores) | {lr_std:.3g} |

  Raw, lambda_max is dominated by `zipcode` (about 98,000, squared), hence the chapter's "about 1e-10".
  Standardised, H is the features' correlation matrix (plus a 1 for the intercept), whose largest
  eigenvalue is {2 / lr_std:.2f}: above 4 because the size features (`sqft_living`, `sqft_above`, `sqft_living15`,
  `grade`, `bathrooms`) are strongly correlated, so with all {len(ho_header) - 1} features lr 0.01 and 0.1 converge
  but 0.5 and 1.0 diverge. `sqft_living = sqft_above + sqft_basement` holds exactly in every row, so the
  least-squares weights are not unique (predictions are): compare predictions, not weights, with sklearn.

{ho_table}

`house_features()` returns the {len(ho_header) - 1} features as X (n, {len(ho_header) - 1}) and price as y (n,), both float64.

{iris}
## How it was built

```
python scripts/build_data.py --shared ../shared/datasets   # or: make data
```

1. Verify the sha256 of both raw files against the digests in `../shared/datasets/README.md`
   (abalone_uci.csv `{RAW_SHA256['abalone_uci.csv']}`,
   kc_house_sample.csv `{RAW_SHA256['kc_house_sample.csv']}`); refuse to build on a mismatch.
2. Parse with Python's `csv` module; select rows by position (no random generator involved, so no library
   version can change the selection); rename columns to snake_case; parse every number.
3. Write integers as integers and floats with Python's `repr` (the shortest text that reads back as the same
   float64), so rebuilding gives byte-identical files; `tests/test_data.py` checks this when `../shared`
   is present.
4. Write `SHA256SUMS` (`sha256sum -c SHA256SUMS` works in this directory) and this datasheet.
5. For iris and `make_regression` nothing is written: the build checks the installed scikit-learn's `{IRIS_FILE}`
   against the sha256 above (refusing another copy) and computes the facts stated about both from the data.
"""


def build(shared: Path, out: Path) -> dict[str, bytes]:
    """Build every output file's bytes in memory (nothing is written)."""
    verify_raw(shared)
    verify_iris()
    abalone = build_abalone(shared)
    house = build_house(shared)
    files = {"abalone_mini.csv": to_csv_bytes(*abalone), "house_mini.csv": to_csv_bytes(*house)}
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    files["SHA256SUMS"] = "".join(f"{digests[n]}  {n}\n" for n in sorted(digests)).encode()
    lr_raw, lr_std = house_critical_lrs(house[1])
    files["README.md"] = datasheet(abalone, house, digests, lr_raw, lr_std, iris_section(iris_facts())).encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="directory holding the raw CSV files (default: ../shared/datasets from the kit root)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: data/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if any file in --out differs from a fresh build")
    args = parser.parse_args(argv)
    files = build(args.shared, args.out)
    if args.check:
        stale = [n for n, data in files.items()
                 if not (args.out / n).is_file() or (args.out / n).read_bytes() != data]
        for name in stale:
            print(f"build_data: {args.out / name} differs from a fresh build", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
    house_rows = files["house_mini.csv"].count(b"\n") - 1
    abalone_rows = files["abalone_mini.csv"].count(b"\n") - 1
    lr_raw, lr_std = house_critical_lrs(build_house(args.shared)[1])
    print(f"build_data: wrote {args.out}/abalone_mini.csv ({abalone_rows} rows), house_mini.csv ({house_rows} "
          f"rows), SHA256SUMS, README.md; house critical lr raw {lr_raw:.3g}, standardised {lr_std:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
