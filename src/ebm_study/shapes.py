"""Do the runs' shape functions agree? Each run's contribution of a term evaluated on the same
reference rows, compared pairwise, and drawn over one another. Pure: models and data in,
numbers and figures out; no MLflow.

Agreement of term t between runs i and j is the Pearson correlation of their contributions
f_i(x_r), f_j(x_r) over the reference rows x_r: a correlation over the data's own points, so
each region of the feature (each category of a categorical one) counts as much as it holds
data (the data-density weighting), and the EBM's arbitrary offset of a shape drops out with
the means. 1: the same form, -1: the mirror image, near 0: unrelated. A run whose term is
constant (it never split on it) has no form; its pairs are left out.

With three or more classes a term has one contribution a class, and only their differences
matter (adding the same function to every class's scores leaves every probability as it was):
contributions are centred over the classes first, the agreement is computed class by class and
averaged over the classes.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

MAX_TERMS = 12  # pictures per sweep: the terms in some run's top k, most frequent first
MAX_RUNS = 50  # runs drawn and compared per term (the first, in the study's order)
MAX_CATEGORIES = 25  # a categorical shape shows its most frequent categories
MAX_CLASS_PANELS = 6  # a multiclass shape: one panel a class, the first six
MISSING = "(missing)"  # how a categorical picture labels rows without a value


def agreement(curves: np.ndarray) -> float:
    """Mean pairwise Pearson correlation of the rows of `curves` (runs x data points), or the
    mean over classes of it (runs x data points x classes); nan with fewer than two
    non-constant curves (in every class)."""
    curves = np.asarray(curves, dtype=float)
    if curves.ndim == 3:
        by_class = [agreement(curves[:, :, c]) for c in range(curves.shape[2])]
        defined = [v for v in by_class if not math.isnan(v)]
        return float(np.mean(defined)) if defined else math.nan
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


def _centred(scores: np.ndarray) -> np.ndarray:
    """Scores with a class axis last, centred over it (the part the probabilities see)."""
    return scores - scores.mean(axis=-1, keepdims=True)


def is_multiclass(ebm) -> bool:
    return len(getattr(ebm, "classes_", ())) >= 3


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


def bag_band(ebm, term: str, index: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The 2.5% and 97.5% points over the model's outer bags of a main term's score at each
    reference row (centred over classes like `contributions`): one run's own uncertainty;
    None if the model has no such main term."""
    t = _term(ebm, term)
    if t is None or len(ebm.term_features_[t]) != 1:
        return None
    per_row = np.asarray(ebm.bagged_scores_[t], dtype=float)[:, index[:, t]]
    if per_row.ndim == 3:  # bags x rows x classes
        per_row = _centred(per_row)
    return np.percentile(per_row, 2.5, axis=0), np.percentile(per_row, 97.5, axis=0)


def figure(
    term: str,
    x: pd.Series | np.ndarray,
    curves: list[np.ndarray],
    labels: list[str],
    bands: list[tuple[np.ndarray, np.ndarray] | None],
    value: float,
    categorical: bool = False,
    classes: list[str] | None = None,
) -> Figure:
    """Every run's shape of a term over the feature's own axis (its categories, for a
    categorical feature), each run's band from its bags, the data's density; one panel a class
    for 3 or more classes. The agreement in the title."""
    x = pd.Series(x).reset_index(drop=True)
    panels = list(range(min(len(classes), MAX_CLASS_PANELS))) if classes else [None]
    columns = min(len(panels), 3)
    rows = math.ceil(len(panels) / columns)
    fig = Figure(figsize=(8 if columns == 1 else 4.2 * columns, 4.8 if rows == 1 else 3.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False).ravel())
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax, c in zip(axes, panels, strict=False):
        panel_curves = [curve if c is None else curve[:, c] for curve in curves]
        panel_bands = [
            None if band is None or c is None and band[0].ndim > 1 else
            (band if c is None else (band[0][:, c], band[1][:, c]))
            for band in bands
        ]  # fmt: skip
        draw = _categorical_panel if categorical else _continuous_panel
        draw(ax, x, panel_curves, labels, panel_bands)
        ax.set_ylabel(
            "contribution to the score"
            if c is None
            else f"class {classes[c]}: log-odds contribution\n(centred over the classes)",
            fontsize=8 if c is not None else None,
        )
        ax.grid(alpha=0.3)
    shown = "" if not classes or len(classes) <= MAX_CLASS_PANELS else (
        f"; the first {MAX_CLASS_PANELS} of {len(classes)} classes"
    )  # fmt: skip
    fig.suptitle(
        f"{term}: {len(curves)} runs, agreement {value:.2f} ({reading(value)}){shown}",
        fontsize=10,
    )
    if len(curves) <= 10:
        axes[0].legend(fontsize=7, title="run (seeds)", title_fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def _continuous_panel(ax, x: pd.Series, curves, labels, bands) -> None:
    values = pd.to_numeric(x, errors="coerce").to_numpy(dtype=float)
    seen = ~np.isnan(values)  # rows without a value have no place on the axis
    order = np.argsort(values[seen], kind="stable")
    xs = values[seen][order]
    colors = colormaps["tab10"]
    for i, (curve, label, band) in enumerate(zip(curves, labels, bands, strict=True)):
        color = colors(i % 10)
        if band is not None:
            low, high = band[0][seen][order], band[1][seen][order]
            ax.fill_between(xs, low, high, color=color, alpha=0.12, lw=0)
        ax.plot(xs, curve[seen][order], color=color, lw=1.2, drawstyle="steps-post", label=label)
    low = ax.get_ylim()[0]
    ax.plot(xs, np.full_like(xs, low), "|", color="0.4", ms=8, alpha=0.4)  # the data: a rug
    ax.set_xlabel(str(x.name) if x.name is not None else "")


def _categorical_panel(ax, x: pd.Series, curves, labels, bands) -> None:
    """A marker a run and category (the category's contribution is one value), the bag band
    as a bar, categories by how many rows hold them; the rows' share under each label."""
    text = x.astype("string").fillna(MISSING)
    counts = text.value_counts()
    shown = list(counts.index[:MAX_CATEGORIES])
    first = {c: int(np.flatnonzero((text == c).to_numpy())[0]) for c in shown}
    positions = np.arange(len(shown))
    width = 0.6 / max(1, len(curves))
    colors = colormaps["tab10"]
    for i, (curve, label, band) in enumerate(zip(curves, labels, bands, strict=True)):
        at = positions - 0.3 + width * (i + 0.5)
        y = np.array([curve[first[c]] for c in shown])
        error = None
        if band is not None:
            lo = np.array([band[0][first[c]] for c in shown])
            hi = np.array([band[1][first[c]] for c in shown])
            error = [np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)]
        ax.errorbar(at, y, yerr=error, fmt="o", ms=4, color=colors(i % 10), lw=1, label=label)
    share = counts.iloc[: len(shown)] / counts.sum()
    ax.set_xticks(
        positions, [f"{c}\n{s:.0%}" for c, s in zip(shown, share, strict=True)], fontsize=7
    )
    more = f" ({len(shown)} of {len(counts)} categories, the most frequent)" if len(
        counts
    ) > len(shown) else ""  # fmt: skip
    ax.set_xlabel(f"{x.name if x.name is not None else ''}{more}; under each: its share of rows")
    ax.axhline(0, color="0.5", lw=0.8)
