"""Rows a user brings to a fitted model (`ebm-study-predict --input`, the study's
`study.reference` rows), read the way the model's run read its data and checked against the
columns it was fitted on: one line naming what does not fit. Pure pandas, no MLflow."""

from __future__ import annotations

import pandas as pd
from omegaconf import DictConfig

from ebm_study.errors import UserError
from ebm_study.fit import data
from ebm_study.fit.contributions import bin_indexes

NUMERIC = ("double", "float", "long", "integer")  # MLflow's numeric column types


def columns_of(X: pd.DataFrame) -> list[tuple[str, str]]:
    """(name, type) of a training table's columns, in the signature's terms."""

    def kind(column: pd.Series) -> str:
        if pd.api.types.is_bool_dtype(column):
            return "boolean"  # left as it is: a number cast would turn True into 1.0
        return "double" if pd.api.types.is_numeric_dtype(column) else "string"

    return [(str(c), kind(X[c])) for c in X.columns]


def conform(
    frame: pd.DataFrame,
    columns: list[tuple[str, str]],
    what: str = "the input",
    against: str = "the model's signature",
) -> pd.DataFrame:
    """The input reordered to the model's columns and cast to their types, or a clear error."""
    expected = [name for name, _ in columns]
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(map(str, missing))}")
        if extra:
            parts.append(f"extra columns: {', '.join(map(str, extra))}")
        raise UserError(f"{what} does not match {against} ({'; '.join(parts)})")
    out = frame[expected].copy()
    for name, kind in columns:
        if kind in NUMERIC:
            cast = pd.to_numeric(out[name], errors="coerce")
            bad = cast.isna() & out[name].notna()
            if bad.any():
                value = out.loc[bad, name].iloc[0]
                raise UserError(
                    f"{what}: column {name!r} must be numeric ({kind}); found {value!r} in "
                    f"{int(bad.sum())} row(s)"
                )
            out[name] = cast.astype(float)
    return out


def as_trained(
    rows: pd.DataFrame, columns: list[tuple[str, str]], run_cfg: DictConfig | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The input read the way the model's run read its data (its logged config): the columns
    it left out (`data.drop`: an ID) and its target set aside, its `data.dates` as decimal
    years. Returns the features and the set-aside columns, which the output carries beside the
    predictions so that each row can be told apart."""
    if run_cfg is None or "data" not in run_cfg:
        return rows, rows.iloc[:, :0]
    expected = {name for name, _ in columns}
    aside = {*data.names(run_cfg.data.get("drop")), str(run_cfg.data.target)}
    kept = [c for c in rows.columns if str(c) in aside and c not in expected]
    features = rows.drop(columns=kept)
    for name in data.names(run_cfg.data.get("dates")):
        if name in features and not pd.api.types.is_numeric_dtype(features[name]):
            features[name] = data.decimal_year(features[name], name)
    return features, rows[kept]


def unseen_categories(model, X: pd.DataFrame) -> list[str]:
    """Words for each categorical column whose input holds categories the model never saw:
    interpret scores such a value in its "unknown" bin, 0, so the column adds nothing to
    those rows' predictions."""
    index = bin_indexes(model, X)
    found = []
    for t, features in enumerate(model.term_features_):
        cuts = model.bins_[features[0]][0]
        if len(features) != 1 or not isinstance(cuts, dict):
            continue
        unknown = index[:, t] == len(cuts) + 1
        if unknown.any():
            name = X.columns[features[0]]
            values = pd.unique(X.loc[unknown, name].astype(str))
            shown = ", ".join(repr(v) for v in values[:5]) + (" ..." if len(values) > 5 else "")
            found.append(
                f"column {name!r}: {int(unknown.sum())} of {len(X)} rows hold categories the "
                f"model never saw ({shown}); the column adds nothing to their predictions"
            )
    return found
