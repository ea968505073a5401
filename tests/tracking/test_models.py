"""The registry look-up promote relies on: only "not found" means no version."""

import pytest
from conftest import free_port
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ebm_study.tracking import models


def test_no_version_of_a_run_is_none(shared_sweep, champion):
    client = MlflowClient(tracking_uri=shared_sweep.uri, registry_uri=shared_sweep.uri)
    version = client.get_model_version_by_alias("ebm-study", "champion").version
    assert models.registered_version_for_run("ebm-study", champion, client) == str(version)
    assert models.registered_version_for_run("ebm-study", "0" * 32, client) is None
    assert models.registered_version_for_run("no-such-model", champion, client) is None


def test_a_failing_store_is_an_error_not_no_version(monkeypatch):
    """A server blip must not make promote register a second version of the same run."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MlflowException):
        models.registered_version_for_run(
            "ebm-study", "0" * 32, MlflowClient(tracking_uri=down, registry_uri=down)
        )
