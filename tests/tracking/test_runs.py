"""A job's run is never left RUNNING: FINISHED, FAILED with its error, or KILLED, even when a
library swallows the KeyboardInterrupt of a Ctrl-C."""

import contextlib
import os
import signal
import threading
import time

import mlflow
import pandas as pd
import pytest
from conftest import all_runs, store_overrides, store_uri

from ebm_study import interrupts
from ebm_study.tracking import runs, store


@pytest.fixture
def experiment(tmp_path):
    # Artifacts under tmp_path: MLflow's default is ./mlruns of the directory pytest runs in.
    uri, location = (o.split("=", 1)[1] for o in store_overrides(tmp_path)[:2])
    return store.connect({"uri": uri, "experiment": "ebm-study", "artifact_location": location})


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


@pytest.fixture
def stop_signals(monkeypatch):
    """ebm-study's own SIGINT and SIGTERM handlers for the test, pytest's back after it."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(interrupts, "_received", None)
    # As from a terminal: a suite run as a shell's background job inherits SIGINT ignored,
    # which install() rightly keeps, and the Ctrl-C tests would wait for nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupts.install()
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


def swallowing_library() -> None:
    """What interpret's native log callback does to a KeyboardInterrupt: catch it and go on."""
    with contextlib.suppress(KeyboardInterrupt):
        time.sleep(5)


def test_ctrl_c_swallowed_by_a_library_still_kills_the_run(experiment, tmp_path, stop_signals):
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt), runs.job_run(experiment, "fit", None, {}):
        swallowing_library()
        # ... which then fails on its own broken state
        raise ValueError("array should be an ndarray of type int64, but is type object_")
    (run,) = all_runs(store_uri(tmp_path))
    assert run.info.status == "KILLED" and run.data.tags["error"] == "interrupted"


def test_a_fit_that_completes_after_ctrl_c_is_kept_and_the_job_stops(
    experiment, tmp_path, stop_signals
):
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
    with pytest.raises(KeyboardInterrupt), runs.job_run(experiment, "fit", None, {}):
        swallowing_library()
    (run,) = all_runs(store_uri(tmp_path))
    assert run.info.status == "FINISHED"
    with pytest.raises(KeyboardInterrupt):  # the next job of the sweep does not start
        interrupts.check()


def test_a_dataset_another_job_inserted_first_is_recognised_on_every_store():
    from mlflow.exceptions import MlflowException

    for message in (
        "(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id",
        "RestException: BAD_REQUEST: (psycopg.errors.UniqueViolation) duplicate key value "
        'violates unique constraint "dataset_pk"',
    ):
        assert runs.is_duplicate(MlflowException(message))
    assert not runs.is_duplicate(MlflowException("RESOURCE_DOES_NOT_EXIST: no such run"))


def test_the_datasets_schema_is_mlflows_own_read_from_a_sample_with_gaps_from_all_rows():
    """MLflow reads every value of a text column to type it; ebm-study types the columns from
    a sample, and still marks a column with any missing value as not required."""
    import numpy as np
    from mlflow.types.utils import _infer_schema

    from ebm_study.tracking.runs import SCHEMA_ROWS, _schema

    n = SCHEMA_ROWS * 5
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "blue"], n),
            "count": rng.integers(0, 9, n),
            "size": rng.normal(size=n),
            "when": rng.normal(size=n),
        }
    )
    frame.loc[n - 1, "size"] = np.nan  # a gap the sample may well miss
    frame["colour"] = frame["colour"].astype(object)
    frame.loc[n - 2, "colour"] = None
    assert _schema(frame) == _infer_schema(frame)
    assert _schema(frame.head(50)) == _infer_schema(frame.head(50))


def test_a_sparse_text_column_keeps_its_type_and_a_mixed_one_is_left_to_mlflow():
    import numpy as np
    from mlflow.types.utils import _infer_schema

    from ebm_study.tracking.runs import SCHEMA_ROWS, _schema

    n = SCHEMA_ROWS * 5
    sparse = pd.DataFrame(
        {"x": np.arange(n, dtype=float), "note": pd.Series([None] * n, dtype=object)}
    )
    sparse.loc[n - 3, "note"] = "rare"
    assert _schema(sparse) == _infer_schema(sparse)
    mixed = pd.DataFrame({"code": [1, "a"] * (n // 2)}, dtype=object)
    assert _schema(mixed) is None  # not every column named: MLflow reads it all itself
