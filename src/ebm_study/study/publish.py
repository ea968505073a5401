"""The stability study of a sweep, computed from what MLflow holds and logged on its parent run.

Runs at the end of every sweep (the sweep callback calls `publish`) and on its own as
`ebm-study-report`, so it works after a failed job, for runs made by any launcher, on old stores.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ebm_study import console, settings
from ebm_study.config import compose_default
from ebm_study.errors import UserError
from ebm_study.measures import pareto
from ebm_study.metric_names import lower_is_better
from ebm_study.settings import StudySettings
from ebm_study.study import findings, groups, outputs, row_reference, rows
from ebm_study.study.compute import Study, run_study
from ebm_study.study.reference import near_twins
from ebm_study.tracking import artifacts, orphans, setting_runs, store, sweeps, tags

log = logging.getLogger(__name__)


class NothingToStudy(UserError):
    """A sweep with no finished job: no study, but its gone jobs are still closed."""


@functools.cache
def default_settings() -> StudySettings:
    """The settings conf/ gives a plain `ebm-study`: for sweeps that recorded none."""
    return settings.from_config(compose_default())


def sweep_settings(parent) -> StudySettings:
    """The settings the sweep was studied with, as its parent run records them."""
    return settings.from_tags(parent.data.tags, fallback=default_settings)


def compute(
    experiment_id: str,
    parent_id: str,
    study_settings: StudySettings | None = None,
    jobs: pd.DataFrame | None = None,
    asked: Sequence[Sequence[str]] = (),
    read_models: bool = True,
    check_reference: bool = False,
) -> Study:
    """The study of the sweep's finished jobs, from the store alone (`jobs`: the sweep's
    jobs_frame, when the caller already read it; settings: by default the sweep's own), with
    what holds (study/findings.py; `asked`: pairs of terms a user names) and, when
    `read_models`, the near-twin groups as units and the per-row study (study/groups.py and
    study/rows.py read the runs' models, once). `check_reference`: the `study.reference` a
    user just named is read first, and one that does not fit stops it (a UserError) before
    anything is computed; one the sweep recorded that is gone since leaves out the per-row
    study alone, with a warning."""
    parent = sweeps.get_run(parent_id)
    if parent is None:
        raise UserError(f"--sweep={parent_id} is not a run in {store.describe_uri()}")
    study_settings = study_settings or sweep_settings(parent)
    if jobs is None:
        jobs = sweeps.jobs_frame(experiment_id, parent_id)
    if jobs.empty:
        raise NothingToStudy(f"sweep run {parent_id} has no job runs to study")
    finished = jobs[jobs["status"] == "FINISHED"]
    if finished.empty:
        raise NothingToStudy(f"sweep run {parent_id} has no FINISHED job runs ({len(jobs)} others)")
    if check_reference and study_settings.reference:
        row_reference.rows_of_run(
            str(finished.index[0]), study_settings.reference, study_settings.reference_rows
        )
    # Thousands of runs, or a far server, take a while: the tally shows how far it is.
    with console.Tally(len(finished), "study: importance tables read") as tally:
        importances = artifacts.load_importances(finished["artifact_uri"].to_dict(), tally.advance)
    study = run_study(
        finished,
        importances,
        study_settings,
        sweeps.swept_keys(parent),
        n_failed=len(jobs) - len(finished),
        twins=near_twins(finished.index[0], study_settings.corr_threshold),
    )
    study.orphaned = orphaned_names(jobs)
    if tags.SWEEPER in parent.data.tags:  # seeds on demand: how many each setting got, and why
        study.by_config = with_seeds(
            study.by_config, artifacts.read_table(parent_id, tags.SEEDS_BY_SETTING)
        )
    study.pareto = pareto_front(study, finished)
    findings.attach(study, asked)
    if read_models:
        study.groups = groups.group_study(study, finished)
        known = study.groups.fitted if study.groups is not None else {}
        study.rows = rows.row_study(study, finished, known)
        if "model_uri" not in finished or finished["model_uri"].isna().all():
            study.notes.append(
                "no per-row study (reasons.json) and no shape study: the runs kept no models "
                "(tracking.log_model=false)"
            )
    return study


def orphaned_names(jobs: pd.DataFrame) -> list[str]:
    """The jobs closed KILLED because the process running them was gone."""
    errors = jobs[tags.ERROR].fillna("") if tags.ERROR in jobs else pd.Series(dtype=str)
    return jobs.loc[errors.str.startswith("orphaned"), "run_name"].astype(str).tolist()


def with_seeds(by_config: pd.DataFrame, seeds_table: pd.DataFrame | None) -> pd.DataFrame:
    """The study's table with each setting's `seeds_used` and why it `stopped` (a sweeper's
    seeds_by_setting.json), where it has them."""
    if seeds_table is None or seeds_table.empty:
        return by_config
    columns = [tags.CONFIG_KEY, "seeds_used", "stopped"]
    if "trial" in seeds_table and seeds_table["trial"].notna().any():
        columns.append("trial")
    latest = seeds_table[columns].drop_duplicates(tags.CONFIG_KEY, keep="last")
    return by_config.merge(latest, on=tags.CONFIG_KEY, how="left")


def pareto_front(study: Study, finished: pd.DataFrame) -> pd.DataFrame | None:
    """Every setting on the two objectives (study.metric, or the score; study.objective), the
    front and the recommended one: None for a sweep of one setting."""
    if len(study.by_config) < 2:
        return None
    chosen = study.settings
    metric = chosen.metric or study.score
    return pareto.table(
        study.by_config,
        finished,
        metric,
        chosen.objective,
        lower_is_better(metric),
        chosen.min_stability,
        study.compare,
    )


def publish(
    experiment_id: str,
    parent_id: str,
    study_settings: StudySettings | None = None,
    jobs: pd.DataFrame | None = None,
    asked: Sequence[Sequence[str]] = (),
    html_path: str | None = None,
    check_reference: bool = False,
) -> Study:
    """Compute the study and log it on the parent run: metrics, tables, pictures, summary,
    the page (also at `html_path`), one run a setting; and on each finished job, its
    setting's Phi (up to MAX_RUN_COPIES jobs). A measure an earlier study logged that this
    one does not (no row near the boundary now, models gone) is set to NaN, not left stale."""
    if jobs is None:
        jobs = sweeps.jobs_frame(experiment_id, parent_id)
    # First the study, so a bad value (a --compare term) stops before anything is written;
    # jobs still RUNNING are not FINISHED, so closing them after changes none of its numbers.
    try:
        study = compute(
            experiment_id, parent_id, study_settings, jobs, asked, check_reference=check_reference
        )
    except NothingToStudy:  # no finished job: the gone ones are closed still
        orphans.close_orphans(experiment_id, parent_id, by="ebm-study-report")
        raise
    # Jobs whose process is gone (kill -9, the OOM killer) would stay RUNNING for ever.
    if orphans.close_orphans(experiment_id, parent_id, by="ebm-study-report"):
        jobs = sweeps.jobs_frame(experiment_id, parent_id)
        study.orphaned = orphaned_names(jobs)
    parent = sweeps.get_run(parent_id)
    earlier = parent.data.tags.get(tags.REASON_ROWS) if parent else None
    if study.rows is None and earlier:  # MLflow cannot delete an artifact: say whose they are
        earlier = earlier.removeprefix(f"{LEFT_OUT}; earlier: ")
        study.notes.append(
            f"{LEFT_OUT} (see the warning it printed): this run's {tags.REASONS_TABLE} and "
            f"{tags.REASONS_CHART} are an earlier study's, on {earlier}"
        )
    out = build_outputs(study, jobs, parent_id, parent)
    if study.rows is None and earlier:
        out.run_tags[tags.REASON_ROWS] = f"{LEFT_OUT}; earlier: {earlier}"[:5000]
    for name in parent.data.metrics if parent else ():
        if name.startswith(tags.OPTIONAL_METRICS) and name not in out.metrics:
            out.metrics[name] = math.nan
    if html_path is not None:  # first: a path that cannot be written stops it, nothing logged
        write_page(out.page, html_path)
    artifacts.log_study(
        parent_id, out.metrics, out.tables, out.images, out.note, out.run_tags,
        {tags.STUDY_PAGE: out.page},
    )  # fmt: skip
    many = len(out.setting_runs) > MAX_SETTING_RUNS
    if many:  # and an earlier study's, with numbers of fewer settings, go
        log.info("%d settings: their summaries are on the parent only", len(out.setting_runs))
    setting_runs.log_setting_runs(experiment_id, parent_id, [] if many else out.setting_runs)
    copies = changed_run_stability(jobs, study)
    if len(copies) <= MAX_RUN_COPIES:
        sweeps.log_run_metric(tags.SETTING_STABILITY, copies)
    else:
        log.info("%d runs: the setting's stability is on the parent only", len(copies))
    return study


def build_outputs(study: Study, jobs: pd.DataFrame, parent_id: str, parent=None) -> outputs.Outputs:
    """What the study writes (study/outputs.py), the page titled by the sweep's name (`parent`:
    the sweep's run, when the caller already read it)."""
    parent = parent or sweeps.get_run(parent_id)
    return outputs.build(study, jobs, parent_id, parent.info.run_name if parent else parent_id)


def write_page(text: str, path: str) -> None:
    """The study's page at a path a user named (`ebm-study-report --html PATH`)."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UserError(f"--html={path} cannot be written: {err.strerror or err}") from err


LEFT_OUT = "the per-row study is left out of the latest study"

# Each setting's summary run costs 4 to 6 calls; past this many settings (a long search) the
# parent's table is the place to compare them.
MAX_SETTING_RUNS = 500


# A metric a run costs one write (3 ms on SQLite): 2,000 runs take 6 s; past that the runs
# table of the UI is no place to read a sweep, and the parent's table says it all.
MAX_RUN_COPIES = 2000


def changed_run_stability(jobs: pd.DataFrame, study: Study) -> dict[str, float]:
    """run_id -> its setting's Nogueira Phi, for the finished jobs that do not hold that value
    yet: each child shows its setting's stability beside its score in the UI's runs table."""
    phi = study.by_config.set_index(tags.CONFIG_KEY)["nogueira"]
    finished = jobs[jobs["status"] == "FINISHED"]
    wanted = finished[tags.CONFIG_KEY].map(phi).astype(float)
    held = finished.get(tags.SETTING_STABILITY, pd.Series(math.nan, index=finished.index))
    same = (wanted == held) | (wanted.isna() & held.isna())
    return wanted[~same].to_dict()
