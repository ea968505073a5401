"""Metrics agree with scikit-learn's, for two classes and for more."""

import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression

from ebm_study.fit.metrics import evaluate


def test_binary_metrics_use_the_positive_class():
    X, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(max_iter=5000).fit(X[:400], y[:400])
    scores = evaluate(model, X[400:], y[400:])
    pred = model.predict(X[400:])
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y[400:], pred))
    assert scores["f1"] == pytest.approx(skm.f1_score(y[400:], pred))
    assert scores["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y[400:], model.predict_proba(X[400:])[:, 1])
    )
    assert set(scores) == {
        *("accuracy", "f1", "precision", "recall", "roc_auc", "average_precision", "log_loss")
    }
    assert scores["average_precision"] == pytest.approx(
        skm.average_precision_score(y[400:], model.predict_proba(X[400:])[:, 1])
    )
    assert 0.8 < scores["accuracy"] < 1.0


def test_multiclass_metrics_are_macro_averaged():
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(X[::2], y[::2])
    scores = evaluate(model, X[1::2], y[1::2])
    pred = model.predict(X[1::2])
    assert scores["f1"] == pytest.approx(skm.f1_score(y[1::2], pred, average="macro"))
    assert scores["roc_auc"] > 0.9


def test_a_stated_positive_class_is_what_f1_precision_and_recall_are_about():
    X, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(max_iter=5000).fit(X[:400], y[:400])
    scores = evaluate(model, X[400:], y[400:], positive=0)
    pred = model.predict(X[400:])
    assert scores["f1"] == pytest.approx(skm.f1_score(y[400:], pred, pos_label=0))
    assert scores["recall"] == pytest.approx(skm.recall_score(y[400:], pred, pos_label=0))
    assert scores["roc_auc"] == pytest.approx(evaluate(model, X[400:], y[400:])["roc_auc"])
