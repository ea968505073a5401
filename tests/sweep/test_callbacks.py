"""A sweep through the real `ebm-study -m`: one parent run with its jobs, failures reported,
interruptions closed, resumes reusing finished jobs, parallel writers losing nothing."""

import signal
import socket
import time
from collections import Counter

import pytest
from conftest import (
    TINY,
    all_runs,
    by_role,
    free_port,
    run_cli,
    running,
    start_cli,
    store_overrides,
    store_uri,
    sweep_of,
    wait_for,
)

# ---------------------------------------------------------------------------------------------
# The session's shared sweep: 3 split seeds x 2 model seeds x learning rates 0.01, 0.05, -1


def test_one_parent_with_named_children_grouped_by_setting(shared_sweep):
    parent, jobs = shared_sweep.parent, shared_sweep.jobs
    assert parent.data.metrics["n_runs"] == 18
    assert parent.data.tags["ebm_study.swept"] == "split_seed,model_seed,model.learning_rate"
    assert {j.data.tags["mlflow.parentRunId"] for j in jobs} == {parent.info.run_id}
    assert sorted(j.info.run_name for j in jobs) == sorted(
        f"learning_rate={lr} split={s} model={m}"
        for s in range(3)
        for m in range(2)
        for lr in ("0.01", "0.05", "-1")
    )
    # Same learning rate, other seeds: one config_key. Three settings, six runs each.
    groups = Counter(j.data.tags["config_key"] for j in jobs)
    assert sorted(groups.values()) == [6, 6, 6]
    by_lr = {j.data.params["model.learning_rate"]: j.data.tags["config_key"] for j in jobs}
    assert len(set(by_lr.values())) == 3
    assert all({"accuracy", "f1", "roc_auc"} <= set(j.data.metrics) for j in shared_sweep.finished)
    # The UI groups by a readable setting: the study's words, not the hash.
    assert {j.data.params["model.learning_rate"]: j.data.tags["setting"] for j in jobs} == {
        lr: f"learning_rate={lr}" for lr in ("0.01", "0.05", "-1")
    }


def test_the_launching_process_shows_progress_from_the_store(shared_sweep):
    lines = [x for x in shared_sweep.result.stderr.splitlines() if x.startswith("progress: ")]
    assert lines and lines[-1].startswith("progress: 12/18 runs finished, 6 failed;")


def test_a_failing_job_is_failed_while_the_others_finish_and_the_command_exits_1(shared_sweep):
    result, parent = shared_sweep.result, shared_sweep.parent
    assert result.returncode == 1
    assert "6 of 18 jobs failed" in result.stderr
    assert "model.learning_rate=-1 must be a number > 0" in result.stderr
    assert "run the same command again" in result.stderr
    statuses = {(j.data.params["model.learning_rate"], j.info.status) for j in shared_sweep.jobs}
    assert statuses == {("0.01", "FINISHED"), ("0.05", "FINISHED"), ("-1", "FAILED")}
    assert parent.info.status == "FAILED"
    assert parent.data.metrics["n_failed"] == 6 and parent.data.metrics["n_finished"] == 12


def test_the_sweep_prints_its_study(shared_sweep):
    assert "Top-5 stability over 12 runs on 3 split seeds" in shared_sweep.result.stdout
    assert "whole sweep" in shared_sweep.result.stdout


# ---------------------------------------------------------------------------------------------
# A named study on the joblib launcher, four workers, a fresh store


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory):
    """experiment=quick's grid shrunk to 4 jobs (2 split seeds x 2 learning rates), four
    workers at once on a store nobody has opened yet."""
    folder = tmp_path_factory.mktemp("joblib")
    result = run_cli(
        "-m",
        "experiment=quick",
        "model_seed=0",
        "split_seed=0,1",
        "hydra.launcher.n_jobs=4",
        *TINY,
        *store_overrides(folder, fresh=True),
        "tracking.log_model=false",
    )
    return result, all_runs(store_uri(folder))


@pytest.mark.sweeps
def test_a_named_study_sweeps_its_own_grid(joblib_sweep):
    result, runs = joblib_sweep
    assert result.returncode == 0, result.stderr[-3000:]
    parent, jobs = sweep_of(runs)
    assert parent.data.tags["ebm_study.swept"] == "split_seed,model.learning_rate"
    assert sorted(j.info.run_name for j in jobs) == sorted(
        f"learning_rate={lr} split={s}" for s in (0, 1) for lr in ("0.015", "0.05")
    )


@pytest.mark.sweeps
def test_parallel_workers_on_a_fresh_store_record_every_run(joblib_sweep):
    result, runs = joblib_sweep
    assert "database is locked" not in result.stderr
    parent, jobs = sweep_of(runs)
    assert parent.info.status == "FINISHED"
    assert len(jobs) == 4 and all(j.info.status == "FINISHED" for j in jobs)
    assert {j.data.tags["ebm_study.launcher"] for j in jobs} == {"JoblibLauncher"}
    assert {j.data.tags["ebm_study.host"] for j in jobs} == {socket.gethostname()}
    assert {j.data.params["model.n_jobs"] for j in jobs} == {"1"}  # TINY's own


# ---------------------------------------------------------------------------------------------
# Bad input and absent servers stop a sweep before any job


def test_a_bad_value_in_a_sweep_stops_it_before_any_job(tmp_path):
    result = run_cli("-m", "split_seed=0,1", "split.test_size=2", *TINY, *store_overrides(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "ebm-study: error: split.test_size=2 must be a fraction between 0 and 1"
    )
    assert all_runs(store_uri(tmp_path)) == []


def test_an_absent_tracking_server_stops_a_sweep_in_seconds(tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    started = time.time()
    result = run_cli(
        "-m",
        "split_seed=0,1",
        *TINY,
        f"hydra.sweep.dir={tmp_path}/s",
        env={"MLFLOW_TRACKING_URI": uri},
    )
    assert time.time() - started < 30
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ebm-study: error: tracking.uri={uri} is not answering")


# ---------------------------------------------------------------------------------------------
# Interruptions and resumes

# Fits of a couple of seconds each, so a sweep can be interrupted in the middle of one.
SLOW_SWEEP = [
    "-m",
    "split_seed=0,1,2,3",
    "model.outer_bags=4",
    "model.n_jobs=1",
    "tracking.log_model=false",
]


def jobs_with(uri, status):
    return [r for r in by_role(all_runs(uri), "job") if r.info.status == status]


@pytest.mark.sweeps
def test_ctrl_c_marks_the_run_in_flight_and_the_sweep_killed_and_rerun_resumes(tmp_path):
    uri = store_uri(tmp_path)
    proc = start_cli(*SLOW_SWEEP, *store_overrides(tmp_path))
    assert wait_for(lambda: jobs_with(uri, "FINISHED") and jobs_with(uri, "RUNNING")), (
        proc.communicate()[1][-2000:]
    )
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0, (out + err)[-3000:]
    assert running(uri) == []
    (parent,) = by_role(all_runs(uri), "sweep")
    assert parent.info.status == "KILLED"
    # The launch stopped at the job in flight: KILLED, or kept FINISHED when the interrupt
    # reached interpret's native callback, which swallows it, and the fit ran to its end.
    statuses = [r.info.status for r in by_role(all_runs(uri), "job")]
    assert set(statuses) <= {"FINISHED", "KILLED"} and statuses.count("FINISHED") < 4
    done_before = {r.info.run_id for r in jobs_with(uri, "FINISHED")}

    again = run_cli(*SLOW_SWEEP, *store_overrides(tmp_path))
    assert again.returncode == 0, again.stderr[-3000:]
    (parent,) = by_role(all_runs(uri), "sweep")  # the same parent, resumed
    assert parent.info.status == "FINISHED"
    finished = jobs_with(uri, "FINISHED")
    assert sorted(r.data.params["split_seed"] for r in finished) == ["0", "1", "2", "3"]
    assert done_before <= {r.info.run_id for r in finished}  # reused, not fitted again
    assert parent.data.metrics["stability_n_runs"] == 4 and parent.data.metrics["n_failed"] == 0


@pytest.mark.sweeps
def test_rerun_starts_the_same_sweep_afresh(tmp_path):
    uri = store_uri(tmp_path)
    sweep = ["-m", "split_seed=0,1", *TINY, *store_overrides(tmp_path), "tracking.log_model=false"]
    assert run_cli(*sweep).returncode == 0
    forced = run_cli(*sweep, "study.rerun=true")
    assert forced.returncode == 0
    assert len(by_role(all_runs(uri), "sweep")) == 2 and len(by_role(all_runs(uri), "job")) == 4


@pytest.mark.sweeps
def test_sigterm_under_the_joblib_launcher_leaves_nothing_running(tmp_path):
    uri = store_uri(tmp_path)
    proc = start_cli(
        *SLOW_SWEEP, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *store_overrides(tmp_path)
    )
    assert wait_for(lambda: jobs_with(uri, "RUNNING")), proc.communicate()[1][-2000:]
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=90)
    assert proc.returncode != 0
    assert wait_for(lambda: running(uri) == [], timeout=30)
    (parent,) = by_role(all_runs(uri), "sweep")
    assert parent.info.status == "KILLED"


@pytest.mark.sweeps
def test_two_sweeps_at_once_on_one_fresh_store(tmp_path):
    # Two terminals: one store, each sweep its own (time-stamped) output folder.
    store = store_overrides(tmp_path, fresh=True)[:2]
    first = start_cli("-m", "split_seed=0,1,2", *TINY, *store, f"hydra.sweep.dir={tmp_path}/a")
    second = start_cli("-m", "model_seed=5,6,7", *TINY, *store, f"hydra.sweep.dir={tmp_path}/b")
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == second.returncode == 0, [o[1][-2000:] for o in outs]
    assert not any("database is locked" in o[1] for o in outs)
    runs = all_runs(store_uri(tmp_path))
    parents = by_role(runs, "sweep")
    assert len(parents) == 2 and all(p.info.status == "FINISHED" for p in parents)
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        children = by_role(children, "job")  # not the setting's summary run
        assert len(children) == 3 and all(c.info.status == "FINISHED" for c in children)
