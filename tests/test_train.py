"""One run, in process, against a temporary SQLite store: everything a user looks at is there."""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from ebm_study.data import load
from ebm_study.errors import UserError
from ebm_study.train import train

METRICS = {"accuracy", "f1", "precision", "recall", "roc_auc", "log_loss", "fit_seconds"}


def only_run(cfg):
    mlflow.set_tracking_uri(cfg.tracking.uri)
    runs = mlflow.search_runs(experiment_names=[cfg.tracking.experiment], output_format="list")
    assert len(runs) == 1
    return runs[0]


def artifact_paths(run_id, path=None):
    client = MlflowClient()
    out = []
    for item in client.list_artifacts(run_id, path):
        out += artifact_paths(run_id, item.path) if item.is_dir else [item.path]
    return out


def importance_of(run):
    return MlflowClient().load_table(
        run.info.experiment_id, "importance.json", run_ids=[run.info.run_id]
    )


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One real run shared by the assertions below (a fit and a model log cost seconds)."""
    from conftest import TINY, store_overrides
    from hydra import compose, initialize_config_dir

    from ebm_study.config import CONF_DIR, register_resolvers

    tmp = tmp_path_factory.mktemp("run")
    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[*TINY, *store_overrides(tmp), "split_seed=3", "model.interactions=2"],
        )
    scores = train(cfg, overrides=["split_seed=3", "model.interactions=2"])
    return cfg, scores, only_run(cfg)


def test_run_finishes_with_every_metric(finished):
    _, scores, run = finished
    assert run.info.status == "FINISHED"
    assert set(run.data.metrics) == METRICS
    assert run.data.metrics["accuracy"] == pytest.approx(scores["accuracy"])
    assert 0.85 < run.data.metrics["accuracy"] <= 1.0
    assert run.data.metrics["fit_seconds"] > 0


def test_run_is_named_for_its_overrides_and_tagged(finished):
    _, _, run = finished
    assert run.info.run_name == "split_seed=3,interactions=2"
    tags = run.data.tags
    assert len(tags["config_key"]) == 12
    assert tags["versions.interpret-core"].startswith("0.7")
    assert tags["ebm_study.version"]
    assert "mlflow.parentRunId" not in tags


def test_params_are_the_resolved_config(finished):
    _, _, run = finished
    params = run.data.params
    assert params["split_seed"] == "3"
    assert params["model.interactions"] == "2"
    assert params["model.random_state"] == "0"
    assert params["data.name"] == "breast_cancer"


def test_artifacts_hold_config_table_chart_and_model(finished):
    _, _, run = finished
    paths = set(artifact_paths(run.info.run_id))
    assert {
        "config/config.yaml",
        "config/overrides.txt",
        "importance.json",
        "importance.png",
    } <= paths
    png = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="importance.png"
    )
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_importance_table_is_sorted_and_marks_pairs(finished):
    _, _, run = finished
    table = importance_of(run)
    assert list(table.columns[:4]) == ["rank", "term", "importance", "kind"]
    assert table["rank"].tolist() == list(range(1, 33))
    assert np.all(np.diff(table["importance"].to_numpy()) <= 0)
    assert (table["kind"] == "pair").sum() == 2


def test_training_data_is_an_input_dataset(finished):
    _, _, run = finished
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "breast_cancer"
    assert json.loads(dataset_input.dataset.profile)["num_rows"] == 455
    assert dataset_input.tags[0].value == "training"


def test_model_reloads_from_the_run_and_predicts(finished):
    cfg, _, run = finished
    model = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert type(model).__name__ == "ExplainableBoostingClassifier"
    X = load(cfg.data).X.head(20)
    pyfunc = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert np.array_equal(pyfunc.predict(X), model.predict(X))
    assert pyfunc.metadata.signature.inputs.input_names()[0] == "mean radius"


def test_model_is_stored_with_skops_not_pickle(finished):
    _, _, run = finished
    local = mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/model")

    files = {p.name for p in Path(local).iterdir()}
    assert "model.skops" in files and not any(f.endswith((".pkl", ".pickle")) for f in files)


def test_a_failing_run_is_failed_with_its_error(make_cfg):
    cfg = make_cfg("model.learning_rate=-1")
    with pytest.raises(ValueError, match="learning_rate"):
        train(cfg, ["model.learning_rate=-1"])
    run = only_run(cfg)
    assert run.info.status == "FAILED"
    assert "model.learning_rate=-1 must be a number > 0" in run.data.tags["error"]
    assert run.data.params["model.learning_rate"] == "-1"
    assert "error.txt" in artifact_paths(run.info.run_id)


def test_a_missing_csv_fails_the_run_with_a_user_error(make_cfg, tmp_path):
    cfg = make_cfg("data=csv", f"data.path={tmp_path}/nope.csv", "data.target=y")
    with pytest.raises(UserError, match="nope.csv"):
        train(cfg)
    assert only_run(cfg).info.status == "FAILED"


def test_a_users_csv_runs_end_to_end(make_cfg, tmp_path):
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 7, 20, 27, 30]]
    frame.to_csv(tmp_path / "cancer.csv", index=False)
    cfg = make_cfg("data=csv", f"data.path={tmp_path}/cancer.csv", "data.target=target")
    scores = train(cfg)
    run = only_run(cfg)
    assert run.info.status == "FINISHED" and scores["accuracy"] > 0.85
    table = importance_of(run)
    assert len(table) == 5
    assert pd.Series(table["term"]).isin(frame.columns).all()
