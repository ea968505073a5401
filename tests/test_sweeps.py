"""Multiruns through the real `ebm-study` command: one parent, its children, named and grouped."""

import socket
from collections import Counter

import mlflow
import pytest
from conftest import TINY, run_cli, store_overrides


def runs_of(tmp_path, experiment="ebm-study"):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    return mlflow.search_runs(experiment_names=[experiment], output_format="list")


def split_parent(runs):
    parents = [r for r in runs if r.data.tags.get("ebm_study.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("ebm_study.role") == "job"]
    assert len(parents) == 1, [r.info.run_name for r in runs]
    return parents[0], children


def test_a_command_line_sweep_makes_one_parent_and_named_grouped_children(tmp_path):
    result = run_cli(
        "-m", "split_seed=0,1", "model.learning_rate=0.01,0.05", *TINY, *store_overrides(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    parent, children = split_parent(runs_of(tmp_path))

    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["n_runs"] == 4 and parent.data.metrics["n_failed"] == 0
    assert parent.data.tags["ebm_study.swept"] == "split_seed,model.learning_rate"
    assert len(children) == 4
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert all(c.info.status == "FINISHED" for c in children)
    assert sorted(c.info.run_name for c in children) == [
        "split_seed=0,learning_rate=0.01",
        "split_seed=0,learning_rate=0.05",
        "split_seed=1,learning_rate=0.01",
        "split_seed=1,learning_rate=0.05",
    ]
    # Same learning rate, different seed: same config_key; two settings, two runs each.
    groups = Counter(c.data.tags["config_key"] for c in children)
    assert sorted(groups.values()) == [2, 2]
    by_lr = {c.data.params["model.learning_rate"]: c.data.tags["config_key"] for c in children}
    assert by_lr["0.01"] != by_lr["0.05"]
    assert all({"accuracy", "f1", "roc_auc"} <= set(c.data.metrics) for c in children)


def test_a_failing_job_is_failed_while_the_others_finish_and_the_command_exits_1(tmp_path):
    result = run_cli(
        "-m",
        "model.learning_rate=0.05,-1",
        *TINY,
        *store_overrides(tmp_path),
        "tracking.log_model=false",
    )
    assert result.returncode == 1
    assert "1 of 2 jobs failed" in result.stderr
    assert "model.learning_rate=-1 must be a number > 0" in result.stderr
    parent, children = split_parent(runs_of(tmp_path))
    statuses = {c.data.params["model.learning_rate"]: c.info.status for c in children}
    assert statuses == {"0.05": "FINISHED", "-1": "FAILED"}
    assert parent.info.status == "FAILED"
    assert parent.data.metrics["n_failed"] == 1


def test_joblib_launcher_with_two_workers_on_a_fresh_store(tmp_path):
    result = run_cli(
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "split_seed=0,1,2",
        *TINY,
        *store_overrides(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    parent, children = split_parent(runs_of(tmp_path))
    assert parent.info.status == "FINISHED"
    assert len(children) == 3
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert sorted(c.info.run_name for c in children) == [f"split_seed={i}" for i in range(3)]
    assert all(c.info.status == "FINISHED" for c in children)
    assert len({c.data.tags["config_key"] for c in children}) == 1
    assert {c.data.tags["ebm_study.launcher"] for c in children} == {"JoblibLauncher"}
    assert {c.data.tags["ebm_study.host"] for c in children} == {socket.gethostname()}


def test_a_named_study_sweeps_its_own_grid(tmp_path):
    # experiment=quick's grid (16 runs), shrunk to 2 by fixing two of its keys.
    result = run_cli(
        "-m",
        "experiment=quick",
        "split_seed=0",
        "model_seed=0",
        *TINY,
        *store_overrides(tmp_path),
        "tracking.log_model=false",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    parent, children = split_parent(runs_of(tmp_path))
    assert parent.data.tags["ebm_study.swept"] == "model.learning_rate"
    assert sorted(c.info.run_name for c in children) == [
        "learning_rate=0.015",
        "learning_rate=0.05",
    ]


def test_tracking_uri_from_the_environment(tmp_path):
    overrides = [o for o in store_overrides(tmp_path) if not o.startswith("tracking.uri")]
    result = run_cli(
        *TINY,
        *overrides,
        "tracking.log_model=false",
        "tracking.experiment=from-env",
        env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = runs_of(tmp_path, "from-env")
    assert run.info.status == "FINISHED"


def test_single_run_with_a_missing_csv_prints_one_line_and_exits_2(tmp_path):
    result = run_cli(
        "data=csv", f"data.path={tmp_path}/nope.csv", "data.target=y", *store_overrides(tmp_path)
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"ebm-study: error: data.path='{tmp_path}/nope.csv' is not a file; "
        "give the path of a CSV file"
    )
    (run,) = runs_of(tmp_path)
    assert run.info.status == "FAILED"


@pytest.mark.slow
def test_the_paper_study_reproduces_the_tutorial_accuracy(tmp_path):
    """interpret's defaults on the tutorial's split: accuracy 0.974 (minutes per fit)."""
    result = run_cli("experiment=paper", *store_overrides(tmp_path), timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = runs_of(tmp_path)
    assert run.data.metrics["accuracy"] == pytest.approx(0.974, abs=0.0005)
