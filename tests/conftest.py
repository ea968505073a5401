"""Shared fixtures: the real config, composed once per test, shrunk for speed, pointed at tmp."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from ebm_study.config import CONF_DIR, register_resolvers

# The developer's own store and login never leak into a test.
MLFLOW_ENV = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_RUN_ID",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "RAY_ADDRESS",
)

# A fit in well under a second that still ranks all 30 breast-cancer features.
TINY = ["model.outer_bags=1", "model.max_rounds=300", "model.n_jobs=1"]


def store_overrides(tmp_path: Path) -> list[str]:
    """Send a run's store, artifacts and Hydra outputs under tmp_path."""
    return [
        f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
        f"tracking.artifact_location={tmp_path}/artifacts",
        f"hydra.run.dir={tmp_path}/hydra/run",
        f"hydra.sweep.dir={tmp_path}/hydra/multirun",
    ]


@pytest.fixture
def make_cfg(tmp_path):
    """Compose the real config with overrides, as Hydra would for one job."""
    register_resolvers()

    def _compose(*overrides: str, tiny: bool = True):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(
                config_name="config",
                overrides=[*(TINY if tiny else []), *store_overrides(tmp_path), *overrides],
                return_hydra_config=True,
            )

    yield _compose
    GlobalHydra.instance().clear()


@pytest.fixture(autouse=True)
def _isolated_mlflow(monkeypatch):
    """No test reads the developer's store or leaves an active run behind."""
    for name in MLFLOW_ENV:
        monkeypatch.delenv(name, raising=False)
    yield
    while mlflow.active_run():
        mlflow.end_run()
    for name in MLFLOW_ENV:  # a test's client login (monkeypatch then restores the developer's)
        os.environ.pop(name, None)


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: int = 600, program: str = "ebm-study"
):
    """The real `ebm-study` command (or another of ours) in a subprocess, as a user runs it."""
    exe = Path(sys.executable).with_name(program)
    full_env = {k: v for k, v in os.environ.items() if k not in MLFLOW_ENV}
    full_env.update(env or {})
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=timeout, env=full_env
    )
