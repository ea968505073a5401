"""Predict with the champion (or any logged model): the input checked against the model's
signature, the output the model's own; and MLflow's own server serving the champion."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import free_port, run_cli

from ebm_study.commands.predict import conform
from ebm_study.commands.predict import main as predict_main
from ebm_study.errors import UserError

BIN = Path(sys.executable).parent

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
# With the shared sweep's champion


@pytest.fixture(scope="module")
def rows(shared_sweep):
    from sklearn.datasets import load_breast_cancer

    path = shared_sweep.folder / "rows.csv"
    load_breast_cancer(as_frame=True).data.head(25).to_csv(path, index=False)
    return path


def test_predictions_equal_the_champion_runs_own_model(shared_sweep, champion, rows, tmp_path):
    # The real command, as the README runs it.
    out = run_cli(
        "--tracking-uri",
        shared_sweep.uri,
        "--input",
        str(rows),
        "--output",
        str(tmp_path / "pred.csv"),
        program="ebm-study-predict",
    )
    assert out.returncode == 0, out.stderr
    assert "wrote 25 predictions of models:/ebm-study@champion" in out.stdout
    predictions = pd.read_csv(tmp_path / "pred.csv")
    mlflow.set_tracking_uri(shared_sweep.uri)
    run_model = mlflow.sklearn.load_model(f"runs:/{champion}/model")
    X = pd.read_csv(rows)
    assert predictions["prediction"].tolist() == run_model.predict(X).tolist()
    assert np.allclose(predictions["probability_1"], run_model.predict_proba(X)[:, 1])
    assert np.allclose(predictions["probability"], run_model.predict_proba(X).max(axis=1))


def test_another_logged_model_by_its_uri(shared_sweep, rows, tmp_path):
    run_id = shared_sweep.finished[0].info.run_id
    args = ["--input", str(rows), "--output", str(tmp_path / "p.csv")]
    assert (
        predict_main(
            ["--tracking-uri", shared_sweep.uri, "--model", f"runs:/{run_id}/model", *args]
        )
        == 0
    )
    assert len(pd.read_csv(tmp_path / "p.csv")) == 25


def test_predict_refuses_bad_input_in_one_line(shared_sweep, champion, rows, tmp_path, capsys):
    pd.read_csv(rows).drop(columns=["mean radius"]).to_csv(tmp_path / "missing.csv", index=False)
    (tmp_path / "empty.csv").write_text("")
    pd.read_csv(rows).head(0).to_csv(tmp_path / "header.csv", index=False)
    cases = [
        (tmp_path / "missing.csv", [], "missing columns: mean radius"),
        (tmp_path / "empty.csv", [], "is not a readable CSV"),
        (tmp_path / "header.csv", [], "has a header but no rows"),
        (tmp_path / "nope.csv", [], "--input='" + str(tmp_path / "nope.csv") + "' is not a file"),
        (rows, ["--model", "models:/nope@champion"], "--model='models:/nope@champion' cannot"),
    ]
    for path, extra, message in cases:
        args = ["--input", str(path), "--output", str(tmp_path / "x.csv"), *extra]
        assert predict_main(["--tracking-uri", shared_sweep.uri, *args]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert err.startswith("ebm-study-predict: error: ")
    assert not (tmp_path / "x.csv").exists()


def test_the_champion_loads_as_an_ebm_that_explains_itself(shared_sweep, champion):
    mlflow.set_tracking_uri(shared_sweep.uri)
    ebm = mlflow.sklearn.load_model("models:/ebm-study@champion")
    assert len(ebm.explain_global().data()["names"]) == 30


def test_mlflow_serves_the_champion(shared_sweep, champion, rows):
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": shared_sweep.uri,
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
        X = pd.read_csv(rows).head(5)
        body = json.dumps({"dataframe_split": X.to_dict(orient="split")}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
        mlflow.set_tracking_uri(shared_sweep.uri)
        model = mlflow.sklearn.load_model("models:/ebm-study@champion")
        assert answer["predictions"] == model.predict(X).tolist()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
