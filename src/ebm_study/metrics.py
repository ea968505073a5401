"""Test-split metrics of a classifier or a regressor, and which one sums a run up."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn import metrics as skm

# The score a run is summed up by (the study's mean_<score>, promotion's default, what a sweep
# job returns to an optimising sweeper): F1 for a classifier; for a regressor R2, which, unlike
# RMSE, compares across split seeds whose test rows vary in spread.
SCORE = {"classification": "f1", "regression": "r2"}
LOWER_IS_BETTER = frozenset({"rmse", "mae", "log_loss"})  # the losses among our metrics
NAMES = {
    "classification": ("accuracy", "f1", "precision", "recall", "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of this metric is better: the losses."""
    return metric in LOWER_IS_BETTER


def evaluate(
    model, X: pd.DataFrame, y: pd.Series, positive: object = None, task: str = "classification"
) -> dict[str, float]:
    """The test metrics of a fitted model: `classify` or `regress`."""
    return regress(model, X, y) if task == "regression" else classify(model, X, y, positive)


def classify(model, X: pd.DataFrame, y: pd.Series, positive: object = None) -> dict[str, float]:
    """accuracy, f1, precision, recall, roc_auc and log_loss of a fitted classifier.

    Two classes use the `positive` class (by default the larger label, as scikit-learn's
    scorers do); more use macro averages and one-vs-rest AUC.
    """
    proba = model.predict_proba(X)
    pred = model.classes_[np.argmax(proba, axis=1)]
    binary = len(model.classes_) == 2
    positive = model.classes_[1] if positive is None else positive
    column = list(model.classes_).index(positive) if binary else 1
    avg = {"average": "binary", "pos_label": positive} if binary else {"average": "macro"}
    return {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "f1": float(skm.f1_score(y, pred, **avg, zero_division=0)),
        "precision": float(skm.precision_score(y, pred, **avg, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, **avg, zero_division=0)),
        "roc_auc": float(
            skm.roc_auc_score(y == positive, proba[:, column])
            if binary
            else skm.roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_)
        ),
        "log_loss": float(skm.log_loss(y, proba, labels=model.classes_)),
    }


def regress(model, X: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    """rmse and mae (in the target's units) and r2 of a fitted regressor."""
    pred = model.predict(X)
    return {
        "rmse": math.sqrt(float(skm.mean_squared_error(y, pred))),
        "mae": float(skm.mean_absolute_error(y, pred)),
        "r2": float(skm.r2_score(y, pred)),
    }


def score_of(logged: dict[str, float]) -> float | None:
    """A run's score from its metrics, whichever task it was: F1, else R2, else None."""
    for name in SCORE.values():
        if name in logged:
            return logged[name]
    return None
