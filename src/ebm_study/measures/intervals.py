"""Intervals for the study's measures, pure numpy: the jackknife (leave a run, or a group, out),
the choice between it and a measure's own asymptotic interval by the number of runs, Wilson's
interval for a share, and the t-interval of a mean."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from ebm_study.measures.stability import (
    Z95,
    Estimate,
)

MIN_RUNS_FOR_INTERVAL = 3  # with 2 runs the measures' own intervals have zero width: none
JACKKNIFE_BELOW = 10  # below this many runs the asymptotic variances are rough


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


def sized_interval(estimate: Estimate, rows: np.ndarray, measure: Callable) -> Estimate:
    """`estimate` (= `measure(rows)`, rows = runs) with an interval fit for its number of runs.

    Below MIN_RUNS_FOR_INTERVAL runs, none (the value stands; its interval is undefined). From
    there up to JACKKNIFE_BELOW runs, the leave-one-run-out jackknife (Efron & Stein 1981; Shao
    & Tu 1995, ch. 2): variance (M-1)/M * sum_i (theta_(-i) - mean theta_(-)), and a t
    interval on M-1 degrees of freedom, as the asymptotic variance is rough there. From
    JACKKNIFE_BELOW runs, the estimator's own asymptotic interval, unchanged.
    """
    if len(rows) >= JACKKNIFE_BELOW:
        return estimate
    return jackknife(estimate, rows, measure)


def wilson(successes: np.ndarray, n: int, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions successes / n (lower, upper)."""
    successes = np.asarray(successes, dtype=float)
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def mean_interval(values: pd.Series) -> tuple[float, float]:
    """The mean's 95% t-interval; nan with fewer than 2 values."""
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    from scipy import stats  # imported on use, as in stability.ranks

    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return float(values.mean() - half), float(values.mean() + half)
