"""The EBM's global term importances as a sorted table and a bar chart; pure."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Figures without pyplot: nothing global to close, a third of a second less to import.
from matplotlib import rc_context
from matplotlib.figure import Figure

COLUMNS = ["rank", "term", "importance", "kind"]
# Within the run, from its outer bags: the 2.5% and 97.5% points of the bags' importances, and
# the share of bags whose own top k holds the term.
BAG_COLUMNS = ["importance_low", "importance_high", "p_top_k"]


def per_bag(ebm) -> np.ndarray:
    """bags x terms: each outer bag's importance of each term, by interpret's "avg_weight"
    definition (the mean absolute score over the training rows: the bins' absolute scores
    weighted by `bin_weights_`; with 3 or more classes, the absolute scores averaged over the
    classes first, as `term_importances` does) applied to the bag's own scores
    (`bagged_scores_`). Averaging the bags' scores first and then taking it gives
    `term_importances()`; the mean of these is at least that (|mean| <= mean |.|), so they
    describe a spread, not an interval around it."""
    multiclass = len(getattr(ebm, "classes_", ())) >= 3
    columns = []
    for scores, weights in zip(ebm.bagged_scores_, ebm.bin_weights_, strict=True):
        magnitude = np.abs(np.asarray(scores, dtype=float))  # bags x bins [x classes]
        if multiclass:
            magnitude = magnitude.mean(axis=-1)
        weights = np.asarray(weights, dtype=float).reshape(-1)
        flat = magnitude.reshape(len(magnitude), -1)
        columns.append(flat @ weights / weights.sum())
    return np.column_stack(columns)


def table(ebm, top_k: int | None = None) -> pd.DataFrame:
    """One row a term, most important first: rank (1 = top), term, importance, kind; with
    `top_k`, also the within-run spread over the outer bags (BAG_COLUMNS).

    Importance is interpret's "avg_weight": the mean absolute contribution of the term over the
    training rows. `kind` is "main" for one feature and "pair" for an interaction ("a & b").
    """
    frame = pd.DataFrame(
        {
            "term": list(ebm.term_names_),
            "importance": ebm.term_importances("avg_weight"),
            "kind": ["main" if len(f) == 1 else "pair" for f in ebm.term_features_],
        }
    )
    if top_k is not None:
        bags = per_bag(ebm)
        frame["importance_low"] = np.percentile(bags, 2.5, axis=0)
        frame["importance_high"] = np.percentile(bags, 97.5, axis=0)
        frame["p_top_k"] = bag_top_k(bags, top_k).mean(axis=0)
    # mergesort is stable: ties keep interpret's term order, so ranks are reproducible.
    frame = frame.sort_values("importance", ascending=False, kind="mergesort")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)[[c for c in COLUMNS + BAG_COLUMNS if c in frame]]


def bag_top_k(bags: np.ndarray, k: int) -> np.ndarray:
    """bags x terms, 1 where the term is in that bag's top k (ties by term order)."""
    from ebm_study.measures.stability import top_k as select

    return select(bags, k)


def within_run_stability(ebm, k: int) -> float:
    """Nogueira's Phi over the run's outer bags' top-k sets: how settled one model's top k
    already is (nan with one bag)."""
    from ebm_study.measures.stability import nogueira

    return nogueira(bag_top_k(per_bag(ebm), k)).value


def bar_chart(
    importances: pd.DataFrame, title: str = "Term importance", top_k: int | None = None
) -> Figure:
    """Horizontal bars, most important at the top, tall enough that every label reads; with
    the bags' range as error bars when the table has it, and a line under the top k. Term
    names are drawn as written: matplotlib would read a column's `$...$` as mathematics and
    stop at a lone `$` (the setting is taken when each text is made)."""
    with rc_context({"text.parse_math": False}):
        return _bar_chart(importances, title, top_k)


def _bar_chart(importances: pd.DataFrame, title: str, top_k: int | None) -> Figure:
    n = len(importances)
    height = max(2.5, 0.28 * n + 1.0)
    fig = Figure(figsize=(8, height))
    ax = fig.subplots()
    colors = ["tab:orange" if k == "pair" else "tab:blue" for k in importances["kind"]]
    # Numeric positions with tick labels: string categories cost a units pass per call.
    positions = np.arange(n)
    values = importances["importance"].to_numpy()
    if {"importance_low", "importance_high"} <= set(importances):
        # The bags' 2.5-97.5% range; not centred on the bar (see per_bag), so asymmetric.
        low = np.clip(values - importances["importance_low"].to_numpy(), 0, None)
        high = np.clip(importances["importance_high"].to_numpy() - values, 0, None)
        ax.barh(positions, values, color=colors, xerr=[low, high], ecolor="0.25", capsize=2)
    else:
        ax.barh(positions, values, color=colors)
    if top_k is not None and 0 < top_k < n:
        ax.axhline(top_k - 0.5, color="tab:red", linestyle="--", linewidth=1)
        ax.text(
            ax.get_xlim()[1],
            top_k - 0.5,
            f"top {top_k} ",
            color="tab:red",
            fontsize=8,
            ha="right",
            va="bottom",
        )
    ax.set_yticks(positions, importances["term"].astype(str).tolist(), fontsize=9)
    ax.set_ylim(n - 0.5 + 0.3, -0.5 - 0.3)  # most important on top
    ax.set_xlabel(
        "mean |contribution| (avg_weight); whiskers: 2.5-97.5% over the outer bags"
        if "importance_low" in importances
        else "mean |contribution| (avg_weight)"
    )
    # A fixed title position: matplotlib otherwise measures the axis' labels to place it.
    ax.set_title(title, y=1.0, pad=6)
    if "pair" in set(importances["kind"]):
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color="tab:blue", label="main"),
                Patch(color="tab:orange", label="pair"),
            ],
            loc="lower right",
        )
    # Margins from the longest label: tight_layout measures every text and costs a tenth of a
    # second a run. About 0.075 inch a character at 9 points.
    longest = max((len(str(t)) for t in importances["term"]), default=10)
    left = min(0.6, (0.075 * longest + 0.25) / 8)
    fig.subplots_adjust(left=left, right=0.97, top=1 - 0.45 / height, bottom=0.55 / height)
    return fig
