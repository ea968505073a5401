"""Connecting to a store: a fresh SQLite store is set up once, in WAL mode; a server that is
absent or refuses the login gets one line saying what to do."""

import os
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import free_port
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, UNAUTHENTICATED
from mlflow.tracking import MlflowClient

from ebm_study.errors import UserError
from ebm_study.tracking import store


def test_connect_creates_the_experiment_once_with_its_artifact_folder(tmp_path):
    cfg = {
        "uri": f"sqlite:///{tmp_path}/new/mlflow.db",
        "experiment": "fresh",
        "artifact_location": str(tmp_path / "artifacts"),
    }
    experiment_id = store.connect(cfg)
    assert store.connect(cfg) == experiment_id
    experiment = MlflowClient().get_experiment(experiment_id)
    assert experiment.name == "fresh"
    assert experiment.artifact_location == (tmp_path / "artifacts" / "fresh").as_uri()
    db = sqlite3.connect(tmp_path / "new" / "mlflow.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert Path(f"{tmp_path}/new/mlflow.db.lock").exists()  # first contact was serialised


def test_an_absent_server_is_named_in_seconds():
    uri = f"http://127.0.0.1:{free_port()}"
    started = time.time()
    with pytest.raises(UserError, match=r"^--to=http://127.0.0.1:\d+ is not answering .*server"):
        store.check_server(uri, setting="--to")
    assert time.time() - started < 5


def test_a_password_in_the_uri_is_masked_in_the_message():
    with pytest.raises(UserError) as err:
        store.check_server(f"http://me:hunter2@127.0.0.1:{free_port()}")
    assert "hunter2" not in str(err.value) and "me:***@127.0.0.1" in str(err.value)


@pytest.mark.parametrize(
    ("code", "user", "message"),
    [
        (UNAUTHENTICATED, None, "requires a login: set MLFLOW_TRACKING_USERNAME and"),
        (UNAUTHENTICATED, "bob", "refused MLFLOW_TRACKING_USERNAME=bob"),
        (PERMISSION_DENIED, "bob", "does not let user bob do this (/api/2.0/mlflow/runs/create)"),
    ],
)
def test_a_servers_refusal_becomes_one_line(monkeypatch, code, user, message):
    if user:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    refusal = MlflowException("Permission denied for endpoint /api/2.0/mlflow/runs/create", code)
    with pytest.raises(UserError) as err, store.server_refusals():
        raise refusal
    assert message in str(err.value) and "\n" not in str(err.value)


def test_other_store_errors_pass_through():
    with pytest.raises(MlflowException), store.server_refusals():
        raise MlflowException("the database is gone")


def test_a_forked_child_opens_its_own_database_connections(tmp_path):
    """The joblib launcher's workers and the study's picture drawers fork from a process that
    has used the store: they must not write through its pooled SQLite connections."""
    import multiprocessing

    import sqlalchemy

    cfg = {
        "uri": f"sqlite:///{tmp_path}/mlflow.db",
        "experiment": "forked",
        "artifact_location": str(tmp_path / "artifacts"),
    }
    experiment_id = store.connect(cfg)
    client = MlflowClient()
    parent_run = client.create_run(experiment_id).info.run_id  # a pooled connection now
    made: list[int] = []

    def note(*args) -> None:
        made.append(os.getpid())

    sqlalchemy.event.listen(sqlalchemy.pool.Pool, "connect", note)

    def child(out) -> None:
        run = client.create_run(experiment_id).info.run_id
        client.log_metric(run, "m", 1.0)
        out.put((run, sum(1 for pid in made if pid == os.getpid())))

    try:
        queue = multiprocessing.get_context("fork").Queue()
        process = multiprocessing.get_context("fork").Process(target=child, args=(queue,))
        process.start()
        run, connections = queue.get(timeout=60)
        process.join(60)
    finally:
        sqlalchemy.event.remove(sqlalchemy.pool.Pool, "connect", note)
    assert process.exitcode == 0
    assert connections >= 1  # its own, not the parent's pooled one
    client.log_metric(parent_run, "m", 2.0)  # the parent's still work
    assert client.get_run(run).data.metrics == {"m": 1.0}
    assert client.get_run(parent_run).data.metrics == {"m": 2.0}


def test_the_database_file_alone_holds_every_run_once_a_process_has_exited(tmp_path):
    """A launch's exit checkpoints the write-ahead log: a copy of mlflow.db without its -wal
    (a backup) has every run."""
    import shutil
    import subprocess
    import sys

    db = tmp_path / "mlflow.db"
    script = (
        "from mlflow.tracking import MlflowClient\n"
        "from ebm_study.tracking import store\n"
        f"e = store.connect({{'uri': 'sqlite:///{db}', 'experiment': 'x', "
        f"'artifact_location': '{tmp_path / 'a'}'}})\n"
        "for _ in range(20):\n"
        "    MlflowClient().create_run(e)\n"
        "import gc, atexit\n"
        "atexit.register(gc.freeze)\n"  # as console.quick_exit: no cycle search at exit
    )
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    shutil.copy(db, tmp_path / "copy.db")
    assert (
        sqlite3.connect(tmp_path / "copy.db").execute("select count(*) from runs").fetchone()[0]
        == 20
    )
