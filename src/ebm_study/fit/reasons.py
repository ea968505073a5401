"""One fitted EBM's reasons for each row: its terms' contributions to the row's score
(`eval_terms`), the strongest by absolute value first, and what the model predicts for the row.
Pure: a model and rows in, arrays out; the per-row study (study/rows.py) and
`ebm-study-predict --reasons` read them, so a user's reason codes and the study's agree.

What a contribution is a contribution to:
- two classes: the log-odds of the model's second class (`classes_[1]`), as interpret shows it;
- three or more: the score of the class the model predicts for the row, centred over the
  classes (the part the probabilities see), so the reasons say why that class;
- a regression: the prediction, in the target's units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RowScores:
    """One model on some rows."""

    terms: list[str]  # the model's term names, the columns of `contributions`
    contributions: np.ndarray  # rows x terms (see the module's note)
    predicted: np.ndarray  # rows: a class's index in `classes`, or a regression's value
    classes: list[str] | None  # a classifier's classes (None: a regression)
    proba: np.ndarray | None  # rows x classes: a classifier's probabilities (None: a regression)
    # rows: a regression's standard error from its own outer bags, the SD of the mean of its
    # B bags' predictions were they drawn again on the same data: predict_with_uncertainty's
    # SD over the bags (ddof 0) / sqrt(B - 1); nan for a classifier or one bag
    bag_se: np.ndarray


def is_classifier(ebm) -> bool:
    return hasattr(ebm, "classes_")


def row_scores(ebm, X: pd.DataFrame) -> RowScores:
    """The model's terms' contributions to each row and its prediction for each row."""
    scores = np.asarray(ebm.eval_terms(X), dtype=float)  # rows x terms [x classes]
    n = len(X)
    terms = [str(t) for t in ebm.term_names_]
    if not is_classifier(ebm):
        mean_sd = np.asarray(ebm.predict_with_uncertainty(X), dtype=float)
        bags = len(ebm.bagged_intercept_)
        se = mean_sd[:, 1] / np.sqrt(bags - 1) if bags > 1 else np.full(n, np.nan)
        return RowScores(terms, scores, mean_sd[:, 0], None, None, se)
    proba = np.asarray(ebm.predict_proba(X), dtype=float)
    best = np.argmax(proba, axis=1)
    if scores.ndim == 3:  # a class axis: the predicted class's score, centred over classes
        centred = scores - scores.mean(axis=2, keepdims=True)
        scores = np.take_along_axis(centred, best[:, None, None], axis=2)[:, :, 0]
    classes = [str(c) for c in ebm.classes_]
    return RowScores(terms, scores, best, classes, proba, np.full(n, np.nan))


def strongest(contributions: np.ndarray, r: int) -> np.ndarray:
    """rows x min(r, terms): the columns of each row's r largest absolute contributions, the
    largest first (ties: the earlier term first, as interpret orders its terms)."""
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")
    return order[:, : min(r, contributions.shape[1])]


def reason_codes(ebm, X: pd.DataFrame, r: int) -> pd.DataFrame:
    """A row an input row: `reason_1` .. `reason_r`, the model's r strongest terms for it, and
    each one's contribution (`reason_1_contribution`, signed: what it adds to the score); a
    reason is empty where fewer than r terms add anything to the row."""
    rows = row_scores(ebm, X)
    top = strongest(rows.contributions, r)
    names = np.array(rows.terms, dtype=object)
    out = {}
    for j in range(top.shape[1]):
        value = rows.contributions[np.arange(len(X)), top[:, j]]
        # A term that adds nothing to the row is no reason for it (fewer than r terms do).
        out[f"reason_{j + 1}"] = np.where(value == 0, None, names[top[:, j]])
        out[f"reason_{j + 1}_contribution"] = value
    return pd.DataFrame(out)
