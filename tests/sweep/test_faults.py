"""Hard faults, for real: a sweep's whole process group killed with SIGKILL and the command run
again, a run whose process vanished closed by the report, two identical sweeps started at once,
intervals at few runs. (A server restarted mid-sweep: tests/test_team.py.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import (
    MLFLOW_ENV,
    all_runs,
    by_role,
    run_cli,
    running,
    store_overrides,
    store_uri,
    wait_for,
)
from mlflow.tracking import MlflowClient

from ebm_study import liveness

# Two fits at a time, each a few seconds: a kill lands with some runs finished, some in flight.
SWEEP = [
    "-m",
    "split_seed=0,1,2,3,4,5",
    "hydra/launcher=joblib",
    "hydra.launcher.n_jobs=2",
    "model.outer_bags=4",
    "model.n_jobs=1",
    "tracking.log_model=false",
]


def start_group(*args: str) -> subprocess.Popen:
    """The real command in its own process group (a terminal's job), to be killed as one."""
    env = {k: v for k, v in os.environ.items() if k not in MLFLOW_ENV}
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("ebm-study")), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def jobs_with(uri: str, status: str):
    return [r for r in by_role(all_runs(uri), "job") if r.info.status == status]


def kill_mid_sweep(tmp_path: Path) -> str:
    """Start the sweep, SIGKILL its whole process group once a run finished and another runs;
    returns the store's URI, which then holds RUNNING runs no process will ever close."""
    uri = store_uri(tmp_path)
    proc = start_group(*SWEEP, *store_overrides(tmp_path))
    ok = wait_for(lambda: jobs_with(uri, "FINISHED") and jobs_with(uri, "RUNNING"))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert ok, "the sweep never had a finished and a running job"
    time.sleep(0.5)  # the workers' deaths reach /proc
    assert running(uri), "nothing was left RUNNING: the kill proved nothing"
    return uri


@pytest.mark.faults
def test_a_worker_killed_mid_job_stops_the_launch_in_one_line_and_leaves_nothing_running(
    tmp_path,
):
    """The joblib launcher's workers are forked from the launching process (sweep/forked.py):
    one killed (the OOM killer, kill -9) stops the launch with exit 1 and a line saying what to
    do; the runs in flight and the parent are closed KILLED, the finished ones kept."""
    uri = store_uri(tmp_path)
    proc = start_group(*SWEEP, *store_overrides(tmp_path))
    ok = wait_for(lambda: jobs_with(uri, "FINISHED") and jobs_with(uri, "RUNNING"))
    workers = subprocess.run(
        ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
    ).stdout.split()
    assert ok and workers, "no worker running a job to kill"
    os.kill(int(workers[-1]), signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err[-2000:]
    assert "ebm-study: a worker process died while it ran a job" in err
    assert "Traceback" not in err, err[-2000:]
    assert not running(uri)
    parent = by_role(all_runs(uri), "sweep")[0]
    assert parent.info.status == "KILLED"
    assert jobs_with(uri, "FINISHED") and jobs_with(uri, "KILLED")


def test_workers_end_with_a_launch_killed_hard_and_the_next_launch_is_not_refused(tmp_path):
    """kill -9 of the launching process alone: its forked workers close their runs and end
    (they would otherwise wait for jobs forever, holding a copy of the launch's lock)."""
    uri = store_uri(tmp_path)
    proc = start_group(*SWEEP, *store_overrides(tmp_path))
    assert wait_for(lambda: jobs_with(uri, "FINISHED") and jobs_with(uri, "RUNNING"))
    workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    assert workers.stdout.split(), "no workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)

    def gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() for pid in workers.stdout.split())

    assert wait_for(gone, timeout=30), "a worker outlived its launch"
    again = run_cli(*SWEEP, *store_overrides(tmp_path), timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "already running" not in again.stderr


def test_a_fit_of_several_cores_in_a_forked_worker_does_not_hold_the_launch_up(tmp_path):
    """A job's own loky pool (model.n_jobs=2) ends with its worker, not after loky's 300 s."""
    started = time.monotonic()
    out = run_cli(
        "-m",
        "split_seed=0,1",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "model.n_jobs=2",
        "model.outer_bags=2",
        "model.max_rounds=50",
        "tracking.log_model=false",
        *store_overrides(tmp_path),
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert time.monotonic() - started < 120


def test_a_killed_sweep_rerun_closes_its_orphans_and_counts_what_finished(tmp_path):
    uri = kill_mid_sweep(tmp_path)
    orphans = {r.info.run_id for r in jobs_with(uri, "RUNNING")}
    done_before = {r.info.run_id for r in jobs_with(uri, "FINISHED")}

    again = run_cli(*SWEEP, *store_overrides(tmp_path))
    assert again.returncode == 0, again.stderr[-3000:]
    said = again.stdout + again.stderr
    assert "closed" in said and "that an earlier launch left RUNNING" in said
    assert running(uri) == []
    runs = {r.info.run_id: r for r in all_runs(uri)}
    for run_id in orphans:
        run = runs[run_id]
        assert run.info.status == "KILLED" and run.data.tags["error"].startswith("orphaned")
        assert "closed KILLED by the resumed sweep" in run.data.tags["error"]
        assert run.data.tags["ebm_study.orphaned"]
    (parent,) = by_role(list(runs.values()), "sweep")
    finished = jobs_with(uri, "FINISHED")
    assert sorted(r.data.params["split_seed"] for r in finished) == [str(s) for s in range(6)]
    assert done_before <= {r.info.run_id for r in finished}  # reused, not fitted again
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["n_finished"] == 6 and parent.data.metrics["n_failed"] == 0
    assert parent.data.metrics["stability_n_runs"] == 6


@pytest.mark.faults
def test_the_report_closes_runs_and_a_sweep_whose_processes_are_gone(tmp_path):
    uri = kill_mid_sweep(tmp_path)
    orphans = {r.info.run_id for r in jobs_with(uri, "RUNNING")} - {
        r.info.run_id for r in by_role(all_runs(uri), "sweep")
    }
    out = run_cli("--tracking-uri", uri, program="ebm-study-report")
    assert out.returncode == 0, out.stderr[-3000:]
    assert running(uri) == []
    assert "left RUNNING by a launch that is gone: closed KILLED" in out.stdout
    assert f"{len(orphans)} of them were left RUNNING by a process that is gone" in out.stdout
    (parent,) = by_role(all_runs(uri), "sweep")
    assert parent.info.status == "KILLED" and parent.data.tags["error"].startswith("orphaned")
    finished = len(jobs_with(uri, "FINISHED"))
    assert parent.data.metrics["n_finished"] == finished
    assert parent.data.metrics["n_runs"] == finished + len(orphans)
    note = parent.data.tags["mlflow.note.content"]
    assert "closed KILLED (tag `ebm_study.orphaned`)" in note


@pytest.mark.faults
def test_two_identical_sweeps_started_together_fit_each_job_once(tmp_path):
    uri = store_uri(tmp_path)
    args = ["-m", "split_seed=0,1,2", "model.outer_bags=2", "model.n_jobs=1"]
    args += ["tracking.log_model=false", *store_overrides(tmp_path)]
    # The store made first (one plain run), so the race is the launches', not first contact.
    run_cli("model.outer_bags=1", "tracking.log_model=false", *store_overrides(tmp_path))
    first, second = start_group(*args), start_group(*args)
    results = [p.communicate(timeout=600) + (p.returncode,) for p in (first, second)]
    codes = sorted(code for *_, code in results)
    assert codes == [0, 2], [err[-2000:] for _, err, _ in results]
    refused = next(err for _, err, code in results if code == 2)
    lines = [line for line in refused.splitlines() if line.strip()]
    assert lines[-1].startswith("ebm-study: error: this sweep is already running (pid ")
    parents = by_role(all_runs(uri), "sweep")
    # A sweep's jobs: children (not the plain run above) that are jobs (not its setting's run).
    jobs = [r for r in all_runs(uri) if r.data.tags.get("mlflow.parentRunId")]
    jobs = by_role(jobs, "job")
    assert len(parents) == 1 and len(jobs) == 3  # one parent, each job fitted once
    assert running(uri) == []


# ---------------------------------------------------------------------------------------------
# Liveness (pure)


def test_a_process_is_alive_by_its_token_on_this_machine():
    assert liveness.is_alive(liveness.token(), heartbeat=None)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    token = liveness.token(gone.pid)
    gone.wait()
    assert not liveness.is_alive(token, heartbeat=time.time())  # the token decides here
    host, boot, pid, ticks = liveness.token().split("|")
    reused = f"{host}|{boot}|{pid}|{int(ticks) + 1}"  # the same pid, another process
    assert not liveness.is_alive(reused, heartbeat=None)


def test_a_process_on_another_machine_is_alive_while_its_heartbeat_is_fresh():
    elsewhere = f"not-{socket.gethostname()}|boot|123|456"
    now = 1_000_000.0
    assert liveness.is_alive(elsewhere, heartbeat=now - 60, now=now)
    assert not liveness.is_alive(elsewhere, heartbeat=now - 600, now=now)
    assert not liveness.is_alive(None, heartbeat=None)  # runs from before heartbeats


@pytest.mark.sweeps
def test_few_runs_get_no_interval_and_say_so(tmp_path):
    out = run_cli(
        "-m",
        "split_seed=0,1",
        "model.outer_bags=1",
        "model.max_rounds=300",
        "tracking.log_model=false",
        *store_overrides(tmp_path),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "(no interval)" in out.stdout
    (parent,) = by_role(all_runs(store_uri(tmp_path)), "sweep")
    assert "stability_nogueira" in parent.data.metrics
    assert not [m for m in parent.data.metrics if "_ci_" in m]
    client = MlflowClient(tracking_uri=store_uri(tmp_path))
    assert client.get_run(parent.info.run_id).data.tags.get("mlflow.note.content")


@pytest.mark.parametrize("seconds", [-1, "soon"])
def test_a_bad_retry_setting_is_one_line(tmp_path, seconds):
    out = run_cli("tracking.retry_seconds=" + str(seconds), *store_overrides(tmp_path))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ebm-study: error: "), out.stderr
    assert f"tracking.retry_seconds={seconds!r}" in lines[0]
