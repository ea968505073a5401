"""One run a setting under a sweep's parent: written, updated in place, never a job, gone when
its setting is."""

import math

import pytest
from conftest import store_overrides
from mlflow.tracking import MlflowClient

from ebm_study.tracking import setting_runs, store, sweeps
from ebm_study.tracking.setting_runs import SettingRun


@pytest.fixture
def parent(tmp_path):
    uri, location = (o.split("=", 1)[1] for o in store_overrides(tmp_path)[:2])
    experiment = store.connect(
        {"uri": uri, "experiment": "ebm-study", "artifact_location": location}
    )
    parent_id = sweeps.start_sweep(
        experiment, str(tmp_path / "a"), ["model.learning_rate"], [], "x: 1\n", {}, "key1"
    )
    return experiment, parent_id


def job(experiment, parent_id, run_key):
    client = MlflowClient()
    run = client.create_run(
        experiment,
        tags={"mlflow.parentRunId": parent_id, "ebm_study.run_key": run_key, "config_key": "c"},
    )
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def summary(key, job_id, runs=2, recommended=True, **metrics):
    marks = {"ebm_study.recommended": "true"} if recommended else {}
    name = f"lr={key} (setting: {runs} runs)"
    return SettingRun(key, name, job_id, metrics, {"x": key, **marks}, "note")


def test_setting_runs_are_updated_in_place_and_stale_ones_go(parent):
    experiment, parent_id = parent
    client = MlflowClient()
    a = job(experiment, parent_id, "a0")
    client.log_param(a, "model.learning_rate", "0.05")
    client.log_param(a, "split_seed", "0")
    b = job(experiment, parent_id, "b0")
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
