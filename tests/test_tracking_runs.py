"""A job's run is never left RUNNING: FINISHED, FAILED with its error, or KILLED."""

import mlflow
import pytest
from conftest import all_runs, store_overrides, store_uri

from ebm_study.tracking import runs, store


@pytest.fixture
def experiment(tmp_path):
    uri = store_overrides(tmp_path)[0].removeprefix("tracking.uri=")
    return store.connect({"uri": uri, "experiment": "ebm-study", "artifact_location": None})


def test_a_run_that_ends_well_is_finished_with_its_tags(experiment, tmp_path):
    with runs.job_run(experiment, "ok", None, {"config_key": "abc"}) as run_id:
        mlflow.log_metric("f1", 0.9)
    (run,) = all_runs(store_uri(tmp_path))
    assert run.info.run_id == run_id and run.info.status == "FINISHED"
    assert run.data.tags["ebm_study.role"] == "job" and run.data.tags["config_key"] == "abc"
    assert run.data.tags["versions.interpret-core"].startswith("0.7")


def test_a_run_that_raises_is_failed_with_its_error_and_traceback(experiment, tmp_path):
    with pytest.raises(ValueError), runs.job_run(experiment, "bad", None, {}):
        raise ValueError("learning_rate=-1 is not allowed\nsecond line")
    (run,) = all_runs(store_uri(tmp_path))
    assert run.info.status == "FAILED"
    assert run.data.tags["error"] == "ValueError: learning_rate=-1 is not allowed"
    trace = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/error.txt")
    assert "Traceback" in trace and "second line" in trace


def test_an_interrupted_run_is_killed(experiment, tmp_path):
    with pytest.raises(KeyboardInterrupt), runs.job_run(experiment, "stopped", None, {}):
        raise KeyboardInterrupt
    (run,) = all_runs(store_uri(tmp_path))
    assert run.info.status == "KILLED" and run.data.tags["error"] == "interrupted"
