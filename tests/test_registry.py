"""Promote the best run to @champion, predict with it, and serve it with MLflow's own server."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import TINY, run_cli, store_overrides
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_breast_cancer

from ebm_study.errors import UserError
from ebm_study.registry import choose, conform, predict_main, promote_main

BIN = Path(sys.executable).parent


def cli(name: str, *args: str):
    return run_cli(*args, program=name, timeout=300)


# ---------------------------------------------------------------------------------------------
# choose(): pure


def jobs_table():
    return pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d", "e"],
            "run_name": ["a", "b", "c", "d", "e"],
            "status": ["FINISHED", "FINISHED", "FINISHED", "FINISHED", "FAILED"],
            "start_time": [1, 2, 3, 4, 5],
            "model_uri": ["models:/m-a", "models:/m-b", "models:/m-c", "models:/m-d", None],
            "config_key": ["k1", "k1", "k2", "k2", "k2"],
            "f1": [0.95, 0.97, 0.97, 0.90, np.nan],
            "log_loss": [0.20, 0.10, 0.15, 0.30, np.nan],
        }
    ).set_index("run_id")


STABILITY = pd.DataFrame(
    {
        "config_key": ["k1", "k2"],
        "setting": ["lr=0.01", "lr=0.05"],
        "nogueira": [0.5, 0.8],
        "nogueira_ci_low": [0.4, 0.7],
        "nogueira_ci_high": [0.6, 0.9],
    }
)


def test_best_metric_wins_and_ties_go_to_the_more_stable_setting():
    choice = choose(jobs_table(), STABILITY, "f1")
    assert choice.run_id == "c"  # b and c tie on f1; c's setting is more stable
    assert choice.stability == 0.8 and choice.setting == "lr=0.05"
    assert choice.n_candidates == 4 and choice.n_finished == 4


def test_lower_is_better_for_losses():
    assert choose(jobs_table(), STABILITY, "log_loss", lower_is_better=True).run_id == "b"


def test_a_stability_floor_keeps_only_stable_settings():
    assert choose(jobs_table(), STABILITY, "log_loss", True, min_stability=0.7).run_id == "c"
    with pytest.raises(
        UserError, match=r"--min-stability=0.95: .* most stable setting has Phi=0.800"
    ):
        choose(jobs_table(), STABILITY, "f1", min_stability=0.95)


def test_an_unknown_metric_names_the_logged_ones():
    with pytest.raises(UserError, match=r"--metric='auc' is not logged .* logged: f1, log_loss"):
        choose(jobs_table(), STABILITY, "auc")


def test_no_finished_run_is_refused():
    jobs = jobs_table().assign(status="FAILED")
    with pytest.raises(UserError, match="no FINISHED run"):
        choose(jobs, STABILITY)


def test_ties_on_everything_go_to_the_earlier_run():
    jobs = jobs_table().assign(f1=0.9, config_key="k1")
    assert choose(jobs, STABILITY).run_id == "a"


# ---------------------------------------------------------------------------------------------
# conform(): the input against the model's signature

COLUMNS = [("x", "double"), ("y", "double")]


def test_columns_are_reordered_and_cast():
    out = conform(pd.DataFrame({"y": ["2.5", "1"], "x": [1, 2]}), COLUMNS)
    assert list(out.columns) == ["x", "y"] and out["y"].tolist() == [2.5, 1.0]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x": [1.0]}), "missing columns: y"),
        (pd.DataFrame({"x": [1.0], "y": [2.0], "target": [1]}), "extra columns: target"),
        (pd.DataFrame({"x": [1.0], "y": ["big"]}), "column 'y' must be numeric .* 'big'"),
    ],
)
def test_mismatched_input_names_the_columns(frame, message):
    with pytest.raises(UserError, match=message):
        conform(frame, COLUMNS)


# ---------------------------------------------------------------------------------------------
# End to end on a real sweep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("registry")
    result = run_cli(
        "-m", "split_seed=0,1", "model.learning_rate=0.01,0.05", *TINY, *store_overrides(tmp)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    uri = f"sqlite:///{tmp}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    experiment_id = client.get_experiment_by_name("ebm-study").experiment_id
    jobs = client.search_runs([experiment_id], "tags.`ebm_study.role` = 'job'")
    load_breast_cancer(as_frame=True).data.head(25).to_csv(tmp / "rows.csv", index=False)
    return tmp, uri, jobs


def champion(uri, name="ebm-study"):
    mlflow.set_tracking_uri(uri)
    return MlflowClient().get_model_version_by_alias(name, "champion")


def test_promote_points_champion_at_the_best_run_and_describes_it(sweep):
    tmp, uri, jobs = sweep
    out = cli("ebm-study-promote", "--tracking-uri", uri)
    assert out.returncode == 0, out.stderr
    best_f1 = max(r.data.metrics["f1"] for r in jobs)
    version = champion(uri)
    chosen = next(r for r in jobs if r.info.run_id == version.run_id)
    assert chosen.data.metrics["f1"] == best_f1  # ties are choose()'s business, tested above
    assert version.tags["metric.f1"] == f"{best_f1:.6g}"
    assert version.tags["sweep_run_id"] and version.tags["top5_terms"].count(",") == 4
    assert "stability" in version.description and "Top-5 terms" in version.description
    assert "models:/ebm-study@champion" in out.stdout and "ties:" in out.stdout


def test_promoting_the_same_run_twice_makes_no_second_version(sweep):
    _, uri, _ = sweep
    first = cli("ebm-study-promote", "--tracking-uri", uri)
    again = cli("ebm-study-promote", "--tracking-uri", uri)
    assert first.returncode == again.returncode == 0
    assert "already registered as ebm-study version" in again.stdout
    assert len(MlflowClient().search_model_versions("name='ebm-study'")) == 1


def test_promote_by_a_loss_under_another_name(sweep):
    _, uri, jobs = sweep
    out = cli(
        "ebm-study-promote",
        "--tracking-uri",
        uri,
        "--metric",
        "log_loss",
        "--lower-is-better",
        "--name",
        "by-loss",
    )
    assert out.returncode == 0, out.stderr
    chosen = next(r for r in jobs if r.info.run_id == champion(uri, "by-loss").run_id)
    assert chosen.data.metrics["log_loss"] == min(r.data.metrics["log_loss"] for r in jobs)


def test_promote_errors_are_one_line(sweep, capsys):
    _, uri, _ = sweep
    for args, message in [
        (["--metric", "nope"], "--metric='nope' is not logged"),
        (["--min-stability", "1.01"], "--min-stability=1.01: no setting reaches it"),
    ]:
        # In-process (the console script's own function): a subprocess each costs seconds.
        assert promote_main(["--tracking-uri", uri, *args]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and message in err, err


def test_predict_round_trip_equals_the_champion_runs_own_model(sweep):
    tmp, uri, _ = sweep
    assert cli("ebm-study-promote", "--tracking-uri", uri).returncode == 0
    out = cli(
        "ebm-study-predict",
        "--tracking-uri",
        uri,
        "--input",
        str(tmp / "rows.csv"),
        "--output",
        str(tmp / "pred.csv"),
    )
    assert out.returncode == 0, out.stderr
    predictions = pd.read_csv(tmp / "pred.csv")
    run_model = mlflow.sklearn.load_model(f"runs:/{champion(uri).run_id}/model")
    rows = pd.read_csv(tmp / "rows.csv")
    assert predictions["prediction"].tolist() == run_model.predict(rows).tolist()
    assert np.allclose(predictions["probability_1"], run_model.predict_proba(rows)[:, 1])
    assert len(predictions) == 25


def test_predict_refuses_bad_input_in_one_line(sweep, capsys):
    tmp, uri, _ = sweep
    assert promote_main(["--tracking-uri", uri]) == 0
    rows = pd.read_csv(tmp / "rows.csv")
    rows.drop(columns=["mean radius"]).to_csv(tmp / "missing.csv", index=False)
    (tmp / "empty.csv").write_text("")
    for path, message in [
        (tmp / "missing.csv", "missing columns: mean radius"),
        (tmp / "empty.csv", "is not a readable CSV"),
        (tmp / "nope.csv", "is not a file"),
    ]:
        args = ["--tracking-uri", uri, "--input", str(path), "--output", str(tmp / "x.csv")]
        assert predict_main(args) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def test_the_champion_loads_as_an_ebm_that_explains_itself(sweep):
    _, uri, _ = sweep
    assert cli("ebm-study-promote", "--tracking-uri", uri).returncode == 0
    mlflow.set_tracking_uri(uri)
    ebm = mlflow.sklearn.load_model("models:/ebm-study@champion")
    assert len(ebm.explain_global().data()["names"]) == 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mlflow_serves_the_champion(sweep):
    tmp, uri, _ = sweep
    assert cli("ebm-study-promote", "--tracking-uri", uri).returncode == 0
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "PATH": f"{BIN}:{os.environ['PATH']}",  # the server execs uvicorn
    }
    server = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            "models:/ebm-study@champion",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        rows = pd.read_csv(tmp / "rows.csv").head(5)
        body = json.dumps({"dataframe_split": rows.to_dict(orient="split")}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
        model = mlflow.sklearn.load_model("models:/ebm-study@champion")
        assert answer["predictions"] == model.predict(rows).tolist()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_a_sweep_without_models_still_gets_a_champion_by_refitting(tmp_path):
    result = run_cli(
        "-m", "split_seed=0,1", *TINY, *store_overrides(tmp_path), "tracking.log_model=false"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    out = cli("ebm-study-promote", "--tracking-uri", uri)
    assert out.returncode == 0, out.stderr
    version = champion(uri)
    run = MlflowClient().get_run(version.run_id)
    assert run.info.status == "FINISHED"  # logging the model into it did not reopen it for good
    ebm = mlflow.sklearn.load_model("models:/ebm-study@champion")
    X = load_breast_cancer(as_frame=True).data
    assert np.array_equal(
        ebm.predict(X), mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model").predict(X)
    )
    # A second promotion finds the version made by the first, with no second refit.
    again = cli("ebm-study-promote", "--tracking-uri", uri)
    assert "already registered" in again.stdout
