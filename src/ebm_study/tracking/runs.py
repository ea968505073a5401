"""One job's MLflow run: opened and always closed, with its config, data, results and origin."""

from __future__ import annotations

import functools
import socket
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from matplotlib.figure import Figure
from mlflow.data.code_dataset_source import CodeDatasetSource
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.dataset_source_registry import resolve_dataset_source
from mlflow.data.pandas_dataset import PandasDataset
from mlflow.entities import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema
from omegaconf import DictConfig, OmegaConf

from ebm_study import interrupts, liveness
from ebm_study.config import PROJECT_ROOT, mask_overrides, mask_uri
from ebm_study.tracking import tags

# The libraries whose versions can change a run's results.
_RESULT_PACKAGES = ("mlflow", "interpret-core", "scikit-learn", "hydra-core", "numpy", "pandas")


@contextmanager
def job_run(
    experiment_id: str, name: str, parent_id: str | None, run_tags: Mapping[str, str]
) -> Iterator[str]:
    """An active MLflow run for one job; ended FINISHED, FAILED with its error, or KILLED.

    A run is never left RUNNING: whatever stops the job is recorded before it propagates. An
    error raised after a stop signal is that interruption (a library swallowed its
    KeyboardInterrupt and failed later): the run is KILLED and KeyboardInterrupt raised.
    """
    run = mlflow.start_run(
        experiment_id=experiment_id,
        run_name=name,
        parent_run_id=parent_id,
        tags={
            tags.ROLE: tags.ROLE_JOB,
            **provenance_tags(),
            tags.PROCESS: liveness.token(),
            **run_tags,
        },
    )
    # While it runs, a heartbeat says so to a resume or report on another machine, which
    # cannot look this process up (liveness.py); a run whose process dies stops beating.
    heartbeat = liveness.Heartbeat(functools.partial(beat, run.info.run_id)).start()
    try:
        with quiet_mlflow_hints():
            yield run.info.run_id
    except (KeyboardInterrupt, SystemExit):
        heartbeat.stop()
        _end_interrupted()
        raise
    except BaseException as err:
        heartbeat.stop()
        if interrupts.received():
            _end_interrupted()
            raise KeyboardInterrupt("interrupted") from err
        message = f"{type(err).__name__}: {err}".splitlines()[0][:5000]
        mlflow.set_tag(tags.ERROR, message)
        mlflow.log_text("".join(traceback.format_exception(err)), tags.ERROR_TRACE)
        mlflow.end_run(RunStatus.to_string(RunStatus.FAILED))
        raise
    else:
        heartbeat.stop()
        mlflow.end_run(RunStatus.to_string(RunStatus.FINISHED))
        interrupts.check()  # a complete fit is kept; the job stops here all the same


def beat(run_id: str) -> None:
    """Renew a run's heartbeat: now, in seconds since the epoch."""
    MlflowClient().set_tag(run_id, tags.HEARTBEAT, f"{time.time():.0f}")


def _end_interrupted() -> None:
    mlflow.set_tag(tags.ERROR, "interrupted")
    mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))


def log_config(params: Mapping[str, Any], config_yaml: str, overrides: list[str]) -> None:
    """The resolved config as params (dotted keys) and as YAML, with the Hydra overrides."""
    mlflow.log_params({k: "null" if v is None else mask_uri(str(v)) for k, v in params.items()})
    mlflow.log_text(config_yaml, tags.CONFIG_YAML)
    mlflow.log_text("\n".join(mask_overrides(overrides)) + "\n", tags.OVERRIDES)


def set_tags(run_tags: Mapping[str, str]) -> None:
    """Tags on the active run."""
    mlflow.set_tags(dict(run_tags))


def log_dataset(
    X: pd.DataFrame, y: pd.Series, name: str, source: str, context: str = "training"
) -> None:
    """The rows the model was fitted on, as an MLflow dataset input (digest, schema, source)."""
    target = str(y.name or "target")
    frame = X.assign(**{target: y.to_numpy()})
    where = _dataset_source(source)
    dataset = _Dataset(
        df=frame,
        source=where if isinstance(where, DatasetSource) else resolve_dataset_source(where),
        name=name,
        targets=target,
        schema=_schema(frame),
    )
    try:
        mlflow.log_input(dataset, context=context)
    except MlflowException as err:
        # Two jobs logging the same new dataset at once both insert it; the loser retries and
        # finds the winner's row (SQL stores check-then-insert without a lock).
        if not is_duplicate(err):
            raise
        mlflow.log_input(dataset, context=context)


# MLflow types a table by reading every value of its text columns in Python (3.7 s a run at
# 240,000 rows): a dataset's schema and a model's signature take their types from this many
# rows (typing_rows), a dataset's missing values from all of them.
SCHEMA_ROWS = 1000


def typing_rows(frame: pd.DataFrame, n: int = SCHEMA_ROWS) -> pd.DataFrame:
    """Up to `n` rows to infer a table's column types from: a seeded sample, and for each
    column its first row with a value (a sparse text column's sample may hold none)."""
    if len(frame) <= n:
        return frame
    sampled = frame.sample(n=n, random_state=0).index
    filled = frame.notna()
    first = [frame.index[filled[c].to_numpy().argmax()] for c in frame if filled[c].any()]
    return frame.loc[list(dict.fromkeys([*first, *sampled]))]


def _schema(frame: pd.DataFrame) -> Schema | None:
    """The table's schema as MLflow infers it, from `typing_rows` and with a column required
    only when none of all its rows lacks a value; None where MLflow's inference cannot name
    every column (a column of numbers and text), for MLflow to try on every row itself."""
    from mlflow.models import infer_signature

    try:
        inferred = infer_signature(typing_rows(frame)).inputs.inputs
    except Exception:  # noqa: BLE001 - MLflow's own dataset schema catches it the same way
        return None
    if any(c.name not in frame for c in inferred):
        return None
    gaps = frame.isna().any()
    return Schema(
        [ColSpec(type=c.type, name=c.name, required=not bool(gaps[c.name])) for c in inferred]
    )


class _Dataset(PandasDataset):
    """MLflow's pandas dataset (its digest and profile over every row) with a schema given
    (None: MLflow infers it, reading every row)."""

    def __init__(self, *args, schema: Schema | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._given_schema = schema

    @property
    def schema(self) -> Schema | None:
        return self._given_schema if self._given_schema is not None else super().schema


def is_duplicate(err: Exception) -> bool:
    """A store refusing a row that another writer inserted first: SQLite's "UNIQUE constraint
    failed", PostgreSQL's UniqueViolation ("duplicate key value violates unique constraint",
    through a tracking server's BAD_REQUEST), SQLAlchemy's IntegrityError."""
    text = str(err).lower()
    return any(s in text for s in ("unique constraint", "uniqueviolation", "integrityerror"))


def _dataset_source(source: str) -> str | CodeDatasetSource:
    if Path(source).is_absolute():
        return Path(source).as_uri()
    # A package function, not a file: say which one.
    return CodeDatasetSource(tags={"loader": source})


def log_results(
    metrics: Mapping[str, float],
    importance: pd.DataFrame,
    chart: Figure,
    model_uri: str | None = None,
) -> None:
    """Test-split metrics, the sorted importance table (rendered by the UI) and its bar chart.

    With the run's logged model (`model_uri`, logged first), the metrics are the model's too,
    as the UI's model page shows them; logged after the model, MLflow need not copy them over
    one metric history at a time.
    """
    model_id = model_uri.removeprefix("models:/") if model_uri else None
    mlflow.log_metrics(dict(metrics), model_id=model_id)
    mlflow.log_table(data=importance, artifact_file=tags.IMPORTANCE_TABLE)
    # Fast PNG compression: a quarter less time for files 3% larger.
    mlflow.log_figure(
        chart, tags.IMPORTANCE_CHART, save_kwargs={"pil_kwargs": {"compress_level": 1}}
    )


def run_config(run_id: str) -> DictConfig:
    """The resolved config a run logged."""
    text = mlflow.artifacts.load_text(f"runs:/{run_id}/{tags.CONFIG_YAML}")
    return OmegaConf.create(text)


def run_config_or_none(run_id: str | None) -> DictConfig | None:
    """The config a run logged, or None when there is no such run or config (a model logged by
    another tool)."""
    if not run_id:
        return None
    try:
        return run_config(run_id)
    except (MlflowException, OSError):
        return None


def log_config_text(config: DictConfig) -> None:
    """A config as the active run's config artifact (a run made from another's config: a
    consensus of runs of one setting)."""
    mlflow.log_text(OmegaConf.to_yaml(config), tags.CONFIG_YAML)


@functools.cache
def provenance_tags() -> dict[str, str]:
    """Versions of the package and the libraries that shape results, the git commit, and the
    machine (on a cluster: which node ran the job)."""
    found = {tags.PACKAGE_VERSION: package_version("ebm-study"), tags.HOST: socket.gethostname()}
    for package in _RESULT_PACKAGES:
        found[f"{tags.VERSIONS_PREFIX}{package}"] = package_version(package)
    found[f"{tags.VERSIONS_PREFIX}python"] = sys.version.split()[0]
    commit = _git_commit()
    if commit:
        found[tags.GIT_COMMIT] = commit
    return found


def package_version(package: str) -> str:
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


@contextmanager
def quiet_mlflow_hints() -> Iterator[None]:
    """Silence two MLflow hints that do not apply: integer columns with missing values (ours
    have none) and a file source matched by two registered source types (the same one)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
        yield
