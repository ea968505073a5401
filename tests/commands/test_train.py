"""One job: a run in process against a temporary store holds everything a user looks at; bad
input fails it in one line; the real command keeps the exit-code contract."""

import json
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import TINY, all_runs, free_port, run_cli, running, store_overrides, store_uri
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from ebm_study.commands.job import train
from ebm_study.config import compose_default
from ebm_study.errors import UserError
from ebm_study.fit.data import load
from ebm_study.sweep.launchers import launcher_name, parallel_jobs

METRICS = {
    *("accuracy", "f1", "precision", "recall", "roc_auc", "average_precision", "log_loss"),
    *("fit_seconds", "boosting_rounds_max", "bags_at_max_rounds", "stability_within_run"),
    "max_rounds",
}


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
    assert run.info.run_name == "interactions=2 split=3"
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


def test_a_bag_at_max_rounds_is_logged_and_warned_about_by_run_name(make_cfg, caplog):
    cfg = make_cfg("model.max_rounds=5", "model.early_stopping_rounds=10000")
    train(cfg, ["model.max_rounds=5"])
    metrics = only_run(cfg).data.metrics
    assert metrics["bags_at_max_rounds"] == 1 and metrics["boosting_rounds_max"] == 5
    (warning,) = [
        r.getMessage()
        for r in caplog.records
        if r.levelname == "WARNING" and r.name.startswith("ebm_study")
    ]
    assert warning.startswith("run max_rounds=5: 1 of 1 outer bags never early-stopped")


def test_the_positive_class_is_tagged_and_can_be_chosen(make_cfg):
    cfg = make_cfg("tracking.log_model=false")
    default = train(cfg)
    assert only_run(cfg).data.tags["positive_class"] == "1"  # the larger label
    malignant = make_cfg(
        "tracking.log_model=false", "data.positive_class=0", "tracking.experiment=m"
    )
    assert train(malignant)["f1"] != default["f1"]
    assert only_run(malignant).data.tags["positive_class"] == "0"


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


def test_the_model_trusts_only_the_ebm_class(finished):
    cfg, _, run = finished
    mlflow.set_tracking_uri(cfg.tracking.uri)
    mlmodel = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model/MLmodel")
    assert "serialization_format: skops" in mlmodel
    assert "interpret.glassbox._ebm._ebm.ExplainableBoostingClassifier" in mlmodel
    assert "pickle" not in mlmodel.split("serialization_format")[1].splitlines()[0]


def write(tmp_path, name, frame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def csvs(tmp_path):
    good = pd.DataFrame({"a": range(40), "b": [x * 0.5 for x in range(40)], "y": [0, 1] * 20})
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    return {
        "one_class": write(tmp_path, "one.csv", good.assign(y=1)),
        "nan_target": write(tmp_path, "nan.csv", good.assign(y=[0, 1, None, 1] * 10)),
        "text": write(tmp_path, "text.csv", good.assign(colour=["red", "blue"] * 20)),
        "tiny": write(tmp_path, "tiny.csv", good.head(4)),
        "header": write(tmp_path, "header.csv", good.head(0)),
        "good": write(tmp_path, "good.csv", good),
        "lonely": write(tmp_path, "lonely.csv", good.assign(y=[0, 1] * 19 + [1, 2])),
        "infinite": write(tmp_path, "inf.csv", good.assign(b=[float("inf")] + [0.5] * 39)),
        "empty": tmp_path / "empty.csv",
        "binary": tmp_path / "binary.csv",
    }


BAD_INPUT = [
    (["data=csv", "data.path={missing}", "data.target=y"], "is not a file"),
    (["data=csv", "data.path={empty}", "data.target=y"], "is not a readable CSV"),
    (["data=csv", "data.path={binary}", "data.target=y"], "is not a readable CSV"),
    (["data=csv", "data.path={header}", "data.target=y"], "has a header but no rows"),
    (["data=csv", "data.path={good}", "data.target=label"], "data.target='label' is not a column"),
    (["data=csv", "data.path={one_class}", "data.target=y"], "has one class"),
    (
        ["data=csv", "data.path={nan_target}", "data.target=y"],
        "missing value(s) in 40 rows; data.drop_missing_target=true leaves those rows out",
    ),
    (
        ["data=csv", "data.path={text}", "data.target=y"],
        "non-numeric feature column(s) colour (text: data.categorical=[colour])",
    ),
    (["data=csv", "data.path={tiny}", "data.target=y", "split.test_size=0.1"], "one per class"),
    (
        ["data=csv", "data.path={lonely}", "data.target=y"],
        "data.target='y' class 2 has 1 row; a stratified split needs at least 2 of each class: "
        "drop it, or set split.stratify=false",
    ),
    (["data=csv", "data.path={infinite}", "data.target=y"], "column(s) b hold infinite values"),
    (["data=csv", "data.path={good}", "data.target=y", "data.sep=ab"], "data.sep='ab' must be"),
    (["data.positive_class=7"], "data.positive_class=7 is not a class of the target; classes: 0"),
    (["split.test_size=1.5"], "split.test_size=1.5 must be a fraction between 0 and 1"),
    (["model.learning_rate=-0.1"], "model.learning_rate=-0.1 must be a number > 0"),
    (["model.outer_bags=0"], "model.outer_bags=0 must be a whole number >= 1"),
    (["model.interactions=abc"], "model.interactions='abc' must be a count"),
    (["model.n_jobs=many"], "model.n_jobs='many' must be 'auto' or a whole number"),
    (["top_k=0"], "top_k=0 must be a whole number >= 1"),
    (
        ["top_k=99"],
        "top_k=99 is more than the number of terms (30 features, no pairs): at most "
        "top_k=30, and top_k=29 or less for a top k that can differ between runs",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_fails_the_run_with_one_line_naming_it(
    make_cfg, tmp_path, csvs, overrides, message
):
    args = [o.format(missing=tmp_path / "missing.csv", **csvs) for o in overrides]
    cfg = make_cfg(*args)
    with pytest.raises(UserError) as err:
        train(cfg, args)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert running(cfg.tracking.uri) == []
    if "n_jobs" in message:  # refused before a run starts: nothing written
        assert all_runs(cfg.tracking.uri) == []
        return
    (run,) = all_runs(cfg.tracking.uri)  # says what it was (its config) and why it failed
    assert run.info.status == "FAILED" and message in run.data.tags["error"]
    assert run.data.params["split.test_size"]


def test_a_stated_categorical_column_is_accepted(make_cfg, csvs):
    cfg = make_cfg(
        "data=csv",
        f"data.path={csvs['text']}",
        "data.target=y",
        "data.categorical=[colour]",
        "top_k=2",
        "tracking.log_model=false",
    )
    train(cfg)
    (run,) = all_runs(cfg.tracking.uri)
    assert run.info.status == "FINISHED"
    assert "colour" in set(importance_of(run)["term"])


def test_a_password_in_a_uri_is_never_written(make_cfg):
    overrides = ["+source_uri=http://me:hunter2@example.invalid/data", "tracking.log_model=false"]
    cfg = make_cfg(*overrides)
    train(cfg, overrides)
    (run,) = all_runs(cfg.tracking.uri)
    assert run.data.params["source_uri"] == "http://me:***@example.invalid/data"
    for path in ("config/config.yaml", "config/overrides.txt"):
        text = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/{path}")
        assert "hunter2" not in text
    assert "hunter2" not in run.info.run_name


def test_tracking_uri_from_the_environment(tmp_path, monkeypatch):
    elsewhere = [o for o in store_overrides(tmp_path) if not o.startswith("tracking.uri")]
    uri = store_uri(tmp_path)  # the template's copy that store_overrides made
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    cfg = compose_default(
        [*TINY, *elsewhere, "tracking.log_model=false", "tracking.experiment=from-env"]
    )
    assert cfg.tracking.uri == uri
    train(cfg)
    (run,) = all_runs(uri, "from-env")
    assert run.info.status == "FINISHED"


def test_an_absent_tracking_server_fails_in_seconds_before_fitting(make_cfg):
    cfg = make_cfg(f"tracking.uri=http://127.0.0.1:{free_port()}")
    started = time.time()
    with pytest.raises(UserError, match=r"^tracking.uri=http://127.0.0.1:\d+ is not answering"):
        train(cfg)
    assert time.time() - started < 10


def test_parallel_jobs_follow_the_launcher():
    joblib = OmegaConf.create({"_target_": "hydra_plugins.hydra_joblib_launcher.X", "n_jobs": -1})
    assert parallel_jobs(joblib, cores=4) == 4
    assert parallel_jobs(OmegaConf.create({**joblib, "n_jobs": 2}), cores=4) == 2
    basic = OmegaConf.create({"_target_": "hydra._internal.core_plugins.BasicLauncher"})
    assert parallel_jobs(basic, 4) == 1 and launcher_name(basic) == "BasicLauncher"
    ray = {"_target_": "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"}
    ray_two = OmegaConf.create({**ray, "ray": {"remote": {"num_cpus": 2}}})
    assert parallel_jobs(ray_two, cores=8) == 4  # four tasks of two cores: n_jobs=auto gives 2
    assert parallel_jobs(OmegaConf.create({**ray, "ray": {"remote": {}}}), cores=8) == 8


# ---------------------------------------------------------------------------------------------
# The real command: the exit-code contract of a single run


def test_the_command_runs_one_job(tmp_path):
    result = run_cli(*TINY, "split_seed=2", *store_overrides(tmp_path), "tracking.log_model=false")
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = all_runs(store_uri(tmp_path))
    assert run.info.status == "FINISHED" and run.info.run_name.endswith(" split=2")
    # It says how it scored, what came out on top, and where to see it.
    m, run_id = run.data.metrics, run.info.run_id
    assert f"run {run_id}: accuracy {m['accuracy']:.4f}, f1 {m['f1']:.4f}," in result.stdout
    assert "top 5: worst " in result.stdout
    url = f"http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}/runs/{run_id}"
    url += "?workflowType=machine_learning"  # the model-training view, not GenAI's
    assert f"see it (after `make ui`): {url}" in result.stdout


def test_the_command_prints_one_line_and_exits_2_on_bad_input(tmp_path):
    result = run_cli(
        "data=csv", f"data.path={tmp_path}/nope.csv", "data.target=y", *store_overrides(tmp_path)
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"ebm-study: error: data.path='{tmp_path}/nope.csv' is not a file; "
        "give the path of a CSV file"
    )
    (run,) = all_runs(store_uri(tmp_path))
    assert run.info.status == "FAILED"


@pytest.mark.slow
def test_the_paper_study_reproduces_the_tutorial_accuracy(tmp_path):
    """interpret's defaults on the tutorial's split: accuracy 0.974 (minutes per fit)."""
    result = run_cli("experiment=paper", *store_overrides(tmp_path), timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = all_runs(store_uri(tmp_path))
    assert run.data.metrics["accuracy"] == pytest.approx(0.974, abs=0.0005)
