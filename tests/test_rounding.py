"""Numbers show the digits their interval supports: two significant digits of its width."""

import math

import numpy as np
import pandas as pd

from ebm_study.rounding import decimals, interval, number, rounded_like
from ebm_study.study.tables import rounded


def test_the_interval_decides_the_digits_and_zeros_stay():
    # The issue's own two: a score known to 4 decimals, a stability to 2.
    assert interval(0.98341, 0.98071, 0.98612) == "0.9834 (0.9807–0.9861)"
    assert interval(0.4551, 0.2899, 0.6201) == "0.46 (0.29–0.62)"
    assert interval(0.4, 0.3, 0.5) == "0.40 (0.30–0.50)"  # zeros kept
    assert interval(12346.0, 12000.0, 12600.0) == "12350 (12000–12600)"  # tens
    assert interval(3.0, 1.0, 5.0) == "3.0 (1.0–5.0)"
    # 0.9834 and 0.9827 both print 0.983 at three significant digits, not here.
    assert interval(0.9834, 0.981, 0.986) != interval(0.9827, 0.981, 0.986)


def test_without_a_usable_interval_three_significant_digits():
    assert interval(0.5, math.nan, math.nan) == "0.500 (no interval)"
    assert interval(1.0, 1.0, 1.0) == "1.00 (1.00–1.00)"  # no width: no digits to read off
    assert interval(math.nan, math.nan, math.nan) == "n/a"
    # Float noise is no width, nor is a width that needs more than 6 places: significant digits.
    assert interval(0.6571428571428573, 0.657142857142857, 0.6571428571428576).startswith("0.657 (")
    assert interval(2e-7, 1e-7, 3e-7) == "2.00e-07 (1.00e-07–3.00e-07)"
    assert interval(-0.004, -0.2, 0.2) == "0.00 (-0.20–0.20)"  # no negative zero
    assert interval(np.int64(5), np.int64(3), np.int64(8)) == interval(5, 3, 8) == "5.0 (3.0–8.0)"
    assert interval(0.46, 0.2, None) == "0.460 (no interval)"
    assert decimals(0.2, 0.1) is None and decimals(math.nan, 1.0) is None
    assert decimals(0.0, 1e-5) == 6 and decimals(0.0, 1e-6) is None
    assert number(0.98) == "0.980"
    assert number(1234.0) == "1234" and number(-0.0) == "0.00"  # not 1.23e+03, not -0.00
    assert rounded_like(1234.0, None) == 1234.0 and rounded_like(17.0, None) == 17.0  # ranks


def test_tables_round_each_value_with_its_own_interval():
    table = pd.DataFrame(
        {
            "setting": ["a", "b"],
            "mean_f1": [0.983412, 0.982734],
            "f1_ci_low": [0.980712, 0.95],
            "f1_ci_high": [0.986123, 1.0],
            "nogueira": [0.451234, 0.7],
            "nogueira_ci_low": [0.288, math.nan],
            "nogueira_ci_high": [0.616, math.nan],
            "topk_frequency": [0.87512, 0.5],
            "topk_ci_low": [0.5012, 0.1],
            "topk_ci_high": [0.9893, 0.9],
            "metric_vs_best_ci_low": [-0.00312, -0.1],
            "metric_vs_best_ci_high": [0.00121, 0.1],
            "kendall_w": [0.123456, 0.5],
            "metric": ["f1", "f1"],  # pareto's: the score's name beside metric_mean
            "metric_mean": [0.985812, 0.98412],
            "metric_ci_low": [0.98231, 0.97912],
            "metric_ci_high": [0.98942, 0.98911],
            "n_runs": [8, 8],
        }
    )
    out = rounded(table)
    assert out["mean_f1"].tolist() == [0.9834, 0.983]  # row by row: 4 decimals, then 3
    assert out["f1_ci_low"].tolist() == [0.9807, 0.95]
    assert out["nogueira"].tolist() == [0.45, 0.7] and out["nogueira_ci_high"][0] == 0.62
    assert out["topk_frequency"].tolist() == [0.88, 0.5]
    assert out["metric_vs_best_ci_low"].tolist() == [-0.0031, -0.1]  # a pair without a value
    assert out["kendall_w"].tolist() == [0.123, 0.5]  # no interval: 3 significant digits
    assert out["n_runs"].tolist() == [8, 8] and out["setting"].tolist() == ["a", "b"]
    assert out["metric_mean"].tolist() == [0.9858, 0.9841] and out["metric"][0] == "f1"
    held = table.assign(mean_f1=pd.Series([0.983412, None], dtype=object))  # numbers as objects
    assert rounded(held)["mean_f1"][0] == 0.9834
