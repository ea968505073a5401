"""The importance table is sorted and complete; the chart shows every term, top first."""

import numpy as np
import pytest
from interpret.glassbox import ExplainableBoostingClassifier
from sklearn.datasets import load_breast_cancer

from ebm_study.fit import importance


@pytest.fixture(scope="module")
def fitted():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    ebm = ExplainableBoostingClassifier(
        interactions=2, outer_bags=1, max_rounds=300, n_jobs=1, random_state=0
    )
    return ebm.fit(X, y)


def test_table_is_sorted_most_important_first_with_ranks(fitted):
    table = importance.table(fitted)
    assert list(table.columns) == ["rank", "term", "importance", "kind"]
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert np.all(np.diff(table["importance"].to_numpy()) <= 0)
    assert len(table) == len(fitted.term_names_) == 32


def test_table_matches_interpret_and_marks_pairs(fitted):
    table = importance.table(fitted).set_index("term")
    for name, value in zip(fitted.term_names_, fitted.term_importances(), strict=True):
        assert table.loc[name, "importance"] == pytest.approx(value)
    pairs = table[table["kind"] == "pair"]
    assert len(pairs) == 2 and all(" & " in t for t in pairs.index)


def test_chart_has_every_term_top_first(fitted):
    table = importance.table(fitted)
    fig = importance.bar_chart(table)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == table["term"].tolist()
    # Inverted y axis: the first (most important) label is drawn at the top.
    assert ax.yaxis_inverted()
    # Tall enough for every label: at least a quarter inch a term.
    assert fig.get_figheight() >= 0.25 * len(table)


@pytest.fixture(scope="module")
def bagged():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    ebm = ExplainableBoostingClassifier(
        interactions=2, outer_bags=6, max_rounds=300, n_jobs=1, random_state=0
    )
    return ebm.fit(X, y)


def test_per_bag_importances_average_back_to_interprets(bagged):
    bags = importance.per_bag(bagged)
    assert bags.shape == (6, len(bagged.term_names_))
    # The same definition on the bags' averaged scores is term_importances() itself.
    averaged = [
        np.abs(np.mean(s, axis=0)).reshape(-1) @ np.asarray(w).reshape(-1) / np.sum(w)
        for s, w in zip(bagged.bagged_scores_, bagged.bin_weights_, strict=True)
    ]
    assert np.allclose(averaged, bagged.term_importances("avg_weight"), rtol=1e-9, atol=1e-12)
    assert np.all(bags.mean(axis=0) >= np.asarray(averaged) - 1e-12)  # |mean| <= mean |.|


def test_the_table_carries_the_bags_spread_and_top_k_shares(bagged):
    table = importance.table(bagged, top_k=5)
    assert list(table.columns)[-3:] == ["importance_low", "importance_high", "p_top_k"]
    assert np.all(table["importance_low"] <= table["importance_high"])
    assert table["p_top_k"].between(0, 1).all() and table["p_top_k"].sum() == pytest.approx(5)
    bags = importance.per_bag(bagged)
    from ebm_study.measures import stability

    expected = stability.nogueira(stability.top_k(bags, 5)).value
    assert importance.within_run_stability(bagged, 5) == expected
    chart = importance.bar_chart(table, top_k=5)
    ax = chart.axes[0]
    assert any(line.get_linestyle() == "--" for line in ax.get_lines())  # the top-k cut
    from matplotlib.container import ErrorbarContainer

    assert any(isinstance(c, ErrorbarContainer) for c in ax.containers)  # the bags' range


def _three_classes():
    """Three classes with a text feature and missing values: the shape users bring."""
    rng = np.random.default_rng(0)
    n = 240
    import pandas as pd

    colour = rng.choice(["red", "green", "blue"], n)
    a, b = rng.normal(size=n), rng.normal(size=n)
    logits = np.stack([a + 1.5 * (colour == "red"), b + (colour == "green"), 0.3 * a])
    y = np.array(["x", "y", "z"])[np.argmax(logits + rng.normal(0, 0.7, logits.shape), axis=0)]
    a[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"colour": colour, "a": a, "b": b, "c": rng.normal(size=n)}), y


@pytest.mark.parametrize("task", ["binary", "three classes", "regression"])
def test_each_bags_importance_is_interprets_own_on_that_bags_scores(task):
    """interpret's term_importances() on a copy of the model holding one bag's scores is the
    oracle: the per-bag definition is interpret's, for every kind of target."""
    from interpret.glassbox import ExplainableBoostingRegressor

    X, y = _three_classes()
    if task == "binary":
        y = (y == "x").astype(int)
    estimator = ExplainableBoostingClassifier
    if task == "regression":
        y = X["b"].to_numpy() * 3 + np.random.default_rng(1).normal(size=len(X))
        estimator = ExplainableBoostingRegressor
    ebm = estimator(
        outer_bags=3, interactions=1, max_rounds=200, n_jobs=1, random_state=0,
        feature_types=["nominal", "auto", "auto", "auto"],
    ).fit(X, y)  # fmt: skip
    bags = importance.per_bag(ebm)
    assert bags.shape == (3, len(ebm.term_names_))
    for b in range(3):
        one = ebm.copy()
        one.term_scores_ = [np.asarray(s)[b] for s in ebm.bagged_scores_]
        assert np.allclose(bags[b], one.term_importances("avg_weight"), rtol=1e-12, atol=0)
    table = importance.table(ebm, top_k=2)
    assert table["p_top_k"].sum() == pytest.approx(2)
    assert np.isfinite(importance.within_run_stability(ebm, 2))  # 3 bags: defined
