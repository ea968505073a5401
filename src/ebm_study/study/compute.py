"""The stability study of a sweep, from its runs' importance tables; pure pandas, no MLflow.

Groups: the whole sweep, and each setting (`config_key`) across its seeds. Within a setting
whose runs vary both seeds, split-seed and model-seed variation are measured apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ebm_study.config import SEEDS, short_names
from ebm_study.errors import UserError
from ebm_study.measures import by_split, intervals, redundancy, stability
from ebm_study.metric_names import NAMES, SCORE
from ebm_study.settings import StudySettings
from ebm_study.study import paired
from ebm_study.study.labels import seed_labels, seeds_name, setting_labels
from ebm_study.tracking.tags import (
    BAGS_AT_MAX_ROUNDS,
    CONFIG_KEY,
    POSITIVE_CLASS,
    RUN_WARNING,
    TASK,
    WITHIN_RUN,
)


@dataclass
class Study:
    settings: StudySettings
    n_runs: int
    n_failed: int
    headline: dict[str, float]  # the whole sweep: metric name -> value (nan when undefined)
    notes: list[str]  # why a measure is undefined, in words
    by_config: pd.DataFrame  # one row a setting
    topk_frequency: pd.DataFrame  # one row a term, whole sweep
    ranks: pd.DataFrame  # runs x terms, 1 = most important
    labels: dict[str, str] = field(default_factory=dict)  # config_key -> "learning_rate=0.05"
    run_names: dict[str, str] = field(default_factory=dict)  # run_id -> run name
    at_max_rounds: list[str] = field(default_factory=list)  # runs with a bag at max_rounds
    run_settings: dict[str, str] = field(default_factory=dict)  # run_id -> its setting's label
    run_seeds: dict[str, str] = field(default_factory=dict)  # run_id -> "3/1" (split/model)
    seeds_name: str = "seeds"  # what run_seeds show: "split/model seed"
    positive_classes: list[str] = field(default_factory=list)  # what the runs' F1 is about
    score: str = "f1"  # the test score beside stability: f1, or r2 for regressions
    orphaned: list[str] = field(default_factory=list)  # runs closed KILLED: process gone
    twins: pd.DataFrame | None = None  # near-twin groups: group, term, max_abs_corr, share
    run_warnings: dict[str, str] = field(default_factory=dict)  # run_id -> what its run warned
    pareto: pd.DataFrame | None = None  # every setting on both objectives (pareto.table)
    # (a, b) -> a's stability minus b's, paired by split seed (`stability_difference`)
    compare: Callable[[str, str], stability.Estimate] | None = field(default=None, repr=False)
    # What the conclusions read (study/findings.py): runs x terms importance, and per run (in
    # the same order) its config_key, split_seed and score.
    scores: pd.DataFrame | None = field(default=None, repr=False)
    run_table: pd.DataFrame | None = field(default=None, repr=False)
    # What holds (study/findings.py, study/groups.py): measures/conclusions.py's tables.
    orderings: pd.DataFrame | None = None  # neighbouring terms: is a above b
    reliable: pd.DataFrame | None = None  # the reliably-top set and every term's bound
    near_best: pd.DataFrame | None = None  # per term over the near-best runs: its range
    near_best_settings: list[str] = field(default_factory=list)  # their config_keys
    near_best_run: str | None = None  # the near-best run with the best score
    near_best_how: str = ""  # findings.PAIRED, WITHIN, ONE_SETTING or NO_INTERVAL
    groups: object | None = None  # study/groups.GroupStudy: near-twin groups as units
    rows: object | None = None  # study/rows.RowStudy: each reference row's reasons and prediction

    def design(self, run_ids=None) -> by_split.Design:
        """The split seeds of these runs (all of the study's by default), in their order."""
        table = self.run_table if run_ids is None else self.run_table.loc[list(run_ids)]
        if "split_seed" not in table:
            return by_split.Design.independent(len(table))
        return by_split.Design.of(table["split_seed"].tolist())


def score_metric(runs: pd.DataFrame) -> str:
    """The score a sweep's runs are summed up by: R2 when every run is a regression (by its
    `task` tag, or, for runs logged before it, by what it logged), F1 otherwise."""
    if TASK in runs:
        tasks = runs[TASK].fillna("classification")
    else:
        tasks = pd.Series("classification", index=runs.index)
        if "r2" in runs and "f1" not in runs:
            tasks[:] = "regression"
    regression = len(tasks) > 0 and bool((tasks == "regression").all())
    return SCORE["regression" if regression else "classification"]


def runs_at_max_rounds(runs: pd.DataFrame) -> pd.Series:
    """True for each run with an outer bag that boosted to `max_rounds` without early-stopping
    (runs logged before the metric existed count as not)."""
    if BAGS_AT_MAX_ROUNDS not in runs:
        return pd.Series(False, index=runs.index)
    return pd.to_numeric(runs[BAGS_AT_MAX_ROUNDS], errors="coerce").fillna(0) > 0


def score_matrix(importances: pd.DataFrame, terms: str = "all") -> pd.DataFrame:
    """Runs x terms importance matrix from the long table (run_id, term, importance, kind).

    A term a run does not have (a pair another setting found) scores 0: it was not selected.
    """
    if terms == "mains":
        importances = importances[importances["kind"] == "main"]
    matrix = importances.pivot_table(
        index="run_id", columns="term", values="importance", aggfunc="first", fill_value=0.0
    )
    matrix.columns.name = None
    return matrix


def design_of(runs: pd.DataFrame, index) -> by_split.Design:
    """Which split seed each of these runs is on (runs logged without one: each its own)."""
    if "split_seed" not in runs:
        return by_split.Design.independent(len(index))
    return by_split.Design.of(runs.loc[index, "split_seed"].tolist())


def measures(
    scores: pd.DataFrame,
    settings: StudySettings,
    C: np.ndarray | None = None,
    design: by_split.Design | None = None,
) -> tuple[dict[str, float], list[str]]:
    """Every set measure of one group of runs, and notes on those that are undefined. `C` is
    the redundancy matrix over the score columns (None: no grouping, Phi_C undefined); `design`
    the runs' split seeds (by_split: pairs across them, intervals by them; None: one a run)."""
    values = scores.to_numpy(dtype=float)
    M, d = values.shape
    k = settings.top_k
    design = design or by_split.Design.independent(M)
    Z = stability.top_k(values, k)
    notes: list[str] = []
    if k >= d:
        notes.append(f"top_k={k} is not below the number of terms ({d}): every run selects all")
    nog = by_split.nogueira(Z, design)
    if not nog.defined and nog.note and nog.note not in " ".join(notes):
        notes.append(nog.note)
    if nog.defined and math.isnan(nog.ci_low) and nog.note not in " ".join(notes):
        notes.append(f"{nog.note}: intervals need at least {by_split.MIN_GROUPS}")
    if M >= 2 and not design.across:
        notes.append(
            "every run is on one split seed: the measures are over its model seeds (the "
            "model's own randomness, the data held fixed), not over retrains"
        )
    jac = by_split.jaccard(Z, design)
    rbo = by_split.rbo(values, design, settings.rbo_p)
    if C is None:
        corr = stability.Estimate.undefined("no grouping of features")
    else:
        corr = by_split.nogueira_corr(Z, C, design)
    conc = stability.kendall_w(stability.ranks(values))
    gap = stability.boundary_gap(values, k)
    row = {
        "n_runs": M,
        "n_split_seeds": design.n_groups,
        "nogueira": nog.value,
        "nogueira_ci_low": nog.ci_low,
        "nogueira_ci_high": nog.ci_high,
        "nogueira_corr": corr.value,
        "nogueira_corr_ci_low": corr.ci_low,
        "nogueira_corr_ci_high": corr.ci_high,
        "kuncheva": by_split.kuncheva(Z, design).value,
        "jaccard": jac.value,
        "jaccard_ci_low": jac.ci_low,
        "jaccard_ci_high": jac.ci_high,
        "jaccard_chance": stability.jaccard_chance(min(k, d), d),
        "rbo": rbo.value,
        "rbo_ci_low": rbo.ci_low,
        "rbo_ci_high": rbo.ci_high,
        "kendall_w": conc.w,
        "kendall_w_p_value": conc.p_value,
        "topk_gap_median": float(np.median(gap)) if not np.all(np.isnan(gap)) else math.nan,
        # Model randomness alone: pairs of runs on one split seed (and one setting).
        "nogueira_within_split": by_split.within(Z, design, stability.nogueira),
    }
    return row, notes


def by_split_seed(design: by_split.Design | None, n_runs: int) -> bool:
    """Whether the top-k share's interval is by split seed (several split seeds, some with
    several runs), or Wilson's (one run a split seed, or all on one)."""
    return design is not None and design.across and design.n_groups < n_runs


def topk_frequency(
    scores: pd.DataFrame, kinds: pd.Series, k: int, design: by_split.Design | None = None
) -> pd.DataFrame:
    """Per term: how often it is in the top k, its ranks and importance; the share's interval by
    split seed (by_split.mean, within [0, 1]), Wilson's with one run a split seed."""
    values = scores.to_numpy(float)
    M = len(values)
    Z = stability.top_k(values, k)
    R = stability.ranks(values)
    count = Z.sum(axis=0)
    low, high = intervals.wilson(count, M)
    if by_split_seed(design, M):
        shares = [by_split.mean(Z[:, f].astype(float), design) for f in range(Z.shape[1])]
        low = np.clip([s.ci_low for s in shares], 0, 1)
        high = np.clip([s.ci_high for s in shares], 0, 1)
    table = pd.DataFrame(
        {
            "term": scores.columns,
            "kind": [kinds.get(t, "main") for t in scores.columns],
            "topk_count": count,
            "topk_frequency": count / M,
            "topk_ci_low": low,
            "topk_ci_high": high,
            "median_rank": np.median(R, axis=0),
            "min_rank": R.min(axis=0),
            "max_rank": R.max(axis=0),
            "mean_importance": values.mean(axis=0),
            "sd_importance": values.std(axis=0, ddof=1) if M > 1 else np.zeros(values.shape[1]),
        }
    )
    table = table.sort_values(["topk_frequency", "median_rank"], ascending=[False, True])
    return table.reset_index(drop=True)


def run_study(
    runs: pd.DataFrame,
    importances: pd.DataFrame,
    settings: StudySettings,
    swept: list[str] | None = None,
    n_failed: int = 0,
    twins: pd.DataFrame | None = None,
) -> Study:
    """The whole study of a sweep.

    `runs` is indexed by run_id with columns config_key, split_seed, model_seed, the test
    score (f1, or r2 for regressions: `score_metric`) and the swept params; `importances` is
    the long table of every finished run's importance; `twins` the near-twin features
    (redundancy.groups; None when the data could not be read: no correlation-aware measure).
    """
    score = settings.metric or score_metric(runs)
    if score not in runs or runs[score].isna().all():
        logged = sorted(m for names in NAMES.values() for m in names if m in runs)
        raise UserError(
            f"study.metric={score!r} is not logged by this sweep's runs; logged: "
            f"{', '.join(logged) or 'none'}"
        )
    scored = pd.to_numeric(runs[score], errors="coerce")
    runs = runs.sort_values(
        [CONFIG_KEY, *[s for s in SEEDS if s in runs]],
        key=lambda col: pd.to_numeric(col, errors="coerce") if col.name in SEEDS else col,
        kind="mergesort",
    )
    scored = scored.loc[runs.index]  # in the sorted order the designs below are read in
    scores = score_matrix(importances, settings.terms).reindex(runs.index).fillna(0.0)
    kinds = importances.drop_duplicates("term").set_index("term")["kind"]
    C = None if twins is None else redundancy.redundancy_matrix(list(scores.columns), twins)
    # The whole sweep: pairs across split seeds whatever their settings (each split seed's
    # runs weighted alike). Its within-split figure is the settings' own (below), averaged.
    design = design_of(runs, runs.index)
    headline, notes = measures(scores, settings, C, design)
    mean_score = by_split.mean(scored.to_numpy(), design)
    headline[f"mean_{score}"] = mean_score.value
    headline[f"mean_{score}_ci_low"] = mean_score.ci_low
    headline[f"mean_{score}_ci_high"] = mean_score.ci_high
    within = pd.to_numeric(
        runs.get(WITHIN_RUN, pd.Series(math.nan, index=runs.index)), errors="coerce"
    )
    headline["within_run"] = float(within.mean()) if within.notna().any() else math.nan
    capped = runs_at_max_rounds(runs)

    labels = setting_labels(runs, swept or [])
    rows = []
    for key, members in runs.groupby(CONFIG_KEY, sort=False):
        # The setting's own terms: a pair term only another setting found is not one of them.
        own = importances.loc[importances["run_id"].isin(members.index), "term"].unique()
        columns = [c for c in scores.columns if c in set(own)]
        mine = scores.loc[members.index, columns]
        row, _ = measures(
            mine,
            settings,
            redundancy.sub_matrix(C, scores.columns, columns),
            design_of(runs, members.index),
        )
        values = scored[members.index]
        mean_score = by_split.mean(values.to_numpy(), design_of(runs, members.index))
        keys = [c for c in swept or [] if c in members and c not in SEEDS]
        names = short_names(keys)
        params = {names[c]: members.iloc[0][c] for c in keys}
        rows.append(
            {
                CONFIG_KEY: key,
                "setting": labels[str(key)],
                **params,
                **row,
                "within_run": float(within[members.index].mean())
                if within[members.index].notna().any()
                else math.nan,
                f"mean_{score}": mean_score.value,
                f"sd_{score}": values.std(ddof=1) if len(values) > 1 else 0.0,
                f"{score}_ci_low": mean_score.ci_low,
                f"{score}_ci_high": mean_score.ci_high,
                "runs_at_max_rounds": int(capped[members.index].sum()),
            }
        )
    by_config = pd.DataFrame(rows).sort_values("nogueira", ascending=False, na_position="last")
    # Model seeds on one split are runs of one setting: the settings' within-split Phi (each on
    # its own terms), averaged; pooling settings on one split would count hyperparameters.
    within_split = by_config["nogueira_within_split"].dropna()
    headline["nogueira_within_split"] = (
        float(within_split.mean()) if len(within_split) else math.nan
    )

    rank_matrix = pd.DataFrame(
        stability.ranks(scores.to_numpy(float)), index=scores.index, columns=scores.columns
    )
    return Study(
        settings=settings,
        n_runs=len(runs),
        n_failed=n_failed,
        headline=headline,
        notes=notes,
        by_config=by_config.reset_index(drop=True),
        topk_frequency=topk_frequency(scores, kinds, settings.top_k, design),
        ranks=rank_matrix,
        labels=labels,
        run_names=runs["run_name"].astype(str).to_dict() if "run_name" in runs else {},
        at_max_rounds=list(capped.index[capped]),
        run_settings={r: labels[str(k)] for r, k in runs[CONFIG_KEY].items()},
        run_seeds=seed_labels(runs),
        seeds_name=seeds_name(runs),
        positive_classes=sorted(runs[POSITIVE_CLASS].dropna().astype(str).unique())
        if POSITIVE_CLASS in runs
        else [],
        score=score,
        twins=None if twins is None else redundancy.twin_shares(twins, scores, settings.top_k),
        compare=paired.stability_difference(scores, importances, runs, settings, C),
        scores=scores,
        run_table=runs[[c for c in (CONFIG_KEY, "split_seed") if c in runs]].assign(
            **{score: scored}
        ),
        run_warnings=(
            runs[RUN_WARNING].dropna().astype(str).to_dict() if RUN_WARNING in runs else {}
        ),
    )
