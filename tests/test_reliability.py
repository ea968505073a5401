"""Failures, interruptions, parallel writers and bad input lose nothing: through the real CLI,
against real SQLite stores, as a user meets them."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from conftest import TINY, run_cli, store_overrides
from mlflow.tracking import MlflowClient

EXE = Path(sys.executable).with_name("ebm-study")


def all_runs(tmp_path, experiment="ebm-study"):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    client = MlflowClient()
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], max_results=1000) if exp else []


def by_role(runs, role):
    return [r for r in runs if r.data.tags.get("ebm_study.role") == role]


def no_running(tmp_path):
    return [r.info.run_name for r in all_runs(tmp_path) if r.info.status == "RUNNING"] == []


def start(*args, tmp_path, sweep_dir=None):
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID")}
    own_dir = [f"hydra.sweep.dir={sweep_dir}"] if sweep_dir else []
    return subprocess.Popen(
        [str(EXE), *args, *store_overrides(tmp_path), *own_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(condition, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


# Fits of a few seconds each, so a sweep can be interrupted in the middle of one.
SLOW_SWEEP = [
    "-m",
    "split_seed=0,1,2,3",
    "model.outer_bags=4",
    "model.n_jobs=1",
    "tracking.log_model=false",
]


def test_ctrl_c_marks_the_run_in_flight_and_the_sweep_killed_and_rerun_resumes(tmp_path):
    proc = start(*SLOW_SWEEP, tmp_path=tmp_path)
    finished_then_running = lambda: (  # noqa: E731
        len([r for r in by_role(all_runs(tmp_path), "job") if r.info.status == "FINISHED"]) >= 1
        and any(r.info.status == "RUNNING" for r in by_role(all_runs(tmp_path), "job"))
    )
    assert wait_for(finished_then_running), proc.communicate()[1][-2000:]
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    runs = all_runs(tmp_path)
    assert no_running(tmp_path)
    (parent,) = by_role(runs, "sweep")
    assert parent.info.status == "KILLED"
    statuses = sorted(r.info.status for r in by_role(runs, "job"))
    assert "KILLED" in statuses and "FINISHED" in statuses
    done_before = {r.info.run_id for r in by_role(runs, "job") if r.info.status == "FINISHED"}

    again = run_cli(*SLOW_SWEEP, *store_overrides(tmp_path))
    assert again.returncode == 0, again.stderr[-3000:]
    runs = all_runs(tmp_path)
    (parent,) = by_role(runs, "sweep")  # the same parent, resumed
    assert parent.info.status == "FINISHED"
    finished = [r for r in by_role(runs, "job") if r.info.status == "FINISHED"]
    assert sorted(r.data.params["split_seed"] for r in finished) == ["0", "1", "2", "3"]
    assert done_before <= {r.info.run_id for r in finished}  # reused, not fitted again
    assert parent.data.metrics["stability_n_runs"] == 4 and parent.data.metrics["n_failed"] == 0

    forced = run_cli(*SLOW_SWEEP, *store_overrides(tmp_path), "study.rerun=true")
    assert forced.returncode == 0
    assert len(by_role(all_runs(tmp_path), "sweep")) == 2  # rerun=true starts afresh


def test_sigterm_under_the_joblib_launcher_leaves_nothing_running(tmp_path):
    proc = start(*SLOW_SWEEP, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", tmp_path=tmp_path)
    assert wait_for(
        lambda: any(r.info.status == "RUNNING" for r in by_role(all_runs(tmp_path), "job"))
    ), proc.communicate()[1][-2000:]
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=90)
    assert proc.returncode != 0
    assert wait_for(lambda: no_running(tmp_path), timeout=30)
    (parent,) = by_role(all_runs(tmp_path), "sweep")
    assert parent.info.status == "KILLED"


def test_four_joblib_workers_on_a_fresh_store_record_every_run(tmp_path):
    result = run_cli(
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=4",
        "split_seed=range(4)",
        *TINY,
        *store_overrides(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "database is locked" not in result.stderr
    jobs = by_role(all_runs(tmp_path), "job")
    assert len(jobs) == 4 and all(r.info.status == "FINISHED" for r in jobs)


def test_two_sweeps_at_once_on_one_fresh_store(tmp_path):
    # Two terminals: one store, each sweep its own (time-stamped) output folder.
    first = start("-m", "split_seed=0,1,2", *TINY, tmp_path=tmp_path, sweep_dir=tmp_path / "a")
    second = start("-m", "model_seed=5,6,7", *TINY, tmp_path=tmp_path, sweep_dir=tmp_path / "b")
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == second.returncode == 0, [o[1][-2000:] for o in outs]
    assert not any("database is locked" in o[1] for o in outs)
    runs = all_runs(tmp_path)
    parents = by_role(runs, "sweep")
    assert len(parents) == 2 and all(p.info.status == "FINISHED" for p in parents)
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert len(children) == 3 and all(c.info.status == "FINISHED" for c in children)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode", [[], ["-m", "split_seed=0,1"]])
def test_an_absent_tracking_server_fails_in_seconds_before_fitting(tmp_path, mode):
    uri = f"http://127.0.0.1:{closed_port()}"
    started = time.time()
    result = run_cli(
        *mode,
        *TINY,
        f"hydra.run.dir={tmp_path}/r",
        f"hydra.sweep.dir={tmp_path}/s",
        env={"MLFLOW_TRACKING_URI": uri},
    )
    assert time.time() - started < 30
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ebm-study: error: tracking.uri=http://127.0.0.1:")
    assert "is not answering" in last


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
        "good": write(tmp_path, "good.csv", good),
        "empty": tmp_path / "empty.csv",
        "binary": tmp_path / "binary.csv",
    }


BAD_INPUT = [
    (["data=csv", "data.path={missing}", "data.target=y"], "is not a file"),
    (["data=csv", "data.path={empty}", "data.target=y"], "is not a readable CSV"),
    (["data=csv", "data.path={binary}", "data.target=y"], "is not a readable CSV"),
    (["data=csv", "data.path={good}", "data.target=label"], "data.target='label' is not a column"),
    (["data=csv", "data.path={one_class}", "data.target=y"], "has one class"),
    (["data=csv", "data.path={nan_target}", "data.target=y"], "missing value(s)"),
    (["data=csv", "data.path={text}", "data.target=y"], "non-numeric feature column(s) colour"),
    (["data=csv", "data.path={tiny}", "data.target=y", "split.test_size=0.1"], "one per class"),
    (["split.test_size=1.5"], "split.test_size=1.5 must be a fraction between 0 and 1"),
    (["model.learning_rate=-0.1"], "model.learning_rate=-0.1 must be a number > 0"),
    (["model.outer_bags=0"], "model.outer_bags=0 must be a whole number >= 1"),
    (["model.interactions=abc"], "model.interactions='abc' must be a count"),
    (["top_k=0"], "top_k=0 must be a whole number >= 1"),
    (["top_k=99"], "top_k=99 is more than the number of terms"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUT, ids=[m for _, m in BAD_INPUT])
def test_bad_input_gets_one_line_exit_2_and_no_running_run(tmp_path, csvs, overrides, message):
    args = [o.format(missing=tmp_path / "missing.csv", **csvs) for o in overrides]
    result = run_cli(*TINY, *args, *store_overrides(tmp_path))
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ebm-study: error: ") and message in last, last
    assert no_running(tmp_path)
    assert all(r.info.status == "FAILED" for r in all_runs(tmp_path))


def test_a_stated_categorical_column_is_accepted(tmp_path, csvs):
    result = run_cli(
        "data=csv",
        f"data.path={csvs['text']}",
        "data.target=y",
        "data.categorical=[colour]",
        "top_k=2",
        *TINY,
        *store_overrides(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_bad_value_in_a_sweep_stops_it_before_any_job(tmp_path):
    result = run_cli("-m", "split_seed=0,1", "split.test_size=2", *TINY, *store_overrides(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "ebm-study: error: split.test_size=2 must be a fraction between 0 and 1"
    )
    assert all_runs(tmp_path) == []


def test_an_unknown_config_group_option_names_the_allowed_ones(tmp_path):
    result = run_cli("data=nope", *store_overrides(tmp_path))
    assert result.returncode != 0
    assert "Could not find 'data/nope'" in result.stderr
    assert "breast_cancer" in result.stderr and "csv" in result.stderr


def test_a_password_in_a_uri_is_never_written(tmp_path):
    result = run_cli(
        *TINY,
        "+source_uri=http://me:hunter2@example.invalid/data",
        *store_overrides(tmp_path),
        "tracking.log_model=false",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (run,) = all_runs(tmp_path)
    assert run.data.params["source_uri"] == "http://me:***@example.invalid/data"
    for path in ("config/config.yaml", "config/overrides.txt"):
        text = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/{path}")
        assert "hunter2" not in text
    assert "hunter2" not in run.info.run_name


def test_models_trust_only_the_ebm_class(tmp_path):
    result = run_cli(*TINY, *store_overrides(tmp_path))
    assert result.returncode == 0
    (run,) = all_runs(tmp_path)
    mlmodel = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model/MLmodel")
    assert "serialization_format: skops" in mlmodel
    assert "interpret.glassbox._ebm._ebm.ExplainableBoostingClassifier" in mlmodel
    assert "pickle" not in mlmodel.split("serialization_format")[1].splitlines()[0]
