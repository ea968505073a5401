"""Every MLflow call of the project lives here."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mlflow
import pandas as pd
from matplotlib.figure import Figure
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.entities import Metric, RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf

from ebm_study.config import PROJECT_ROOT, mask_overrides, mask_uri
from ebm_study.errors import UserError

log = logging.getLogger(__name__)

# Tags that tie a sweep together; the UI can filter and group on them.
ROLE = "ebm_study.role"  # "sweep" on the parent, "job" on each child
SWEEP_DIR = "ebm_study.sweep_dir"  # Hydra's sweep dir: unique per sweep, known to every job
SWEPT = "ebm_study.swept"  # comma-separated config keys the sweep varies
SWEEP_KEY = "ebm_study.sweep_key"  # the same command, restarted, finds its sweep by this
CONFIG_KEY = "config_key"
RUN_KEY = "ebm_study.run_key"  # setting and seeds: runs with one run_key are the same fit
PARENT = "mlflow.parentRunId"
NOTE = "mlflow.note.content"  # the run's description in the UI (Markdown)

MODEL_NAME = "model"  # the logged model's name within a run: runs:/<id>/model
_MODEL_PACKAGES = ("mlflow", "interpret-core", "scikit-learn", "skops", "pandas", "numpy")


def connect(tracking_cfg: Mapping[str, Any]) -> str:
    """Point MLflow at the configured store and return the experiment's id, creating it once.

    Call this in the launching process before parallel jobs start: several processes opening a
    fresh SQLite store at once race on its schema migration.
    """
    uri, name = str(tracking_cfg["uri"]), str(tracking_cfg["experiment"])
    use(uri)
    if (uri, name) in _experiments:  # jobs run in-process reuse what the launcher looked up
        return _experiments[uri, name]
    if uri.startswith(("http://", "https://")):
        check_server(uri)
    with _store_lock(uri):
        _experiments[uri, name] = _get_or_create_experiment(
            name, tracking_cfg.get("artifact_location")
        )
        if uri.startswith("sqlite:///"):
            _write_ahead_log(uri.removeprefix("sqlite:///"))
    return _experiments[uri, name]


def _write_ahead_log(db_path: str) -> None:
    """Switch the SQLite store to write-ahead logging (kept in the file): readers no longer
    block writers, and a commit syncs once, not twice. Parallel jobs wait less on each other."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def check_server(uri: str, timeout: float = 3.0) -> None:
    """Fail within seconds, before any fitting, when no tracking server answers at `uri`.

    MLflow's client would otherwise retry with back-off for minutes.
    """
    parts = urlsplit(uri)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise UserError(
            f"tracking.uri={mask_uri(uri)} is not answering ({reason}); start the tracking "
            "server, or leave tracking.uri unset for the embedded store"
        ) from None


@contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Serialise first contact with a SQLite store across processes on this machine: two
    launchers opening a fresh store at once race on its schema migration and break it."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    lock_path = Path(uri.removeprefix("sqlite:///") + ".lock")
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_experiments: dict[tuple[str, str], str] = {}


def _get_or_create_experiment(name: str, location: str | None) -> str:
    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    artifact_uri = (Path(str(location)) / name).resolve().as_uri() if location else None
    try:
        return client.create_experiment(name, artifact_location=artifact_uri)
    except MlflowException:
        # Another launcher created it between our look-up and our create.
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def use(uri: str) -> None:
    """Point MLflow at `uri`; a SQLite file's folder is created if it is missing."""
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)


@functools.cache
def provenance_tags() -> dict[str, str]:
    """Versions of the package and the libraries that shape results, and the git commit."""
    tags = {"ebm_study.version": _version("ebm-study")}
    for package in ("mlflow", "interpret-core", "scikit-learn", "hydra-core", "numpy", "pandas"):
        tags[f"versions.{package}"] = _version(package)
    tags["versions.python"] = sys.version.split()[0]
    commit = _git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


# ---------------------------------------------------------------------------------------------
# Sweeps: one parent run per Hydra multirun, created by the launching process.


def start_sweep(
    experiment_id: str,
    sweep_dir: str,
    swept: list[str],
    overrides: list[str],
    config_yaml: str,
    study_tags: Mapping[str, str],
    key: str,
) -> str:
    """Create the sweep's parent run (left RUNNING until `end_sweep`) and return its id.

    `study_tags` (top_k, terms, rbo_p) let the study be recomputed later from the store alone;
    `key` (the sweep_key) lets the same command find and resume it.
    """
    client = MlflowClient()
    overrides = mask_overrides(overrides)
    name = "sweep " + " ".join(overrides) if overrides else "sweep"
    run = client.create_run(
        experiment_id,
        run_name=name[:250],
        tags={
            ROLE: "sweep",
            SWEEP_DIR: sweep_dir,
            SWEPT: ",".join(swept),
            SWEEP_KEY: key,
            **study_tags,
            **provenance_tags(),
        },
    )
    run_id = run.info.run_id
    client.log_text(run_id, "\n".join(overrides) + "\n", "config/overrides.txt")
    client.log_text(run_id, config_yaml, "config/config.yaml")
    return run_id


def reopen_sweep(parent_id: str, sweep_dir: str) -> None:
    """Make a finished or interrupted sweep run the parent of a new launch of its command."""
    client = MlflowClient()
    client.set_tag(parent_id, SWEEP_DIR, sweep_dir)
    client.update_run(parent_id, status="RUNNING")


def finished_run(experiment_id: str, parent_id: str, key: str) -> mlflow.entities.Run | None:
    """A FINISHED job of this sweep with this run_key: the same fit, already done."""
    runs = MlflowClient().search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`{PARENT}` = '{parent_id}' and tags.`{RUN_KEY}` = '{key}' "
            "and attributes.status = 'FINISHED'"
        ),
        max_results=1,
    )
    return runs[0] if runs else None


def find_sweep(experiment_id: str, sweep_dir: str) -> tuple[str, list[str]] | None:
    """The parent run of the sweep writing to `sweep_dir` and the keys it varies, if any."""
    escaped = sweep_dir.replace("'", "\\'")
    runs = MlflowClient().search_runs(
        [experiment_id],
        filter_string=f"tags.`{ROLE}` = 'sweep' and tags.`{SWEEP_DIR}` = '{escaped}'",
        max_results=1,
    )
    if not runs:
        return None
    swept = runs[0].data.tags.get(SWEPT, "")
    return runs[0].info.run_id, [k for k in swept.split(",") if k]


def sweep_children(experiment_id: str, parent_id: str) -> list[mlflow.entities.Run]:
    """Every job run of a sweep, whatever its status."""
    return MlflowClient().search_runs(
        [experiment_id], filter_string=f"tags.`{PARENT}` = '{parent_id}'", max_results=50000
    )


def experiment_id_of(name: str) -> str | None:
    experiment = MlflowClient().get_experiment_by_name(name)
    return experiment.experiment_id if experiment else None


def newest_sweep(experiment_id: str, key: str | None = None) -> str | None:
    """The id of the most recently started sweep parent run in the experiment; with `key`,
    of the newest one started by the same command (its sweep_key), to resume it."""
    same_command = f" and tags.`{SWEEP_KEY}` = '{key}'" if key else ""
    runs = MlflowClient().search_runs(
        [experiment_id],
        filter_string=f"tags.`{ROLE}` = 'sweep'{same_command}",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def get_run(run_id: str) -> mlflow.entities.Run | None:
    try:
        return MlflowClient().get_run(run_id)
    except MlflowException:
        return None


def jobs_frame(experiment_id: str, parent_id: str) -> pd.DataFrame:
    """One row a distinct job of the sweep, indexed by run_id: status, keys, params, metrics."""
    rows = []
    for run in sweep_children(experiment_id, parent_id):
        outputs = run.outputs.model_outputs if run.outputs else []
        rows.append(
            {
                "run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "status": run.info.status,
                "start_time": run.info.start_time,
                "artifact_uri": run.info.artifact_uri,
                "model_uri": f"models:/{outputs[0].model_id}" if outputs else None,
                CONFIG_KEY: run.data.tags.get(CONFIG_KEY, ""),
                RUN_KEY: run.data.tags.get(RUN_KEY),
                "error": run.data.tags.get("error"),
                **run.data.params,
                **run.data.metrics,
            }
        )
    if not rows:
        return pd.DataFrame(rows)
    frame = pd.DataFrame(rows).set_index("run_id")
    # A resumed sweep holds several attempts at one fit: keep the FINISHED one, else the newest.
    keys = frame[RUN_KEY].fillna(pd.Series(frame.index, index=frame.index))
    order = frame.assign(_done=frame["status"] == "FINISHED", _key=keys).sort_values(
        ["_done", "start_time"], ascending=[False, False]
    )
    return (
        order[~order["_key"].duplicated()].drop(columns=["_done", "_key"]).sort_values("start_time")
    )


def load_importances(artifact_uris: Mapping[str, str]) -> pd.DataFrame:
    """The importance tables of these runs (run_id -> the run's artifact URI), stacked, with a
    run_id column. Local files are read in place and parsed with `json`: MLflow's load_table
    downloads one run after another and pandas parses each file, 40 s for 1,000 runs."""

    def one(item: tuple[str, str]) -> list[list]:
        run_id, root = item
        uri = f"{root.rstrip('/')}/importance.json"
        if uri.startswith("file://"):
            table = json.loads(Path(urlsplit(uri).path).read_text())
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp)
                table = json.loads(Path(path).read_text())
        columns = table["columns"]
        return [dict(zip(columns, row, strict=True), run_id=run_id) for row in table["data"]]

    with ThreadPoolExecutor(max_workers=8) as pool:  # threads wait on files and HTTP, not CPU
        rows = [row for rows in pool.map(one, artifact_uris.items()) for row in rows]
    return pd.DataFrame(rows)


def log_study(
    run_id: str,
    metrics: Mapping[str, float],
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Figure],
    note: str,
    tags: Mapping[str, str],
) -> None:
    """Write a study onto the sweep's parent run, replacing an earlier one."""
    client = MlflowClient()
    now = _now_ms()
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        tags=[RunTag(k, str(v)) for k, v in {**tags, NOTE: note}.items()],
    )
    existing = {a.path for a in client.list_artifacts(run_id)}
    for path, table in tables.items():
        if path in existing:
            # log_table appends to an existing table; a recomputed study replaces it.
            client.log_text(run_id, table.to_json(orient="split", index=False), path)
        else:
            client.log_table(run_id, table, path)
    for path, figure in figures.items():
        client.log_figure(run_id, figure, path)


def end_sweep(parent_id: str, status: str, summary: Mapping[str, float]) -> None:
    """Record the sweep's counts on its parent run and close it with `status`."""
    client = MlflowClient()
    client.log_batch(
        parent_id,
        metrics=[Metric(k, float(v), _now_ms(), 0) for k, v in summary.items()],
    )
    client.set_terminated(parent_id, status=status)


def end_if_running(run_id: str, status: str = "KILLED") -> None:
    """Close a sweep that never reached its end, and any of its jobs left RUNNING (a worker
    process killed mid-job cannot close its own run)."""
    client = MlflowClient()
    try:
        parent = client.get_run(run_id)
        if parent.info.status != "RUNNING":
            return
        for child in sweep_children(parent.info.experiment_id, run_id):
            if child.info.status == "RUNNING":
                client.set_tag(child.info.run_id, "error", "interrupted")
                client.set_terminated(child.info.run_id, status=status)
        client.set_terminated(run_id, status=status)
    except MlflowException as err:  # the store went away; nothing more we can do
        log.warning("could not close run %s: %s", run_id, err)


def _now_ms() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------------------------
# Jobs: one MLflow run each.


@contextmanager
def job_run(
    experiment_id: str, name: str, parent_id: str | None, tags: Mapping[str, str]
) -> Iterator[str]:
    """An active MLflow run for one job; ended FINISHED, FAILED with its error, or KILLED.

    A run is never left RUNNING: whatever stops the job is recorded before it propagates.
    """
    run = mlflow.start_run(
        experiment_id=experiment_id,
        run_name=name,
        parent_run_id=parent_id,
        tags={ROLE: "job", **provenance_tags(), **tags},
    )
    try:
        with _quiet_mlflow_hints():
            yield run.info.run_id
    except (KeyboardInterrupt, SystemExit):
        mlflow.set_tag("error", "interrupted")
        mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))
        raise
    except BaseException as err:
        message = f"{type(err).__name__}: {err}".splitlines()[0][:5000]
        mlflow.set_tag("error", message)
        mlflow.log_text("".join(traceback.format_exception(err)), "error.txt")
        mlflow.end_run(RunStatus.to_string(RunStatus.FAILED))
        raise
    else:
        mlflow.end_run(RunStatus.to_string(RunStatus.FINISHED))


def log_config(params: Mapping[str, Any], config_yaml: str, overrides: list[str]) -> None:
    """The resolved config as params (dotted keys) and as YAML, with the Hydra overrides."""
    mlflow.log_params({k: "null" if v is None else mask_uri(str(v)) for k, v in params.items()})
    mlflow.log_text(config_yaml, "config/config.yaml")
    mlflow.log_text("\n".join(mask_overrides(overrides)) + "\n", "config/overrides.txt")


def log_dataset(
    X: pd.DataFrame, y: pd.Series, name: str, source: str, context: str = "training"
) -> None:
    """The rows the model was fitted on, as an MLflow dataset input (digest, schema, source)."""
    target = str(y.name or "target")
    dataset = mlflow.data.from_pandas(
        X.assign(**{target: y.to_numpy()}),
        source=_dataset_source(source),
        name=name,
        targets=target,
    )
    try:
        mlflow.log_input(dataset, context=context)
    except MlflowException as err:
        # Two jobs logging the same new dataset at once both insert it; the loser retries and
        # finds the winner's row (SQL stores check-then-insert without a lock).
        if "UNIQUE constraint" not in str(err) and "IntegrityError" not in str(err):
            raise
        mlflow.log_input(dataset, context=context)


def _dataset_source(source: str) -> str | CodeDatasetSource:
    if Path(source).is_absolute():
        return Path(source).as_uri()
    # A package function, not a file: say which one.
    return CodeDatasetSource(tags={"loader": source})


def log_results(metrics: Mapping[str, float], importance: pd.DataFrame, chart: Figure) -> None:
    """Test-split metrics, the sorted importance table (rendered by the UI) and its bar chart."""
    mlflow.log_metrics(dict(metrics))
    mlflow.log_table(data=importance, artifact_file="importance.json")
    # Fast PNG compression: a quarter less time for files 3% larger.
    mlflow.log_figure(chart, "importance.png", save_kwargs={"pil_kwargs": {"compress_level": 1}})


def log_model(model, X_example: pd.DataFrame) -> str:
    """The fitted model in skops format (no pickle), with signature and input example.

    Requirements are given, not inferred: inference re-imports the model and costs seconds.
    """
    cls = type(model)
    info = mlflow.sklearn.log_model(
        model,
        name=MODEL_NAME,
        serialization_format="skops",
        skops_trusted_types=[f"{cls.__module__}.{cls.__qualname__}"],
        pip_requirements=_pip_requirements(),
        signature=infer_signature(X_example, model.predict(X_example)),
        input_example=X_example.head(5),
    )
    return info.model_uri


@functools.cache
def _pip_requirements() -> list[str]:
    return [f"{p}=={_version(p)}" for p in _MODEL_PACKAGES]


@contextmanager
def _quiet_mlflow_hints() -> Iterator[None]:
    """Silence two MLflow hints that do not apply: integer columns with missing values (ours
    have none) and a file source matched by two registered source types (the same one)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
        yield


# ---------------------------------------------------------------------------------------------
# The model registry: versions and the champion alias (stages are deprecated).


def registered_version_for_run(name: str, run_id: str) -> str | None:
    """The version of registered model `name` already made from this run, if any."""
    try:
        versions = MlflowClient().search_model_versions(f"name='{name}' and run_id='{run_id}'")
    except MlflowException:
        return None
    return str(min(int(v.version) for v in versions)) if versions else None


def register_version(
    name: str, model_uri: str, run_id: str, description: str, tags: Mapping[str, str]
) -> str:
    """Register a run's logged model (`models:/<model id>`) as a new version of `name`."""
    client = MlflowClient()
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name, description="ExplainableBoostingClassifier champions promoted by ebm-study."
        )
    version = client.create_model_version(
        name,
        source=model_uri,
        run_id=run_id,
        tags=dict(tags),
        description=description,
        model_id=model_uri.removeprefix("models:/"),
    )
    return str(version.version)


def describe_version(name: str, version: str, description: str, tags: Mapping[str, str]) -> None:
    client = MlflowClient()
    client.update_model_version(name, version, description=description)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def set_alias(name: str, alias: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(name, alias, version)


def load_model(model_uri: str):
    """The fitted estimator behind a models:/ or runs:/ URI, and its input column names."""
    try:
        model = mlflow.sklearn.load_model(model_uri)
        info = mlflow.models.get_model_info(model_uri)
    except (MlflowException, OSError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"--model={model_uri!r} cannot be loaded: {first}") from err
    schema = info.signature.inputs if info.signature else None
    columns = (
        [(c.name, getattr(c.type, "name", str(c.type))) for c in schema.inputs] if schema else []
    )
    return model, columns


def run_config(run_id: str) -> DictConfig:
    """The resolved config a run logged (config/config.yaml)."""
    text = mlflow.artifacts.load_text(f"runs:/{run_id}/config/config.yaml")
    return OmegaConf.create(text)


def log_model_to_run(run_id: str, model, X_example: pd.DataFrame) -> str:
    """Log a model into an existing (finished) run, which keeps its status."""
    client = MlflowClient()
    status = client.get_run(run_id).info.status
    with mlflow.start_run(run_id=run_id), _quiet_mlflow_hints():
        uri = log_model(model, X_example)
    client.set_terminated(run_id, status=status)
    return uri


def describe_uri() -> str:
    """The tracking URI in use, password masked, for messages."""
    return mask_uri(mlflow.get_tracking_uri())
