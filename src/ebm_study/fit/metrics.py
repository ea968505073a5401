"""Test-split metrics of a classifier or a regressor, and which one sums a run up."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from ebm_study.metric_names import SCORE


def evaluate(
    model, X: pd.DataFrame, y: pd.Series, positive: object = None, task: str = "classification"
) -> dict[str, float]:
    """The test metrics of a fitted model: `classify` or `regress`."""
    return assess(model, X, y, positive, task)[0]


def assess(
    model, X: pd.DataFrame, y: pd.Series, positive: object = None, task: str = "classification"
) -> tuple[dict[str, float], str | None]:
    """The test metrics of a fitted model, and words for a classifier whose metrics mislead
    (`class_warning`; None when nothing does, and for a regressor)."""
    if task == "regression":
        return regress(model, X, y), None
    proba = model.predict_proba(X)
    scores = classify(model, X, y, positive, proba)
    return scores, class_warning(y, proba, model.classes_, positive, scores)


def classify(
    model, X: pd.DataFrame, y: pd.Series, positive: object = None, proba: np.ndarray | None = None
) -> dict[str, float]:
    """accuracy, f1, precision, recall, roc_auc, average_precision and log_loss of a fitted
    classifier (`proba`: its predict_proba of X, when the caller has it).

    Two classes use the `positive` class (by default the larger label, as scikit-learn's
    scorers do); more use macro averages and one-vs-rest AUC and average precision.
    Average precision (the area under the precision-recall curve) ranks like AUC but, unlike
    it, says how well a rare positive class is found.
    """
    proba = model.predict_proba(X) if proba is None else proba
    pred = model.classes_[np.argmax(proba, axis=1)]
    binary = len(model.classes_) == 2
    positive = model.classes_[1] if positive is None else positive
    column = list(model.classes_).index(positive) if binary else 1
    avg = {"average": "binary", "pos_label": positive} if binary else {"average": "macro"}
    if binary:
        auc = skm.roc_auc_score(y == positive, proba[:, column])
        ap = skm.average_precision_score(y == positive, proba[:, column])
    else:
        auc = skm.roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_)
        onehot = np.asarray(y)[:, None] == np.asarray(model.classes_)[None, :]
        ap = skm.average_precision_score(onehot, proba, average="macro")
    return {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "f1": float(skm.f1_score(y, pred, **avg, zero_division=0)),
        "precision": float(skm.precision_score(y, pred, **avg, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, **avg, zero_division=0)),
        "roc_auc": float(auc),
        "average_precision": float(ap),
        "log_loss": float(skm.log_loss(y, proba, labels=model.classes_)),
    }


# F1 this far below the best any threshold reaches on the same rows, with a positive class this
# rare, is a threshold problem, not the model's ranking: the run says so. (On balanced classes
# a small test split's best threshold overfits it by as much.)
F1_GAP = 0.1
RARE = 0.25


def class_warning(
    y: pd.Series, proba: np.ndarray, classes, positive: object, scores: dict[str, float]
) -> str | None:
    """Words for a classifier whose F1 misleads, None otherwise: a class the model never
    predicts on the test rows, or (two classes) a positive class at most `RARE` of the test
    rows whose F1 at the default threshold is `F1_GAP` or more below the best F1 any
    threshold gives on the same rows. The advice: compare runs by a ranking metric."""
    classes = list(classes)
    predicted = set(np.asarray(classes)[np.argmax(proba, axis=1)].tolist())
    advice = (
        "compare runs by average_precision or roc_auc (study.metric=average_precision; "
        "ebm-study-promote --metric average_precision)"
    )
    if len(classes) > 2:
        never = [c for c in classes if c not in predicted]
        if not never:
            return None
        shown = ", ".join(repr(_plain(c)) for c in never)
        return (
            f"class(es) {shown} never predicted on the test rows: macro F1 counts each as 0 "
            f"(f1={scores['f1']:.3f}); {advice}"
        )
    positive = classes[1] if positive is None else positive
    truth = np.asarray(y) == positive
    column = classes.index(positive)
    share = f"{truth.mean():.1%} of the test rows"
    precision, recall, thresholds = skm.precision_recall_curve(truth, proba[:, column])
    f1s = 2 * precision * recall / np.where(precision + recall > 0, precision + recall, 1)
    best = int(np.argmax(f1s[:-1])) if len(thresholds) else 0
    best_f1 = float(f1s[best]) if len(thresholds) else 0.0
    if positive not in predicted:
        return (
            f"class {_plain(positive)!r} ({share}) is never predicted on the test rows at the "
            f"default threshold of 0.5, so f1=0 while roc_auc={scores['roc_auc']:.3f} (a "
            f"threshold of {thresholds[best]:.3g} would give F1 {best_f1:.3f} on them); {advice}"
        )
    if truth.mean() <= RARE and best_f1 - scores["f1"] >= F1_GAP:
        return (
            f"f1={scores['f1']:.3f} at the default threshold of 0.5 against {best_f1:.3f} at a "
            f"threshold of {thresholds[best]:.3g} on the same test rows: class "
            f"{_plain(positive)!r} is rare ({share}); {advice}"
        )
    return None


def _plain(value: object) -> object:
    return value.item() if hasattr(value, "item") else value


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
