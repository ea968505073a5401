"""Near-twin features and the correlation-aware stability: groups on constructed data, the
redundancy matrix over main and pair terms, Phi_C against cases worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from ebm_study.measures import redundancy, stability
from ebm_study.settings import StudySettings
from ebm_study.study.compute import run_study


def constructed() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    c = rng.normal(size=300)
    return pd.DataFrame(
        {
            "a": a,
            "a_cubed": a**3,  # monotone in a: Spearman 1
            "a_noisy": a + rng.normal(scale=0.05, size=300),
            "c": c,
            "c_twin": -c,  # |rho| = 1: a mirror is a twin too
            "lone": rng.normal(size=300),
            "colour": ["red", "blue", "green"] * 100,  # no order: left out
        }
    )


def test_groups_are_connected_components_of_high_absolute_spearman():
    twins = redundancy.groups(constructed(), 0.9)
    members = twins.groupby("group")["term"].apply(sorted).to_dict()
    assert members == {1: ["a", "a_cubed", "a_noisy"], 2: ["c", "c_twin"]}
    assert twins.set_index("term").loc["c_twin", "max_abs_corr"] == pytest.approx(1.0)
    assert redundancy.groups(constructed(), 1.0)["term"].tolist() == ["a", "a_cubed", "c", "c_twin"]


def test_the_redundancy_matrix_links_twins_and_the_pairs_that_contain_them():
    twins = pd.DataFrame({"group": [1, 1], "term": ["x", "y"], "max_abs_corr": [0.95, 0.95]})
    terms = ["x", "y", "z", "x & z", "w & z"]
    C = redundancy.redundancy_matrix(terms, twins)
    expected = np.eye(5)
    for a, b in [(0, 1), (0, 3), (1, 3)]:  # x~y; the pair x & z shares x's group
        expected[a, b] = expected[b, a] = 1
    assert np.array_equal(C, expected)
    assert np.array_equal(redundancy.redundancy_matrix(terms, twins.iloc[:0]), np.eye(5))


def test_phi_c_is_phi_without_redundancy_and_one_for_twins_that_always_swap():
    rng = np.random.default_rng(1)
    Z = stability.top_k(rng.random((15, 12)), 4)
    assert stability.nogueira_corr(Z, np.eye(12)).value == stability.nogueira(Z).value  # exactly
    # Two perfect twins (terms 0 and 1) swap every other run; everything else holds.
    Z = np.zeros((6, 6))
    Z[:, 2:4] = 1
    Z[::2, 0] = 1
    Z[1::2, 1] = 1
    C = np.eye(6)
    C[0, 1] = C[1, 0] = 1
    # By hand: 1 - (2 * 0.3 / 6) / (0.5 * 0.5).
    assert stability.nogueira(Z).value == pytest.approx(0.6)
    assert stability.nogueira_corr(Z, C).value == pytest.approx(1.0)


def test_phi_c_by_hand_with_one_redundant_pair():
    # 3 runs over 4 terms, sets {0,2}, {1,2}, {0,3}; terms 0 and 1 redundant.
    Z = np.array([[1, 0, 1, 0], [0, 1, 1, 0], [1, 0, 0, 1]], dtype=float)
    C = np.eye(4)
    C[0, 1] = C[1, 0] = 1
    S = np.cov(Z, rowvar=False, ddof=1)
    off = np.mean([2 * 1] * 3) / (4 * 3) - 0.25  # k_i = 2: mean k(k-1) / d(d-1) - (kbar/d)^2
    numerator = np.trace(S) + 2 * S[0, 1]
    denominator = 4 * 0.25 + 2 * off
    assert stability.nogueira_corr(Z, C).value == pytest.approx(
        1 - numerator / denominator, abs=1e-12
    )


def test_the_study_reports_phi_c_and_each_groups_share():
    runs = pd.DataFrame(
        {"config_key": ["s"] * 6, "split_seed": range(6), "model_seed": [0] * 6, "f1": [0.9] * 6},
        index=[f"r{i}" for i in range(6)],
    )
    order = {0: ["x", "p", "q", "y", "z"], 1: ["y", "p", "q", "x", "z"]}  # x and y swap
    rows = [
        {"run_id": r, "term": t, "importance": 5.0 - j, "kind": "main"}
        for i, r in enumerate(runs.index)
        for j, t in enumerate(order[i % 2])
    ]
    twins = pd.DataFrame({"group": [1, 1], "term": ["x", "y"], "max_abs_corr": [0.97, 0.97]})
    study = run_study(runs, pd.DataFrame(rows), StudySettings(2, "all", 0.8, 0.9), twins=twins)
    # By hand: p_x = p_y = 1/2, s^2 = 6/5 * 1/4 each; 1 - (0.6 / 5) / (0.4 * 0.6) = 0.5
    assert study.headline["nogueira"] == pytest.approx(0.5)
    assert study.headline["nogueira_corr"] == pytest.approx(1.0)
    assert study.by_config.iloc[0]["nogueira_corr"] == pytest.approx(1.0)
    assert study.twins["share_topk"].tolist() == [1.0, 1.0]
    none = run_study(runs, pd.DataFrame(rows), StudySettings(2, "all", 0.8, None))
    assert np.isnan(none.headline["nogueira_corr"]) and none.twins is None


def test_the_study_averages_each_runs_stability_over_its_bags():
    runs = pd.DataFrame(
        {
            "config_key": ["s", "s", "t", "t"],
            "split_seed": [0, 1, 0, 1],
            "model_seed": [0] * 4,
            "f1": [0.9] * 4,
            "stability_within_run": [0.8, 0.6, 0.5, np.nan],  # nan: a run of one bag
        },
        index=["a", "b", "c", "d"],
    )
    rows = [
        {"run_id": r, "term": t, "importance": v, "kind": "main"}
        for r in runs.index
        for t, v in zip("xyz", [3.0, 2.0, 1.0], strict=True)
    ]
    study = run_study(runs, pd.DataFrame(rows), StudySettings(1, "all", 0.8, None))
    assert study.headline["within_run"] == pytest.approx((0.8 + 0.6 + 0.5) / 3)
    by = study.by_config.set_index("config_key")["within_run"]
    assert by["s"] == pytest.approx(0.7) and by["t"] == pytest.approx(0.5)
