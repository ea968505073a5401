"""The stability study of a sweep, from its runs' importance tables; pure pandas, no MLflow.

Groups: the whole sweep, and each setting (`config_key`) across its seeds. Within a setting
whose runs vary both seeds, split-seed and model-seed variation are measured apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ebm_study.config import SEEDS, short_names
from ebm_study.errors import UserError
from ebm_study.measures import intervals, redundancy, stability
from ebm_study.measures.intervals import mean_interval
from ebm_study.metric_names import NAMES, SCORE
from ebm_study.settings import StudySettings
from ebm_study.study.labels import seed_labels, seeds_name, setting_labels
from ebm_study.tracking.tags import (
    BAGS_AT_MAX_ROUNDS,
    CONFIG_KEY,
    POSITIVE_CLASS,
    RUN_WARNING,
    TASK,
    WITHIN_RUN,
)

RELIABLE = 0.9  # a term in at least this share of top-k sets is "reliably" on top


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


# The correlation-aware Phi's jackknife recomputes it once a run: past this many runs the
# interval is left out (the value stays).
MAX_RUNS_FOR_CORR_INTERVAL = 2000


def measures(
    scores: pd.DataFrame, settings: StudySettings, C: np.ndarray | None = None
) -> tuple[dict[str, float], list[str]]:
    """Every set measure of one group of runs, and notes on those that are undefined. `C` is
    the redundancy matrix over the score columns (None: no grouping, Phi_C undefined)."""
    values = scores.to_numpy(dtype=float)
    M, d = values.shape
    k = settings.top_k
    Z = stability.top_k(values, k)
    notes: list[str] = []
    if k >= d:
        notes.append(f"top_k={k} is not below the number of terms ({d}): every run selects all")
    nog = stability.nogueira(Z)
    if not nog.defined and nog.note and nog.note not in " ".join(notes):
        notes.append(nog.note)
    kun = stability.kuncheva(Z)
    # Intervals that mean something at this number of runs (intervals.sized_interval).
    nog = intervals.sized_interval(nog, Z, stability.nogueira)
    jac = intervals.sized_interval(stability.jaccard(Z), Z, stability.jaccard)
    rbo = intervals.sized_interval(
        stability.rbo(values, settings.rbo_p),
        values,
        lambda rows: stability.rbo(rows, settings.rbo_p),
    )
    if nog.defined and math.isnan(nog.ci_low) and nog.note not in " ".join(notes):
        notes.append(f"{nog.note}: intervals need at least {intervals.MIN_RUNS_FOR_INTERVAL}")
    if C is None:
        corr = stability.Estimate.undefined("no grouping of features")
    else:

        def phi_c(rows: np.ndarray) -> stability.Estimate:
            return stability.nogueira_corr(rows, C)

        corr = phi_c(Z)
        if M <= MAX_RUNS_FOR_CORR_INTERVAL:
            corr = intervals.jackknife(corr, Z, phi_c)
    conc = stability.kendall_w(stability.ranks(values))
    gap = stability.boundary_gap(values, k)
    row = {
        "n_runs": M,
        "nogueira": nog.value,
        "nogueira_ci_low": nog.ci_low,
        "nogueira_ci_high": nog.ci_high,
        "nogueira_corr": corr.value,
        "nogueira_corr_ci_low": corr.ci_low,
        "nogueira_corr_ci_high": corr.ci_high,
        "kuncheva": kun.value,
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
    }
    return row, notes


def seed_attribution(scores: pd.DataFrame, runs: pd.DataFrame, settings: StudySettings) -> dict:
    """Nogueira's Phi across one seed, the other seed and the setting held fixed, averaged.

    `nogueira_split_seed` is the instability the data split causes, `nogueira_model_seed` the
    model's own; nan when the group does not vary that seed.
    """
    out = {}
    members = runs.loc[scores.index]
    for varied, fixed in (("split_seed", "model_seed"), ("model_seed", "split_seed")):
        phis = []
        if varied in members and fixed in members:
            # Hold the setting fixed too: across settings, hyperparameters would count as seed
            # churn. Only groups that vary the seed count; find them in one pass, as a sweep
            # of 10,000 runs holds thousands of single-run groups.
            keys = [fixed, CONFIG_KEY]
            varies = members.groupby(keys, sort=False)[varied].transform("nunique") >= 2
            for _, group in members[varies].groupby(keys, sort=False):
                Z = stability.top_k(scores.loc[group.index].to_numpy(float), settings.top_k)
                est = stability.nogueira(Z)
                if est.defined:
                    phis.append(est.value)
        out[f"nogueira_{varied}"] = float(np.mean(phis)) if phis else math.nan
    return out


def topk_frequency(scores: pd.DataFrame, kinds: pd.Series, k: int) -> pd.DataFrame:
    """Per term: how often it is in the top k (Wilson 95% interval), its ranks and importance."""
    values = scores.to_numpy(float)
    M = len(values)
    Z = stability.top_k(values, k)
    R = stability.ranks(values)
    count = Z.sum(axis=0)
    low, high = intervals.wilson(count, M)
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
    scores = score_matrix(importances, settings.terms).reindex(runs.index).fillna(0.0)
    kinds = importances.drop_duplicates("term").set_index("term")["kind"]
    C = None if twins is None else redundancy.redundancy_matrix(list(scores.columns), twins)
    headline, notes = measures(scores, settings, C)
    headline.update(seed_attribution(scores, runs, settings))
    headline[f"mean_{score}"] = float(scored.mean())
    within = pd.to_numeric(
        runs.get(WITHIN_RUN, pd.Series(math.nan, index=runs.index)), errors="coerce"
    )
    headline["within_run"] = float(within.mean()) if within.notna().any() else math.nan
    capped = runs_at_max_rounds(runs)

    labels = setting_labels(runs, swept or [])
    rows = []
    for key, members in runs.groupby(CONFIG_KEY, sort=False):
        row, _ = measures(scores.loc[members.index], settings, C)
        row.update(seed_attribution(scores.loc[members.index], runs, settings))
        values = scored[members.index]
        low, high = mean_interval(values)
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
                f"mean_{score}": values.mean(),
                f"sd_{score}": values.std(ddof=1) if len(values) > 1 else 0.0,
                f"{score}_ci_low": low,
                f"{score}_ci_high": high,
                "runs_at_max_rounds": int(capped[members.index].sum()),
            }
        )
    by_config = pd.DataFrame(rows).sort_values("nogueira", ascending=False, na_position="last")

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
        topk_frequency=topk_frequency(scores, kinds, settings.top_k),
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
        twins=None if twins is None else twin_shares(twins, scores, settings.top_k),
        run_warnings=(
            runs[RUN_WARNING].dropna().astype(str).to_dict() if RUN_WARNING in runs else {}
        ),
    )


def twin_shares(twins: pd.DataFrame, scores: pd.DataFrame, k: int) -> pd.DataFrame:
    """The groups with `share_topk`: the share of runs whose top k holds at least one term of
    the group (a pair term counts for the groups of its features)."""
    Z = stability.top_k(scores.to_numpy(float), k)
    share = {}
    for group, members in twins.groupby("group"):
        names = set(members["term"])
        hit = [any(f in names for f in redundancy.features_of(t)) for t in scores.columns]
        share[group] = (
            float(Z[:, np.array(hit, dtype=bool)].any(axis=1).mean()) if any(hit) else 0.0
        )
    return twins.assign(share_topk=twins["group"].map(share))
