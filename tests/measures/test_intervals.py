"""The intervals: Wilson's for a share, the jackknife by run and by group, which one a number of
runs gets."""

import math

import numpy as np
import pytest

from ebm_study.measures import intervals, stability


def test_wilson_interval_known_values():
    low, high = intervals.wilson(np.array([0, 5, 10]), 10)
    assert low[0] == 0 and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert (low[1], high[1]) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert high[2] == pytest.approx(1) and low[2] == pytest.approx(0.7225, abs=1e-4)


def test_a_jackknife_interval_needs_three_units_and_says_why():
    assert math.isnan(intervals.from_left_out(0.5, np.array([0.4, 0.6])).ci_low)
    assert (
        intervals.from_left_out(0.5, np.array([0.4, 0.6])).note == "no interval with 2 split seeds"
    )
    from scipy import stats

    left = np.array([0.4, 0.5, 0.6])
    est = intervals.from_left_out(0.5, left)
    half = stats.t.ppf(0.975, 2) * math.sqrt(2 / 3 * 0.02)
    assert (est.ci_low, est.ci_high) == pytest.approx((0.5 - half, 0.5 + half))
    assert intervals.from_left_out(0.5, np.array([0.4, np.nan, 0.6])).note.startswith(
        "no interval: a left-out value is undefined"
    )


def test_more_split_seeds_narrow_the_interval_as_t_over_root_g():
    from scipy import stats

    n = intervals.split_seeds_to_narrow(4)
    width = lambda g: stats.t.ppf(0.975, g - 1) / math.sqrt(g)  # noqa: E731
    assert width(n) <= width(4) / 2 < width(n - 1)


def test_the_delete_a_group_jackknife_leaves_whole_groups_out():
    from scipy import stats

    rng = np.random.default_rng(11)
    Z = stability.top_k(rng.random((8, 10)), 3)
    groups = np.array([0, 0, 1, 1, 2, 2, 3, 3])  # two model seeds on each of four split seeds
    est = intervals.jackknife(stability.nogueira(Z), Z, stability.nogueira, groups)
    left = np.array([stability.nogueira(Z[groups != g]).value for g in range(4)])
    half = stats.t.ppf(0.975, 3) * math.sqrt(3 / 4 * np.sum((left - left.mean()) ** 2))
    assert est.value == stability.nogueira(Z).value
    assert (est.ci_low, est.ci_high) == pytest.approx((est.value - half, est.value + half))
    # Not the leave-one-run-out interval, which counts 8 independent runs.
    by_run = intervals.jackknife(stability.nogueira(Z), Z, stability.nogueira)
    assert by_run.ci_high - by_run.ci_low != pytest.approx(est.ci_high - est.ci_low)
    # Two groups: no interval, said so.
    two = intervals.jackknife(stability.nogueira(Z), Z, stability.nogueira, groups // 2)
    assert math.isnan(two.ci_low) and two.note == "no interval with 2 groups of runs"
