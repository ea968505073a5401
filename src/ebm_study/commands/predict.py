"""`ebm-study-predict`: predict the rows of a CSV file with the champion, or any logged model."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from ebm_study import console
from ebm_study.commands import cli
from ebm_study.errors import UserError
from ebm_study.fit import data
from ebm_study.tracking import models, runs, tags

PROG = "ebm-study-predict"
NUMERIC = ("double", "float", "long", "integer")  # MLflow's numeric column types


def conform(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> pd.DataFrame:
    """The input reordered to the model's signature and cast to its types, or a clear error."""
    expected = [name for name, _ in columns]
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(map(str, missing))}")
        if extra:
            parts.append(f"extra columns: {', '.join(map(str, extra))}")
        raise UserError(f"the input does not match the model's signature ({'; '.join(parts)})")
    out = frame[expected].copy()
    for name, kind in columns:
        if kind in NUMERIC:
            cast = pd.to_numeric(out[name], errors="coerce")
            bad = cast.isna() & out[name].notna()
            if bad.any():
                value = out.loc[bad, name].iloc[0]
                raise UserError(
                    f"column {name!r} must be numeric ({kind}); found {value!r} in "
                    f"{int(bad.sum())} row(s)"
                )
            out[name] = cast.astype(float)
    return out


def predict_frame(model, X: pd.DataFrame) -> pd.DataFrame:
    """One row an input row: a classifier's predicted class, its probability, and every
    class's probability; a regressor's predicted value."""
    if not hasattr(model, "predict_proba"):
        return pd.DataFrame({"prediction": model.predict(X)})
    proba = model.predict_proba(X)
    best = np.argmax(proba, axis=1)
    out = pd.DataFrame(
        {"prediction": model.classes_[best], "probability": proba[np.arange(len(X)), best]}
    )
    for i, cls in enumerate(model.classes_):
        out[f"probability_{cls}"] = proba[:, i]
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
    from ebm_study.fit.contributions import bin_indexes

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


@console.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-predict`."""
    parser = console.parser(
        PROG, "Predict the rows of a CSV file with the champion (or any logged model)."
    )
    parser.add_argument(
        "--input", required=True, type=Path, help="CSV (or .parquet) of feature columns"
    )
    parser.add_argument("--output", required=True, type=Path, help="CSV to write")
    parser.add_argument("--model", help="a models:/ or runs:/ URI (default: the champion)")
    cli.add_store_argument(parser)
    args = parser.parse_args(argv)
    cfg = cli.use_store(args)
    uri = args.model or f"models:/{cfg.tracking.registered_model}@{tags.CHAMPION}"
    rows = data.read_table(args.input, "--input")
    estimator, columns, run_id = models.load_model(uri)
    features, aside = as_trained(rows, columns, runs.run_config_or_none(run_id))
    X = conform(features, columns)
    for line in unseen_categories(estimator, X):
        print(f"{PROG}: warning: {line}", file=sys.stderr)
    predictions = pd.concat([aside.reset_index(drop=True), predict_frame(estimator, X)], axis=1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(args.output, index=False)
    beside = f" (beside {', '.join(map(str, aside.columns))})" if len(aside.columns) else ""
    print(f"wrote {len(predictions)} predictions of {uri} to {args.output}{beside}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
