"""Check a config and its data before any work; each error names the value and what is allowed.

Like scikit-learn's parameter validation, but before a sweep starts fitting, so a typo costs a
second, not the first job of an hour-long study.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from ebm_study import settings
from ebm_study.errors import UserError
from ebm_study.fit import data, model
from ebm_study.fit.data import MANY_VALUES, SOURCES, TASKS, Table
from ebm_study.settings import is_finite, is_whole

_TIMES = re.compile(r"^\d+(\.\d+)?x$")  # interpret's "3x": three times the number of features


def check_config(cfg: DictConfig) -> None:
    """The values a run needs, checked without reading data."""
    sep = cfg.data.get("sep")
    if sep is not None and data.delimiter(sep) is None:
        raise UserError(f"data.sep={sep!r} must be one character (or tab), or null to detect it")
    task = cfg.get("task", "auto")
    if task not in TASKS:
        raise UserError(f"task={task!r} is unknown; allowed: {', '.join(TASKS)}")
    if cfg.data.source not in SOURCES:
        raise UserError(
            f"data.source={cfg.data.source!r} is unknown; allowed: {', '.join(SOURCES)}"
        )
    test_size = cfg.split.test_size
    if not is_finite(test_size) or not 0 < test_size < 1:
        raise UserError(f"split.test_size={test_size!r} must be a fraction between 0 and 1")
    for key in ("split_seed", "model_seed"):
        if not is_whole(cfg[key]) or cfg[key] < 0:
            raise UserError(f"{key}={cfg[key]!r} must be a whole number >= 0")
    m = cfg.model
    if not is_finite(m.learning_rate) or m.learning_rate <= 0:
        raise UserError(f"model.learning_rate={m.learning_rate!r} must be a number > 0")
    if not is_whole(m.outer_bags) or m.outer_bags < 1:
        raise UserError(f"model.outer_bags={m.outer_bags!r} must be a whole number >= 1")
    if not is_whole(m.inner_bags) or m.inner_bags < 0:
        raise UserError(f"model.inner_bags={m.inner_bags!r} must be a whole number >= 0")
    for key in ("max_bins", "max_interaction_bins", "max_leaves", "min_samples_leaf"):
        low = 2 if "bins" in key else 1
        if not is_whole(m[key]) or m[key] < low:
            raise UserError(f"model.{key}={m[key]!r} must be a whole number >= {low}")
    if m.max_rounds != "auto" and (not is_whole(m.max_rounds) or m.max_rounds < 1):
        raise UserError(f"model.max_rounds={m.max_rounds!r} must be 'auto' or a whole number >= 1")
    budget = m.get("round_budget", model.DEFAULT_BUDGET)
    if not is_finite(budget) or budget <= 0:
        raise UserError(f"model.round_budget={budget!r} must be a number > 0")
    model.resolve_n_jobs(m.n_jobs, cores=1)  # "auto" or a number, else it names the value
    inter = m.interactions
    if not (
        (is_whole(inter) and inter >= 0)
        or (is_finite(inter) and 0 < inter < 1)
        or (isinstance(inter, str) and _TIMES.match(inter))
    ):
        raise UserError(
            f"model.interactions={inter!r} must be a count (0, 10), a fraction of the features "
            "(0.5) or a multiple of them ('3x')"
        )
    settings.from_config(cfg)  # top_k and the study's options: checked where they are read


def check_data(table: Table, cfg: DictConfig, task: str = "classification") -> None:
    """The data against the config: a usable target for the `task`, encodable features, a
    feasible split."""
    y = table.y
    name = cfg.data.target
    if y.isna().any():
        raise UserError(
            f"data.target={name!r} has {int(y.isna().sum())} missing value(s) in {len(y)} rows; "
            "data.drop_missing_target=true leaves those rows out"
        )
    _check_features(table, cfg)
    if task == "regression":
        _check_regression(y, cfg)
    else:
        _check_classification(y, cfg)
    features = table.X.shape[1]
    mains_only = cfg.model.interactions == 0 or OmegaConf.select(cfg, "study.terms") == "mains"
    if mains_only and cfg.top_k > features:
        raise UserError(
            f"top_k={cfg.top_k} is more than the number of terms ({features} features, no "
            f"pairs): at most top_k={features}, and top_k={features - 1} or less for a top "
            "k that can differ between runs"
            if features > 1
            else f"top_k={cfg.top_k} is more than the number of terms (1 feature): top_k=1"
        )


def _check_regression(y: pd.Series, cfg: DictConfig) -> None:
    name = cfg.data.target
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        value = next((v for v in y if not isinstance(v, int | float)), y.iloc[0])
        raise UserError(
            f"data.target={name!r} is not numeric (it holds {value!r}); task=regression needs "
            "numbers: use task=classification or task=auto"
        )
    if not np.isfinite(y.to_numpy(dtype=float)).all():
        raise UserError(f"data.target={name!r} holds infinite values; drop those rows")
    if y.nunique() < 2:
        raise UserError(f"data.target={name!r} has one value ({y.iloc[0]!r}); nothing to learn")
    given = cfg.data.get("positive_class")
    if given is not None:
        raise UserError(
            f"data.positive_class={given!r} is for a classification; data.target={name!r} is "
            "regressed (set task=classification if its values are classes)"
        )
    n_test = math.ceil(cfg.split.test_size * len(y))
    if n_test < 2 or len(y) - n_test < 2:
        raise UserError(
            f"split.test_size={cfg.split.test_size} leaves {n_test} test and "
            f"{len(y) - n_test} training rows of {len(y)}; each needs at least 2"
        )


def _check_classification(y: pd.Series, cfg: DictConfig) -> None:
    name = cfg.data.target
    classes = y.nunique()
    if classes < 2:
        only = y.iloc[0].item() if hasattr(y.iloc[0], "item") else y.iloc[0]  # not np.int64(1)
        raise UserError(f"data.target={name!r} has one class ({only!r}); need at least 2")
    given = cfg.data.get("positive_class")
    if given is not None and classes != 2:
        raise UserError(
            f"data.positive_class={given!r} is for two classes; data.target={name!r} has "
            f"{classes} (F1, precision and recall are then macro averages)"
        )
    data.positive_label(y, given)  # a class of the target, or one line saying which are
    # task=classification given for a quantity: its "classes" are its values.
    quantity = pd.api.types.is_numeric_dtype(y) and classes > MANY_VALUES
    hint = f" ({classes} distinct numbers: for a quantity set task=regression)" if quantity else ""
    counts = y.value_counts()
    if cfg.split.stratify and counts.min() < 2:
        rare = counts.idxmin()
        rare = rare.item() if hasattr(rare, "item") else rare
        raise UserError(
            f"data.target={name!r} class {rare!r} has {counts.min()} row; a stratified split "
            f"needs at least 2 of each class: drop it, or set split.stratify=false{hint}"
        )
    n_test = math.ceil(cfg.split.test_size * len(y))
    if n_test < classes or len(y) - n_test < classes:
        raise UserError(
            f"split.test_size={cfg.split.test_size} leaves {n_test} test and "
            f"{len(y) - n_test} training rows of {len(y)}; each needs at least {classes} "
            f"(one per class){hint}"
        )


def _check_features(table: Table, cfg: DictConfig) -> None:
    categorical = set(data.names(cfg.data.get("categorical")))
    dropped = sorted(categorical & set(data.names(cfg.data.get("drop"))))
    if dropped:
        raise UserError(f"data.categorical and data.drop both name {', '.join(dropped)}")
    unknown = sorted(categorical - set(table.X.columns))
    if unknown:
        raise UserError(f"data.categorical names no column: {', '.join(map(str, unknown))}")
    dates = sorted(categorical & set(data.names(cfg.data.get("dates"))))
    if dates:
        raise UserError(f"data.categorical and data.dates both name {', '.join(dates)}")
    text = [
        c
        for c in table.X.columns
        if not pd.api.types.is_numeric_dtype(table.X[c]) and c not in categorical
    ]
    if text:
        raise UserError(
            f"non-numeric feature column(s) {'; '.join(what_is(table.X[c], c) for c in text)}: "
            "list each under the option named (data.drop leaves a column out)"
        )
    infinite = [
        str(c)
        for c in table.X.columns
        if pd.api.types.is_numeric_dtype(table.X[c]) and np.isinf(table.X[c]).any()
    ]
    if infinite:
        raise UserError(
            f"feature column(s) {', '.join(infinite)} hold infinite values; replace them "
            "(with a number, or leave the cell empty for missing) or drop those rows"
        )


def what_is(column: pd.Series, name: object) -> str:
    """A text column and the option that takes it: an ID (data.drop), dates (data.dates), or
    categories (data.categorical)."""
    values = column.dropna()
    if data.dates_like(values):
        return f"{name} (dates, e.g. {values.iloc[0]!r}: data.dates=[{name}])"
    if data.id_like(values):
        return (
            f"{name} (an ID or name: {values.nunique()} distinct values in {len(values)} rows: "
            f"data.drop=[{name}])"
        )
    return f"{name} (text: data.categorical=[{name}])"


def data_warnings(table: Table, cfg: DictConfig) -> list[str]:
    """What a run should say about columns it accepts: a categorical column that holds nearly
    one value a row (an ID ranks high on training rows and tells nothing about new ones), or
    dates (whose order a category throws away)."""
    found = []
    for name in data.names(cfg.data.get("categorical")):
        values = table.X[name].dropna()
        if not pd.api.types.is_numeric_dtype(values) and data.dates_like(values):
            found.append(
                f"data.categorical column {name!r} holds dates ({values.nunique()} distinct): as "
                f"categories their order is lost; data.dates=[{name}] uses them as numbers"
            )
        elif data.id_like(values):
            found.append(
                f"data.categorical column {name!r} holds {values.nunique()} distinct values in "
                f"{len(values)} rows, nearly one a row: an ID or name tells the model nothing "
                f"about new rows; data.drop=[{name}] leaves it out"
            )
    return found
