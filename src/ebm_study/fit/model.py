"""Build and fit the Explainable Boosting Machine the config describes: interpret's classifier
or regressor, with the same hyperparameters."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np
import pandas as pd
from interpret.glassbox import ExplainableBoostingClassifier, ExplainableBoostingRegressor
from omegaconf import DictConfig, OmegaConf

from ebm_study.errors import UserError
from ebm_study.tracking.tags import BAGS_AT_MAX_ROUNDS, BOOSTING_ROUNDS_MAX

EBM = ExplainableBoostingClassifier | ExplainableBoostingRegressor
ESTIMATORS = {
    "classification": ExplainableBoostingClassifier,
    "regression": ExplainableBoostingRegressor,
}


def resolve_n_jobs(n_jobs: int | str, cores: int, parallel_jobs: int = 1) -> int:
    """EBM processes for its bags. "auto" shares the cores among the jobs a launcher runs at
    once (joblib's 2 workers on 2 cores: 1 each; the basic launcher: all), so cores are neither
    idle nor oversubscribed. A number is kept as given (interpret: -1 all cores, -2 all but one).
    """
    if n_jobs == "auto":
        return max(1, cores // max(1, parallel_jobs))
    try:
        return int(n_jobs)
    except (TypeError, ValueError):
        raise UserError(f"model.n_jobs={n_jobs!r} must be 'auto' or a whole number") from None


def cores() -> int:
    """The cores this process may use (its CPU affinity, which a scheduler may narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def build(
    model_cfg: DictConfig,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    task: str = "classification",
    n_rows: int | None = None,
) -> EBM:
    """An unfitted EBM for the `task` with every hyperparameter of the `model` config group;
    the `categorical` columns (of `columns`) are nominal, the others left to interpret.
    `max_rounds: auto` is the cap `rounds_cap` gives for `n_rows` training rows."""
    params: dict[str, Any] = OmegaConf.to_container(model_cfg, resolve=True)
    budget = params.pop("round_budget", DEFAULT_BUDGET)
    if params.get("max_rounds") == "auto":
        params["max_rounds"] = rounds_cap(budget, params["learning_rate"], n_rows or 0)
    if categorical:
        params["feature_types"] = ["nominal" if c in categorical else "auto" for c in columns]
    return ESTIMATORS[task](**params)


DEFAULT_BUDGET = 30  # conf/model/ebm.yaml's round_budget
BUDGET_ROWS = 500  # up to this many training rows the budget is rounds x learning rate
INTERPRET_MAX_ROUNDS = 50000  # interpret's own default, and the auto cap's ceiling


def rounds_cap(budget: float, learning_rate: float, n_rows: int) -> int:
    """`max_rounds: auto`: rounds x learning rate = budget x sqrt(rows / 500), at least the
    budget itself and at most interpret's 50,000 rounds.

    A cap bounds the rare bag whose validation loss keeps falling by tiny steps on a small,
    nearly separable table (breast cancer: 2 of 40 fits took 24 times the median without
    one); it must not stop bags that are still learning, and those need more rounds the more
    rows they learn from (up to rounds x rate 128 at 64,000 rows, 71 at 240,000: README,
    Performance). The square root of the rows keeps the cap above every bag that stopped by
    itself in those measurements, at every size, and equal to the budget at breast cancer's
    455 rows. A rate that is not a number > 0 gets interpret's default, so that the
    validator, not this function, names the bad rate."""
    try:
        rate = float(learning_rate)
    except (TypeError, ValueError):
        return INTERPRET_MAX_ROUNDS
    if not math.isfinite(rate) or rate <= 0:
        return INTERPRET_MAX_ROUNDS
    scale = math.sqrt(max(1.0, n_rows / BUDGET_ROWS))
    return max(1, min(INTERPRET_MAX_ROUNDS, math.ceil(float(budget) * scale / rate - 1e-9)))


def fit(ebm: EBM, X: pd.DataFrame, y: pd.Series) -> tuple[EBM, float]:
    """Fit in place and return the model with the wall-clock seconds the fit took."""
    start = time.perf_counter()
    ebm.fit(X, y)
    return ebm, time.perf_counter() - start


def boosting_rounds(ebm: EBM) -> dict[str, int]:
    """How far each outer bag boosted, from interpret's `best_iteration_`.

    interpret counts boosting *steps* per stage and bag (one step per term of the stage, so a
    round of 30 main terms is 30 steps) and stops a stage at `max_rounds` rounds when early
    stopping never fires. Returns `boosting_rounds_max` (the most rounds any bag's stage used)
    and `bags_at_max_rounds` (how many bags reached the cap in some stage): a bag at the cap is
    a fit many times slower than its neighbours (see the README's Performance section).
    """
    steps = np.atleast_2d(np.asarray(ebm.best_iteration_, dtype=np.int64))  # stage x bag
    sizes = [len(t) for t in ebm.term_features_]
    # Stage 0 boosts the main terms, stage 1 the pairs (interpret's order in term_features_).
    terms_per_stage = [sum(s == 1 for s in sizes), sum(s > 1 for s in sizes)]
    rounds = np.zeros_like(steps)
    capped = np.zeros(steps.shape[1], dtype=bool)
    for stage, stage_steps in enumerate(steps):
        n_terms = max(1, terms_per_stage[min(stage, 1)])
        rounds[stage] = -(-stage_steps // n_terms)  # ceiling: a stopped round counts
        capped |= stage_steps >= ebm.max_rounds * n_terms
    return {
        BOOSTING_ROUNDS_MAX: int(rounds.max(initial=0)),
        BAGS_AT_MAX_ROUNDS: int(capped.sum()),
    }
