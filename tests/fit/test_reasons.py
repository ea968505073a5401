"""A model's reasons for a row (fit/reasons.py): its strongest terms by absolute contribution,
each contribution what interpret's `eval_terms` gives the row (for 3 or more classes: the
predicted class's, centred over the classes), whatever the task."""

import numpy as np
import pandas as pd
import pytest
from interpret.glassbox import ExplainableBoostingClassifier, ExplainableBoostingRegressor
from sklearn.datasets import make_classification, make_regression

from ebm_study.fit.reasons import reason_codes, strongest

FAST = {"outer_bags": 2, "max_rounds": 200, "interactions": 0, "n_jobs": 1, "random_state": 0}
R = 3


def frame(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=200, n_features=5, n_informative=3, random_state=0)
    return ExplainableBoostingClassifier(**FAST).fit(frame(X), y), frame(X).head(30)


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=5, n_informative=3, random_state=0)
    return ExplainableBoostingRegressor(**FAST).fit(frame(X), y), frame(X).head(30)


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(
        n_samples=300,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    labels = np.array(["low", "mid", "high"])[y]
    return ExplainableBoostingClassifier(**FAST).fit(frame(X), labels), frame(X).head(30)


def listed(codes: pd.DataFrame, j: int) -> tuple[pd.Series, np.ndarray]:
    return codes[f"reason_{j}"], codes[f"reason_{j}_contribution"].to_numpy()


def assert_strongest_first(codes: pd.DataFrame, ebm, scores: np.ndarray) -> None:
    """Each row's reasons carry their terms' own scores, largest |score| first, and no term
    left out is stronger than the weakest one listed."""
    terms = list(ebm.term_names_)
    for i in range(len(codes)):
        names = [listed(codes, j)[0].iloc[i] for j in range(1, R + 1)]
        values = np.array([listed(codes, j)[1][i] for j in range(1, R + 1)])
        assert len(set(names)) == R
        assert np.allclose(values, [scores[i, terms.index(n)] for n in names])
        assert np.all(np.diff(np.abs(values)) <= 1e-12)
        rest = [abs(scores[i, t]) for t, name in enumerate(terms) if name not in names]
        assert max(rest) <= abs(values[-1]) + 1e-12


@pytest.mark.parametrize("model", ["binary", "regression"])
def test_contributions_are_eval_terms_strongest_first(model, request):
    ebm, X = request.getfixturevalue(model)
    codes = reason_codes(ebm, X, R)
    expected = [f"reason_{j}{s}" for j in range(1, R + 1) for s in ("", "_contribution")]
    assert list(codes.columns) == expected and len(codes) == len(X)
    scores = ebm.eval_terms(X)
    assert scores.shape == (len(X), len(ebm.term_names_))
    assert_strongest_first(codes, ebm, scores)


def test_binary_contributions_add_up_to_the_log_odds(binary):
    """What a two-class contribution is a contribution to: the row's log-odds of classes_[1]."""
    ebm, X = binary
    codes = reason_codes(ebm, X, len(ebm.term_names_))
    total = ebm.intercept_[0] + sum(listed(codes, j)[1] for j in range(1, len(ebm.term_names_) + 1))
    p = ebm.predict_proba(X)[:, 1]
    assert np.allclose(total, np.log(p / (1 - p)))


def test_three_classes_explain_the_predicted_class_centred_over_the_classes(three_classes):
    ebm, X = three_classes
    scores = ebm.eval_terms(X)  # rows x terms x classes
    assert scores.shape == (len(X), len(ebm.term_names_), 3)
    predicted = [list(ebm.classes_).index(c) for c in ebm.predict(X)]
    assert len(set(predicted)) == 3  # every class is some row's: each one's reasons checked
    centred = scores - scores.mean(axis=2, keepdims=True)
    at_predicted = centred[np.arange(len(X)), :, predicted]
    codes = reason_codes(ebm, X, R)
    assert_strongest_first(codes, ebm, at_predicted)
    # Not the raw score: centring changes some row's reasons or values.
    raw = scores[np.arange(len(X)), :, predicted]
    assert not np.allclose(raw, at_predicted)


def test_ties_go_to_the_earlier_term():
    contributions = np.array([[1.0, -2.0, 2.0, 0.5], [0.0, 0.0, 0.0, 0.0], [3.0, -3.0, 1.0, -3.0]])
    assert strongest(contributions, 2).tolist() == [[1, 2], [0, 1], [0, 1]]


def test_asking_for_more_reasons_than_terms_lists_every_term_once(binary):
    assert strongest(np.array([[0.1, -0.3]]), 5).tolist() == [[1, 0]]
    ebm, X = binary
    codes = reason_codes(ebm, X, 10)
    d = len(ebm.term_names_)
    assert list(codes.columns)[-2:] == [f"reason_{d}", f"reason_{d}_contribution"]
    assert len(codes.columns) == 2 * d
    for i in range(len(codes)):
        assert sorted(codes.loc[i, [f"reason_{j}" for j in range(1, d + 1)]]) == sorted(
            ebm.term_names_
        )
