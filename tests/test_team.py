"""The team set-up for real: `scripts/server.sh` (what `make server` runs) starts MLflow's tracking
server on a PostgreSQL database, with and without basic auth; sweeps, the study, promote,
predict, migration and the Ray launcher run against it; the servers, their databases and
PostgreSQL (when these tests started it) are stopped after.

Needs Debian's postgresql package (`.ci/run` installs it: `scripts/server.sh install`).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import psycopg
import pytest
from conftest import TINY, assert_copied, free_port, run_cli, store_overrides, wait_for
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_breast_cancer

from ebm_study.commands.migrate import main as migrate_main
from ebm_study.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "server.sh"
BIN = Path(sys.executable).parent

# `make test-team` (and .ci/run) runs these; `make test` leaves them out.
pytestmark = pytest.mark.team


class Server:
    """One `scripts/server.sh start` with its own port, folder and database."""

    def __init__(self, folder: Path, auth: bool = False) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = f"ebm_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.admin_password = secrets.token_urlsafe(12)
        self.env = {
            **os.environ,
            "SERVER_PORT": str(self.port),
            "SERVER_WORKERS": "2",
            "SERVER_DIR": str(folder),
            "DB_NAME": self.db,
            "MLFLOW": str(BIN / "mlflow"),
            "AUTH": "1" if auth else "0",
        }
        if auth:
            self.env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = secrets.token_hex(16)
            self.env["MLFLOW_AUTH_ADMIN_PASSWORD"] = self.admin_password

    def script(self, command: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(SCRIPT), command],
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=600,
        )

    def start(self) -> None:
        out = self.script("start")
        if out.returncode != 0:
            pytest.fail(f"scripts/server.sh start failed:\n{out.stdout}\n{out.stderr}")
        self.started = out.stdout

    def stop(self) -> None:
        out = self.script("stop", DROP_DB="1")
        assert out.returncode == 0, out.stderr

    def sql(self, query: str, database: str | None = None):
        """Ask PostgreSQL itself, with the password file the script wrote."""
        line = (self.folder / "pgpass").read_text().splitlines()[0]
        host, port, db, user, password = line.split(":")
        db = database or db
        with psycopg.connect(host=host, port=port, dbname=db, user=user, password=password) as c:
            return c.execute(query).fetchall()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("server"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def auth_server(server, tmp_path_factory):
    # Depends on `server` so it is stopped first: the plain one stops PostgreSQL if it started it.
    srv = Server(tmp_path_factory.mktemp("auth-server"), auth=True)
    srv.start()
    yield srv
    srv.stop()


def sweep(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    """A tiny sweep whose store is whatever `args`/`env` say; Hydra's folders under tmp_path."""
    dirs = [o for o in store_overrides(tmp_path) if o.startswith("hydra.")]
    return run_cli("-m", *TINY, *dirs, *args, env=env)


def client(url: str, user: str | None = None, password: str | None = None) -> MlflowClient:
    os.environ.pop("MLFLOW_TRACKING_USERNAME", None)
    os.environ.pop("MLFLOW_TRACKING_PASSWORD", None)
    if user:
        os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = (
            user,
            password,
        )
    return MlflowClient(tracking_uri=url, registry_uri=url)


def runs_of(cl: MlflowClient, experiment: str):
    exp = cl.get_experiment_by_name(experiment)
    return cl.search_runs([exp.experiment_id]) if exp else []


def finished_sweep(runs, n_jobs: int):
    """The one parent and its jobs, all FINISHED, every job linked to that parent."""
    parents = [r for r in runs if r.data.tags.get("ebm_study.role") == "sweep"]
    jobs = [r for r in runs if r.data.tags.get("ebm_study.role") == "job"]
    assert len(parents) == 1 and len(jobs) == n_jobs
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.data.tags["mlflow.parentRunId"] for r in jobs} == {parents[0].info.run_id}
    return parents[0], jobs


def rows_csv(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    load_breast_cancer(as_frame=True).data.head(4).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------------------------------
# Plain server on PostgreSQL


def test_the_server_says_where_the_studys_runs_are(server, auth_server):
    for srv, user in ((server, None), (auth_server, "admin")):
        experiment = client(srv.url, user, srv.admin_password).get_experiment_by_name("ebm-study")
        runs = f"{srv.url}/#/experiments/{experiment.experiment_id}/runs"
        assert f"MLflow UI: {runs}?workflowType=machine_learning" in srv.started


def test_a_sweep_on_the_postgres_server_records_every_run_and_its_study(server, tmp_path):
    out = sweep(
        tmp_path,
        "tracking=server",
        "tracking.experiment=team",
        "model_seed=0,1",
        "split_seed=0,1",
        env={"MLFLOW_TRACKING_URI": server.url},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    cl = client(server.url)
    parent, jobs = finished_sweep(runs_of(cl, "team"), n_jobs=4)
    # PostgreSQL holds them (not a SQLite file somewhere).
    assert server.sql("SELECT count(*) FROM runs")[0][0] == 6  # the parent, 4 jobs, 1 setting
    # Artifacts went through the server's proxy into its folder; the client needs no file access.
    job = jobs[0]
    assert job.info.artifact_uri.startswith("mlflow-artifacts:")
    stored = server.folder / "artifacts"
    assert any(stored.rglob(f"{job.info.run_id}/artifacts/importance.json"))
    mlflow.set_tracking_uri(server.url)  # load_table downloads through the global URI
    table = cl.load_table(job.info.experiment_id, "importance.json", run_ids=[job.info.run_id])
    assert len(table) == 30
    parent_files = {a.path for a in cl.list_artifacts(parent.info.run_id)}
    assert {"stability_by_config.json", "topk_frequency.json"} <= parent_files
    metrics = parent.data.metrics
    assert metrics["stability_n_runs"] == 4 and 0 <= metrics["stability_nogueira"] <= 1


def test_a_stability_search_keeps_its_optuna_study_in_the_servers_postgres(server, tmp_path):
    said = re.search(r"export (PGPASSFILE=\S+) (EBM_STUDY_SEARCH_STORAGE=\S+)", server.started)
    assert said, server.started
    env = dict(v.split("=", 1) for v in said.groups())
    search = [
        "tracking=server",
        "tracking.experiment=search",
        "hydra/sweeper=stability_search",
        "hydra.sweeper.n_trials=2",
        "model.learning_rate=interval(0.01, 0.1)",
        "study.min_seeds=3",
        "study.max_seeds=3",
    ]
    # Without a storage every launch can reach: one line, before any run.
    refused = sweep(tmp_path, *search, env={"MLFLOW_TRACKING_URI": server.url})
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "tracking.search_storage is not set" in refused.stderr.strip().splitlines()[-1]
    assert runs_of(client(server.url), "search") == []
    out = sweep(tmp_path, *search, env={"MLFLOW_TRACKING_URI": server.url, **env})
    assert out.returncode == 0, out.stderr[-3000:]
    parent, jobs = finished_sweep(runs_of(client(server.url), "search"), n_jobs=6)
    assert {j.data.tags["ebm_study.trial"] for j in jobs} == {"0", "1"}
    states = server.sql("SELECT state FROM trials ORDER BY number", f"{server.db}_search")
    assert [s for (s,) in states] == ["COMPLETE", "COMPLETE"]
    assert "pareto_front.json" in {a.path for a in client(server.url).list_artifacts(
        parent.info.run_id)}  # fmt: skip


def test_a_second_server_cannot_take_a_database_whose_artifacts_are_elsewhere(server, tmp_path):
    other = Server(tmp_path / "elsewhere")
    other.db = server.db
    out = other.script("start", DB_NAME=server.db)
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"server.sh: error: database {server.db} goes with the artifacts in "
        f"{server.folder}/artifacts, not {tmp_path}/elsewhere/artifacts; start the server from "
        "there, or choose another DB_NAME for a new server"
    )
    assert server.sql("SELECT 1") == [(1,)]  # the first server's database password still works


def test_promote_report_and_predict_work_against_the_server(server, tmp_path):
    env = {"MLFLOW_TRACKING_URI": server.url}
    if not runs_of(client(server.url), "team"):
        out = sweep(tmp_path, "tracking.experiment=team", "model_seed=0,1", env=env)
        assert out.returncode == 0, out.stderr[-3000:]
    report = run_cli("--experiment", "team", program="ebm-study-report", env=env)
    assert report.returncode == 0, report.stderr
    assert "Nogueira's Phi" in report.stdout
    promote = run_cli(
        "--experiment", "team", "--name", "team-ebm", program="ebm-study-promote", env=env
    )
    assert promote.returncode == 0, promote.stderr
    assert "models:/team-ebm@champion" in promote.stdout
    version = client(server.url).get_model_version_by_alias("team-ebm", "champion")
    assert version.source.startswith("models:/m-")
    predicted = tmp_path / "predictions.csv"
    predict = run_cli(
        "--input",
        str(rows_csv(tmp_path)),
        "--output",
        str(predicted),
        "--model",
        "models:/team-ebm@champion",
        program="ebm-study-predict",
        env=env,
    )
    assert predict.returncode == 0, predict.stderr
    assert len(pd.read_csv(predicted)) == 4


def test_migrate_moves_embedded_runs_models_and_champion_to_the_server(server, tmp_path):
    local = store_overrides(tmp_path)
    db = local[0].removeprefix("tracking.uri=")
    out = run_cli("-m", *TINY, *local, "tracking.experiment=laptop", "model_seed=0,1")
    assert out.returncode == 0, out.stderr[-3000:]
    promote = run_cli(
        "--tracking-uri", db, "--experiment", "laptop", "--name", "laptop-ebm",
        program="ebm-study-promote",
    )  # fmt: skip
    assert promote.returncode == 0, promote.stderr
    src = MlflowClient(tracking_uri=db, registry_uri=db)
    before = {r.info.run_id: r for r in runs_of(src, "laptop")}

    moved = run_cli("--from", db, "--to", server.url, program="ebm-study-migrate")
    assert moved.returncode == 0, moved.stderr
    # The parent, its 2 jobs and its one setting's summary run (study/outputs.py).
    assert "copied 4 runs, 2 models and 1 registered versions of laptop" in moved.stdout
    assert "alias laptop-ebm@champion -> version 1" in moved.stdout

    cl = client(server.url)
    after = {r.data.tags["ebm_study.migrated_from"]: r for r in runs_of(cl, "laptop")}
    assert_copied(before, after)
    assert all(r.info.artifact_uri.startswith("mlflow-artifacts:") for r in after.values())
    # The champion on the server is the copy of the laptop's champion, and it predicts alike.
    champion = cl.get_model_version_by_alias("laptop-ebm", "champion")
    original = src.get_model_version_by_alias("laptop-ebm", "champion")
    assert after[original.run_id].info.run_id == champion.run_id
    rows = pd.read_csv(rows_csv(tmp_path))
    mlflow.set_tracking_uri(server.url)
    served = mlflow.sklearn.load_model("models:/laptop-ebm@champion").predict_proba(rows)
    mlflow.set_tracking_uri(db)
    kept = mlflow.sklearn.load_model("models:/laptop-ebm@champion").predict_proba(rows)
    assert (served == kept).all()

    again = run_cli("--from", db, "--to", server.url, program="ebm-study-migrate")
    assert again.returncode == 0 and "copied 0 runs, 0 models" in again.stdout
    assert "4 runs were already there" in again.stdout


def test_migrate_errors_are_one_line(server, tmp_path, capsys):
    # In-process (the console script's own function): a subprocess each costs seconds.
    nothing = f"sqlite:///{tmp_path}/none.db"
    assert migrate_main(["--from", nothing, "--to", server.url]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ebm-study-migrate: error: --from=sqlite:///{tmp_path}/none.db does not exist; "
        "nothing to migrate"
    )
    assert migrate_main(["--from", nothing, "--to", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "error: --to=http://127.0.0.1:9 is not answering" in err and "(make server)" in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------
# Basic auth


def login(user: str, password: str) -> dict[str, str]:
    return {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password}


@pytest.fixture(scope="module")
def team(auth_server):
    """Two members the admin created with MLflow's own admin client: their logins."""
    from mlflow.server.auth.client import AuthServiceClient

    client(auth_server.url, "admin", auth_server.admin_password)  # the admin's login
    users = AuthServiceClient(auth_server.url)
    logins = {}
    for name in ("alice", "bob"):
        logins[name] = login(name, secrets.token_urlsafe(12))
        users.create_user(name, logins[name]["MLFLOW_TRACKING_PASSWORD"])
    return logins


def test_anonymous_and_wrong_logins_get_a_clear_error_and_write_nothing(
    auth_server, team, tmp_path
):
    url = {"MLFLOW_TRACKING_URI": auth_server.url}
    anonymous = sweep(tmp_path, "tracking.experiment=guarded", "model_seed=0,1", env=url)
    assert anonymous.returncode == 2
    assert anonymous.stderr.strip().splitlines()[-1] == (
        f"ebm-study: error: the tracking server at {auth_server.url} requires a login: set "
        "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
    )
    wrong = sweep(
        tmp_path,
        "tracking.experiment=guarded",
        env={**url, **login("alice", "not-it")},
    )
    assert wrong.returncode == 2
    assert "refused MLFLOW_TRACKING_USERNAME=alice" in wrong.stderr.strip().splitlines()[-1]
    # Nothing was written by either.
    admin = client(auth_server.url, "admin", auth_server.admin_password)
    assert admin.get_experiment_by_name("guarded") is None


def test_an_authorised_user_sweeps_and_promotes_and_others_cannot_write_there(
    auth_server, team, tmp_path
):
    env = {"MLFLOW_TRACKING_URI": auth_server.url, **team["alice"]}
    out = sweep(tmp_path, "tracking.experiment=alices", "model_seed=0,1", env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    promote = run_cli(
        "--experiment", "alices", "--name", "alices-ebm", program="ebm-study-promote", env=env
    )
    assert promote.returncode == 0, promote.stderr
    admin = client(auth_server.url, "admin", auth_server.admin_password)
    runs = runs_of(admin, "alices")
    roles = sorted(r.data.tags.get("ebm_study.role") for r in runs)
    assert roles == ["job", "job", "setting", "sweep"]  # the setting's summary run beside them
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.info.user_id for r in runs} == {"alice"}
    # Without tracking=server the config still names the embedded store's artifact folder; the
    # server, not this machine's path, decides where artifacts go.
    location = admin.get_experiment_by_name("alices").artifact_location
    assert location.startswith("mlflow-artifacts:"), location
    champion = admin.get_model_version_by_alias("alices-ebm", "champion")
    assert champion.run_id in {r.info.run_id for r in runs}
    # bob may read (the server's default permission, READ) but not add runs to alice's
    # experiment: refused before any job, nothing written.
    as_bob = {"MLFLOW_TRACKING_URI": auth_server.url, **team["bob"]}
    bob = sweep(tmp_path, "tracking.experiment=alices", "model_seed=5,6", env=as_bob)
    assert bob.returncode == 2
    assert bob.stderr.strip().splitlines()[-1] == (
        f"ebm-study: error: the tracking server at {auth_server.url} does not let user bob do "
        "this (/api/2.0/mlflow/experiments/set-experiment-tag): permission denied; ask its "
        "admin for EDIT on the "
        "experiment (or MANAGE on the registered model)"
    )
    assert len(runs_of(admin, "alices")) == 4
    # Once the admin grants EDIT (the README's command), bob's runs go in.
    from mlflow.server.auth.client import AuthServiceClient

    experiment = admin.get_experiment_by_name("alices").experiment_id
    users = AuthServiceClient(auth_server.url)
    users.grant_user_permission("bob", "experiment", experiment, "EDIT")
    bob = sweep(tmp_path, "tracking.experiment=alices", "model_seed=5", env=as_bob)
    assert bob.returncode == 0, bob.stderr[-3000:]
    assert len(runs_of(admin, "alices")) == 7  # and bob's sweep: its parent, job, setting


# ---------------------------------------------------------------------------------------------
# Distributed sweeps: Hydra's Ray launcher on a local Ray cluster


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    port = free_port()
    ray = str(BIN / "ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    started = subprocess.run(
        [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={tmp_path_factory.mktemp('ray')}", "--object-store-memory=100000000"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    if started.returncode != 0:
        pytest.fail(f"ray start failed:\n{started.stdout}\n{started.stderr}")
    yield f"127.0.0.1:{port}"
    subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=120, env=env)


def test_a_ray_sweep_logs_to_the_server_with_the_launchers_login(
    auth_server, team, ray_cluster, tmp_path
):
    # The store and login are in the launching shell only: the launcher hands them to workers.
    alice = team["alice"]
    env = {"MLFLOW_TRACKING_URI": auth_server.url, "RAY_ADDRESS": ray_cluster, **alice}
    dirs = [o for o in store_overrides(tmp_path) if o.startswith("hydra.")]
    tiny = [o for o in TINY if not o.startswith("model.n_jobs")]  # the default: auto
    out = run_cli(
        "-m",
        *tiny,
        *dirs,
        "hydra/launcher=ray",
        "tracking.experiment=distributed",
        "model_seed=0,1",
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert "Connected to Ray cluster" in log
    admin = client(auth_server.url, "admin", auth_server.admin_password)
    runs = runs_of(admin, "distributed")
    parent, jobs = finished_sweep(runs, n_jobs=2)
    assert {r.info.user_id for r in runs} == {"alice"}
    assert {r.data.tags["ebm_study.launcher"] for r in jobs} == {"RayLauncher"}
    # Each Ray task asks for one core, so model.n_jobs=auto gives each fit one.
    assert {r.data.params["model.n_jobs"] for r in jobs} == {"1"}
    # The study was made by the launching process, from the workers' runs.
    assert parent.data.metrics["stability_n_runs"] == 2
    # No secret in Hydra's files.
    for path in (tmp_path / "hydra").rglob("*.yaml"):
        assert alice["MLFLOW_TRACKING_PASSWORD"] not in path.read_text()


def test_a_server_restarted_mid_sweep_loses_no_run(tmp_path_factory, tmp_path):
    """`make server-stop`, 10 s, `make server` while a sweep runs: the jobs in flight wait for
    the server (tracking.retry_seconds) and finish; nothing is lost or left RUNNING."""
    srv = Server(tmp_path_factory.mktemp("restart"))
    srv.start()
    try:
        dirs = [o for o in store_overrides(tmp_path) if o.startswith("hydra.")]
        args = ["-m", "split_seed=0,1,2,3", "model.outer_bags=4", "model.n_jobs=1", *dirs]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RAY_"))}
        proc = subprocess.Popen(
            [str(BIN / "ebm-study"), *args, "tracking=server", "tracking.experiment=restart"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**env, "MLFLOW_TRACKING_URI": srv.url},
        )
        cl = client(srv.url)

        def one_finished() -> bool:
            return any(r.info.status == "FINISHED" for r in runs_of(cl, "restart"))

        assert wait_for(one_finished, timeout=300), proc.communicate()[1][-3000:]
        stopped = srv.script("stop")
        assert stopped.returncode == 0, stopped.stderr
        time.sleep(10)
        srv.start()
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, (out + err)[-3000:]
        parent, jobs = finished_sweep(runs_of(client(srv.url), "restart"), n_jobs=4)
        assert parent.data.metrics["n_finished"] == 4 and parent.data.metrics["n_failed"] == 0
        assert parent.data.metrics["stability_n_runs"] == 4
    finally:
        srv.stop()


def test_two_identical_sweeps_on_a_server_fit_each_job_once(server, tmp_path):
    """On a server the launch is claimed in the store (a machine's file lock cannot reach the
    other machines): the second launch says so in one line and exits 2."""
    dirs = [o for o in store_overrides(tmp_path) if o.startswith("hydra.")]
    args = ["-m", "split_seed=0,1,2", *TINY, *dirs, "tracking=server", "tracking.experiment=twice"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RAY_"))}
    env["MLFLOW_TRACKING_URI"] = server.url
    run_cli("tracking=server", "tracking.experiment=twice", *TINY, *dirs, env=env)  # experiment
    procs = [
        subprocess.Popen(
            [str(BIN / "ebm-study"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    assert sorted(code for *_, code in results) == [0, 2], [e[-2000:] for _, e, _ in results]
    refused = next(err for _, err, code in results if code == 2)
    assert "ebm-study: error: this sweep is already running (pid " in refused
    runs = runs_of(client(server.url), "twice")
    parents = [r for r in runs if r.data.tags.get("ebm_study.role") == "sweep"]
    jobs = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    jobs = [r for r in jobs if r.data.tags.get("ebm_study.role") == "job"]  # not its setting
    assert len(parents) == 1 and len(jobs) == 3
    assert not [r for r in runs if r.info.status == "RUNNING"]
    tags = client(server.url).get_experiment_by_name("twice").tags
    assert not [t for t in tags if t.startswith("ebm_study.launch.")]  # released at the end
