"""Regression targets: the task decided from the data, interpret's regressor, RMSE/MAE/R2, and
a whole sweep of a regression CSV through the real commands: study, promotion, prediction."""

from __future__ import annotations

import json
import math

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import TINY, all_runs, run_cli, store_overrides, store_uri, sweep_of
from interpret.glassbox import ExplainableBoostingRegressor
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from sklearn import metrics as skm
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

from ebm_study.commands.predict import main as predict_main
from ebm_study.commands.promote import main as promote_main
from ebm_study.errors import UserError
from ebm_study.fit import data, metrics, pipeline
from ebm_study.settings import StudySettings
from ebm_study.study.compute import run_study, score_metric


def diabetes() -> pd.DataFrame:
    frame = load_diabetes(as_frame=True, scaled=False).frame
    return frame.rename(columns={"target": "prog"})


# ---------------------------------------------------------------------------------------------
# Which task


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (diabetes()["prog"], "regression"),  # 214 distinct numbers
        (pd.Series(np.arange(100) % 10), "classification"),  # digits 0-9
        (pd.Series(np.linspace(0, 1, 21)), "regression"),  # 21 distinct: more than 20
        (pd.Series(np.linspace(0, 1, 20)), "classification"),
        (pd.Series([f"c{i}" for i in range(100)]), "classification"),  # text is a label
        (pd.Series([True, False] * 30), "classification"),
    ],
)
def test_auto_regresses_numeric_targets_with_many_values(values, expected):
    assert data.task_of(values, "auto") == expected


def test_a_stated_task_wins():
    assert data.task_of(diabetes()["prog"], "classification") == "classification"
    assert data.task_of(pd.Series([0, 1] * 10), "regression") == "regression"


def test_bundled_diabetes_is_in_its_own_units(make_cfg):
    cfg = make_cfg("data=diabetes")
    prepared = pipeline.prepare(cfg)
    assert prepared.task == "regression" and prepared.positive is None
    assert prepared.table.y.name == "prog" and len(prepared.table.y) == 442
    assert list(prepared.table.X.columns)[:4] == ["age", "sex", "bmi", "bp"]
    assert prepared.table.X["bmi"].between(15, 45).all()  # kg/m2, not standardised
    assert len(prepared.split.X_test) == math.ceil(0.2 * 442)  # split, never stratified


def test_an_unknown_bundled_data_set_is_one_line():
    with pytest.raises(UserError, match=r"data.name='iris' is not a bundled data set; allowed"):
        data.load(OmegaConf.create({"name": "iris", "source": "sklearn", "target": "y"}))


# ---------------------------------------------------------------------------------------------
# Metrics and the fitted model


def test_regression_metrics_agree_with_scikit_learn():
    frame = diabetes()
    X, y = frame.drop(columns="prog"), frame["prog"]
    model = LinearRegression().fit(X[:300], y[:300])
    scores = metrics.evaluate(model, X[300:], y[300:], task="regression")
    pred = model.predict(X[300:])
    assert set(scores) == {"rmse", "mae", "r2"}
    assert scores["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y[300:], pred)))
    assert scores["mae"] == pytest.approx(skm.mean_absolute_error(y[300:], pred))
    assert scores["r2"] == pytest.approx(skm.r2_score(y[300:], pred))
    assert metrics.score_of(scores) == scores["r2"]
    assert metrics.score_of({"f1": 0.9, "accuracy": 0.8}) == 0.9


def test_a_regression_fits_interprets_regressor(make_cfg):
    cfg = make_cfg("data=diabetes")
    ebm, scores, *_ = pipeline.fit_and_score(cfg, pipeline.prepare(cfg))
    assert isinstance(ebm, ExplainableBoostingRegressor)
    assert {"rmse", "mae", "r2", "fit_seconds"} <= set(scores) and "f1" not in scores
    assert 0.1 < scores["r2"] < 0.7 and 30 < scores["rmse"] < 80  # diabetes: R2 about 0.4


# ---------------------------------------------------------------------------------------------
# The study's score


def test_the_study_sums_regressions_up_by_r2():
    runs = pd.DataFrame(
        {
            "config_key": ["a", "a", "a"],
            "split_seed": [0, 1, 2],
            "model_seed": [0, 0, 0],
            "r2": [0.3, 0.4, 0.5],
            "rmse": [60.0, 55.0, 50.0],
            "ebm_study.task": ["regression"] * 3,
        },
        index=["r1", "r2", "r3"],
    )
    importances = pd.DataFrame(
        [
            {"run_id": r, "term": t, "importance": v, "kind": "main"}
            for r in runs.index
            for t, v in zip("abcdef", [6, 5, 4, 3, 2, 1], strict=True)
        ]
    )
    assert score_metric(runs) == "r2"
    assert score_metric(runs.drop(columns="ebm_study.task")) == "r2"  # runs logged before tags
    study = run_study(runs, importances, StudySettings(top_k=2, terms="all", rbo_p=0.8))
    assert study.score == "r2" and study.headline["mean_r2"] == pytest.approx(0.4)
    row = study.by_config.iloc[0]
    assert row["mean_r2"] == pytest.approx(0.4) and row["r2_ci_low"] < 0.4 < row["r2_ci_high"]
    assert "mean_f1" not in study.by_config


# ---------------------------------------------------------------------------------------------
# A regression CSV through the real commands


@pytest.fixture(scope="module")
def regression_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regression")
    csv = folder / "diabetes.csv"
    diabetes().to_csv(csv, sep=";", index=False)  # a spreadsheet's separator, detected
    result = run_cli(
        "-m",
        "split_seed=0,1",
        "model_seed=0,1",
        "data=csv",
        f"data.path={csv}",
        "data.target=prog",
        *TINY,
        *store_overrides(folder),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, csv, result


@pytest.mark.sweeps
def test_a_regression_csv_runs_a_whole_sweep_and_study(regression_sweep):
    folder, _, result = regression_sweep
    uri = store_uri(folder)
    parent, jobs = sweep_of(all_runs(uri))
    assert len(jobs) == 4 and {j.info.status for j in jobs} == {"FINISHED"}
    for job in jobs:
        assert job.data.tags["ebm_study.task"] == "regression"
        assert {"rmse", "mae", "r2"} <= set(job.data.metrics)
        assert "f1" not in job.data.metrics and "positive_class" not in job.data.tags
    assert parent.data.metrics["mean_r2"] == pytest.approx(
        np.mean([j.data.metrics["r2"] for j in jobs])
    )
    client = MlflowClient(tracking_uri=uri)
    files = {f.path for f in client.list_artifacts(parent.info.run_id)}
    assert "accuracy_vs_stability.png" in files
    local = client.download_artifacts(parent.info.run_id, "stability_by_config.json", str(folder))
    with open(local) as file:
        table = json.load(file)
    assert "mean_r2" in table["columns"] and "r2_ci_low" in table["columns"]
    assert "mean_r2" in result.stdout


@pytest.mark.sweeps
def test_a_regression_sweep_promotes_by_r2_or_a_loss_and_predicts(
    regression_sweep, tmp_path, capsys
):
    folder, csv, _ = regression_sweep
    uri = store_uri(folder)
    _, jobs = sweep_of(all_runs(uri))
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    assert promote_main(["--tracking-uri", uri, "--name", "by-r2"]) == 0
    assert "highest r2" in capsys.readouterr().out
    chosen = client.get_model_version_by_alias("by-r2", "champion").run_id
    assert chosen == max(jobs, key=lambda j: j.data.metrics["r2"]).info.run_id

    # RMSE is a loss: the lowest wins without --lower-is-better.
    assert promote_main(["--tracking-uri", uri, "--metric", "rmse", "--name", "by-rmse"]) == 0
    assert "lowest rmse" in capsys.readouterr().out
    chosen = client.get_model_version_by_alias("by-rmse", "champion").run_id
    assert chosen == min(jobs, key=lambda j: j.data.metrics["rmse"]).info.run_id

    rows = diabetes().drop(columns="prog").head(20)
    rows.to_csv(tmp_path / "in.csv", index=False)
    paths = ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv")]
    assert predict_main(["--tracking-uri", uri, "--model", "models:/by-rmse@champion", *paths]) == 0
    predicted = pd.read_csv(tmp_path / "out.csv")
    assert list(predicted.columns) == ["prediction"] and len(predicted) == 20
    mlflow.set_tracking_uri(uri)
    champion = mlflow.sklearn.load_model("models:/by-rmse@champion")
    X = rows[list(champion.feature_names_in_)]
    assert np.allclose(predicted["prediction"], champion.predict(X))  # the champion's own
