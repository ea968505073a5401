"""Classification metrics on the held-out split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm


def evaluate(model, X: pd.DataFrame, y: pd.Series, positive: object = None) -> dict[str, float]:
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
