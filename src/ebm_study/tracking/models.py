"""Models: logged with their run, registered as versions, the champion alias, loaded back."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

from ebm_study.errors import UserError
from ebm_study.tracking import tags
from ebm_study.tracking.runs import package_version, quiet_mlflow_hints, typing_rows
from ebm_study.tracking.store import is_not_found

# What a served model needs, pinned to the versions that fitted it.
_MODEL_PACKAGES = ("mlflow", "interpret-core", "scikit-learn", "skops", "pandas", "numpy")
_REGISTERED_DESCRIPTION = "Explainable Boosting Machine champions promoted by ebm-study."
MODEL_VERSIONS = MLFLOW_MODEL_VERSIONS  # on a logged model: the versions registered from it


def warm() -> None:
    """Import skops, which logs and loads the models, in a launch's own process before its
    workers fork from it (conf/hydra/launcher/joblib.yaml): once, not once a worker. Its import
    looks through every loaded module for numpy's and scipy's functions (0.5-1.2 s here), and
    the study after the sweep reads the models with it anyway."""
    import skops.io  # noqa: F401


def log_model(model, X: pd.DataFrame) -> str:
    """The fitted model in skops format (no pickle), with its signature, in the active run;
    returns its models:/ URI. The signature is read from `runs.typing_rows` of `X`: MLflow
    reads every value of a text column to type it and predicts every row for the output type,
    2.6 s a run at 262,000 rows against milliseconds at a thousand.

    Requirements are given, not inferred: inference re-imports the model and costs seconds.
    No input example: MLflow would load the model back from disk to check the example serves
    (a tenth of a second a run); the signature already names and types every column, and
    serving is tested once (tests/commands/test_predict.py), not on every run.
    """
    # The requirements are the model's, pinned above; without this MLflow would see this
    # checkout's uv.lock (the development environment), say so at INFO on every run, and mark
    # the model as a uv project. A user who wants that sets the variable.
    os.environ.setdefault("MLFLOW_UV_AUTO_DETECT", "false")
    cls = type(model)
    rows = typing_rows(X)
    info = mlflow.sklearn.log_model(
        model,
        name=tags.MODEL,
        serialization_format="skops",
        skops_trusted_types=[f"{cls.__module__}.{cls.__qualname__}"],
        pip_requirements=_pip_requirements(),
        signature=infer_signature(rows, model.predict(rows)),
    )
    return info.model_uri


@functools.cache
def _pip_requirements() -> list[str]:
    return [f"{p}=={package_version(p)}" for p in _MODEL_PACKAGES]


def log_model_to_run(run_id: str, model, X_example: pd.DataFrame) -> str:
    """Log a model into an existing (finished) run, which keeps its status."""
    client = MlflowClient()
    status = client.get_run(run_id).info.status
    with mlflow.start_run(run_id=run_id), quiet_mlflow_hints():
        uri = log_model(model, X_example)
    client.set_terminated(run_id, status=status)
    return uri


def registered_version_for_run(
    name: str, run_id: str, client: MlflowClient | None = None
) -> str | None:
    """The version of registered model `name` already made from this run, if any (in the
    store `client` talks to; by default the one in use).

    Only "not found" means none: any other failure (a server blip) propagates, so a caller
    never registers a second version of a run because a look-up failed.
    """
    try:
        versions = (client or MlflowClient()).search_model_versions(
            f"name='{name}' and run_id='{run_id}'"
        )
    except MlflowException as err:
        if is_not_found(err):
            return None
        raise
    return str(min(int(v.version) for v in versions)) if versions else None


def register_version(
    name: str, model_uri: str, description: str, version_tags: Mapping[str, str]
) -> str:
    """Register a run's logged model (`models:/<model id>`) as a new version of `name`.

    Through `mlflow.register_model`, MLflow's own way: it also records the version on the
    logged model, so the UI's model page shows it registered (a bare `create_model_version`
    left it "Not registered" with a "Register model" button). It takes the run from the model.
    """
    # It creates the registered model on first use and says which it did (creating one first
    # made a fresh store print "Registered model 'ebm-study' already exists").
    version = mlflow.register_model(model_uri, name, tags=dict(version_tags))
    client = MlflowClient()
    if not client.get_registered_model(name).description:
        client.update_registered_model(name, description=_REGISTERED_DESCRIPTION)
    client.update_model_version(name, version.version, description=description)
    return str(version.version)


def record_version(client: MlflowClient, model_id: str, name: str, version: str) -> None:
    """Record a registered version on its logged model as `mlflow.register_model` does, for
    versions made with a client of another store (a migration's target)."""
    existing = client.get_logged_model(model_id).tags.get(MODEL_VERSIONS)
    entries = [*json.loads(existing or "[]"), {"name": name, "version": int(version)}]
    client.set_logged_model_tags(model_id, {MODEL_VERSIONS: json.dumps(entries)})


def describe_version(
    name: str, version: str, description: str, version_tags: Mapping[str, str]
) -> None:
    """Replace a version's description and set its tags."""
    client = MlflowClient()
    client.update_model_version(name, version, description=description)
    for key, value in version_tags.items():
        client.set_model_version_tag(name, version, key, value)


def set_alias(name: str, alias: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(name, alias, version)


def version_tags(model_uri: str) -> dict[str, str]:
    """The tags of the registered version a `models:/<name>@<alias>` or `models:/<name>/<n>`
    URI names (a champion's sweep and setting, which its run does not carry when it is a
    consensus of several); {} for any other URI (runs:/, a logged model's `models:/<id>`) or
    a version that is not there. Only "not found" means none: a failing store propagates."""
    if not model_uri.startswith("models:/"):
        return {}
    path = model_uri.removeprefix("models:/")
    client = MlflowClient()
    try:
        if "@" in path:
            name, alias = path.rsplit("@", 1)
            version = client.get_model_version_by_alias(name, alias)
        elif path.count("/") == 1 and path.rsplit("/", 1)[1].isdecimal():
            version = client.get_model_version(*path.rsplit("/", 1))
        else:  # a logged model's id, or a stage: no version to read tags from
            return {}
    except MlflowException as err:
        if is_not_found(err):
            return {}
        raise
    return dict(version.tags)


def load_estimator(model_uri: str):
    """The fitted estimator behind a models:/ or runs:/ URI (no signature look-up: a study
    loading dozens of a sweep's models needs only them)."""
    return mlflow.sklearn.load_model(model_uri)


def load_model(model_uri: str):
    """The fitted estimator behind a models:/ or runs:/ URI, its input columns as (name, type)
    pairs from the model's signature, and the id of the run that logged it (None if unknown)."""
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
    return model, columns, info.run_id
