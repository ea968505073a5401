"""One fitted EBM's term contributions on given rows, read through interpret's own binning: the
rows' bins, a main term's contribution to each row, a group of terms' importance. Pure: a
model and rows in, arrays out; the shape and group studies (study/reference.py,
study/groups.py) and ebm-study-predict's check for unseen categories use them.

With three or more classes a term has one contribution a class, and only their differences
matter: contributions are centred over the classes (the part the probabilities see).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd


def _centred(scores: np.ndarray) -> np.ndarray:
    """Scores with a class axis last, centred over it (the part the probabilities see)."""
    return scores - scores.mean(axis=-1, keepdims=True)


def is_categorical(ebm, term: str) -> bool:
    """Whether the model bins the term's feature by category (a nominal or ordinal feature)."""
    names = list(ebm.term_names_)
    if term not in names:
        return False
    features = ebm.term_features_[names.index(term)]
    return len(features) == 1 and isinstance(ebm.bins_[features[0]][0], dict)


def bin_indexes(ebm, X: pd.DataFrame) -> np.ndarray:
    """rows x terms: each row's bin of each main term's feature, as interpret bins it (its own
    binning, read through `eval_terms` on a copy of the model whose scores are the bins'
    numbers: categories matched as interpret matches them, 0 for a missing value, the last
    bin for a value it never saw); -1 for pair terms. One pass over the rows a run, from which
    its every shape and band is read."""
    probe = copy.copy(ebm)  # shallow: only the scores are replaced, on the copy
    numbered = []
    for features, scores in zip(ebm.term_features_, ebm.term_scores_, strict=True):
        scores = np.asarray(scores)
        if len(features) == 1:
            bins = np.arange(scores.shape[0], dtype=float)
            numbered.append(
                np.repeat(bins[:, None], scores.shape[1], 1) if scores.ndim == 2 else bins
            )
        else:
            numbered.append(np.full(scores.shape, -1.0))
    probe.term_scores_ = numbered
    out = np.asarray(probe.eval_terms(X))
    return np.rint(out[:, :, 0] if out.ndim == 3 else out).astype(np.int64)


def _term(ebm, term: str) -> int | None:
    names = list(ebm.term_names_)
    return names.index(term) if term in names else None


def contributions(ebm, term: str, index: np.ndarray) -> np.ndarray | None:
    """A main term's contribution to each reference row (rows, or rows x classes centred over
    the classes for 3 or more classes), from the rows' `bin_indexes`; None if the model has no
    such main term."""
    t = _term(ebm, term)
    if t is None or len(ebm.term_features_[t]) != 1:
        return None
    scores = np.asarray(ebm.term_scores_[t], dtype=float)[index[:, t]]
    return _centred(scores) if scores.ndim == 2 else scores


def unit_importances(ebm, X: pd.DataFrame, units: dict[str, list[str]]) -> dict[str, float]:
    """Each unit's importance on the rows X: the mean over the rows of the absolute sum of its
    terms' contributions (`eval_terms`), as interpret's research group importance
    (`compute_group_importance`) and Bosschieter et al. (2026) define a group's; a unit of one
    term is then interpret's avg_weight importance computed on these rows. With three or more
    classes, the absolute sum is taken per class and averaged over the classes, where
    interpret's research code averages |contribution| over classes before summing (so its
    group is the plain sum of its members', twins that cancel out included). A unit's terms
    the model lacks are left out; a unit with none of them is 0 (not selected)."""
    names = list(ebm.term_names_)
    scores = np.asarray(ebm.eval_terms(X), dtype=float)  # rows x terms [x classes]
    out = {}
    for unit, terms in units.items():
        at = [names.index(t) for t in terms if t in names]
        if not at:
            out[unit] = 0.0
            continue
        summed = np.abs(scores[:, at].sum(axis=1))  # rows [x classes]
        out[unit] = float(summed.mean())  # over rows (and classes: the same count each)
    return out
