"""`ebm-study-predict`: predict the rows of a CSV file with the champion, or any logged model."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ebm_study import cli, data
from ebm_study.errors import UserError
from ebm_study.tracking import models, tags

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


@cli.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-predict`."""
    parser = cli.parser(
        PROG, "Predict the rows of a CSV file with the champion (or any logged model)."
    )
    parser.add_argument("--input", required=True, type=Path, help="CSV of feature columns")
    parser.add_argument("--output", required=True, type=Path, help="CSV to write")
    parser.add_argument("--model", help="a models:/ or runs:/ URI (default: the champion)")
    cli.add_store_argument(parser)
    args = parser.parse_args(argv)
    cfg = cli.use_store(args)
    uri = args.model or f"models:/{cfg.tracking.registered_model}@{tags.CHAMPION}"
    rows = data.read_csv(args.input, "--input")
    estimator, columns = models.load_model(uri)
    predictions = predict_frame(estimator, conform(rows, columns))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(args.output, index=False)
    print(f"wrote {len(predictions)} predictions of {uri} to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
