"""Runs left RUNNING by a process that is gone (`kill -9`, the OOM killer, a lost machine):
found by their process token and heartbeat (liveness.py) and closed KILLED, saying why."""

from __future__ import annotations

import time
from collections.abc import Mapping

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from ebm_study import liveness
from ebm_study.tracking import tags
from ebm_study.tracking.sweeps import ALL_JOBS, end_sweep, jobs_frame, sweep_counts


def is_alive(run: Run) -> bool:
    """Whether the process that holds a RUNNING run is still there (liveness.is_alive)."""
    beat = run.data.tags.get(tags.HEARTBEAT)
    return liveness.is_alive(run.data.tags.get(tags.PROCESS), float(beat) if beat else None)


def close_orphans(experiment_id: str, parent_id: str, by: str) -> list[str]:
    """Close KILLED every job of the sweep still RUNNING whose process is gone (a launch killed
    with `kill -9`, a worker the OOM killer took, a lost machine), with an `error` tag saying
    why and when and `by` whom; returns their run names. A run alive on another machine keeps
    running (liveness.py)."""
    client = MlflowClient()
    closed = []
    running = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{tags.PARENT}` = '{parent_id}' and attributes.status = 'RUNNING'",
        max_results=ALL_JOBS,
    )
    for child in running:
        # A setting's summary is RUNNING only while publish writes it (tracking/setting_runs).
        if child.data.tags.get(tags.ROLE) == tags.ROLE_SETTING or is_alive(child):
            continue
        _close_orphan(client, child, by)
        closed.append(child.info.run_name)
    return closed


def close_orphan_sweep(parent: Run, by: str) -> bool:
    """Close a sweep's parent run left RUNNING by a launch whose process is gone, with its
    counts; True if it was."""
    if parent.info.status != "RUNNING" or is_alive(parent):
        return False
    jobs = jobs_frame(parent.info.experiment_id, parent.info.run_id)
    _close_orphan(MlflowClient(), parent, by, counts=sweep_counts(jobs))
    return True


def _close_orphan(
    client: MlflowClient, run: Run, by: str, counts: Mapping[str, float] | None = None
) -> None:
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    holder = liveness.describe(run.data.tags.get(tags.PROCESS, "?|||"))
    client.set_tag(
        run.info.run_id,
        tags.ERROR,
        f"orphaned: left RUNNING by {holder}, which was gone; closed KILLED by {by} at {when}",
    )
    client.set_tag(run.info.run_id, tags.ORPHANED, when)
    if counts is not None:  # a sweep's parent: closed with its counts, as `end_sweep` does
        end_sweep(run.info.run_id, "KILLED", counts)
    else:
        client.set_terminated(run.info.run_id, status="KILLED")
