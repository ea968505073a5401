"""Promote the best run of a sweep to `models:/<name>@champion`, and predict with a model.

`ebm-study-promote` and `ebm-study-predict` are the console scripts.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ebm_study import data, metrics, model, report, tracking
from ebm_study.config import compose_default
from ebm_study.errors import UserError

ALIAS = "champion"
TIE_BREAK = "higher setting stability, then the earlier run"


@dataclass(frozen=True)
class Choice:
    """The run chosen for promotion and why."""

    run_id: str
    run_name: str
    config_key: str
    model_uri: str | None  # None: the run kept no model (tracking.log_model=false)
    metric: str
    value: float
    metrics: dict[str, float]
    stability: float  # the setting's Nogueira Phi (nan if undefined)
    stability_ci: tuple[float, float]
    setting: str
    n_candidates: int
    n_finished: int


def choose(
    jobs: pd.DataFrame,
    by_config: pd.DataFrame,
    metric: str = "f1",
    lower_is_better: bool = False,
    min_stability: float | None = None,
) -> Choice:
    """The best finished run by `metric`, among settings whose top-k
    stability is at least `min_stability`; ties go to the more stable setting, then the
    earlier run. Pure: tables in, a choice out."""
    finished = jobs[jobs["status"] == "FINISHED"] if len(jobs) else jobs
    if finished.empty:
        raise UserError("no FINISHED run in this sweep to promote")
    logged = sorted(c for c in finished.columns if finished[c].dtype.kind == "f")
    if metric not in finished.columns or finished[metric].isna().all():
        raise UserError(
            f"--metric={metric!r} is not logged by these runs; logged: {', '.join(logged)}"
        )
    candidates = finished[finished[metric].notna()]
    stability = by_config.set_index("config_key")
    candidates = candidates.assign(
        _phi=candidates["config_key"].map(stability["nogueira"]).astype(float)
    )
    if min_stability is not None:
        stable = candidates[candidates["_phi"] >= min_stability]
        if stable.empty:
            best = candidates["_phi"].max()
            raise UserError(
                f"--min-stability={min_stability}: no setting reaches it; the most stable "
                f"setting has Phi={best:.3f}"
                if not math.isnan(best)
                else f"--min-stability={min_stability}: no setting has a defined stability"
            )
        candidates = stable
    ranked = candidates.assign(
        _score=-candidates[metric] if not lower_is_better else candidates[metric]
    )
    ranked = ranked.sort_values(
        ["_score", "_phi", "start_time"], ascending=[True, False, True], na_position="last"
    )
    best = ranked.iloc[0]
    row = stability.loc[best["config_key"]] if best["config_key"] in stability.index else None
    return Choice(
        run_id=str(best.name),
        run_name=str(best["run_name"]),
        config_key=str(best["config_key"]),
        model_uri=None if pd.isna(best["model_uri"]) else str(best["model_uri"]),
        metric=metric,
        value=float(best[metric]),
        metrics={m: float(best[m]) for m in logged if not pd.isna(best[m])},
        stability=float(best["_phi"]),
        stability_ci=(
            (float(row["nogueira_ci_low"]), float(row["nogueira_ci_high"]))
            if row is not None
            else (math.nan, math.nan)
        ),
        setting=str(row["setting"]) if row is not None else best["config_key"],
        n_candidates=len(candidates),
        n_finished=len(finished),
    )


def promote(
    parent_id: str,
    experiment_id: str,
    name: str,
    metric: str = "f1",
    lower_is_better: bool = False,
    min_stability: float | None = None,
) -> tuple[Choice, str, bool, list[str]]:
    """Register the chosen run's model as a version of `name` and point @champion at it.

    Returns the choice, the version, whether it was newly created, and the run's top-k terms.
    Promoting the same run again reuses its version.
    """
    jobs = tracking.jobs_frame(experiment_id, parent_id)
    study = report.compute(experiment_id, parent_id, jobs=jobs)
    choice = choose(jobs, study.by_config, metric, lower_is_better, min_stability)
    k = study.settings.top_k
    terms = tracking.load_importances({choice.run_id: jobs.loc[choice.run_id, "artifact_uri"]})
    terms = terms.sort_values("rank")
    top = terms["term"].head(k).tolist()
    description = describe(choice, parent_id, top, lower_is_better, min_stability)
    tags = {
        "run_id": choice.run_id,
        "sweep_run_id": parent_id,
        "config_key": choice.config_key,
        "setting": choice.setting,
        "promoted_by": f"{'min' if lower_is_better else 'max'} {metric}",
        f"top{k}_terms": ", ".join(top),
        "stability_nogueira": f"{choice.stability:.4f}",
        "stability_nogueira_ci": f"{choice.stability_ci[0]:.4f}, {choice.stability_ci[1]:.4f}",
        **{f"metric.{m}": f"{v:.6g}" for m, v in choice.metrics.items()},
    }
    version = tracking.registered_version_for_run(name, choice.run_id)
    created = version is None
    if created:
        model_uri = choice.model_uri or refit_model(choice)
        version = tracking.register_version(name, model_uri, choice.run_id, description, tags)
    else:
        tracking.describe_version(name, version, description, tags)
    tracking.set_alias(name, ALIAS, version)
    return choice, version, created, top


def refit_model(choice: Choice) -> str:
    """Fit the chosen run again from its logged config and log the model into that run.

    Sweeps run with tracking.log_model=false keep no models; the champion still needs one. Both
    seeds are in the config, so the refit is the same model: its test metric must match.
    """
    cfg = tracking.run_config(choice.run_id)
    table = data.load(cfg.data)
    split = data.split(table, cfg.split.test_size, cfg.split.stratify, cfg.split_seed)
    # Built exactly as train() builds it, categorical columns included.
    categorical = list(cfg.data.get("categorical") or [])
    ebm = model.build(cfg.model, list(table.X.columns), categorical)
    ebm, _ = model.fit(ebm, split.X_train, split.y_train)
    scores = metrics.evaluate(ebm, split.X_test, split.y_test)
    if choice.metric in scores and not math.isclose(
        scores[choice.metric], choice.value, rel_tol=1e-9, abs_tol=1e-12
    ):
        raise UserError(
            f"refitting run {choice.run_id} gave {choice.metric}={scores[choice.metric]:.6f}, "
            f"not its logged {choice.value:.6f}; the data or library versions changed"
        )
    return tracking.log_model_to_run(choice.run_id, ebm, split.X_train)


def describe(
    choice: Choice,
    parent_id: str,
    top: list[str],
    lower_is_better: bool,
    min_stability: float | None,
) -> str:
    """The model version's description: where it came from and why it was chosen."""
    floor = f" among settings with top-k stability >= {min_stability}" if min_stability else ""
    best = "lowest" if lower_is_better else "highest"
    metrics = ", ".join(f"{m} {v:.4f}" for m, v in choice.metrics.items())
    low, high = choice.stability_ci
    return (
        f"Run `{choice.run_name}` ({choice.run_id}) of sweep {parent_id}: the {best} "
        f"{choice.metric} ({choice.value:.4f}) of {choice.n_candidates} candidate runs{floor} "
        f"(ties: {TIE_BREAK}).\n\n"
        f"Setting `{choice.setting}`: top-{len(top)} stability Phi = {choice.stability:.2f} "
        f"(95% CI {low:.2f} to {high:.2f}).\n\n"
        f"Top-{len(top)} terms: {', '.join(top)}.\n\nTest metrics: {metrics}."
    )


# ---------------------------------------------------------------------------------------------
# Predict


def read_rows(path: Path) -> pd.DataFrame:
    """The rows to predict, from a CSV file."""
    if not path.is_file():
        raise UserError(f"--input={str(path)!r} is not a file; give the path of a CSV file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise UserError(
            f"--input={str(path)!r} is not a readable CSV ({type(err).__name__})"
        ) from err
    if frame.empty:
        raise UserError(f"--input={str(path)!r} has a header but no rows")
    return frame


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
        if kind in ("double", "float", "long", "integer"):
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
    """Predicted class, its probability, and every class's probability, one row an input row."""
    proba = model.predict_proba(X)
    best = np.argmax(proba, axis=1)
    out = pd.DataFrame(
        {"prediction": model.classes_[best], "probability": proba[np.arange(len(X)), best]}
    )
    for i, cls in enumerate(model.classes_):
        out[f"probability_{cls}"] = proba[:, i]
    return out


# ---------------------------------------------------------------------------------------------
# Console scripts


def promote_main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-promote`."""
    parser = argparse.ArgumentParser(
        prog="ebm-study-promote",
        description="Register the best run of a sweep and point the alias @champion at it.",
    )
    report.add_sweep_arguments(parser)
    parser.add_argument("--metric", default="f1", help="any logged metric (default: f1)")
    parser.add_argument(
        "--lower-is-better", action="store_true", help="for losses such as log_loss"
    )
    parser.add_argument(
        "--min-stability",
        type=float,
        help="only settings whose top-k stability (Nogueira's Phi) is at least this",
    )
    parser.add_argument("--name", help="registered model name (default: from the config)")
    args = parser.parse_args(argv)
    try:
        with tracking.server_refusals():
            parent = report.find_sweep_run(args.sweep, args.experiment, args.tracking_uri)
            name = args.name or str(compose_default().tracking.registered_model)
            choice, version, created, top = promote(
                parent.info.run_id,
                parent.info.experiment_id,
                name,
                args.metric,
                args.lower_is_better,
                args.min_stability,
            )
    except UserError as err:
        print(f"ebm-study-promote: error: {err}", file=sys.stderr)
        return 2
    best = "lowest" if args.lower_is_better else "highest"
    floor = f", top-k stability >= {args.min_stability}" if args.min_stability else ""
    print(
        f"chose run {choice.run_name} ({choice.run_id}): {best} {choice.metric} = "
        f"{choice.value:.4f} of {choice.n_candidates} candidates ({choice.n_finished} finished"
        f"{floor}; ties: {TIE_BREAK})"
    )
    print(
        f"setting {choice.setting}: stability Phi = {choice.stability:.2f} "
        f"(95% CI {choice.stability_ci[0]:.2f} to {choice.stability_ci[1]:.2f}); "
        f"top terms: {', '.join(top)}"
    )
    print(f"{'registered' if created else 'already registered as'} {name} version {version}")
    print(f"models:/{name}@{ALIAS}")
    return 0


def predict_main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-predict`."""
    parser = argparse.ArgumentParser(
        prog="ebm-study-predict",
        description="Predict the rows of a CSV file with the champion (or any logged model).",
    )
    parser.add_argument("--input", required=True, type=Path, help="CSV of feature columns")
    parser.add_argument("--output", required=True, type=Path, help="CSV to write")
    parser.add_argument("--model", help="a models:/ or runs:/ URI (default: the champion)")
    parser.add_argument(
        "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI or mlruns/mlflow.db)"
    )
    args = parser.parse_args(argv)
    try:
        with tracking.server_refusals():
            tracking_cfg = compose_default().tracking
            tracking.use(args.tracking_uri or str(tracking_cfg.uri))
            uri = args.model or f"models:/{tracking_cfg.registered_model}@{ALIAS}"
            rows = read_rows(args.input)
            estimator, columns = tracking.load_model(uri)
            predictions = predict_frame(estimator, conform(rows, columns))
    except UserError as err:
        print(f"ebm-study-predict: error: {err}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(args.output, index=False)
    print(f"wrote {len(predictions)} predictions of {uri} to {args.output}")
    return 0
