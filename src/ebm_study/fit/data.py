"""Load the data named by the config and split it; nothing else."""

from __future__ import annotations

import csv
import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from sklearn.model_selection import train_test_split

from ebm_study.errors import UserError

SOURCES = ("sklearn", "csv")
TASKS = ("auto", "classification", "regression")
# task=auto: a numeric target with more distinct values than this is a quantity to predict,
# not a label (a 0-9 digit has 10, a 1-5 rating 5; diabetes progression 214 of 442 rows).
MANY_VALUES = 20


@dataclass(frozen=True, eq=False)  # hashed by identity: a cache key of its arrangement
class Table:
    """Features and target of one data set, with where they came from."""

    name: str
    source: str  # a path or a package function, recorded with the run's dataset input
    X: pd.DataFrame
    y: pd.Series
    rows_dropped: int = 0  # rows left out for a missing target (data.drop_missing_target)


@dataclass(frozen=True)
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series


def names(value: object) -> list[str]:
    """A `data` option's columns: a list, or one name given bare (`data.drop=id`)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(c) for c in value]


@dataclass(frozen=True)
class Columns:
    """What the `data` group says to do with columns and rows before any fitting."""

    drop: tuple[str, ...] = ()  # columns left out (an ID, a leak)
    dates: tuple[str, ...] = ()  # date columns, used as a number: the date as a decimal year
    drop_missing_target: bool = False  # rows without a target value: left out, or an error

    @classmethod
    def of(cls, data_cfg: DictConfig) -> Columns:
        return cls(
            tuple(names(data_cfg.get("drop"))),
            tuple(names(data_cfg.get("dates"))),
            bool(data_cfg.get("drop_missing_target") or False),
        )


def load(data_cfg: DictConfig) -> Table:
    """Read the data set the `data` config group names, its columns and rows as it says."""
    columns = Columns.of(data_cfg)
    if data_cfg.source == "sklearn":
        table = _bundled(str(data_cfg.name), str(data_cfg.get("target") or "target"))
        return arrange(table, columns)
    if data_cfg.source == "csv":
        path = Path(str(data_cfg.path)).expanduser()
        sep = delimiter(data_cfg.get("sep"))
        return _csv(path, str(data_cfg.target), data_cfg.name or path.stem, sep, columns)
    raise UserError(f"data.source={data_cfg.source!r} is unknown; allowed: {', '.join(SOURCES)}")


def arrange(table: Table, columns: Columns) -> Table:
    """The table with `columns.drop` left out, `columns.dates` as decimal years and, if asked,
    the rows without a target value left out (counted in `rows_dropped`)."""
    X, y = table.X, table.y
    names = [str(c) for c in X.columns]
    for option, asked in (("data.drop", columns.drop), ("data.dates", columns.dates)):
        if str(y.name) in asked:
            raise UserError(f"{option}={list(asked)} names the target, {y.name!r}")
        unknown = [c for c in asked if c not in names]
        if unknown:
            raise UserError(
                f"{option} names no column: {', '.join(unknown)}; columns: {', '.join(names)}"
            )
    both = sorted(set(columns.drop) & set(columns.dates))
    if both:
        raise UserError(f"data.drop and data.dates both name {', '.join(both)}; choose one")
    if columns.drop:
        X = X.drop(columns=list(columns.drop))
        if X.shape[1] == 0:
            raise UserError(f"data.drop={list(columns.drop)} leaves no feature columns")
    if columns.dates:
        X = X.assign(**{c: decimal_year(X[c], c) for c in columns.dates})
    dropped = 0
    if columns.drop_missing_target:
        keep = y.notna().to_numpy()
        dropped = int((~keep).sum())
        if dropped == len(y):
            raise UserError(f"data.target={y.name!r} has no values; nothing to learn")
        X, y = X[keep], y[keep]
        # A column of 0/1 with blanks reads as floats: its labels are the whole numbers again.
        if pd.api.types.is_float_dtype(y) and bool((y == np.round(y)).all()):
            y = y.astype("int64")
    return Table(table.name, table.source, X, y, dropped)


YEAR = r"(?<!\d)\d{4}(?!\d)"  # a date written out holds its year in four digits


def _as_dates(column: pd.Series) -> pd.Series:
    """Timestamps in UTC (NaT where a value is no date): datetime values as they are; text only
    when it holds a four-digit year (pandas reads "10:30" as today and "M1" as year 1)."""
    with warnings.catch_warnings():  # pandas' "could not infer format" on mixed inputs
        warnings.simplefilter("ignore", UserWarning)
        if pd.api.types.is_datetime64_any_dtype(column):
            return pd.to_datetime(column, utc=True)
        text = column.astype("string")
        when = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    return when.where(text.str.contains(YEAR, regex=True).fillna(False).astype(bool))


def decimal_year(column: pd.Series, name: str) -> pd.Series:
    """Dates as numbers a reader can place: 2013.5 is the middle of 2013 (the year, and the
    elapsed share of it to the second). Missing dates stay missing; a value that is no date (or
    gives no four-digit year) is a UserError naming it. A time zone is read in UTC."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        given = column.dropna()
        shown = f" ({given.iloc[0].item()!r})" if len(given) else ""
        raise UserError(
            f"data.dates: column {name!r} is numeric already{shown}; leave it out of data.dates"
        )
    when = _as_dates(column)
    bad = when.isna() & column.notna()
    if bad.any():
        value = column[bad].iloc[0]
        raise UserError(
            f"data.dates: column {name!r} holds {value!r}, not a date ({int(bad.sum())} of "
            f"{int(column.notna().sum())} values do not read as dates with a four-digit year)"
        )
    elapsed = (when.dt.dayofyear - 1) * 86400.0 + (when - when.dt.floor("D")).dt.total_seconds()
    length = np.where(when.dt.is_leap_year, 366, 365) * 86400.0
    return (when.dt.year + elapsed / length).astype(float)


def dates_like(column: pd.Series, sample: int = 200) -> bool:
    """Whether a column holds dates: datetime values, or text of which at least 90% of up to
    `sample` values read as dates with a four-digit year (a month name, a code like "M1" or a
    time of day alone is not a date)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    values = column.dropna().head(sample)
    if values.empty:
        return False
    return bool(_as_dates(values).notna().mean() >= 0.9)


def id_like(column: pd.Series) -> bool:
    """Whether a column holds nearly one value a row (a name, an ID): at least 90% of its
    values distinct, over more than 20 rows. It can tell the model nothing about new rows."""
    values = column.dropna()
    return len(values) > 20 and values.nunique() >= 0.9 * len(values)


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
PARQUET = (".parquet", ".pq")  # read as Parquet; any other file as a CSV


def read_table(path: Path, setting: str, sep: str | None = None) -> pd.DataFrame:
    """A CSV or Parquet file's rows (by its suffix: .parquet or .pq), or a UserError naming
    `setting` (`data.path`, `--input`): the file missing, unreadable, a header without rows,
    or (a CSV) one column because the delimiter was not recognised."""
    _must_be_a_file(path, setting)
    if path.suffix.lower() in PARQUET:
        try:
            frame = pd.read_parquet(path)
        except Exception as err:  # noqa: BLE001 - pyarrow's errors have no common base
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            message = f"{setting}={str(path)!r} is not a readable Parquet file: {first}"
            raise UserError(message) from err
        if frame.empty:
            raise UserError(f"{setting}={str(path)!r} has columns but no rows")
        return frame
    return read_csv(path, setting, sep)


def read_csv(path: Path, setting: str, sep: str | None = None) -> pd.DataFrame:
    """A CSV file's rows, or a UserError naming `setting` (`data.path`, `--input`): the file
    missing, not a CSV, a header without rows, or one column (a delimiter not recognised).
    `sep` is the delimiter; None detects it from the file's first lines."""
    _must_be_a_file(path, setting)
    try:
        used = sep or sniff(path)
        # One pass typing each column (pandas' chunks otherwise type a column of numbers and
        # text one way here, another there).
        frame = pd.read_csv(path, sep=used, low_memory=False)
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


def _csv(
    path: Path, target: str, name: str, sep: str | None = None, columns: Columns = Columns()
) -> Table:
    _must_be_a_file(path, "data.path")
    stat = path.stat()
    # Jobs of a sweep that run in one process read the file once; an edit invalidates it.
    table = _read_table(path.resolve(), stat.st_mtime_ns, stat.st_size, target, name, sep)
    return _arranged(table, columns)


@functools.lru_cache(maxsize=8)
def _read_table(
    path: Path, mtime_ns: int, size: int, target: str, name: str, sep: str | None
) -> Table:
    frame = read_table(path, "data.path", sep)
    if target not in frame.columns:
        raise UserError(
            f"data.target={target!r} is not a column of {path.name}; "
            f"columns: {', '.join(map(str, frame.columns))}"
        )
    if frame.shape[1] < 2:
        raise UserError(f"data.path={str(path)!r} has no feature columns besides {target!r}")
    return Table(name, str(path.resolve()), frame.drop(columns=[target]), frame[target])


@functools.lru_cache(maxsize=8)
def _arranged(table: Table, columns: Columns) -> Table:
    # Tables hash by identity: the read table's cache entry keys this one.
    return arrange(table, columns)


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
