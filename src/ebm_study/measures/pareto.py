"""Accurate and stable together: the Pareto front of a sweep's settings. Pure pandas.

A setting is on the front when no other is at least as good on both objectives and better on
one: its mean test metric (f1 by default) and its top-k stability (Nogueira's Phi, or Phi_C).
Bommert, Rahnenführer & Lang (arXiv 2106.08105) choose feature selectors on both criteria.

Settings of a grid share their split seeds, so "is A more accurate than B" is a paired
question: the difference of their scores split seed by split seed, with the t interval over
the shared split seeds (by_split.mean). The recommended setting is the most stable of those
on the front whose score cannot be told apart from the best one's (its paired interval not
wholly below 0; without an interval, only the best), among those reaching
`study.min_stability` when set; when none of those reaches it, the most accurate on the front
that does. Each setting is then compared with the
recommended one on both objectives (`stability_difference`: each split seed left out of both).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from ebm_study.measures import by_split
from ebm_study.measures.stability import Estimate
from ebm_study.rounding import interval
from ebm_study.tracking.tags import CONFIG_KEY, TRIAL

SPLIT = "split_seed"
MAX_NAMED = 6  # settings a sentence names before "and N more"

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
    "metric_vs_best_ci_low",
    "metric_vs_best_ci_high",
    "as_accurate",
    "recommended",
    "metric_vs_recommended_ci_low",
    "metric_vs_recommended_ci_high",
    "stability_vs_recommended_ci_low",
    "stability_vs_recommended_ci_high",
    "indistinct",
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
    stability_difference: Callable[[str, str], Estimate] | None = None,
) -> pd.DataFrame:
    """Every setting with both objectives, their 95% intervals, whether it is on the front,
    which one is recommended and which cannot be told apart from it. `by_config` is the
    study's table (its `objective` columns), `runs` the finished runs (config_key, split_seed,
    `metric`, and the trial tag of a search's jobs); `stability_difference(a, b)` the paired
    difference of two settings' stability (None: not compared)."""
    values = pd.to_numeric(runs.get(metric, pd.Series(math.nan, index=runs.index)), "coerce")
    splits = runs[SPLIT] if SPLIT in runs else pd.Series(runs.index, index=runs.index)
    rows = []
    for _, setting in by_config.iterrows():
        key = setting[CONFIG_KEY]
        members = runs.index[runs[CONFIG_KEY] == key]
        scored = by_split.mean(values[members].to_numpy(), by_split.Design.of(splits[members]))
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
                "metric_mean": scored.value,
                "metric_ci_low": scored.ci_low,
                "metric_ci_high": scored.ci_high,
                "stability": float(setting[objective]),
                "stability_ci_low": float(setting.get(f"{objective}_ci_low", math.nan)),
                "stability_ci_high": float(setting.get(f"{objective}_ci_high", math.nan)),
                CONFIG_KEY: key,
            }
        )
    out = pd.DataFrame(rows)
    out["on_front"] = front_mask(out["metric_mean"], out["stability"], lower_is_better)
    by_split_mean = values.groupby([runs[CONFIG_KEY], splits]).mean()

    def score_difference(a: str, b: str) -> Estimate:
        """a's score minus b's, split seed by split seed (those both have)."""
        if a == b or b is None or SPLIT not in runs:
            return Estimate.undefined("no split seeds to pair by")
        both = pd.concat([by_split_mean[a], by_split_mean[b]], axis=1, join="inner").dropna()
        gap = (both.iloc[:, 0] - both.iloc[:, 1]).to_numpy()
        return by_split.mean(gap, by_split.Design.independent(len(gap)))

    defined = out["metric_mean"].notna()
    best = None
    if defined.any():
        at = (out.loc[defined, "metric_mean"] * (-1 if lower_is_better else 1)).idxmax()
        best = out.loc[at, CONFIG_KEY]
    gaps = [score_difference(k, best) for k in out[CONFIG_KEY]]
    out["metric_vs_best_ci_low"] = [g.ci_low for g in gaps]
    out["metric_vs_best_ci_high"] = [g.ci_high for g in gaps]
    # As accurate as the best: its paired difference is not clearly worse (clearly better
    # counts: the best is picked on unpaired means). Without an interval, only the best is.
    worse = (lambda g: g.ci_low > 0) if lower_is_better else (lambda g: g.ci_high < 0)
    out["as_accurate"] = [
        key == best or (math.isfinite(mean) and math.isfinite(g.ci_low) and not worse(g))
        for key, g, mean in zip(out[CONFIG_KEY], gaps, out["metric_mean"], strict=True)
    ]
    chosen = recommend(out, min_stability, lower_is_better)
    key = chosen[CONFIG_KEY] if chosen is not None else None
    out["recommended"] = out[CONFIG_KEY] == key
    vs_metric = [score_difference(k, key) for k in out[CONFIG_KEY]]
    vs_stability = [
        stability_difference(k, key)
        if stability_difference is not None and key is not None and k != key
        else Estimate.undefined("")
        for k in out[CONFIG_KEY]
    ]
    out["metric_vs_recommended_ci_low"] = [g.ci_low for g in vs_metric]
    out["metric_vs_recommended_ci_high"] = [g.ci_high for g in vs_metric]
    out["stability_vs_recommended_ci_low"] = [g.ci_low for g in vs_stability]
    out["stability_vs_recommended_ci_high"] = [g.ci_high for g in vs_stability]
    out["indistinct"] = [
        k != key and key is not None and not _apart(m) and not _apart(s)
        for k, m, s in zip(out[CONFIG_KEY], vs_metric, vs_stability, strict=True)
    ]
    order = out["metric_mean"] if not lower_is_better else -out["metric_mean"]
    return (
        out.assign(_o=order)
        .sort_values(["on_front", "_o"], ascending=False, kind="mergesort")
        .drop(columns="_o")[COLUMNS]
        .reset_index(drop=True)
    )


def _apart(difference: Estimate) -> bool:
    """The interval of a difference excludes 0: told apart (never without an interval)."""
    low, high = difference.ci_low, difference.ci_high
    return not (math.isnan(low) or math.isnan(high)) and (low > 0 or high < 0)


def recommend(
    settings: pd.DataFrame, min_stability: float | None, lower_is_better: bool
) -> pd.Series | None:
    """The most stable of the settings on the front as accurate as the best (`as_accurate`)
    whose stability reaches `min_stability`; when none of them reaches it, the most accurate on
    the front that does. None when no setting reaches it."""
    floor = -math.inf if min_stability is None else min_stability
    accuracy = -settings["metric_mean"] if lower_is_better else settings["metric_mean"]
    ranked = settings.assign(_a=accuracy)
    # On the front too: a tied setting off it is dominated by one at least as stable.
    tied = ranked[ranked["as_accurate"] & ranked["on_front"] & (ranked["stability"] >= floor)]
    if len(tied):
        return tied.sort_values(["stability", "_a"], ascending=False).iloc[0].drop(labels="_a")
    front = ranked[ranked["on_front"] & (ranked["stability"] >= floor)]
    if front.empty:
        return None
    return front.sort_values(["_a", "stability"], ascending=False).iloc[0].drop(labels="_a")


def sentence(front: pd.DataFrame, objective: str, min_stability: float | None) -> str:
    """The front and the recommendation in words."""
    head = front_sentence(front, objective)
    return f"{head} {recommendation(front, objective, min_stability)}" if head else ""


def front_sentence(front: pd.DataFrame, objective: str) -> str:
    """How many settings are on the front, and what that means."""
    if front.empty or not front["on_front"].any():
        return ""
    on = front[front["on_front"]]
    name = "Phi_C" if objective == "nogueira_corr" else "Phi"
    metric = str(front["metric"].iloc[0])
    return (
        f"{len(on)} of {len(front)} settings are on the Pareto front of {metric} and top-k "
        f"stability ({name}; `pareto_front.json`, `accuracy_vs_stability.png`): no other "
        "setting is at least as good on both and better on one."
    )


def recommendation(front: pd.DataFrame, objective: str, min_stability: float | None) -> str:
    """The recommended setting with both its intervals, why it, and which settings it cannot
    be told apart from (the verdict's last line)."""
    if front.empty or not front["on_front"].any():
        return ""
    best = front[front["recommended"]]
    name = "Phi_C" if objective == "nogueira_corr" else "Phi"
    metric = str(front["metric"].iloc[0])
    if best.empty:
        return f"No setting on the front reaches {name} >= {min_stability} (`study.min_stability`)."
    row = best.iloc[0]
    floor = f", {name} >= {min_stability} (`study.min_stability`)" if min_stability else ""
    enough = front["stability"] >= (min_stability if min_stability is not None else -math.inf)
    tied = int((front["as_accurate"] & enough).sum()) if "as_accurate" in front else 1
    why = (
        f"the most stable of the {tied} settings whose {metric} cannot be told apart from the "
        f"best (paired by split seed){floor}"
        if row.get("as_accurate", False)
        else f"the most accurate on the front{floor}"
    )
    score = interval(row["metric_mean"], row["metric_ci_low"], row["metric_ci_high"])
    phi = interval(row["stability"], row["stability_ci_low"], row["stability_ci_high"])
    text = (
        f"**Recommended: {row['setting']}**, {why}: {metric} {score}, {name} {phi} "
        "(`ebm-study-promote --pareto` registers its best run)."
    )
    alike = front[front.get("indistinct", pd.Series(False, index=front.index)).astype(bool)]
    if len(alike):
        names = [f"**{s}**" for s in alike["setting"]]
        shown = ", ".join(names[:MAX_NAMED])
        if len(names) > MAX_NAMED:
            shown += f" and {len(names) - MAX_NAMED} more (`indistinct` in the table)"
        text += (
            f" It cannot be told apart from {shown} on either objective (paired intervals of "
            "the differences cover 0): more split seeds would say which is better."
        )
    else:
        text += " Every other setting is told apart from it on at least one objective."
    return text
