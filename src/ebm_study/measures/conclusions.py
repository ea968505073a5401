"""Which conclusions about single terms hold across retrains, pure numpy and pandas: is A really
above B, which terms are reliably in the top k, and what holds across every model that scores
about as well as the best. Runs on one split seed share their data, so every interval here is
by split seed (measures/by_split.py): the split seeds are the independent units.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ebm_study.measures import by_split, intervals, stability
from ebm_study.measures.stability import Estimate
from ebm_study.tracking.tags import CONFIG_KEY

CONFIDENCE = 0.95  # of the reliably-top set's lower bounds
SETTLED, COIN_TOSS, LEANING, NO_INTERVAL = "settled", "coin toss", "leaning", "no interval"
CONFLICTING, TOO_FEW = "conflicting", "too few split seeds"
# The share's interval never ends above 0.025^(1/G) (intervals.share_interval): below this many
# split seeds no ordering can clear 0.5, whatever the runs show.
MIN_SPLITS_TO_SETTLE = next(g for g in range(3, 100) if 0.025 ** (1 / g) > 0.5)


@dataclass(frozen=True)
class Ordering:
    """Term a against term b over a group of runs: `share`, the runs where a outranks b (a tie
    counts a half), and `difference`, a's importance minus b's, each a mean over split seeds
    with its interval by split seed (the share's Clopper-Pearson at the split seeds' effective
    size, intervals.share_interval; the difference's the jackknife's t)."""

    a: str
    b: str
    share: Estimate
    difference: Estimate
    n_runs: int
    n_split_seeds: int

    @property
    def verdict(self) -> str:
        """`settled` when both intervals exclude a tie on the same side (the share's 0.5, the
        difference's 0); `coin toss` when the share's interval holds 0.5; `conflicting` when
        both exclude a tie but on opposite sides (a usually above, b's importance the larger
        on average: b's wins are large ones); `leaning` when the share's excludes 0.5 and the
        difference's holds 0; `no interval` below 3 split seeds and `too few split seeds` below
        MIN_SPLITS_TO_SETTLE, where no ordering can be settled whatever the runs show (two terms
        that always tie are never settled either)."""
        s, d = self.share, self.difference
        if math.isnan(s.ci_low) or math.isnan(d.ci_low):
            return NO_INTERVAL
        if self.n_split_seeds < MIN_SPLITS_TO_SETTLE:
            return TOO_FEW
        if (s.ci_low > 0.5 and d.ci_low > 0) or (s.ci_high < 0.5 and d.ci_high < 0):
            return SETTLED
        if s.ci_low <= 0.5 <= s.ci_high:
            return COIN_TOSS
        if d.ci_low > 0 or d.ci_high < 0:
            return CONFLICTING
        return LEANING

    @property
    def above(self) -> tuple[str, str]:
        """(the term that outranks the other in most runs, the other)."""
        return (self.a, self.b) if self.share.value >= 0.5 else (self.b, self.a)


def compare(scores: pd.DataFrame, design: by_split.Design, a: str, b: str) -> Ordering:
    """Term a against term b over the runs of `scores` (runs x terms importance; a term a run
    lacks scores 0), `design` their split seeds."""
    va = scores[a].to_numpy(float)
    vb = scores[b].to_numpy(float)
    wins = np.where(va > vb, 1.0, np.where(va == vb, 0.5, 0.0))
    shares = by_split.unit_means(wins, design.unit())
    return Ordering(
        a,
        b,
        intervals.share_interval(shares, len(wins)),
        by_split.mean(va - vb, design),
        len(va),
        design.n_groups,
    )


def neighbours(order: list[str], k: int) -> list[tuple[str, str]]:
    """The neighbouring pairs of the first k + 2 terms of an order: within the top k, and
    across its boundary (k-th against k+1-th, k+1-th against k+2-th)."""
    top = list(order[: k + 2])
    return list(zip(top, top[1:], strict=False))


ORDERING_COLUMNS = [
    "a",
    "b",
    "positions",
    "a_outranks_b",
    "a_outranks_b_ci_low",
    "a_outranks_b_ci_high",
    "importance_difference",
    "importance_difference_ci_low",
    "importance_difference_ci_high",
    "verdict",
    "asked",
]


def orderings(
    scores: pd.DataFrame,
    design: by_split.Design,
    order: list[str],
    k: int,
    asked: Iterable[tuple[str, str]] = (),
) -> pd.DataFrame:
    """One row a pair: the neighbouring pairs around the top k of `order` (the study's order of
    terms), then any pair a user asked for."""
    pairs = [(a, b, f"{i + 1}-{i + 2}", False) for i, (a, b) in enumerate(neighbours(order, k))]
    pairs += [(a, b, "", True) for a, b in asked]
    rows = []
    for a, b, positions, was_asked in pairs:
        o = compare(scores, design, a, b)
        rows.append(
            {
                "a": a,
                "b": b,
                "positions": positions,
                "a_outranks_b": o.share.value,
                "a_outranks_b_ci_low": o.share.ci_low,
                "a_outranks_b_ci_high": o.share.ci_high,
                "importance_difference": o.difference.value,
                "importance_difference_ci_low": o.difference.ci_low,
                "importance_difference_ci_high": o.difference.ci_high,
                "verdict": o.verdict,
                "asked": was_asked,
            }
        )
    return pd.DataFrame(rows, columns=ORDERING_COLUMNS)


RELIABLE_COLUMNS = ["term", "topk_frequency", "lower_bound", "n_split_seeds", "reliable"]


def reliable(scores: pd.DataFrame, design: by_split.Design, k: int, level: float) -> pd.DataFrame:
    """Per term in some run's top k: its top-k frequency (the mean over split seeds of each
    split seed's share of runs), the CONFIDENCE lower bound of that frequency by split seed
    (intervals.share_lower_bound), and whether the bound reaches `level`: the reliably-top
    set. Most reliable first."""
    Z = stability.top_k(scores.to_numpy(float), k).astype(float)
    unit = design.unit()
    rows = []
    for f, term in enumerate(scores.columns):
        if Z[:, f].sum() == 0:
            continue
        shares = by_split.unit_means(Z[:, f], unit)
        bound = intervals.share_lower_bound(shares, CONFIDENCE)
        rows.append(
            {
                "term": term,
                "topk_frequency": float(shares.mean()),
                "lower_bound": bound,
                "n_split_seeds": design.n_groups,
                "reliable": bool(bound >= level),  # a nan bound (too few split seeds): not
            }
        )
    table = pd.DataFrame(rows, columns=RELIABLE_COLUMNS)
    table = table.sort_values(["lower_bound", "topk_frequency"], ascending=False, kind="mergesort")
    return table.reset_index(drop=True)


def near_best_keys(
    front: pd.DataFrame | None,
    by_config: pd.DataFrame,
    lower_is_better: bool,
    within: float | None = None,
) -> list[str]:
    """The settings whose score cannot be told apart from the best setting's: the Pareto
    table's `as_accurate` (the paired comparison by split seed; without an interval only the
    best), or, with `within`, those whose mean is at most that far from the best's. A sweep
    of one setting: that setting."""
    if front is None or front.empty:
        return [str(k) for k in by_config[CONFIG_KEY]]
    if within is None:
        return [str(k) for k in front.loc[front["as_accurate"].astype(bool), CONFIG_KEY]]
    means = front["metric_mean"].astype(float)
    if means.isna().all():
        return []
    gap = (means - means.min()) if lower_is_better else (means.max() - means)
    return [str(k) for k in front.loc[gap <= within, CONFIG_KEY]]


RANGE_COLUMNS = [
    "term",
    "n_runs",
    "importance_median",
    "importance_p05",
    "importance_p95",
    "importance_min",
    "importance_max",
    "best_run_importance",
    "topk_frequency",
    "in_every_top_k",
    "in_no_top_k",
]


def importance_ranges(scores: pd.DataFrame, k: int, best_run: str | None) -> pd.DataFrame:
    """Per term over a set of runs (the near-best models): its importance's median, 5th-95th
    percentile and min-max, the best run's importance, its top-k frequency, and whether it is
    in every run's top k or in none. Highest median first."""
    values = scores.to_numpy(float)
    Z = stability.top_k(values, k)
    best = (
        scores.loc[best_run].to_numpy(float)
        if best_run in scores.index
        else np.full(values.shape[1], math.nan)
    )
    share = Z.mean(axis=0)
    table = pd.DataFrame(
        {
            "term": scores.columns,
            "n_runs": len(values),
            "importance_median": np.median(values, axis=0),
            "importance_p05": np.percentile(values, 5, axis=0),
            "importance_p95": np.percentile(values, 95, axis=0),
            "importance_min": values.min(axis=0),
            "importance_max": values.max(axis=0),
            "best_run_importance": best,
            "topk_frequency": share,
            "in_every_top_k": share == 1,
            "in_no_top_k": share == 0,
        },
        columns=RANGE_COLUMNS,
    )
    table = table.sort_values("importance_median", ascending=False, kind="mergesort")
    return table.reset_index(drop=True)
