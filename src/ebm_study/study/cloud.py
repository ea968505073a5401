"""The near-best models' importances in the style of a variable-importance cloud (Dong & Rudin
2020): one row a term, its range over the near-best runs, the best run marked. Pure: a table
in (measures/conclusions.importance_ranges), a matplotlib figure out."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ebm_study.study.plots import plain_text

MAX_TERMS = 20  # rows drawn: the highest medians (the table holds every term)


@plain_text
def near_best_chart(ranges: pd.DataFrame, k: int, which: str) -> Figure:
    """Thin line: min-max over the near-best runs; thick bar: 5th-95th percentile; white tick:
    median; red diamond: the best run. Terms in every near-best top k are named in bold, those
    in none in grey. `which`: the runs' settings in words (verdicts.near_best_how)."""
    shown = ranges.head(MAX_TERMS)
    n = len(shown)
    height = max(2.8, 0.3 * n + 1.4)
    fig = Figure(figsize=(8, height))
    ax = fig.subplots()
    y = np.arange(n)
    ax.hlines(y, shown["importance_min"], shown["importance_max"], color="0.55", lw=1)
    ax.hlines(y, shown["importance_p05"], shown["importance_p95"], color="tab:blue", lw=6)
    ax.scatter(shown["importance_median"], y, marker="|", color="white", s=60, zorder=3)
    ax.scatter(
        shown["best_run_importance"],
        y,
        marker="D",
        color="tab:red",
        s=22,
        zorder=4,
        label="the best-scoring near-best run",
    )
    ax.set_yticks(y, shown["term"].astype(str).tolist(), fontsize=9)
    for label, every, none in zip(
        ax.get_yticklabels(), shown["in_every_top_k"], shown["in_no_top_k"], strict=True
    ):
        if every:
            label.set_fontweight("bold")
        elif none:
            label.set_color("0.5")
    ax.set_ylim(n - 0.5 + 0.3, -0.5 - 0.3)  # highest median on top
    ax.set_xlim(left=0)
    runs = int(shown["n_runs"].iloc[0]) if n else 0
    ax.set_xlabel(
        "importance (mean |contribution|): bar 5th-95th percentile, line min-max", fontsize=9
    )
    ax.set_title(
        "\n".join(textwrap.wrap(f"{runs} near-best runs: those of {which.replace('`', '')}", 95))
        + f"\nbold: in every near-best top {k}; grey: in none",
        fontsize=9,
    )
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
