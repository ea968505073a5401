"""`ebm-study-predict`: predict the rows of a CSV file with the champion, or any logged model;
with `--reasons N`, each row's N strongest terms and their contributions (fit/reasons.py), and
how often each recurs across the other runs of the model's setting (study/row_codes.py)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from ebm_study import console
from ebm_study.commands import cli, parsers
from ebm_study.errors import UserError
from ebm_study.fit import data, inputs, reasons
from ebm_study.study import row_codes
from ebm_study.tracking import models, runs, tags

PROG = "ebm-study-predict"


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


def reason_count(text: str | None, stability: bool | None) -> int | None:
    """--reasons as a count (None: not asked), checked before anything is loaded."""
    if text is None:
        if stability:
            raise UserError("--reason-stability needs --reasons N (the reasons it is about)")
        return None
    if not (text.isascii() and text.isdecimal()) or int(text) < 1:
        raise UserError(f"--reasons={text} must be a whole number >= 1")
    return int(text)


def with_stability(codes: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """The reason columns with each reason's stability beside its contribution."""
    order = []
    for name in codes.columns:
        order.append(name)
        if name.endswith("_contribution"):
            order.append(name.removesuffix("_contribution") + "_stability")
    return pd.concat([codes, shares], axis=1)[order]


def reason_columns(
    estimator, X: pd.DataFrame, top: int, stability: bool | None, uri: str, run_id: str | None
) -> tuple[pd.DataFrame, str]:
    """The reason columns, with their stability across the model's setting when it can be had
    (`stability` None) or must be (True: a UserError when it cannot); and the line that says
    what the stability is over ("" without it)."""
    codes = reasons.reason_codes(estimator, X, top)
    if stability is False:
        return codes, ""
    parent, key = row_codes.sweep_of(run_id, models.version_tags(uri))
    shares, n_runs, why = row_codes.setting_shares(parent, key, X, codes, top, run_id)
    if shares is None:
        if stability:
            raise UserError(f"--reason-stability: {uri} has no reason stability: {why}")
        print(f"{PROG}: note: no reason stability: {why}", file=sys.stderr)
        return codes, ""
    about = (
        f"reason_j_stability: how often reason_j is among the row's top {top} across the {n_runs} "
        f"runs of the model's setting on other split seeds in sweep {parent} (each split seed "
        "weighted alike)"
    )
    return with_stability(codes, shares), about


@console.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-predict`."""
    args = parsers.predict().parse_args(argv)
    top = reason_count(args.reasons, args.reason_stability)
    cfg = cli.use_store(args)
    uri = args.model or f"models:/{cfg.tracking.registered_model}@{tags.CHAMPION}"
    rows = data.read_table(args.input, "--input")
    estimator, columns, run_id = models.load_model(uri)
    features, aside = inputs.as_trained(rows, columns, runs.run_config_or_none(run_id))
    X = inputs.conform(features, columns)
    for line in inputs.unseen_categories(estimator, X):
        print(f"{PROG}: warning: {line}", file=sys.stderr)
    parts = [aside.reset_index(drop=True), predict_frame(estimator, X)]
    about = ""
    if top is not None:
        codes, about = reason_columns(estimator, X, top, args.reason_stability, uri, run_id)
        parts.append(codes)
    predictions = pd.concat(parts, axis=1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(args.output, index=False)
    beside = f" (beside {', '.join(map(str, aside.columns))})" if len(aside.columns) else ""
    print(f"wrote {len(predictions)} predictions of {uri} to {args.output}{beside}")
    if about:
        print(about)
    return 0


if __name__ == "__main__":
    sys.exit(main())
