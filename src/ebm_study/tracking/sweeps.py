"""A sweep's parent run: one per Hydra multirun, opened by the launching process, found again
by the same command, closed whatever happens; and its jobs read as one frame (artifacts.py
reads their tables and logs the study, orphans.py closes runs whose process is gone)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import mlflow
import pandas as pd
from mlflow.entities import Metric, Run, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.tracking.context.registry import resolve_tags

from ebm_study import liveness
from ebm_study.config import mask_overrides, sweep_name
from ebm_study.tracking import bulk, tags
from ebm_study.tracking.runs import provenance_tags

log = logging.getLogger(__name__)

ALL_JOBS = 50_000  # more jobs than any sweep has


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

    `study_tags` (the study's settings) let the study be recomputed later from the store alone;
    `key` (the sweep_key) lets the same command find and resume it.
    """
    client = MlflowClient()
    overrides = mask_overrides(overrides)
    name = sweep_name(overrides)
    # resolve_tags adds what mlflow.start_run adds to the jobs (user, source), so the parent
    # is the login's run too on a server with logins.
    run_tags = resolve_tags(
        {
            tags.ROLE: tags.ROLE_SWEEP,
            tags.SWEEP_DIR: sweep_dir,
            tags.SWEPT: ",".join(swept),
            tags.SWEEP_KEY: key,
            **study_tags,
            **provenance_tags(),
            tags.PROCESS: liveness.token(),
        }
    )
    run = client.create_run(experiment_id, run_name=name[:250], tags=run_tags)
    run_id = run.info.run_id
    client.log_text(run_id, "\n".join(overrides) + "\n", tags.OVERRIDES)
    client.log_text(run_id, config_yaml, tags.CONFIG_YAML)
    return run_id


def reopen_sweep(parent_id: str, sweep_dir: str) -> None:
    """Make a finished or interrupted sweep run the parent of a new launch of its command."""
    client = MlflowClient()
    client.set_tag(parent_id, tags.SWEEP_DIR, sweep_dir)
    client.set_tag(parent_id, tags.PROCESS, liveness.token())
    client.update_run(parent_id, status="RUNNING")


def sweep_counts(jobs: pd.DataFrame) -> dict[str, int]:
    """A sweep's counts for its parent run, from its jobs_frame: runs, finished, failed (FAILED
    or KILLED)."""
    status = jobs["status"] if len(jobs) else pd.Series(dtype=str)
    return {
        tags.N_RUNS: len(jobs),
        tags.N_FINISHED: int((status == "FINISHED").sum()),
        tags.N_FAILED: int(status.isin(["FAILED", "KILLED"]).sum()),
    }


def newest_sweep(experiment_id: str, key: str | None = None) -> str | None:
    """The id of the most recently started sweep parent run in the experiment; with `key`,
    of the newest one started by the same command (its sweep_key), to resume it."""
    same_command = f" and tags.`{tags.SWEEP_KEY}` = '{key}'" if key else ""
    runs = MlflowClient().search_runs(
        [experiment_id],
        filter_string=f"tags.`{tags.ROLE}` = '{tags.ROLE_SWEEP}'{same_command}",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def find_sweep(experiment_id: str, sweep_dir: str) -> tuple[str, list[str]] | None:
    """The parent run of the sweep writing to `sweep_dir` and the keys it varies, if any.

    Found once a process and launch: a search by tag scans the store's tags, and in a store of
    10,000 runs doing it for every job made each job a tenth of a second slower.
    """
    found = _find_sweep(mlflow.get_tracking_uri(), experiment_id, sweep_dir)
    if found is None:
        _find_sweep.cache_clear()  # not there yet: ask again next time
    return found


@functools.lru_cache(maxsize=32)
def _find_sweep(uri: str, experiment_id: str, sweep_dir: str) -> tuple[str, list[str]] | None:
    escaped = sweep_dir.replace("'", "\\'")
    runs = MlflowClient().search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`{tags.ROLE}` = '{tags.ROLE_SWEEP}' and tags.`{tags.SWEEP_DIR}` = '{escaped}'"
        ),
        max_results=1,
    )
    if not runs:
        return None
    return runs[0].info.run_id, swept_keys(runs[0])


def swept_keys(parent: Run) -> list[str]:
    """The config keys a sweep's parent run says it varies."""
    return [k for k in parent.data.tags.get(tags.SWEPT, "").split(",") if k]


def finished_before(experiment_id: str, parent_id: str, launch: str) -> dict[str, str]:
    """run_key -> run_id of the sweep's FINISHED jobs, as this launch of it (`launch`: its
    sweep dir) found them: read once a process and launch, in bulk, so a resumed sweep of
    thousands of runs does not search the store for every job. A job of this launch never
    finds one of the same launch: each fit is launched once."""
    return dict(_finished_before(mlflow.get_tracking_uri(), experiment_id, parent_id, launch))


@functools.lru_cache(maxsize=8)
def _finished_before(
    uri: str, experiment_id: str, parent_id: str, launch: str
) -> tuple[tuple[str, str], ...]:
    jobs = jobs_frame(experiment_id, parent_id)
    if jobs.empty:
        return ()
    done = jobs[(jobs["status"] == "FINISHED") & jobs[tags.RUN_KEY].notna()]
    return tuple(zip(done[tags.RUN_KEY], done.index, strict=True))


def get_run(run_id: str) -> Run | None:
    """The run, or None when the store has no run of that id."""
    try:
        return MlflowClient().get_run(run_id)
    except MlflowException:
        return None


def sweep_children(experiment_id: str, parent_id: str) -> list[Run]:
    """Every job run of a sweep, whatever its status."""
    return MlflowClient().search_runs(
        [experiment_id], filter_string=f"tags.`{tags.PARENT}` = '{parent_id}'", max_results=ALL_JOBS
    )


# Children of a sweep's parent that are not its jobs: a merged model, a setting's summary.
NOT_JOBS = (tags.ROLE_CONSENSUS, tags.ROLE_SETTING)


def jobs_frame(experiment_id: str, parent_id: str) -> pd.DataFrame:
    """One row a distinct job of the sweep, indexed by run_id: status, keys, params, metrics.

    From a database store in bulk (`bulk`: 0.4 s for 10,000 runs), else by the search API.
    """
    uri = mlflow.get_tracking_uri()
    if bulk.is_database(uri):
        rows = bulk.jobs(uri, experiment_id, parent_id, list(_JOB_TAGS))
    else:
        rows = [_job_row(run) for run in sweep_children(experiment_id, parent_id)]
    if not rows:
        return pd.DataFrame(rows)
    for row in rows:
        row.setdefault(tags.CONFIG_KEY, "")
        row.setdefault(tags.RUN_KEY, None)
        row.setdefault(tags.ERROR, None)
    rows = [r for r in rows if r.get(tags.ROLE) not in NOT_JOBS]
    if not rows:
        return pd.DataFrame(rows)
    frame = pd.DataFrame(rows).set_index("run_id").drop(columns=tags.ROLE, errors="ignore")
    first = [c for c in _JOB_COLUMNS if c in frame]
    frame = frame[first + sorted(c for c in frame if c not in first)]
    # A resumed sweep holds several attempts at one fit: keep the FINISHED one, else the newest.
    keys = frame[tags.RUN_KEY].fillna(pd.Series(frame.index, index=frame.index))
    order = frame.assign(_done=frame["status"] == "FINISHED", _key=keys).sort_values(
        ["_done", "start_time"], ascending=[False, False], kind="mergesort"
    )
    return (
        order[~order["_key"].duplicated()]
        .drop(columns=["_done", "_key"])
        .sort_values("start_time", kind="mergesort")
    )


# The tags of a job the study and the commands read.
_JOB_TAGS = (
    *(tags.CONFIG_KEY, tags.RUN_KEY, tags.ERROR, tags.POSITIVE_CLASS, tags.TASK, tags.ROLE),
    *(tags.TRIAL, tags.SETTING, tags.WARNINGS, tags.RUN_WARNING),
)
_JOB_COLUMNS = (
    *("run_name", "status", "start_time", "artifact_uri", "model_uri"),
    *(tags.CONFIG_KEY, tags.RUN_KEY, tags.ERROR),
)


def _job_row(run: Run) -> dict:
    outputs = run.outputs.model_outputs if run.outputs else []
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "status": run.info.status,
        "start_time": run.info.start_time,
        "artifact_uri": run.info.artifact_uri,
        "model_uri": f"models:/{outputs[0].model_id}" if outputs else None,
        **{key: run.data.tags[key] for key in _JOB_TAGS if key in run.data.tags},
        **run.data.params,
        **run.data.metrics,
    }


def job_counts(experiment_id: str, parent_id: str) -> tuple[int, int, int]:
    """The sweep's distinct jobs so far: (finished, failed or killed, running)."""
    jobs = jobs_frame(experiment_id, parent_id)
    if jobs.empty:
        return 0, 0, 0
    status = jobs["status"]
    return (
        int((status == "FINISHED").sum()),
        int(status.isin(["FAILED", "KILLED"]).sum()),
        int((status == "RUNNING").sum()),
    )


def tag_runs(run_ids: list[str], key: str, value: str) -> None:
    """The same tag on each of these runs."""
    client = MlflowClient()
    for run_id in run_ids:
        client.set_tag(run_id, key, value)


def set_tags(run_id: str, values: Mapping[str, str]) -> None:
    """Tags on one run, in one write."""
    MlflowClient().log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in values.items()])


def log_run_metric(key: str, values: Mapping[str, float]) -> None:
    """One metric on each of these runs (run_id -> value), a few writes at a time: a server
    takes them in parallel, SQLite one after another."""
    client = MlflowClient()
    now = now_ms()

    def one(item: tuple[str, float]) -> None:
        client.log_batch(item[0], metrics=[Metric(key, float(item[1]), now, 0)])

    writers = 1 if mlflow.get_tracking_uri().startswith("sqlite") else 4  # one SQLite writer
    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(one, values.items()))


def end_sweep(parent_id: str, status: str, counts: Mapping[str, float]) -> None:
    """Record the sweep's counts on its parent run and close it with `status`."""
    client = MlflowClient()
    client.log_batch(
        parent_id,
        metrics=[Metric(k, float(v), now_ms(), 0) for k, v in counts.items()],
    )
    client.set_terminated(parent_id, status=status)


STUDY_FAILED = "study failed: "  # how a sweep's `error` tag begins when only its study failed


def record_study_failure(parent_id: str, error: str) -> None:
    """Say on the sweep's parent run why it has no study (its `error` tag); the callback then
    closes it FAILED."""
    set_tags(parent_id, {tags.ERROR: f"{STUDY_FAILED}{error}"[:5000]})


def clear_study_failure(run_id: str) -> str | None:
    """A sweep whose study failed before, now that the study is on it: the `error` tag goes
    and, closed, its status becomes its jobs' (FINISHED unless one failed). Returns the new
    status (RUNNING for a launch still under way, whose end decides), or None when there was
    nothing to clear."""
    client = MlflowClient()
    parent = client.get_run(run_id)
    if not parent.data.tags.get(tags.ERROR, "").startswith(STUDY_FAILED):
        return None
    client.delete_tag(run_id, tags.ERROR)
    if parent.info.status == "RUNNING":
        return "RUNNING"
    counts = sweep_counts(jobs_frame(parent.info.experiment_id, run_id))
    status = "FAILED" if counts[tags.N_FAILED] else "FINISHED"
    client.update_run(run_id, status=status)
    return status


def fail_sweep(parent_id: str, message: str) -> None:
    """Close a sweep that cannot go on FAILED, with its error and its counts so far."""
    client = MlflowClient()
    parent = client.get_run(parent_id)
    client.set_tag(parent_id, tags.ERROR, message[:5000])
    end_sweep(parent_id, "FAILED", sweep_counts(jobs_frame(parent.info.experiment_id, parent_id)))


# Why a job still RUNNING when its launch ends is closed: Ctrl-C, a kill, or (joblib) one worker
# killed, which ends the whole launch with joblib's TerminatedWorkerError.
STOPPED_SWEEP = (
    "interrupted: the sweep stopped before this job ended (a stop signal, or a worker process "
    "killed, e.g. out of memory); run the same command again to fit it"
)


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
                client.set_tag(child.info.run_id, tags.ERROR, STOPPED_SWEEP)
                client.set_terminated(child.info.run_id, status=status)
        client.set_terminated(run_id, status=status)
    except MlflowException as err:  # the store went away; nothing more we can do
        log.warning("could not close run %s: %s", run_id, err)


def now_ms() -> int:
    return int(time.time() * 1000)
