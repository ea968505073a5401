"""The importance table is sorted and complete; the chart shows every term, top first."""

import numpy as np
import pytest
from interpret.glassbox import ExplainableBoostingClassifier
from sklearn.datasets import load_breast_cancer

from ebm_study import importance


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
