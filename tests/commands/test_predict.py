"""Predict with the champion (or any logged model): the input checked against the model's
signature, the output the model's own, with `--reasons` the model's own reasons and how often
its setting's runs agree on them; and MLflow's own server serving the champion."""

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
from conftest import all_runs, free_port, patients, run_cli, store_uri, sweep_of
from mlflow.tracking import MlflowClient

from commands import test_regression
from ebm_study.commands.predict import main as predict_main
from ebm_study.errors import UserError
from ebm_study.fit.data import decimal_year
from ebm_study.fit.inputs import conform
from ebm_study.tracking import models, tags

BIN = Path(sys.executable).parent
# The regression sweep its own module runs, and its data, read here too.
regression_sweep = test_regression.regression_sweep
diabetes = test_regression.diabetes

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


# ---------------------------------------------------------------------------------------------
# --reasons N: each row's N strongest terms, and how often its setting's runs agree on them


def contributions(ebm, X: pd.DataFrame) -> np.ndarray:
    """rows x terms, as the issue defines a reason's contribution: interpret's eval_terms; for
    3 or more classes the predicted class's scores, centred over the classes."""
    scores = np.asarray(ebm.eval_terms(X))
    if scores.ndim == 3:
        predicted = [list(ebm.classes_).index(c) for c in ebm.predict(X)]
        centred = scores - scores.mean(axis=2, keepdims=True)
        scores = centred[np.arange(len(X)), :, predicted]
    return scores


def assert_reasons(out: pd.DataFrame, ebm, X: pd.DataFrame, r: int) -> None:
    """The written reasons are the model's own: each its term's contribution to the row, the
    largest |contribution| first, no term left out stronger than the weakest listed."""
    scores, terms = contributions(ebm, X), list(ebm.term_names_)
    listed = np.array([[terms.index(t) for t in out[f"reason_{j}"]] for j in range(1, r + 1)]).T
    values = np.take_along_axis(scores, listed, axis=1)
    written = out[[f"reason_{j}_contribution" for j in range(1, r + 1)]].to_numpy()
    assert np.allclose(written, values)
    assert (np.diff(np.abs(values), axis=1) <= 1e-12).all()
    rest = np.abs(scores)
    np.put_along_axis(rest, listed, -np.inf, axis=1)
    assert (rest.max(axis=1) <= np.abs(values[:, -1]) + 1e-12).all()


def expected_stability(setting: dict[str, list], X: pd.DataFrame, out: pd.DataFrame, r: int):
    """rows x r: for each written reason, the share of the setting's runs (split seed -> their
    models) that have it among the row's top r, each split seed's runs weighted alike."""
    by_seed = []
    for ebms in setting.values():
        hits = np.zeros((len(X), r))
        for ebm in ebms:
            names = np.array(ebm.term_names_, dtype=object)
            top = np.argsort(-np.abs(contributions(ebm, X)), axis=1, kind="stable")[:, :r]
            for j in range(r):
                hits[:, j] += [
                    t in set(names[top[i]]) for i, t in enumerate(out[f"reason_{j + 1}"])
                ]
        by_seed.append(hits / len(ebms))
    return np.mean(by_seed, axis=0)


def setting_models(uri: str, run_id: str, leave_out: str | None = None) -> dict[str, list]:
    """The models of the finished runs of this run's setting in its sweep, by split seed,
    but those on `leave_out`'s split seed."""
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    parent, key = run.data.tags[tags.PARENT], run.data.tags[tags.CONFIG_KEY]
    mlflow.set_tracking_uri(uri)
    out: dict[str, list] = {}
    gone = client.get_run(leave_out).data.params["split_seed"] if leave_out else None
    for job in sweep_of(all_runs(uri))[1]:
        if job.data.params.get("split_seed") == gone:
            continue
        if job.info.status == "FINISHED" and job.data.tags.get(tags.CONFIG_KEY) == key:
            assert job.data.tags[tags.PARENT] == parent
            model = mlflow.sklearn.load_model(f"runs:/{job.info.run_id}/model")
            out.setdefault(job.data.params["split_seed"], []).append(model)
    return out


def stability_columns(r: int) -> list[str]:
    return [f"reason_{j}_stability" for j in range(1, r + 1)]


def test_reasons_are_the_champions_strongest_terms_with_their_stability(
    shared_sweep, champion, rows, tmp_path, capsys
):
    args = ["--input", str(rows), "--output", str(tmp_path / "p.csv"), "--reasons", "3"]
    assert predict_main(["--tracking-uri", shared_sweep.uri, *args]) == 0
    printed = capsys.readouterr()
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns)[4:] == [
        f"reason_{j}{s}" for j in (1, 2, 3) for s in ("", "_contribution", "_stability")
    ]
    mlflow.set_tracking_uri(shared_sweep.uri)
    ebm = mlflow.sklearn.load_model("models:/ebm-study@champion")
    X = pd.read_csv(rows)
    assert_reasons(out, ebm, X, 3)
    # The shared sweep keeps its models: how often each reason recurs across the champion's
    # setting's runs on the other 2 split seeds (4 runs), without being asked. Its own split
    # seed is left out: the champion gives these reasons by definition, and its sibling on
    # the same rows agrees more than a retrain does.
    setting = setting_models(shared_sweep.uri, champion, leave_out=champion)
    assert sorted(len(v) for v in setting.values()) == [2, 2]
    shares = out[stability_columns(3)].to_numpy()
    assert ((shares >= 0) & (shares <= 1)).all() and (shares < 1).any()
    assert np.allclose(shares, expected_stability(setting, X, out, 3))
    with_own = expected_stability(setting_models(shared_sweep.uri, champion), X, out, 3)
    assert not np.allclose(shares, with_own)  # counting the champion's split seed would differ
    sweep = shared_sweep.parent.info.run_id
    assert f"across the 4 runs of the model's setting on other split seeds in sweep {sweep}" in (
        printed.out
    )
    assert printed.err == ""


def test_no_reason_stability_leaves_it_out(shared_sweep, champion, rows, tmp_path, capsys):
    args = ["--input", str(rows), "--output", str(tmp_path / "p.csv"), "--reasons", "2"]
    assert predict_main(["--tracking-uri", shared_sweep.uri, *args, "--no-reason-stability"]) == 0
    printed = capsys.readouterr()
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns)[4:] == [
        "reason_1", "reason_1_contribution", "reason_2", "reason_2_contribution"
    ]  # fmt: skip
    assert "reason_j_stability" not in printed.out and printed.err == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--reasons", "0"], "--reasons=0 must be a whole number >= 1"),
        (["--reasons", "three"], "--reasons=three must be a whole number >= 1"),
        (["--reasons", "1.5"], "--reasons=1.5 must be a whole number >= 1"),
        (["--reason-stability"], "--reason-stability needs --reasons N"),
    ],
)
def test_bad_reason_options_are_one_line(shared_sweep, rows, tmp_path, capsys, options, message):
    args = ["--input", str(rows), "--output", str(tmp_path / "p.csv"), *options]
    assert predict_main(["--tracking-uri", shared_sweep.uri, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ebm-study-predict: error: {message}")
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "p.csv").exists()


def new_patients() -> tuple[pd.DataFrame, pd.DataFrame]:
    """New rows as a user has them (an ID, dates as text), and the same rows as the three-class
    sweep's models take them."""
    rows = patients(15, seed=7).drop(columns="outcome")
    X = rows.drop(columns="id").assign(visit=decimal_year(rows["visit"], "visit"))
    return rows, X[["visit", "colour", "a", "b", "c"]]


def test_three_class_reasons_explain_the_predicted_class(three_classes, tmp_path, capsys):
    folder, _, _, parent, jobs = three_classes
    uri = store_uri(folder)
    job = jobs[0].info.run_id
    rows, X = new_patients()
    rows.to_csv(tmp_path / "new.csv", index=False)
    args = ["--input", str(tmp_path / "new.csv"), "--output", str(tmp_path / "p.csv")]
    model = ["--model", f"runs:/{job}/model", "--reasons", "2", "--reason-stability"]
    assert predict_main(["--tracking-uri", uri, *args, *model]) == 0
    assert (
        f"across the 2 runs of the model's setting on other split seeds in sweep "
        f"{parent.info.run_id}" in capsys.readouterr().out
    )
    out = pd.read_csv(tmp_path / "p.csv")
    assert out["id"].tolist() == rows["id"].tolist()
    mlflow.set_tracking_uri(uri)
    ebm = mlflow.sklearn.load_model(f"runs:/{job}/model")
    X = X[list(ebm.feature_names_in_)]
    assert len(ebm.classes_) == 3 and out["prediction"].tolist() == ebm.predict(X).tolist()
    assert_reasons(out, ebm, X, 2)  # the predicted class's scores, centred over the classes
    raw = np.asarray(ebm.eval_terms(X))
    first = [list(ebm.term_names_).index(t) for t in out["reason_1"]]
    predicted = [list(ebm.classes_).index(c) for c in out["prediction"]]
    assert not np.allclose(out["reason_1_contribution"], raw[np.arange(len(X)), first, predicted])
    setting = setting_models(uri, job, leave_out=job)
    assert np.allclose(out[stability_columns(2)], expected_stability(setting, X, out, 2))


def test_a_registered_versions_sweep_gives_its_stability_and_no_sweep_none(
    three_classes, tmp_path, capsys
):
    """A model logged outside any sweep has no setting's runs to agree with: said in a note, or
    one line with --reason-stability. Registered with a version naming a sweep's setting (as
    ebm-study-promote names the champion's), it has that setting's."""
    folder, _, _, parent, jobs = three_classes
    uri = store_uri(folder)
    key = jobs[0].data.tags[tags.CONFIG_KEY]
    mlflow.set_tracking_uri(uri)
    ebm = mlflow.sklearn.load_model(f"runs:/{jobs[0].info.run_id}/model")
    _, X = new_patients()
    X.to_csv(tmp_path / "x.csv", index=False)
    # Not set_experiment: the process's active experiment would outlive the test.
    outside = MlflowClient(tracking_uri=uri).create_experiment("outside")
    with mlflow.start_run(experiment_id=outside) as run:
        logged = models.log_model(ebm, X)
    version = models.register_version(
        "outside",
        logged,
        "a copy",
        {tags.VERSION_SWEEP: parent.info.run_id, tags.VERSION_CONFIG_KEY: key},
    )
    capsys.readouterr()  # MLflow's words on the set-up
    args = ["--tracking-uri", uri, "--input", str(tmp_path / "x.csv"), "--reasons", "2"]
    why = "no reason stability: the model did not come from a sweep's setting in this store"
    for alone in (f"runs:/{run.info.run_id}/model", logged):
        output = tmp_path / "alone.csv"
        assert predict_main([*args, "--model", alone, "--output", str(output)]) == 0
        assert capsys.readouterr().err == f"ebm-study-predict: note: {why}\n"
        written = pd.read_csv(output).columns
        assert "reason_2_contribution" in written and "reason_1_stability" not in written
        strict = ["--model", alone, "--output", str(tmp_path / "no.csv"), "--reason-stability"]
        assert predict_main([*args, *strict]) == 2
        err = capsys.readouterr().err
        assert err == f"ebm-study-predict: error: --reason-stability: {alone} has {why}\n"
        assert not (tmp_path / "no.csv").exists()
    models.set_alias("outside", tags.CHAMPION, version)
    for named in (f"models:/outside/{version}", "models:/outside@champion"):
        assert predict_main([*args, "--model", named, "--output", str(tmp_path / "v.csv")]) == 0
        assert "across the 4 runs of the model's setting on other split seeds" in (
            capsys.readouterr().out
        )  # a copy outside the sweep: no split seed of the sweep's to leave out
        out = pd.read_csv(tmp_path / "v.csv")
        assert np.allclose(
            out[stability_columns(2)],
            expected_stability(setting_models(uri, jobs[0].info.run_id), X, out, 2),
        )


@pytest.mark.sweeps
def test_regression_reasons_are_the_models_own(regression_sweep, tmp_path, capsys):
    folder, _, _ = regression_sweep
    uri = store_uri(folder)
    parent, jobs = sweep_of(all_runs(uri))
    job = jobs[0].info.run_id
    rows = diabetes().head(20)  # with its target, which rides along
    rows.to_csv(tmp_path / "in.csv", index=False)
    args = ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "p.csv")]
    model = ["--model", f"runs:/{job}/model", "--reasons", "3"]
    assert predict_main(["--tracking-uri", uri, *args, *model]) == 0
    assert (
        f"across the 2 runs of the model's setting on other split seeds in sweep "
        f"{parent.info.run_id}" in capsys.readouterr().out
    )
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns)[:2] == ["prog", "prediction"]
    mlflow.set_tracking_uri(uri)
    ebm = mlflow.sklearn.load_model(f"runs:/{job}/model")
    X = rows[list(ebm.feature_names_in_)]
    assert np.allclose(out["prediction"], ebm.predict(X))
    assert_reasons(out, ebm, X, 3)
    setting = setting_models(uri, job, leave_out=job)
    assert np.allclose(out[stability_columns(3)], expected_stability(setting, X, out, 3))
