"""A model's contributions on rows, read through interpret's own binning: its shapes, text
categories and several classes, against interpret itself."""

import numpy as np
import pandas as pd
import pytest
from interpret.glassbox import ExplainableBoostingClassifier
from sklearn.datasets import load_breast_cancer

from ebm_study.fit import contributions
from ebm_study.study import shape_plots


def test_a_runs_contributions_are_interprets_own():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    ebm = ExplainableBoostingClassifier(
        interactions=0, outer_bags=4, max_rounds=300, n_jobs=1, random_state=0
    ).fit(X, y)
    index = contributions.bin_indexes(ebm, X)
    curve = contributions.contributions(ebm, "worst radius", index)
    t = list(ebm.term_names_).index("worst radius")
    assert np.allclose(curve, ebm.eval_terms(X)[:, t], rtol=0, atol=1e-12)  # interpret's own
    assert curve.shape == (len(X),)
    assert contributions.contributions(ebm, "no such term", index) is None
    fig = shape_plots.shape_chart(
        "worst radius", X["worst radius"], [curve], ["lr=0.01"], 1.0, classes=["0", "1"]
    )
    assert "worst radius" in [ax.get_xlabel() for ax in fig.axes]


def _users_table(classes: int):
    """Text categories, missing values and an unseen category: what users bring."""
    rng = np.random.default_rng(1)
    n = 300
    colour = rng.choice(["red", "green", "blue"], n)
    a, b = rng.normal(size=n), rng.normal(size=n)
    logits = np.stack([a + 2 * (colour == "red"), b + (colour == "green"), 0.3 * a])[:classes]
    y = np.argmax(logits + rng.normal(0, 0.5, logits.shape), axis=0)
    a[rng.random(n) < 0.1] = np.nan
    X = pd.DataFrame({"colour": colour, "a": a, "b": b})
    ebm = ExplainableBoostingClassifier(
        interactions=0, outer_bags=3, max_rounds=200, n_jobs=1, random_state=0,
        feature_types=["nominal", "auto", "auto"],
    ).fit(X, np.array(["low", "mid", "high"])[y])  # fmt: skip
    fresh = X.head(6).assign(colour=["red", "purple", None, "blue", "green", "red"])
    return ebm, pd.concat([X, fresh], ignore_index=True)


@pytest.mark.parametrize("classes", [2, 3])
def test_shapes_of_text_categories_and_of_several_classes_are_interprets(classes):
    """Categories (an unseen one and a missing one included) are binned as interpret bins
    them; with 3 classes each row's contributions are centred over the classes."""
    ebm, X = _users_table(classes)
    index = contributions.bin_indexes(ebm, X)
    evaluated = np.asarray(ebm.eval_terms(X))
    for term in ("colour", "a", "b"):
        t = list(ebm.term_names_).index(term)
        curve = contributions.contributions(ebm, term, index)
        expected = evaluated[:, t]
        if classes == 3:
            assert curve.shape == (len(X), 3)
            expected = expected - expected.mean(axis=1, keepdims=True)
        assert np.allclose(curve, expected, rtol=0, atol=1e-12), term
    unknown = len(ebm.bins_[0][0]) + 1
    assert index[-5, 0] == unknown and index[-4, 0] == 0  # "purple"; missing
    assert contributions.is_categorical(ebm, "colour") and not contributions.is_categorical(
        ebm, "a"
    )
    curves = [contributions.contributions(ebm, "colour", index)] * 2
    names = [str(c) for c in ebm.classes_]
    fig = shape_plots.shape_chart(
        "colour", X["colour"], curves, ["lr=0.01"] * 2, 1.0, categorical=True, classes=names
    )
    drawn = [ax for ax in fig.axes if ax.get_visible()]
    assert len(drawn) == (3 if classes == 3 else 1)
    ticks = [t.get_text().split("\n")[0] for t in drawn[0].get_xticklabels()]
    assert set(ticks) == {"red", "green", "blue", "purple", shape_plots.MISSING}


def _by_hand(ebm, X: pd.DataFrame, term: str) -> np.ndarray:
    """A main term's contribution to each row from the model's cut points and scores alone:
    bin 0 holds a missing value, bin 1 + (cuts at or below x) the others."""
    t = list(ebm.term_names_).index(term)
    (feature,) = ebm.term_features_[t]
    cuts = np.asarray(ebm.bins_[feature][0], dtype=float)
    bins = 1 + np.searchsorted(cuts, X.iloc[:, feature].to_numpy(float), side="right")
    return np.asarray(ebm.term_scores_[t], dtype=float)[bins]


@pytest.mark.parametrize("target", ["binary", "3 classes", "regression"])
def test_a_groups_importance_is_the_mean_absolute_sum_of_its_members_contributions(target):
    from interpret.glassbox import ExplainableBoostingRegressor

    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    X["b"] = X["a"] + rng.normal(0, 0.3, 200)  # a near-twin of a
    signal = X["a"] + 0.5 * X["c"]
    if target == "regression":
        model, y = ExplainableBoostingRegressor, signal + rng.normal(0, 0.1, 200)
    else:
        cuts = [0.0] if target == "binary" else [-0.5, 0.5]
        model, y = ExplainableBoostingClassifier, np.digitize(signal, cuts)
    ebm = model(interactions=0, outer_bags=2, max_rounds=150, n_jobs=1, random_state=0).fit(X, y)
    got = contributions.unit_importances(
        ebm, X, {"a+b": ["a", "b"], "c": ["c"], "none": ["absent"]}
    )
    summed = _by_hand(ebm, X, "a") + _by_hand(ebm, X, "b")  # rows [x classes]
    assert got["a+b"] == pytest.approx(np.abs(summed).mean(), abs=1e-12)
    assert got["none"] == 0.0
    # One term alone on the training rows is interpret's own importance.
    c = list(ebm.term_names_).index("c")
    assert got["c"] == pytest.approx(ebm.term_importances("avg_weight")[c], abs=1e-12)
