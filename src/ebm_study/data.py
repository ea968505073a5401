"""Load the data named by the config and split it; nothing else."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig
from sklearn.model_selection import train_test_split

from ebm_study.errors import UserError

SOURCES = ("sklearn", "csv")
TASKS = ("auto", "classification", "regression")
# task=auto: a numeric target with more distinct values than this is a quantity to predict,
# not a label (a 0-9 digit has 10, a 1-5 rating 5; diabetes progression 214 of 442 rows).
MANY_VALUES = 20


@dataclass(frozen=True)
class Table:
    """Features and target of one data set, with where they came from."""

    name: str
    source: str  # a path or a package function, recorded with the run's dataset input
    X: pd.DataFrame
    y: pd.Series


@dataclass(frozen=True)
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def load(data_cfg: DictConfig) -> Table:
    """Read the data set the `data` config group names."""
    if data_cfg.source == "sklearn":
        return _bundled(str(data_cfg.name), str(data_cfg.get("target") or "target"))
    if data_cfg.source == "csv":
        path = Path(str(data_cfg.path)).expanduser()
        sep = delimiter(data_cfg.get("sep"))
        return _csv(path, str(data_cfg.target), data_cfg.name or path.stem, sep)
    raise UserError(f"data.source={data_cfg.source!r} is unknown; allowed: {', '.join(SOURCES)}")


# scikit-learn's bundled data sets (no network): data.name -> its loader's keyword arguments.
# Diabetes unscaled, so its features (and their shape functions) read in their own units.
BUNDLED = {"breast_cancer": {}, "diabetes": {"scaled": False}}


@functools.cache
def _bundled(name: str, target: str) -> Table:
    import sklearn.datasets

    if name not in BUNDLED:
        raise UserError(
            f"data.name={name!r} is not a bundled data set; allowed: {', '.join(BUNDLED)} "
            "(or data=csv for a file)"
        )
    loader = f"load_{name}"
    bunch = getattr(sklearn.datasets, loader)(as_frame=True, **BUNDLED[name])
    return Table(name, f"sklearn.datasets.{loader}", bunch.data, bunch.target.rename(target))


def task_of(y: pd.Series, given: object = "auto") -> str:
    """`classification` or `regression`: as `given`, or for `auto` from the target itself: a
    numeric target with more than MANY_VALUES distinct values is regressed, any other is
    classified."""
    if given in ("classification", "regression"):
        return str(given)
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    return "regression" if numeric and y.nunique() > MANY_VALUES else "classification"


DELIMITERS = ",;\t|"  # what `sniff` recognises


def read_csv(path: Path, setting: str, sep: str | None = None) -> pd.DataFrame:
    """A CSV file's rows, or a UserError naming `setting` (`data.path`, `--input`): the file
    missing, not a CSV, a header without rows, or one column (a delimiter not recognised).
    `sep` is the delimiter; None detects it from the file's first lines."""
    _must_be_a_file(path, setting)
    try:
        used = sep or sniff(path)
        frame = pd.read_csv(path, sep=used)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"{setting}={str(path)!r} is not a readable CSV: {first}") from err
    if frame.empty:
        raise UserError(f"{setting}={str(path)!r} has a header but no rows")
    if frame.shape[1] == 1:
        hint = "set data.sep to it" if setting == "data.path" else "use , ; tab or |"
        raise UserError(
            f"{setting}={str(path)!r} reads as one column ({str(frame.columns[0])[:60]!r}) with "
            f"delimiter {used!r}; if the file has more, {hint}"
        )
    return frame


def delimiter(sep: object) -> str | None:
    """`data.sep` as a delimiter: one character, or `tab` / `\\t` as the shell passes them;
    None for anything else (null: detect it)."""
    if not isinstance(sep, str):
        return None
    sep = {"tab": "\t", "\\t": "\t"}.get(sep, sep)
    return sep if len(sep) == 1 else None


def sniff(path: Path) -> str:
    """The delimiter of a CSV file from its first lines: `,` unless `;`, tab or `|` fit them
    better (a `;`-separated file, as spreadsheets with decimal commas write)."""
    with path.open(newline="", errors="replace") as file:
        sample = file.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or nothing to tell by
        return ","


def _must_be_a_file(path: Path, setting: str) -> None:
    if not path.is_file():
        raise UserError(f"{setting}={str(path)!r} is not a file; give the path of a CSV file")


def _csv(path: Path, target: str, name: str, sep: str | None = None) -> Table:
    _must_be_a_file(path, "data.path")
    stat = path.stat()
    # Jobs of a sweep that run in one process read the file once; an edit invalidates it.
    return _read_table(path.resolve(), stat.st_mtime_ns, stat.st_size, target, name, sep)


@functools.lru_cache(maxsize=8)
def _read_table(
    path: Path, mtime_ns: int, size: int, target: str, name: str, sep: str | None
) -> Table:
    frame = read_csv(path, "data.path", sep)
    if target not in frame.columns:
        raise UserError(
            f"data.target={target!r} is not a column of {path.name}; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )
    if frame.shape[1] < 2:
        raise UserError(f"data.path={str(path)!r} has no feature columns besides {target!r}")
    return Table(name, str(path.resolve()), frame.drop(columns=[target]), frame[target])


def positive_label(y: pd.Series, given: object = None) -> object | None:
    """The class F1, precision and recall are about, as it appears in `y`: `given` matched by
    its text (a command line's `1` finds the label 1 or "1"), by default the larger of two
    labels, as scikit-learn's scorers take it; None for more than two classes. A `given` that
    is not a class is a UserError."""
    classes = sorted(y.dropna().unique())
    if given is None:
        return classes[-1] if len(classes) == 2 else None
    for label in classes:
        if str(label) == str(given):
            return label.item() if hasattr(label, "item") else label
    shown = ", ".join(repr(c.item() if hasattr(c, "item") else c) for c in classes[:10])
    raise UserError(f"data.positive_class={given!r} is not a class of the target; classes: {shown}")


def split(table: Table, test_size: float, stratify: bool, seed: int) -> Split:
    """Hold out `test_size` of the rows, drawn by `seed`, stratified by class if asked (a
    regression passes False: its target has no classes)."""
    X_train, X_test, y_train, y_test = train_test_split(
        table.X,
        table.y,
        test_size=test_size,
        random_state=seed,
        stratify=table.y if stratify else None,
    )
    return Split(X_train, X_test, y_train, y_test)
