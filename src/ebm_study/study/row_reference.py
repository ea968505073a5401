"""The per-row study's reference rows (study/rows.py): the rows every run scores. By default
the data set's rows, every one up to `study.reference_rows` and a seeded sample above (the same
rows for every run); or the rows of `study.reference`, a CSV or Parquet file read as
`ebm-study-predict` reads its input: the runs' target and `data.drop` columns set aside, dates
as years, every other column checked against the data's, so a file that does not fit is one
line before any fit."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from ebm_study.fit import data, inputs, pipeline
from ebm_study.study.reference import prepared_run

SAMPLE_SEED = 0  # the reference rows' sample, above study.reference_rows: one for every run
REFERENCE_SETTING = "study.reference"


@dataclass(frozen=True)
class RowSet:
    X: pd.DataFrame  # the rows, as the models take them
    labels: pd.Series  # each row's name in reasons.json: its row number, or an ID set aside
    about: str  # where they come from, in words


def prepared(
    frame: pd.DataFrame, cfg: DictConfig, X_train: pd.DataFrame, what: str
) -> tuple[pd.DataFrame, pd.Series | None]:
    """A user's rows read the way the runs read their data (its ID and target columns set
    aside, dates as years) and checked against its columns; and an ID set aside, if there is
    one, to name each row by."""
    columns = inputs.columns_of(X_train)
    features, aside = inputs.as_trained(frame, columns, cfg)
    X = inputs.conform(features, columns, what, against="the data's columns")
    ids = [c for c in aside.columns if str(c) != str(cfg.data.target)]
    return X, (aside[ids[0]] if ids else None)


def reference_rows(
    cfg: DictConfig, reference: str | None, limit: int, table: data.Table | None = None
) -> RowSet:
    """The rows the per-row study reads (see the module's note; `table`: the data, when
    already read); a UserError naming study.reference when its file cannot be read or does
    not fit the data's columns."""
    table = table or pipeline.prepare(cfg).table
    if reference:
        path = Path(reference).expanduser()
        frame = data.read_table(path, REFERENCE_SETTING)
        X, labels = prepared(frame, cfg, table.X, f"{REFERENCE_SETTING}={reference!r}")
        about = f"the {len(X)} rows of {reference}"
    else:
        X, labels = table.X, None
        about = f"the {len(X)} rows of the data set"
    total = len(X)
    if total > limit:
        X = X.sample(n=limit, random_state=SAMPLE_SEED)
        about = f"{limit} of " + about.removeprefix("the ") + f" (a sample, seed {SAMPLE_SEED})"
    labels = pd.Series(X.index, index=X.index) if labels is None else labels.loc[X.index]
    return RowSet(X.reset_index(drop=True), labels.reset_index(drop=True), about)


def check_reference(cfg: DictConfig) -> None:
    """Before a sweep fits anything: a `study.reference` file that is missing or does not fit
    the data is one line (UserError)."""
    reference = cfg.study.get("reference")
    if reference:
        reference_rows(cfg, str(reference), 1)


@functools.lru_cache(maxsize=2)
def rows_of_run(run_id: str, reference: str | None, limit: int) -> RowSet:
    """The reference rows of a sweep whose run this is (the data as its config reads it)."""
    config, prepared = prepared_run(run_id)
    return reference_rows(config, reference, limit, prepared.table)
