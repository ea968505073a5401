"""Accurate and stable together: the Pareto front of a sweep's settings. Pure pandas.

A setting is on the front when no other is at least as good on both objectives and better on
one: its mean test metric (f1 by default) and its top-k stability (Nogueira's Phi, or Phi_C).
The recommended setting is the most accurate on the front whose stability reaches
`study.min_stability` (when set). Bommert, Rahnenführer & Lang (arXiv 2106.08105) choose
feature selectors on both criteria this way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ebm_study.measures.intervals import mean_interval
from ebm_study.tracking.tags import CONFIG_KEY, TRIAL

COLUMNS = [
    "setting",
    "trials",
    "n_runs",
    "metric",
    "metric_mean",
    "metric_ci_low",
    "metric_ci_high",
    "stability",
    "stability_ci_low",
    "stability_ci_high",
    "on_front",
    "recommended",
    CONFIG_KEY,
]


def front_mask(accuracy: np.ndarray, stability: np.ndarray, lower_is_better: bool) -> np.ndarray:
    """True for each point no other point dominates (at least as good on both, better on one);
    a point with an undefined objective is never on the front."""
    x = -np.asarray(accuracy, float) if lower_is_better else np.asarray(accuracy, float)
    y = np.asarray(stability, float)
    ok = ~(np.isnan(x) | np.isnan(y))
    mask = np.zeros(len(x), dtype=bool)
    for i in np.flatnonzero(ok):
        others = ok.copy()
        others[i] = False
        dominated = (
            (x[others] >= x[i]) & (y[others] >= y[i]) & ((x[others] > x[i]) | (y[others] > y[i]))
        )
        mask[i] = not dominated.any()
    return mask


def table(
    by_config: pd.DataFrame,
    runs: pd.DataFrame,
    metric: str,
    objective: str,
    lower_is_better: bool,
    min_stability: float | None = None,
) -> pd.DataFrame:
    """Every setting with both objectives, their 95% intervals, whether it is on the front and
    which one is recommended. `by_config` is the study's table (its `objective` columns), `runs`
    the finished runs (config_key, `metric`, and the trial tag of a search's jobs)."""
    values = pd.to_numeric(runs.get(metric, pd.Series(math.nan, index=runs.index)), "coerce")
    rows = []
    for _, setting in by_config.iterrows():
        key = setting[CONFIG_KEY]
        members = runs.index[runs[CONFIG_KEY] == key]
        scored = values[members].dropna()
        low, high = mean_interval(scored)
        trials = ""
        if TRIAL in runs:
            numbers = pd.to_numeric(runs.loc[members, TRIAL], errors="coerce").dropna()
            trials = ",".join(str(int(t)) for t in sorted(set(numbers)))
        rows.append(
            {
                "setting": setting["setting"],
                "trials": trials,
                "n_runs": int(setting["n_runs"]),
                "metric": metric,
                "metric_mean": float(scored.mean()) if len(scored) else math.nan,
                "metric_ci_low": low,
                "metric_ci_high": high,
                "stability": float(setting[objective]),
                "stability_ci_low": float(setting.get(f"{objective}_ci_low", math.nan)),
                "stability_ci_high": float(setting.get(f"{objective}_ci_high", math.nan)),
                CONFIG_KEY: key,
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("on_front", "recommended")])
    out["on_front"] = front_mask(out["metric_mean"], out["stability"], lower_is_better)
    best = recommend(out, min_stability, lower_is_better)
    out["recommended"] = out[CONFIG_KEY] == (best[CONFIG_KEY] if best is not None else None)
    order = out["metric_mean"] if not lower_is_better else -out["metric_mean"]
    return (
        out.assign(_o=order)
        .sort_values(["on_front", "_o"], ascending=False, kind="mergesort")
        .drop(columns="_o")[COLUMNS]
        .reset_index(drop=True)
    )


def recommend(
    settings: pd.DataFrame, min_stability: float | None, lower_is_better: bool
) -> pd.Series | None:
    """The most accurate setting on the front whose stability reaches `min_stability`; ties go
    to the more stable. None when no setting on the front reaches it."""
    front = settings[settings["on_front"]]
    if min_stability is not None:
        front = front[front["stability"] >= min_stability]
    if front.empty:
        return None
    accuracy = -front["metric_mean"] if lower_is_better else front["metric_mean"]
    ranked = front.assign(_a=accuracy).sort_values(["_a", "stability"], ascending=False)
    return ranked.iloc[0].drop(labels="_a")


def sentence(front: pd.DataFrame, objective: str, min_stability: float | None) -> str:
    """The recommendation in words, for the summary."""
    if front.empty or not front["on_front"].any():
        return ""
    on = front[front["on_front"]]
    best = front[front["recommended"]]
    name = "Phi_C" if objective == "nogueira_corr" else "Phi"
    metric = str(front["metric"].iloc[0])
    head = (
        f"{len(on)} of {len(front)} settings are on the Pareto front of {metric} and top-k "
        f"stability ({name}; `pareto_front.json`, `pareto_front.png`): no other setting is at "
        "least as good on both and better on one."
    )
    floor = f" among those with {name} >= {min_stability} (`study.min_stability`)"
    if best.empty:
        return f"{head} None of them reaches {name} >= {min_stability} (`study.min_stability`)."
    row = best.iloc[0]
    return (
        f"{head} Recommended: **{row['setting']}**, the most accurate on the front"
        f"{floor if min_stability is not None else ''}: {metric} {row['metric_mean']:.3f}, "
        f"{name} {row['stability']:.3f} (`ebm-study-promote --pareto` registers its best run)."
    )
