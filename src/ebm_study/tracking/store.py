"""Connecting to a store: the embedded SQLite file or a tracking server, and what goes wrong.

A fresh SQLite store is initialised under a lock by one process; an absent server fails in
seconds, not after MLflow's minutes of retries; a server's 401 or 403 becomes one line saying
what to set.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import re
import socket
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mlflow
import sqlalchemy
import sqlalchemy.exc
import sqlalchemy.pool
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ebm_study.config import mask_uri
from ebm_study.errors import UserError

SQLITE = "sqlite:///"

# (uri, experiment name) -> experiment id: jobs run in the launching process reuse its look-up.
_experiments: dict[tuple[str, str], str] = {}


def connect(tracking_cfg: Mapping[str, Any]) -> str:
    """Point MLflow at the configured store and return the experiment's id, creating it once.

    Call this in the launching process before parallel jobs start: several processes opening a
    fresh SQLite store at once race on its schema migration.
    """
    uri, name = str(tracking_cfg["uri"]), str(tracking_cfg["experiment"])
    use(uri)
    wait_for_server(tracking_cfg.get("retry_seconds"))
    if (uri, name) in _experiments:
        return _experiments[uri, name]
    server = uri.startswith(("http://", "https://"))
    if server:
        check_server(uri)
    # A server decides where artifacts go (its proxy): the embedded store's folder, which
    # `MLFLOW_TRACKING_URI=http://... ebm-study` without `tracking=server` still carries, is a
    # path on this machine, not the server's.
    location = None if server else tracking_cfg.get("artifact_location")
    with _store_lock(uri), server_refusals():
        _experiments[uri, name] = _get_or_create_experiment(name, location)
        if uri.startswith(SQLITE):
            _write_ahead_log(uri.removeprefix(SQLITE))
    return _experiments[uri, name]


def retries_for(seconds: float, factor: int = 2, longest: float = 120.0) -> int:
    """How many retries MLflow's client (urllib3's Retry: no pause before the first retry,
    then factor x 2^(n-1) seconds, at most `longest`) needs to keep trying for `seconds`."""
    waited, retries = 0.0, 0
    while waited < seconds:
        retries += 1
        waited += 0.0 if retries == 1 else min(longest, factor * 2 ** (retries - 1))
    return retries


def wait_for_server(seconds: object) -> None:
    """Let MLflow's client retry a server that stopped answering for `seconds` (the setting
    `tracking.retry_seconds`), unless MLFLOW_HTTP_REQUEST_MAX_RETRIES is set. Set in the
    environment, so the jobs a launcher starts in other processes inherit it."""
    if seconds is None or "MLFLOW_HTTP_REQUEST_MAX_RETRIES" in os.environ:
        return
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise UserError(f"tracking.retry_seconds={seconds!r} must be a number of seconds >= 0")
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "2"
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(retries_for(float(seconds)))


def use(uri: str) -> None:
    """Point MLflow at `uri`; a SQLite file's folder is created if it is missing."""
    if uri.startswith(SQLITE):
        Path(uri.removeprefix(SQLITE)).parent.mkdir(parents=True, exist_ok=True)
        _checkpoint_at_exit(uri.removeprefix(SQLITE))
    # MLflow draws a progress bar for every artifact it reads, even a config file of 2 KB;
    # our own progress lines say what takes long.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(uri)


def describe_uri() -> str:
    """The tracking URI in use, password masked, for messages."""
    return mask_uri(mlflow.get_tracking_uri())


LOCAL_UI = "http://127.0.0.1:5000"  # where `make ui` serves the embedded store


# MLflow 3.17's UI picks its GenAI or model-training view from this URL parameter, else from
# the browser's own choice (the sidebar's switch, kept in its localStorage), else GenAI: the
# experiment's kind tag is not read. Links we print carry the parameter (README, "MLflow UI").
MODEL_TRAINING_VIEW = "workflowType=machine_learning"


def run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    """One run's page in the MLflow UI of the store at `tracking_uri`, in the model-training
    view: a tracking server serves its own; the embedded store's is the one `make ui` starts
    (password masked)."""
    remote = tracking_uri.startswith(("http://", "https://"))
    base = mask_uri(tracking_uri).rstrip("/") if remote else LOCAL_UI
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}?{MODEL_TRAINING_VIEW}"


def experiment_id_of(name: str) -> str | None:
    experiment = MlflowClient().get_experiment_by_name(name)
    return experiment.experiment_id if experiment else None


def check_server(uri: str, timeout: float = 3.0, setting: str = "tracking.uri") -> None:
    """Fail within seconds, before any fitting, when no tracking server answers at `uri`
    (`setting` names where the URI came from, for the message).

    MLflow's client would otherwise retry with back-off for minutes.
    """
    parts = urlsplit(uri)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        fallback = ", or leave tracking.uri unset for the embedded store"
        raise UserError(
            f"{setting}={mask_uri(uri)} is not answering ({reason}); start the tracking "
            f"server{fallback if setting == 'tracking.uri' else ' (make server)'}"
        ) from None


@contextmanager
def server_refusals() -> Iterator[None]:
    """Turn a tracking server's 401 or 403 into a one-line UserError that says what to set.

    MLflow's own exception carries the server's HTML-ish body and a stack trace.
    """
    try:
        yield
    except MlflowException as err:
        refusal = _refusal(err)
        if refusal is None:
            raise
        raise refusal from None


def _refusal(err: MlflowException) -> UserError | None:
    status = err.get_http_status_code()
    where = describe_uri()
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if status == 401 and not user:
        return UserError(
            f"the tracking server at {where} requires a login: set MLFLOW_TRACKING_USERNAME "
            "and MLFLOW_TRACKING_PASSWORD"
        )
    if status == 401:
        return UserError(
            f"the tracking server at {where} refused MLFLOW_TRACKING_USERNAME={user} with the "
            "given MLFLOW_TRACKING_PASSWORD (wrong password, or no such user)"
        )
    if status == 403:
        endpoint = re.search(r"endpoint (\S+)", str(err))
        what = f" ({endpoint.group(1)})" if endpoint else ""
        return UserError(
            f"the tracking server at {where} does not let user {user or '(anonymous)'} do "
            f"this{what}: permission denied; ask its admin for EDIT on the experiment "
            "(or MANAGE on the registered model)"
        )
    return None


def is_not_found(err: MlflowException) -> bool:
    """Whether MLflow says the thing asked for does not exist (not: the store failed)."""
    return err.error_code == "RESOURCE_DOES_NOT_EXIST"


@contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Serialise first contact with a SQLite store across processes on this machine: two
    launchers opening a fresh store at once race on its schema migration and break it."""
    if not uri.startswith(SQLITE):
        yield
        return
    lock_path = Path(uri.removeprefix(SQLITE) + ".lock")
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_ahead_log(db_path: str) -> None:
    """Switch the SQLite store to write-ahead logging (kept in the file): readers no longer
    block writers, and a commit syncs once, not twice. Parallel jobs wait less on each other."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as db:
        db.execute("PRAGMA journal_mode=WAL")


_checkpointed: set[str] = set()


def _checkpoint_at_exit(db_path: str) -> None:
    """When this process exits, write the log's pages back into the database file, as closing
    its last connection would (any command that used the file: a sweep, a report). An exit no
    longer closes every connection (forked workers end with `os._exit`, console.quick_exit
    skips the search for cycles), and the file alone, without its `-wal`, must hold every run
    (a copy, a backup)."""
    if db_path in _checkpointed:
        return
    _checkpointed.add(db_path)

    def checkpoint() -> None:
        with (
            contextlib.suppress(sqlite3.Error),
            contextlib.closing(sqlite3.connect(db_path, timeout=30)) as db,
        ):
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    atexit.register(checkpoint)


# The experiment's kind, as MLflow's own experiment type switch records it. MLflow 3.17's UI
# does not read it to choose its view (see MODEL_TRAINING_VIEW), but other clients and older
# UIs do, and it says what the experiment is.
EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"


def _get_or_create_experiment(name: str, location: str | None) -> str:
    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        artifact_uri = (Path(str(location)) / name).resolve().as_uri() if location else None
        try:
            return client.create_experiment(
                name, artifact_location=artifact_uri, tags={EXPERIMENT_KIND: MODEL_TRAINING}
            )
        except MlflowException:
            # Another launcher created it between our look-up and our create.
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if EXPERIMENT_KIND not in experiment.tags:  # made before ebm-study said so; a user's
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND, MODEL_TRAINING)
    return experiment.experiment_id


# A process forked from one that used the store (the joblib launcher's workers, which start
# warm from the launching process; the study's picture drawers) must not use its parent's
# database connections: the two would interleave on one SQLite handle. SQLAlchemy's documented
# guard, for every pool: a connection made in another process is dropped (not closed: it is the
# parent's) and a fresh one taken. (MLflow keys its HTTP sessions to a server by process id.)
def _note_process(dbapi_connection: Any, record: Any) -> None:
    record.info["pid"] = os.getpid()


def _only_this_process(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if record.info.get("pid") != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise sqlalchemy.exc.DisconnectionError("a connection of the process this was forked from")


sqlalchemy.event.listen(sqlalchemy.pool.Pool, "connect", _note_process)
sqlalchemy.event.listen(sqlalchemy.pool.Pool, "checkout", _only_this_process)
