"""From a config to a fitted, scored EBM: the one path shared by a job (`train`) and by a
champion refitted from its run's logged config (`promote`), so the two cannot drift. No MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from omegaconf import DictConfig

from ebm_study.fit import data, importance, library_warnings, metrics, model, validate
from ebm_study.tracking.tags import BAGS_AT_MAX_ROUNDS, FIT_SECONDS, MAX_ROUNDS, WITHIN_RUN


@dataclass(frozen=True)
class Prepared:
    """The data a config names, checked against it, and its seeded split."""

    table: data.Table
    split: data.Split
    positive: object | None  # the class F1, precision and recall are about (None: > 2 classes
    # or a regression)
    task: str = "classification"  # or "regression": `task`, with `auto` resolved from the data
    warnings: tuple[str, ...] = ()  # about the data as the config takes it (fit/validate.py)


def prepare(cfg: DictConfig) -> Prepared:
    """Load the data set, decide the task (`task=auto`: from the target), check the data
    against the config (target, columns, split, top_k), hold out the test rows `split_seed`
    draws, and name the positive class."""
    table = data.load(cfg.data)
    task = data.task_of(table.y, cfg.get("task", "auto"))
    validate.check_data(table, cfg, task)
    stratify = cfg.split.stratify and task == "classification"
    split = data.split(table, cfg.split.test_size, stratify, cfg.split_seed)
    positive = (
        data.positive_label(table.y, cfg.data.get("positive_class"))
        if task == "classification"
        else None
    )
    return Prepared(table, split, positive, task, tuple(validate.data_warnings(table, cfg)))


class Fit(NamedTuple):
    """A fitted, scored EBM and what a user should be told about it."""

    ebm: model.EBM
    scores: dict[str, float]
    warnings: list[str]  # ours, in words: a class never predicted, F1 that misleads
    library_warnings: list[str]  # what interpret (or another library) warned of while fitting


def fit_and_score(cfg: DictConfig, prepared: Prepared) -> Fit:
    """Build the EBM the `model` group describes for the task (stated categorical columns
    nominal, `max_rounds: auto` resolved for the training rows), fit it on the training rows,
    and score it on the test rows; the scores include `fit_seconds`, the round cap, how far the
    bags boosted (`model.boosting_rounds`) and how settled the top k is across the run's own
    bags (`stability_within_run`)."""
    table, split = prepared.table, prepared.split
    categorical = data.names(cfg.data.get("categorical"))
    ebm = model.build(
        cfg.model, list(table.X.columns), categorical, prepared.task, len(split.X_train)
    )
    # A config that was never resolved by a launcher ("auto") fits on every core.
    ebm.set_params(n_jobs=model.resolve_n_jobs(cfg.model.n_jobs, model.cores()))
    with library_warnings.caught() as said:
        ebm, seconds = model.fit(ebm, split.X_train, split.y_train)
    scores, class_warning = metrics.assess(
        ebm, split.X_test, split.y_test, prepared.positive, prepared.task
    )
    rounds = model.boosting_rounds(ebm)
    within = importance.within_run_stability(ebm, cfg.top_k)
    scores = {
        **scores,
        FIT_SECONDS: seconds,
        MAX_ROUNDS: ebm.max_rounds,
        **rounds,
        WITHIN_RUN: within,
    }
    return Fit(ebm, scores, [class_warning] if class_warning else [], said)


def capped_bags_warning(cfg: DictConfig, scores: dict[str, float]) -> str | None:
    """Words for a fit with outer bags that boosted to the round cap because early stopping
    never fired (README: Performance): the cap changed the model, so say which and how to
    lift it; None when none did or when early stopping was switched off, so the cap was the
    plan."""
    capped = int(scores.get(BAGS_AT_MAX_ROUNDS, 0))
    early_stopping = cfg.model.early_stopping_rounds > 0 and cfg.model.validation_size > 0
    if not capped or not early_stopping:
        return None
    cap = int(scores.get(MAX_ROUNDS, 0)) or cfg.model.max_rounds
    how = (
        "model.max_rounds=auto: model.round_budget raises it"
        if cfg.model.max_rounds == "auto"
        else f"model.max_rounds={cfg.model.max_rounds}"
    )
    return (
        f"{capped} of {cfg.model.outer_bags} outer bags never early-stopped and were stopped "
        f"by the round cap, {cap} rounds ({how}; the fit took {scores[FIT_SECONDS]:.0f} s)"
    )
