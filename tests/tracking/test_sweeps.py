"""A sweep's parent run and its jobs as the store holds them: resumed attempts counted once,
an unfinished sweep closed with its jobs, the same command finding its sweep again."""

import math

import mlflow
import pandas as pd
import pytest
from conftest import store_overrides
from mlflow.tracking import MlflowClient

from ebm_study.tracking import setting_runs, store, sweeps
from ebm_study.tracking.setting_runs import SettingRun


@pytest.fixture
def parent(tmp_path):
    # Artifacts under tmp_path: MLflow's default is ./mlruns of the directory pytest runs in.
    uri, location = (o.split("=", 1)[1] for o in store_overrides(tmp_path)[:2])
    experiment = store.connect(
        {"uri": uri, "experiment": "ebm-study", "artifact_location": location}
    )
    parent_id = sweeps.start_sweep(
        experiment, str(tmp_path / "a"), ["split_seed"], ["split_seed=0,1"], "x: 1\n", {}, "key1"
    )
    return experiment, parent_id


def job(experiment, parent_id, run_key, status):
    client = MlflowClient()
    run = client.create_run(
        experiment,
        tags={"mlflow.parentRunId": parent_id, "ebm_study.run_key": run_key, "config_key": "c"},
    )
    client.set_terminated(run.info.run_id, status) if status != "RUNNING" else None
    return run.info.run_id


def test_jobs_frame_counts_each_fit_once_preferring_the_finished_attempt(parent):
    experiment, parent_id = parent
    done = job(experiment, parent_id, "seed0", "FINISHED")
    job(experiment, parent_id, "seed0", "FAILED")  # a later attempt at the same fit
    job(experiment, parent_id, "seed1", "FAILED")
    newest = job(experiment, parent_id, "seed1", "KILLED")
    frame = sweeps.jobs_frame(experiment, parent_id)
    assert set(frame.index) == {done, newest}
    assert frame.loc[done, "status"] == "FINISHED"


def test_an_unfinished_sweep_is_closed_with_its_running_jobs(parent):
    experiment, parent_id = parent
    stuck = job(experiment, parent_id, "seed0", "RUNNING")
    finished = job(experiment, parent_id, "seed1", "FINISHED")
    sweeps.end_if_running(parent_id)
    client = MlflowClient()
    assert client.get_run(parent_id).info.status == "KILLED"
    assert client.get_run(stuck).info.status == "KILLED"
    assert client.get_run(stuck).data.tags["error"].startswith("interrupted: the sweep stopped")
    assert client.get_run(finished).info.status == "FINISHED"


def test_the_same_command_finds_its_sweep(parent, tmp_path):
    experiment, parent_id = parent
    other = sweeps.start_sweep(experiment, str(tmp_path / "b"), [], [], "x: 2\n", {}, "key2")
    assert sweeps.newest_sweep(experiment, "key1") == parent_id
    assert sweeps.newest_sweep(experiment) == other
    assert sweeps.find_sweep(experiment, str(tmp_path / "a")) == (parent_id, ["split_seed"])
    sweeps.reopen_sweep(parent_id, str(tmp_path / "c"))
    assert sweeps.find_sweep(experiment, str(tmp_path / "c")) == (parent_id, ["split_seed"])
    assert mlflow.get_run(parent_id).info.status == "RUNNING"


def both_reads(experiment, parent_id, monkeypatch):
    """jobs_frame read in bulk from the tables, and through MLflow's search API."""
    from ebm_study.tracking import bulk

    in_bulk = sweeps.jobs_frame(experiment, parent_id)
    with monkeypatch.context() as patch:
        patch.setattr(bulk, "is_database", lambda uri: False)
        searched = sweeps.jobs_frame(experiment, parent_id)
    return in_bulk, searched


def test_the_bulk_read_is_the_search_apis_frame_on_a_real_sweep(shared_sweep, monkeypatch):
    mlflow.set_tracking_uri(shared_sweep.uri)
    experiment, parent_id = shared_sweep.parent.info.experiment_id, shared_sweep.parent.info.run_id
    in_bulk, searched = both_reads(experiment, parent_id, monkeypatch)
    pd.testing.assert_frame_equal(in_bulk, searched)
    assert len(in_bulk) == 18 and in_bulk["model_uri"].str.startswith("models:/").sum() == 12
    assert {"f1", "bags_at_max_rounds", "split_seed", "model.learning_rate"} <= set(in_bulk)


def test_the_bulk_read_skips_deleted_runs_and_keeps_nan_metrics(parent, monkeypatch):
    experiment, parent_id = parent
    client = MlflowClient()
    kept = job(experiment, parent_id, "seed0", "FINISHED")
    client.log_metric(kept, "log_loss", float("nan"))
    client.delete_run(job(experiment, parent_id, "seed1", "FINISHED"))
    in_bulk, searched = both_reads(experiment, parent_id, monkeypatch)
    pd.testing.assert_frame_equal(in_bulk, searched)
    assert list(in_bulk.index) == [kept] and math.isnan(in_bulk.loc[kept, "log_loss"])


def test_a_launch_reads_the_finished_jobs_once(parent):
    experiment, parent_id = parent
    done = job(experiment, parent_id, "seed0", "FINISHED")
    job(experiment, parent_id, "seed1", "FAILED")
    assert sweeps.finished_before(experiment, parent_id, "launch-1") == {"seed0": done}
    later = job(experiment, parent_id, "seed1", "FINISHED")  # by a job of this launch
    assert sweeps.finished_before(experiment, parent_id, "launch-1") == {"seed0": done}
    # The next launch of the same command sees it.
    assert sweeps.finished_before(experiment, parent_id, "launch-2") == {
        "seed0": done,
        "seed1": later,
    }


# ---------------------------------------------------------------------------------------------
# One run a setting under a sweep's parent: written, updated in place, never a job, gone when
# its setting is (tracking/setting_runs.py)


def summary(key, job_id, runs=2, recommended=True, **metrics):
    marks = {"ebm_study.recommended": "true"} if recommended else {}
    name = f"lr={key} (setting: {runs} runs)"
    return SettingRun(key, name, job_id, metrics, {"x": key, **marks}, "note")


def test_setting_runs_are_updated_in_place_and_stale_ones_go(parent):
    experiment, parent_id = parent
    client = MlflowClient()
    a = job(experiment, parent_id, "a0", "FINISHED")
    client.log_param(a, "model.learning_rate", "0.05")
    client.log_param(a, "split_seed", "0")
    b = job(experiment, parent_id, "b0", "FINISHED")
    first = [summary("a", a, mean_f1=0.9, mean_f1_ci_low=0.8), summary("b", b, mean_f1=0.7)]
    setting_runs.log_setting_runs(experiment, parent_id, first)
    runs = setting_runs.existing(experiment, parent_id)
    assert set(runs) == {"a", "b"}
    run_a = runs["a"]
    assert run_a.info.status == "FINISHED" and run_a.data.params == {"model.learning_rate": "0.05"}
    assert run_a.data.tags["mlflow.parentRunId"] == parent_id and run_a.data.tags["x"] == "a"
    # Never a job of the sweep.
    assert set(sweeps.jobs_frame(experiment, parent_id).index) == {a, b}
    # Recomputed: a's interval is undefined now, b's setting is gone.
    later = summary("a", a, runs=3, recommended=False, mean_f1=0.95)
    setting_runs.log_setting_runs(experiment, parent_id, [later])
    again = setting_runs.existing(experiment, parent_id)
    assert set(again) == {"a"} and again["a"].info.run_id == run_a.info.run_id
    assert again["a"].info.run_name == "lr=a (setting: 3 runs)"  # its count, renewed
    assert "ebm_study.recommended" not in again["a"].data.tags  # no longer said: gone
    assert again["a"].data.metrics["mean_f1"] == 0.95
    assert math.isnan(again["a"].data.metrics["mean_f1_ci_low"])  # not the old 0.8
    assert client.get_run(runs["b"].info.run_id).info.lifecycle_stage == "deleted"
    # Too many to show: none.
    setting_runs.log_setting_runs(experiment, parent_id, [])
    assert not setting_runs.existing(experiment, parent_id)
