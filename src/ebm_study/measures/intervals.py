"""Intervals for the study's measures, pure numpy: the delete-a-unit jackknife from left-out
values (by split seed, measures/by_split.py), the jackknife by refitting (leave a run, or a
group, out), how many split seeds would narrow one, Wilson's interval for a share, and the
t-interval of a mean."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ebm_study.measures.stability import (
    Z95,
    Estimate,
)

MIN_RUNS_FOR_INTERVAL = 3  # with 2 runs the measures' own intervals have zero width: none


def jackknife(
    estimate: Estimate, rows: np.ndarray, measure: Callable, groups: np.ndarray | None = None
) -> Estimate:
    """`estimate` (= `measure(rows)`) with the leave-one-run-out jackknife's 95% interval
    (Efron & Stein 1981; Shao & Tu 1995, ch. 2): variance (G-1)/G sum_g (theta_(-g) -
    mean)^2, t quantile on G-1 degrees of freedom, G = M runs. With `groups` (a label a run),
    the delete-a-group jackknife (Shao & Tu 1995, sec. 2.3; Kott 2001) leaves a whole group out
    at a time, G = the groups: for runs that are not independent, e.g. two model seeds on one
    split seed. No interval below MIN_RUNS_FOR_INTERVAL groups or where a left-out value is
    undefined."""
    M = len(rows)
    if not estimate.defined:
        return estimate
    labels = np.arange(M) if groups is None else np.asarray(groups)
    distinct = list(dict.fromkeys(labels.tolist()))
    G = len(distinct)
    if G < MIN_RUNS_FOR_INTERVAL:
        what = "runs" if groups is None else "groups of runs"
        return Estimate(estimate.value, note=f"no interval with {G} {what}")
    from scipy import stats  # imported on use, as in `stability.ranks`

    left_out = np.array([measure(rows[labels != g]).value for g in distinct])
    if np.isnan(left_out).any():
        return Estimate(estimate.value, note=f"no interval with {M} runs")
    variance = (G - 1) / G * float(np.sum((left_out - left_out.mean()) ** 2))
    half = float(stats.t.ppf(0.975, G - 1)) * math.sqrt(variance)
    return Estimate(estimate.value, estimate.value - half, estimate.value + half)


def wilson(successes: np.ndarray, n: int, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions successes / n (lower, upper)."""
    successes = np.asarray(successes, dtype=float)
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def from_left_out(value: float, left_out: np.ndarray, what: str = "split seeds") -> Estimate:
    """`value` with the delete-a-unit jackknife's 95% t interval from its left-out values."""
    if math.isnan(value):
        return Estimate(value)
    G = len(left_out)
    if G < MIN_RUNS_FOR_INTERVAL:
        return Estimate(value, note=f"no interval with {G} {what}")
    if np.isnan(left_out).any():
        return Estimate(value, note=f"no interval: a left-out value is undefined ({G} {what})")
    from scipy import stats  # imported on use, as in `stability.ranks`

    variance = (G - 1) / G * float(np.sum((left_out - left_out.mean()) ** 2))
    half = float(stats.t.ppf(0.975, G - 1)) * math.sqrt(variance)
    return Estimate(value, value - half, value + half)


def split_seeds_to_narrow(G: int, factor: float = 0.5) -> int:
    """About how many split seeds would make a jackknife interval from G of them `factor` as
    wide: its width goes as t(0.975, G-1) / sqrt(G) for the same spread between split seeds."""
    from scipy import stats

    def width(n: int) -> float:
        return float(stats.t.ppf(0.975, n - 1)) / math.sqrt(n)

    target, n = factor * width(max(G, 2)), max(G, 2)
    while width(n) > target and n < 100_000:
        n += 1
    return n
