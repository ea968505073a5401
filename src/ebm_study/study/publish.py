"""The stability study of a sweep, computed from what MLflow holds and logged on its parent run.

Runs at the end of every sweep (the sweep callback calls `publish`) and on its own as
`ebm-study-report`, so it works after a failed job, for runs made by any launcher, on old stores.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence

import pandas as pd

from ebm_study import console, settings
from ebm_study.config import compose_default
from ebm_study.errors import UserError
from ebm_study.measures import pareto
from ebm_study.metric_names import lower_is_better
from ebm_study.settings import StudySettings
from ebm_study.study import cloud, findings, groups, plots, verdicts
from ebm_study.study.compute import Study, by_split_seed, run_study
from ebm_study.study.reference import (
    near_twins,
    reference,
    shape_study,
)
from ebm_study.study.tables import rounded
from ebm_study.study.words import (
    pareto_paragraph,
    shape_sentence,
    summary_markdown,
)
from ebm_study.tracking import artifacts, orphans, store, sweeps, tags

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
) -> Study:
    """The study of the sweep's finished jobs, from the store alone (`jobs`: the sweep's
    jobs_frame, when the caller already read it; settings: by default the sweep's own), with
    what holds (study/findings.py; `asked`: pairs of terms a user names) and, when
    `read_models`, the near-twin groups as units (study/groups.py reads the runs' models)."""
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
    return study


def interval_by(study: Study) -> str:
    """What the top-k frequency's interval resamples (compute.topk_frequency)."""
    design = study.design()
    if not by_split_seed(design, study.n_runs):
        return "Wilson's"
    return "by split seed" if design.n_groups >= 3 else "none with 2 split seeds"


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
) -> Study:
    """Compute the study and log it on the parent run: metrics, tables, pictures, summary;
    and on each finished job, its setting's Phi (up to MAX_RUN_COPIES jobs)."""
    if jobs is None:
        jobs = sweeps.jobs_frame(experiment_id, parent_id)
    # First the study, so a bad value (a --compare term) stops before anything is written;
    # jobs still RUNNING are not FINISHED, so closing them after changes none of its numbers.
    try:
        study = compute(experiment_id, parent_id, study_settings, jobs, asked)
    except NothingToStudy:  # no finished job: the gone ones are closed still
        orphans.close_orphans(experiment_id, parent_id, by="ebm-study-report")
        raise
    # Jobs whose process is gone (kill -9, the OOM killer) would stay RUNNING for ever.
    if orphans.close_orphans(experiment_id, parent_id, by="ebm-study-report"):
        jobs = sweeps.jobs_frame(experiment_id, parent_id)
        study.orphaned = orphaned_names(jobs)
    k = study.settings.top_k
    metrics = {
        name if name.startswith(tags.MEAN_PREFIX) else f"{tags.STABILITY_PREFIX}{name}": value
        for name, value in study.headline.items()
        # No interval is logged where it means nothing (too few runs): absent, not a NaN.
        if not ("_ci_" in name and math.isnan(value))
    }
    metrics[tags.N_AT_MAX_ROUNDS] = len(study.at_max_rounds)
    metrics[tags.N_RELIABLE] = verdicts.n_reliable(study)
    # Tables as people read them in the UI: 3 significant digits (the metrics keep them all).
    tables = {
        tags.STABILITY_BY_CONFIG: rounded(study.by_config),
        tags.TOPK_FREQUENCY: rounded(study.topk_frequency),
    }
    if study.twins is not None:
        tables[tags.TERM_GROUPS] = rounded(study.twins)
    if study.pareto is not None:
        front = study.pareto
        tables[tags.PARETO_FRONT] = rounded(front[front["on_front"]].reset_index(drop=True))
    tables[tags.ORDERINGS] = rounded(study.orderings)
    tables[tags.RELIABLE_TOP_K] = rounded(study.reliable)
    figures = {}
    if study.near_best is not None:
        tables[tags.NEAR_BEST] = rounded(study.near_best)
        figures[tags.NEAR_BEST_CHART] = cloud.near_best_chart(
            study.near_best, k, verdicts.near_best_how(study)
        )
    fitted = {}
    if study.groups is not None:
        g = study.groups
        tables[tags.GROUP_TOPK] = rounded(g.table)
        for suffix, value in (
            ("", g.stability.value),
            ("_ci_low", g.stability.ci_low),
            ("_ci_high", g.stability.ci_high),
        ):
            if not math.isnan(value):
                metrics[tags.STABILITY_GROUPS + suffix] = value
        fitted, g.fitted = g.fitted, {}  # the shapes read them once; then let them go
    shape_table, shape_figures, shape_mean = shape_study(study, jobs, fitted)
    if len(shape_table):
        tables[tags.SHAPE_STABILITY] = rounded(shape_table)
        metrics[tags.SHAPE_AGREEMENT] = shape_mean
    ordered = list(study.ranks.index)
    figures = {
        **figures,
        tags.TOPK_FREQUENCY_CHART: plots.topk_frequency_chart(
            study.topk_frequency, k, study.n_runs, interval_by(study)
        ),
        tags.RANK_HEATMAP: plots.rank_heatmap(
            study.ranks,
            k,
            [study.run_seeds.get(r, r) for r in ordered],
            [study.run_settings.get(r, "") for r in ordered],
            study.seeds_name,
        ),
        tags.STABILITY_VS_SCORE.format(score=study.score): plots.stability_vs_score(
            study.by_config, k, study.score
        ),
        **shape_figures,
    }
    if study.pareto is not None:
        metric = str(study.pareto["metric"].iloc[0])
        figures[tags.PARETO_CHART] = plots.pareto_chart(
            study.pareto, k, study.settings.objective, lower_is_better(metric)
        )
    run_tags = study.settings.to_tags()
    if study.settings.corr_threshold is not None or len(shape_table):  # they read the rows
        ref = reference(str(jobs.index[jobs["status"] == "FINISHED"][0]))
        if ref is not None:
            run_tags[tags.REFERENCE] = ref.describe()
    if len(study.positive_classes) == 1:
        run_tags[tags.POSITIVE_CLASS] = study.positive_classes[0]
    note = summary_note(study, shape_sentence(shape_table, shape_mean))
    artifacts.log_study(parent_id, metrics, tables, figures, note, run_tags)
    copies = changed_run_stability(jobs, study)
    if len(copies) <= MAX_RUN_COPIES:
        sweeps.log_run_metric(tags.SETTING_STABILITY, copies)
    else:
        log.info("%d runs: the setting's stability is on the parent only", len(copies))
    return study


# MLflow cuts a tag's value at 8,000 characters: the description must fit, so the per-setting
# table gives up rows first (the JSON tables hold every one).
NOTE_LIMIT = 8000


def summary_note(study: Study, shapes: str) -> str:
    """The parent's description, within NOTE_LIMIT: the table shortened to fit, and, past
    that, cut at a line with a word on where the rest is."""

    def note(rows: int | None) -> str:
        return (
            summary_markdown(study, rows)
            + pareto_paragraph(study)
            + verdicts.near_best_paragraph(study)
            + shapes
        )

    text, rows = note(None), len(study.by_config)
    while len(text) > NOTE_LIMIT and rows > 3:
        rows = max(3, rows // 2)
        text = note(rows)
    if len(text) > NOTE_LIMIT:
        cut = "\n\n(cut to MLflow's 8,000 characters: the study's JSON tables hold the rest)\n"
        text = text[: text.rfind("\n", 0, NOTE_LIMIT - len(cut))] + cut
    return text


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
