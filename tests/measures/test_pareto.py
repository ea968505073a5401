"""The Pareto front of accuracy and stability: checked against a brute-force definition."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from ebm_study.measures import pareto
from ebm_study.tracking.tags import CONFIG_KEY, TRIAL


def dominated(i: int, x, y) -> bool:
    return any(
        x[j] >= x[i] and y[j] >= y[i] and (x[j] > x[i] or y[j] > y[i])
        for j in range(len(x))
        if j != i
    )


def test_the_front_is_exactly_the_points_no_other_dominates():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 12))
        x = rng.integers(0, 5, n) / 4  # ties on purpose
        y = rng.integers(0, 5, n) / 4
        mask = pareto.front_mask(x, y, lower_is_better=False)
        assert list(mask) == [not dominated(i, x, y) for i in range(n)]
        lower = pareto.front_mask(-x, y, lower_is_better=True)  # a loss: smaller wins
        assert list(lower) == list(mask)


def test_an_undefined_objective_is_never_on_the_front():
    mask = pareto.front_mask(np.array([0.9, math.nan, 0.8]), np.array([0.5, 0.9, math.nan]), False)
    assert list(mask) == [True, False, False]


def frame():
    by_config = pd.DataFrame(
        {
            CONFIG_KEY: ["a", "b", "c"],
            "setting": ["lr=0.1", "lr=0.01", "lr=0.05"],
            "n_runs": [4, 4, 4],
            "nogueira": [0.3, 0.8, 0.2],
            "nogueira_ci_low": [0.2, 0.7, 0.1],
            "nogueira_ci_high": [0.4, 0.9, 0.3],
        }
    )
    f1 = {"a": [0.97, 0.98, 0.97, 0.98], "b": [0.95, 0.96, 0.95, 0.96], "c": [0.9] * 4}
    runs = pd.DataFrame(
        [
            {CONFIG_KEY: key, "f1": v, TRIAL: str(t), "split_seed": str(s)}
            for t, (key, values) in enumerate(f1.items())
            for s, v in enumerate(values)
        ]
    )
    return by_config, runs


def test_the_table_marks_the_front_and_recommends_the_most_accurate_stable_enough():
    by_config, runs = frame()
    table = pareto.table(by_config, runs, "f1", "nogueira", lower_is_better=False)
    front = table.set_index(CONFIG_KEY)
    assert front["on_front"].to_dict() == {"a": True, "b": True, "c": False}
    assert front.loc["a", "recommended"] and front.loc["a", "trials"] == "0"
    assert math.isclose(front.loc["a", "metric_mean"], 0.975)
    assert front.loc["a", "metric_ci_low"] < 0.975 < front.loc["a", "metric_ci_high"]
    floor = pareto.table(by_config, runs, "f1", "nogueira", False, min_stability=0.5)
    assert floor.set_index(CONFIG_KEY)["recommended"].to_dict() == {
        "a": False,
        "b": True,
        "c": False,
    }
    assert pareto.recommend(floor, 0.95, False) is None
    assert "**Recommended: lr=0.01**" in pareto.sentence(floor, "nogueira", 0.5)
    assert "No setting on the front reaches Phi >= 0.95" in pareto.sentence(
        pareto.table(by_config, runs, "f1", "nogueira", False, 0.95), "nogueira", 0.95
    )


def test_every_pair_on_the_front_trades_one_objective_for_the_other():
    by_config, runs = frame()
    table = pareto.table(by_config, runs, "f1", "nogueira", False)
    on = table[table["on_front"]]
    for (_, p), (_, q) in itertools.combinations(on.iterrows(), 2):
        assert (p["metric_mean"] - q["metric_mean"]) * (p["stability"] - q["stability"]) < 0


def test_the_most_stable_of_the_settings_as_accurate_as_the_best_is_recommended():
    """b's F1 is a's to within the split seeds' noise (paired differences -0.005, 0.01, -0.01,
    0.005): it cannot be told apart from the best, and it is far more stable."""
    by_config, runs = frame()
    runs.loc[runs[CONFIG_KEY] == "b", "f1"] = [0.975, 0.97, 0.98, 0.975]
    from ebm_study.measures.stability import Estimate

    def stability_difference(a: str, b: str) -> Estimate:
        gap = {"a": 0.3, "b": 0.8, "c": 0.2}[a] - {"a": 0.3, "b": 0.8, "c": 0.2}[b]
        return Estimate(gap, gap - 0.6, gap + 0.6)  # wide: only a 0.6 gap would tell

    table = pareto.table(by_config, runs, "f1", "nogueira", False, None, stability_difference)
    rows = table.set_index(CONFIG_KEY)
    assert rows["as_accurate"].to_dict() == {"a": True, "b": True, "c": False}
    assert rows["recommended"].to_dict() == {"a": False, "b": True, "c": False}
    # a: its F1 and its Phi both within the paired intervals of b's: not told apart.
    assert rows["indistinct"].to_dict() == {"a": True, "b": False, "c": False}
    low, high = rows.loc["a", ["metric_vs_recommended_ci_low", "metric_vs_recommended_ci_high"]]
    assert low < 0 < high
    text = pareto.sentence(table, "nogueira", None)
    assert "**Recommended: lr=0.01**, the most stable of the 2 settings whose f1" in text
    assert "cannot be told apart from **lr=0.1** on either objective" in text


def test_what_cannot_be_told_apart_must_be_measured_and_not_worse():
    """A setting with no F1, or with too few split seeds for an interval, is never taken as
    accurate as the best; one clearly better than the best on their shared split seeds is."""
    by_config, runs = frame()
    runs.loc[runs[CONFIG_KEY] == "b", "f1"] = math.nan  # b: no score at all
    rows = pareto.table(by_config, runs, "f1", "nogueira", False).set_index(CONFIG_KEY)
    assert not rows.loc["b", "as_accurate"] and rows.loc["a", "recommended"]
    by_config, runs = frame()
    keep = ~((runs[CONFIG_KEY] == "b") & runs["split_seed"].isin(["2", "3"]))
    rows = pareto.table(by_config, runs[keep], "f1", "nogueira", False).set_index(CONFIG_KEY)
    assert not rows.loc["b", "as_accurate"]  # 2 split seeds shared: no interval, not tied
    # c is better than a on the split seeds they share, though a has the best unpaired mean.
    by_config, runs = frame()
    runs.loc[runs[CONFIG_KEY] == "c", "f1"] = [0.99, 0.995, 0.99, 0.995]
    runs.loc[runs[CONFIG_KEY] == "a", "f1"] = [0.97, 0.98, 0.97, 0.999]
    runs = runs[~((runs[CONFIG_KEY] == "c") & (runs["split_seed"] == "3"))]
    rows = pareto.table(by_config, runs, "f1", "nogueira", False).set_index(CONFIG_KEY)
    assert rows.loc["c", "as_accurate"]


def test_a_dominated_setting_is_never_recommended():
    by_config, runs = frame()
    by_config.loc[by_config[CONFIG_KEY] == "c", "nogueira"] = 0.8  # c as stable as b, less F1
    runs.loc[runs[CONFIG_KEY] == "c", "f1"] = [0.75, 0.99, 0.8, 0.99]  # noisy: not apart from a
    rows = pareto.table(by_config, runs, "f1", "nogueira", False).set_index(CONFIG_KEY)
    assert not rows.loc["c", "on_front"] and not rows.loc["c", "recommended"]
