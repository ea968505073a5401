"""Intervals for the study's measures, pure numpy: the delete-a-unit jackknife from left-out
values (by split seed, measures/by_split.py), the jackknife by refitting (leave a run, or a
group, out), how many split seeds would narrow one, Wilson's interval for a share, the
t-interval of a mean, and a lower bound for a share by split seed (the reliably-top set)."""

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


def _effective(
    unit_shares: np.ndarray, cap: float | None = None, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """(p, n*, successes) of per-unit shares: Korn & Graubard's (1998) effective sample size
    n* = p (1 - p) / var(p), the variance from the units' spread, at most `cap` (None: G, the
    number of units); G when every unit's share is 0 or every one is 1: a property seen in
    every run (or none) says nothing of how alike a split seed's runs are, so each split seed
    counts as one draw. None below MIN_RUNS_FOR_INTERVAL units."""
    shares = np.asarray(unit_shares, dtype=float)
    G = len(shares)
    if G < MIN_RUNS_FOR_INTERVAL:
        return None
    p = float(shares.mean())
    limit = float(G if cap is None else max(cap, G))
    at_edge = p <= 1e-12 or p >= 1 - 1e-12
    if float(np.ptp(shares)) <= 1e-9 and at_edge:
        return p, float(G), p * G
    variance = float(shares.var(ddof=1)) / G
    # No spread between split seeds away from 0 and 1: n* is unbounded, so it is the cap.
    n = limit if variance <= 1e-18 else min(limit, p * (1 - p) / variance)
    if cap is not None and cap > G:
        # Korn & Graubard's degrees-of-freedom correction: the variance comes from G units,
        # not from the runs; without it G = 3 to 5 split seeds cover about 90%.
        from scipy import stats

        q = 1 - (1 - confidence) / 2
        n *= (stats.t.ppf(q, cap - 1) / stats.t.ppf(q, G - 1)) ** 2
    return p, n, p * n


def share_lower_bound(unit_shares: np.ndarray, confidence: float = 0.95) -> float:
    """A one-sided lower confidence bound for the mean of per-unit shares in [0, 1] (each split
    seed's share of its runs with some property): Clopper & Pearson's bound at the effective
    sample size (`_effective`), here never more than G, the split seeds: a split seed counts at
    most as one independent draw, so the bound of a term that misses one run is never above
    that of a term in every run (with Korn & Graubard's cap, the runs, it would be). A property
    seen in every run of G split seeds is bounded by (1 - confidence)^(1/G): 0.74 with 10, 0.9
    needs 29. nan below MIN_RUNS_FOR_INTERVAL."""
    from scipy import stats

    found = _effective(unit_shares)
    if found is None:
        return math.nan
    _, n, successes = found
    if successes <= 0:
        return 0.0
    return float(stats.beta.ppf(1 - confidence, successes, n - successes + 1))


def share_interval(unit_shares: np.ndarray, n_runs: int, confidence: float = 0.95) -> Estimate:
    """The mean of per-unit shares with Korn & Graubard's interval: Clopper & Pearson's at the
    effective sample size (`_effective`, at most the `n_runs` runs and corrected for the G - 1
    degrees of freedom, as they publish it; G when every split seed's share is 0 or every one
    is 1), its ends never beyond what G split seeds that all agree give, tail^(1/G): so a pair
    won in every run is never less settled than one with losses (spreading the same wins
    otherwise over the split seeds can still move the interval). Within
    [0, 1], and never of zero width at 0 or 1, where a t interval would claim certainty from a
    handful of split seeds."""
    from scipy import stats

    shares = np.asarray(unit_shares, dtype=float)
    found = _effective(shares, n_runs, confidence)
    if found is None:
        value = float(shares.mean()) if len(shares) else math.nan
        return Estimate(value, note=f"no interval with {len(shares)} split seeds")
    p, n, x = found
    tail = (1 - confidence) / 2
    low = 0.0 if x <= 0 else float(stats.beta.ppf(tail, x, n - x + 1))
    high = 1.0 if x >= n else float(stats.beta.ppf(1 - tail, x + 1, n - x))
    # Never surer than G split seeds that all agree: one loss must not look better than none
    # (the effective size jumps from G to about the runs as soon as split seeds differ).
    G = len(shares)
    edge = tail ** (1 / G)
    return Estimate(p, min(low, edge), max(high, 1 - edge))


def units_for_bound(level: float, confidence: float = 0.95) -> int:
    """The fewest split seeds at which a property seen in every run can be bounded at `level`
    (`share_lower_bound`): (1 - confidence)^(1/G) >= level."""
    return math.ceil(math.log(1 - confidence) / math.log(level))
