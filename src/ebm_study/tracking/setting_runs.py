"""One run a setting under a sweep's parent: the setting's params, its mean score and
stability with their intervals, so that MLflow's runs table and chart view compare settings
(one row, one point each) rather than jobs. Written by the study (study/publish.py), replaced
when it is recomputed; tagged with their own role, so they are never read as jobs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlflow.entities import Metric, Param, Run, RunTag
from mlflow.tracking import MlflowClient
from mlflow.tracking.context.registry import resolve_tags

from ebm_study.config import SEEDS
from ebm_study.tracking import tags
from ebm_study.tracking.sweeps import ALL_JOBS, now_ms

# A run's seeds are not its setting's; model.random_state is the model seed as interpret sees it.
_SEED_PARAMS = {*SEEDS, "model.random_state"}
MAX_PARAMS = 100
# Tags the study writes on a setting's run that a later study may not: removed when it does not
# (`setting` was the label's tag before `summary_of`).
_OWNED = {tags.RECOMMENDED, tags.TRIAL, tags.SETTING}


@dataclass(frozen=True)
class SettingRun:
    config_key: str
    name: str  # what the runs list shows: the setting first
    job_id: str  # one of its jobs: the params are copied from it
    metrics: Mapping[str, float]
    tags: Mapping[str, str]
    note: str = ""  # the run's description


def existing(experiment_id: str, parent_id: str) -> dict[str, Run]:
    """config_key -> the sweep's setting run of it so far."""
    found = MlflowClient().search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`{tags.PARENT}` = '{parent_id}' and tags.`{tags.ROLE}` = '{tags.ROLE_SETTING}'"
        ),
        max_results=ALL_JOBS,
    )
    return {r.data.tags.get(tags.CONFIG_KEY, ""): r for r in found}


def log_setting_runs(experiment_id: str, parent_id: str, settings: Sequence[SettingRun]) -> None:
    """Write each setting's run, updating the one an earlier study wrote, and delete those of
    settings no longer studied (all of them when `settings` is empty: too many to show).

    A run is created with its tags, so one cut short is still found and finished next time;
    params are written while it has none; a metric the study no longer defines (an interval
    with too few split seeds, the score after `--metric`) is set to NaN, not left at an old
    value."""
    client = MlflowClient()
    before = existing(experiment_id, parent_id)
    now = now_ms()
    for setting in settings:
        run_tags = {
            **setting.tags,
            tags.PARENT: parent_id,
            tags.ROLE: tags.ROLE_SETTING,
            tags.CONFIG_KEY: setting.config_key,
            tags.NOTE: setting.note,
        }
        old = before.pop(setting.config_key, None)
        if old is None:
            # resolve_tags adds what mlflow.start_run adds to the jobs (user, source): on a
            # server with logins the run is the login's, as the sweep's are.
            run_id = client.create_run(
                experiment_id, run_name=setting.name[:250], tags=resolve_tags(run_tags)
            ).info.run_id
            held_params, held_metrics = {}, {}
        else:
            run_id = old.info.run_id
            held_params, held_metrics = old.data.params, old.data.metrics
        values = {k: float(v) for k, v in setting.metrics.items()}
        values.update({k: math.nan for k in held_metrics if k not in values})
        # Its name too: it carries the setting's run count, which a resumed sweep changes.
        names = {**run_tags, tags.RUN_NAME: setting.name[:250]}
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in values.items()],
            tags=[RunTag(k, str(v)) for k, v in names.items()],
        )
        if old is not None:  # what an earlier study set and this one does not
            for key in _OWNED & set(old.data.tags) - set(run_tags):
                client.delete_tag(run_id, key)
        # Params go in batches of MAX_PARAMS: only a run holding a multiple of it (none
        # included) may have been cut short, and only its job is read again.
        job = (
            client.get_run(setting.job_id).data.params if not len(held_params) % MAX_PARAMS else {}
        )
        params = [
            Param(k, v) for k, v in job.items() if k not in _SEED_PARAMS and k not in held_params
        ]
        for start in range(0, len(params), MAX_PARAMS):  # MLflow takes 100 a batch
            client.log_batch(run_id, params=params[start : start + MAX_PARAMS])
        client.set_terminated(run_id, status="FINISHED")
    for stale in before.values():  # a setting the study no longer holds (its runs all failed)
        client.delete_run(stale.info.run_id)
