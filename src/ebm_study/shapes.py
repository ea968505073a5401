"""Do the runs' shape functions agree? Each run's contribution of a term evaluated on the same
training rows, compared pairwise, and drawn over one another. Pure: models and data in,
numbers and figures out; no MLflow.

Agreement of term t between runs i and j is the Pearson correlation of their contributions
f_i(x_r), f_j(x_r) over the reference training rows x_r: a correlation over a grid of the
data's own points, so each region of the feature counts as much as it holds data (the
data-density weighting), and the EBM's arbitrary offset of a shape drops out with the means.
1: the same form, -1: the mirror image, near 0: unrelated. A run whose term is constant (it
never split on it) has no form; its pairs are left out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

MAX_TERMS = 12  # pictures per sweep: the terms in some run's top k, most frequent first
MAX_RUNS = 50  # runs drawn and compared per term (the first, in the study's order)


def agreement(curves: np.ndarray) -> float:
    """Mean pairwise Pearson correlation of the rows of `curves` (runs x data points); nan
    with fewer than two non-constant curves."""
    curves = np.asarray(curves, dtype=float)
    formed = curves[np.std(curves, axis=1) > 1e-12]
    if len(formed) < 2:
        return math.nan
    R = np.corrcoef(formed)
    upper = R[np.triu_indices(len(formed), k=1)]
    return float(np.mean(upper))


def reading(value: float) -> str:
    """Words for an agreement."""
    if math.isnan(value):
        return "undefined: fewer than two runs give the term a form"
    if value >= 0.9:
        return "the same form in every run"
    if value >= 0.7:
        return "a similar form, details differ"
    if value >= 0.3:
        return "forms differ: read this shape with care"
    return "no common form"


def contributions(ebm, X: pd.DataFrame, term: str) -> np.ndarray | None:
    """The term's contribution to each row of X, as the model scores it; None if the model has
    no such term."""
    names = list(ebm.term_names_)
    if term not in names:
        return None
    return np.asarray(ebm.eval_terms(X))[:, names.index(term)]


def bag_band(ebm, X: pd.DataFrame, term: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The 2.5% and 97.5% points over the model's outer bags of the term's score at each row
    of X: one run's own uncertainty. Main terms of continuous features only (None otherwise)."""
    names = list(ebm.term_names_)
    if term not in names:
        return None
    t = names.index(term)
    features = ebm.term_features_[t]
    cuts = ebm.bins_[features[0]][0]
    if len(features) != 1 or isinstance(cuts, dict):
        return None
    x = X.iloc[:, features[0]].to_numpy(dtype=float)
    index = np.searchsorted(cuts, x, side="right") + 1  # bin 0 holds missing values
    index[np.isnan(x)] = 0
    bags = np.asarray(ebm.bagged_scores_[t])[:, index]
    return np.percentile(bags, 2.5, axis=0), np.percentile(bags, 97.5, axis=0)


def figure(
    term: str,
    x: np.ndarray,
    curves: list[np.ndarray],
    labels: list[str],
    bands: list[tuple[np.ndarray, np.ndarray] | None],
    value: float,
) -> Figure:
    """Every run's shape of a term over the feature's own axis, each run's band from its bags
    shaded, a rug of the data; the agreement in the title."""
    fig = Figure(figsize=(8, 4.8))
    ax = fig.subplots()
    order = np.argsort(x, kind="stable")
    xs = x[order]
    colors = colormaps["tab10"]
    for i, (curve, label, band) in enumerate(zip(curves, labels, bands, strict=True)):
        color = colors(i % 10)
        if band is not None:
            ax.fill_between(xs, band[0][order], band[1][order], color=color, alpha=0.12, lw=0)
        ax.plot(xs, curve[order], color=color, lw=1.2, drawstyle="steps-post", label=label)
    low = ax.get_ylim()[0]
    ax.plot(xs, np.full_like(xs, low), "|", color="0.4", ms=8, alpha=0.4)  # the data: a rug
    ax.set_xlabel(term)
    ax.set_ylabel("contribution to the score")
    ax.set_title(
        f"{term}: {len(curves)} runs, agreement {value:.2f} ({reading(value)})", fontsize=10
    )
    if len(curves) <= 10:
        ax.legend(fontsize=7, title="run (seeds)", title_fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
