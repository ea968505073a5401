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


def test_intervals_need_three_runs_and_use_the_jackknife_below_ten():
    rng = np.random.default_rng(3)
    two = stability.top_k(rng.random((2, 12)), 4)
    est = intervals.sized_interval(stability.nogueira(two), two, stability.nogueira)
    assert est.value == stability.nogueira(two).value  # the value stands
    assert math.isnan(est.ci_low) and "no interval with 2 runs" in est.note

    five = stability.top_k(rng.random((5, 12)), 4)
    est = intervals.sized_interval(stability.nogueira(five), five, stability.nogueira)
    # By hand: the leave-one-out values, their jackknife variance, a t interval on 4 df.
    loo = np.array([stability.nogueira(np.delete(five, i, axis=0)).value for i in range(5)])
    half = 2.7764451051977987 * math.sqrt(4 / 5 * np.sum((loo - loo.mean()) ** 2))
    assert est.value == stability.nogueira(five).value
    assert est.ci_low == pytest.approx(est.value - half, abs=1e-12)
    assert est.ci_high == pytest.approx(est.value + half, abs=1e-12)

    many = stability.top_k(rng.random((12, 12)), 4)
    assert intervals.sized_interval(stability.nogueira(many), many, stability.nogueira) == (
        stability.nogueira(many)
    )  # ten runs or more: the asymptotic interval, unchanged


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
