"""Shared test helpers, once: the real config composed and shrunk, stores under tmp, the real
commands in a subprocess, run finders, and one tiny sweep shared by the whole session."""

from __future__ import annotations

import atexit
import functools
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from ebm_study.config import CONF_DIR, register_resolvers
from ebm_study.tracking import tags

# The developer's own store and login never leak into a test.
MLFLOW_ENV = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_RUN_ID",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "RAY_ADDRESS",
    # What `tracking.retry_seconds` sets for the jobs a launcher starts: an in-process command
    # sets it in this process, and a later test's command would inherit it.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR",
    "MLFLOW_UV_AUTO_DETECT",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT",
)

# A fit in well under a second that still ranks all 30 breast-cancer features.
TINY = ["model.outer_bags=1", "model.max_rounds=300", "model.n_jobs=1"]


# ---------------------------------------------------------------------------------------------
# Stores


@functools.cache
def _template_db() -> Path:
    """An empty store whose schema is already made: creating one costs ~1.5 s, copying it ms."""
    folder = Path(tempfile.mkdtemp(prefix="ebm-study-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


def store_overrides(tmp_path: Path, fresh: bool = False) -> list[str]:
    """Send a run's store, artifacts and Hydra outputs under tmp_path. The store is a copy of
    the template unless `fresh` (a test of first contact with a new store) or already there."""
    db = tmp_path / "mlflow.db"
    if not fresh and not db.exists():
        tmp_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template_db(), db)
    return [
        f"tracking.uri=sqlite:///{db}",
        f"tracking.artifact_location={tmp_path}/artifacts",
        f"hydra.run.dir={tmp_path}/hydra/run",
        f"hydra.sweep.dir={tmp_path}/hydra/multirun",
    ]


def store_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/mlflow.db"


# ---------------------------------------------------------------------------------------------
# Finding runs


def all_runs(uri: str, experiment: str = "ebm-study") -> list[Run]:
    """Every run of the experiment in the store at `uri` (none if it does not exist)."""
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], max_results=1000) if exp else []


def by_role(runs: list[Run], role: str) -> list[Run]:
    return [r for r in runs if r.data.tags.get(tags.ROLE) == role]


def sweep_of(runs: list[Run]) -> tuple[Run, list[Run]]:
    """The one sweep parent among the runs, and its jobs (not its settings' summaries, nor a
    consensus model's run)."""
    parents = by_role(runs, tags.ROLE_SWEEP)
    assert len(parents) == 1, [r.info.run_name for r in runs]
    jobs = [r for r in runs if r.data.tags.get(tags.PARENT) == parents[0].info.run_id]
    return parents[0], by_role(jobs, tags.ROLE_JOB)


def assert_copied(before: dict[str, Run], after: dict[str, Run]) -> None:
    """`after` (source run id -> copy) holds a faithful copy of every run in `before` (run id ->
    run): params, every metric, status, times, name, and parent links pointing at the copies."""
    assert set(after) == set(before)
    for old_id, new in after.items():
        old = before[old_id]
        assert new.data.params == old.data.params
        metrics = [pd.Series(r.data.metrics, dtype=float).sort_index() for r in (new, old)]
        assert metrics[0].equals(metrics[1])  # NaN (an undefined measure) included
        assert (new.info.status, new.info.start_time, new.info.end_time, new.info.run_name) == (
            old.info.status, old.info.start_time, old.info.end_time, old.info.run_name
        )  # fmt: skip
        old_parent = old.data.tags.get(tags.PARENT)
        if old_parent:
            assert new.data.tags[tags.PARENT] == after[old_parent].info.run_id


def artifact_table(run: Run, path: str) -> pd.DataFrame:
    """A JSON table the run logged (MLflow's split orient), read from its local artifacts."""
    folder = Path(run.info.artifact_uri.removeprefix("file://"))
    table = json.loads((folder / path).read_text())
    return pd.DataFrame(table["data"], columns=table["columns"])


def running(uri: str) -> list[str]:
    """Names of the runs left RUNNING: after any failure this must be empty."""
    return [r.info.run_name for r in all_runs(uri) if r.info.status == "RUNNING"]


# ---------------------------------------------------------------------------------------------
# Processes, ports, waiting


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: int = 600, program: str = "ebm-study"
) -> subprocess.CompletedProcess:
    """The real `ebm-study` command (or another of ours) in a subprocess, as a user runs it."""
    exe = Path(sys.executable).with_name(program)
    full_env = {k: v for k, v in os.environ.items() if k not in MLFLOW_ENV}
    full_env.update(env or {})
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=timeout, env=full_env
    )


def start_cli(*args: str, program: str = "ebm-study") -> subprocess.Popen:
    """The real command started in the background, to be interrupted as a terminal's Ctrl-C
    would: SIGINT is reset to its default, because a shell's background job (a CI runner, a
    `make test &`) starts with SIGINT ignored, and Python keeps an ignored SIGINT ignored."""
    env = {k: v for k, v in os.environ.items() if k not in MLFLOW_ENV}
    return subprocess.Popen(
        [str(Path(sys.executable).with_name(program)), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


class Tty(io.StringIO):
    """Output that says it is a terminal: progress redraws one bar there."""

    def isatty(self) -> bool:
        return True


def free_port() -> int:
    """A port nothing listens on (for a server to start on, or to find nobody there)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float = 120) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


# ---------------------------------------------------------------------------------------------
# Fixtures


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


@dataclass(frozen=True)
class Sweep:
    """A finished `ebm-study -m` and its store."""

    folder: Path
    uri: str
    result: subprocess.CompletedProcess
    parent: Run
    jobs: list[Run]

    @property
    def finished(self) -> list[Run]:
        return [r for r in self.jobs if r.info.status == "FINISHED"]


# The session's one sweep, as users run one: 3 split seeds x 2 model seeds x 3 learning rates,
# one of them invalid; two outer bags (the within-run measure), models logged (the shape study,
# the consensus). It holds 12 finished runs of two settings, 6 on each, and 6 failed ones; 3
# split seeds are the fewest an interval by split seed takes.
SHARED_SWEEP = ["-m", "split_seed=0,1,2", "model_seed=0,1", "model.learning_rate=0.01,0.05,-1"]
SHARED_FIT = ["model.outer_bags=2", "model.max_rounds=300", "model.n_jobs=1"]


@pytest.fixture(scope="session")
def shared_sweep(tmp_path_factory) -> Sweep:
    """One tiny sweep through the real command, read by the callback's, report's, promote's,
    predict's and migrate's tests: each sweep costs seconds of imports and fits."""
    folder = tmp_path_factory.mktemp("shared-sweep")
    result = run_cli(*SHARED_SWEEP, *SHARED_FIT, *store_overrides(folder))
    uri = store_uri(folder)
    parent, jobs = sweep_of(all_runs(uri))
    return Sweep(folder, uri, result, parent, jobs)


@pytest.fixture(scope="session")
def champion(shared_sweep) -> str:
    """The shared sweep's best run promoted to models:/ebm-study@champion (in-process)."""
    from ebm_study.commands.promote import main as promote_main

    assert promote_main(["--tracking-uri", shared_sweep.uri]) == 0
    return (
        MlflowClient(registry_uri=shared_sweep.uri)
        .get_model_version_by_alias("ebm-study", tags.CHAMPION)
        .run_id
    )


# Several bags (the within-run measures), models logged (the shape study), fits of a second.
SMALL = ["model.outer_bags=2", "model.max_rounds=300", "model.n_jobs=1"]


def patients(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Three outcomes (text); `colour` (text) decides the first, `a` (10% missing) the second;
    `id` a name per row, `visit` a date as text."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], n)
    a, b, c = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    logits = np.stack([2.5 * (colour == "red"), 1.5 * a, 0.5 * b])
    outcome = np.array(["low", "mid", "high"])[
        np.argmax(logits + rng.normal(0, 0.6, logits.shape), axis=0)
    ]
    a[rng.random(n) < 0.1] = np.nan
    visit = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    return pd.DataFrame(
        {
            "id": [f"patient {i:04d}" for i in range(n)],
            "visit": visit.strftime("%Y-%m-%d"),
            "colour": colour,
            "a": a,
            "b": b,
            "c": c,
            "outcome": outcome,
        }
    )


@pytest.fixture(scope="session")
def three_classes(tmp_path_factory):
    """A sweep of split seeds 0, 1 x model seeds 0, 1 on a Parquet file of 3 classes (tests/
    test_own_data.py and the predict tests read it)."""
    folder = tmp_path_factory.mktemp("three-classes")
    path = folder / "patients.parquet"
    patients().to_parquet(path)
    result = run_cli(
        "-m",
        "split_seed=0,1",
        "model_seed=0,1",
        "data=csv",
        f"data.path={path}",
        "data.target=outcome",
        "data.categorical=[colour]",
        "data.drop=[id]",
        "data.dates=[visit]",
        "top_k=2",
        *SMALL,
        *store_overrides(folder),
    )
    parent, jobs = sweep_of(all_runs(store_uri(folder)))
    return folder, path, result, parent, jobs
