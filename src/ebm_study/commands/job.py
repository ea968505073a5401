"""One job's work: train, evaluate and explain an EBM, logged as one run (commands/train.py is
the Hydra entry that hands jobs here, imported once a job runs: `ebm-study --help` is Hydra's
alone)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

from omegaconf import DictConfig

from ebm_study import interrupts, metric_names
from ebm_study.config import (
    config_key,
    run_key,
    run_params,
    setting_label,
    to_yaml,
)
from ebm_study.errors import UserError
from ebm_study.fit import importance, metrics, model, pipeline, validate
from ebm_study.overrides import fixed_setting, run_name
from ebm_study.sweep.launchers import launcher_name, parallel_jobs
from ebm_study.tracking import models, runs, store, sweeps, tags

log = logging.getLogger(__name__)


class Trained(NamedTuple):
    """One job's outcome: its test metrics, its run, and its top terms."""

    scores: dict[str, float]
    run_id: str
    experiment_id: str
    top: list[str]


def train(
    cfg: DictConfig,
    overrides: Sequence[str] = (),
    parent_id: str | None = None,
    swept: Sequence[str] | None = None,
    parallel_jobs: int = 1,
    launcher: str | None = None,
) -> dict[str, float]:
    """Fit one EBM as `cfg` says and log everything to MLflow; return the test metrics (those
    of a classifier or a regressor: `task`).

    `overrides` name the run (only the `swept` keys inside a sweep); `parent_id` is the sweep's
    parent run; `parallel_jobs` is how many jobs the launcher runs at once, for
    `model.n_jobs=auto`; `launcher` names it in a tag. The run ends FINISHED, or FAILED with
    its error, never RUNNING.
    """
    return fit_run(cfg, overrides, parent_id, swept, parallel_jobs, launcher).scores


def fit_run(
    cfg: DictConfig,
    overrides: Sequence[str] = (),
    parent_id: str | None = None,
    swept: Sequence[str] | None = None,
    parallel_jobs: int = 1,
    launcher: str | None = None,
) -> Trained:
    """`train`, returning the run as well."""
    cfg.model.n_jobs = model.resolve_n_jobs(cfg.model.n_jobs, model.cores(), parallel_jobs)
    experiment_id = store.connect(cfg.tracking)
    name = run_name(overrides, swept)
    key = config_key(cfg)
    keys = {tags.CONFIG_KEY: key, tags.RUN_KEY: run_key(cfg)}
    if swept is not None:  # in a sweep: the study's words for this run's setting
        keys[tags.SETTING] = setting_label(run_params(cfg), swept) or fixed_setting(
            overrides, swept
        )
    if launcher:
        keys[tags.LAUNCHER] = launcher
    with runs.job_run(experiment_id, name, parent_id, keys) as run_id:
        # Config first, so even a run that fails says what it was.
        runs.log_config(run_params(cfg), to_yaml(cfg), list(overrides))
        validate.check_config(cfg)
        prepared = pipeline.prepare(cfg)
        split, table = prepared.split, prepared.table
        runs.log_dataset(split.X_train, split.y_train, table.name, table.source)
        run_tags = {tags.TASK: prepared.task}
        if prepared.positive is not None:
            run_tags[tags.POSITIVE_CLASS] = str(prepared.positive)
        runs.set_tags(run_tags)
        fit = pipeline.fit_and_score(cfg, prepared)
        scores = fit.scores
        if table.rows_dropped:
            scores = {**scores, tags.ROWS_DROPPED: table.rows_dropped}
            log.info("run %s: %d row(s) without a target left out", name, table.rows_dropped)
        tell(name, fit.warnings, list(prepared.warnings) + fit.library_warnings, swept is None)
        slow = pipeline.capped_bags_warning(cfg, scores)
        if slow:
            log.warning("run %s: %s", name, slow)

        terms = importance.table(fit.ebm, cfg.top_k)
        chart = importance.bar_chart(terms, title=f"Term importance: {name}", top_k=cfg.top_k)
        model_uri = models.log_model(fit.ebm, split.X_train) if cfg.tracking.log_model else None
        runs.log_results(scores, terms, chart, model_uri)
    return Trained(scores, run_id, experiment_id, terms["term"].head(cfg.top_k).tolist())


def tell(name: str, ours: list[str], once: list[str], alone: bool) -> None:
    """Say what a run should: `ours` (about its scores: a class never predicted, F1 far below
    what a threshold gives) as warnings naming it, kept on the run; `once` (the data, the
    libraries: the same in every job) as warnings for a run on its own, and in a sweep kept
    on the run for the sweep's end to say once (callbacks.SweepRun)."""
    for line in ours:
        log.warning("run %s: %s", name, line)
    for line in once:
        if alone:
            log.warning("%s", line)
        else:
            log.debug("%s", line)
    recorded = {}
    if ours:
        recorded[tags.RUN_WARNING] = "\n".join(ours)
    if once:
        recorded[tags.WARNINGS] = "\n".join(once)
    if recorded:
        runs.set_tags(recorded)


def announce(trained: Trained, cfg: DictConfig) -> None:
    """What a run on its own prints at the end: its scores, its top terms, and where to see it."""
    shown = (*metric_names.NAMES["classification"], *metric_names.NAMES["regression"])
    scores = ", ".join(f"{m} {trained.scores[m]:.4f}" for m in shown if m in trained.scores)
    print(f"run {trained.run_id}: {scores}")
    print(f"top {cfg.top_k}: {', '.join(trained.top)}")
    where = store.run_url(str(cfg.tracking.uri), trained.experiment_id, trained.run_id)
    local = "" if str(cfg.tracking.uri).startswith("http") else " (after `make ui`)"
    print(f"see it{local}: {where}")


def sweep_job(cfg: DictConfig, hydra_cfg: DictConfig) -> float | None:
    """One job of a sweep: reuse the same fit if it already FINISHED in this sweep, else train
    under the sweep's parent run. Returns the test score (F1, or R2 for a regression), None if
    the job failed.

    A failed job's run is FAILED in MLflow with its traceback; the other jobs go on, and the
    sweep callback reports the failures and exits non-zero at the end.
    """
    interrupts.check()  # a stop signal whose KeyboardInterrupt a library swallowed
    overrides = list(hydra_cfg.overrides.task)
    try:
        experiment_id = store.connect(cfg.tracking)
        sweep = sweeps.find_sweep(experiment_id, str(hydra_cfg.sweep.dir))
        parent_id, swept = sweep if sweep else (None, None)
        if parent_id and not cfg.study.rerun:
            launch = str(hydra_cfg.sweep.dir)
            done = sweeps.finished_before(experiment_id, parent_id, launch).get(run_key(cfg))
            if done is not None:
                log.info("job %s: reusing finished run %s", hydra_cfg.job.num, done)
                return metrics.score_of(sweeps.get_run(done).data.metrics)
        at_once = parallel_jobs(hydra_cfg.launcher, model.cores())
        launcher = launcher_name(hydra_cfg.launcher)
        return metrics.score_of(train(cfg, overrides, parent_id, swept, at_once, launcher))
    except Exception as err:
        log.error(
            "job %s failed: %s: %s",
            hydra_cfg.job.num,
            type(err).__name__,
            err,
            exc_info=not isinstance(err, UserError),
        )
        return None
