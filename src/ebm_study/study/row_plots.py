"""The per-row study's picture (study/rows.py): how many reference rows keep their top reason
across retrains, and which terms trade it in the rows that do not. Pure: a RowStudy's tables
in, a matplotlib figure out."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ebm_study.measures.rows import AGREE
from ebm_study.study.plots import plain_text

MAX_SWAPS = 10  # pairs of terms drawn, the most frequent (the words name the first)


@plain_text
def reasons_chart(table: pd.DataFrame, swaps: pd.DataFrame, n_runs: int, about: str) -> Figure:
    """Left: the rows by the share of runs giving them their modal top reason, the rows at
    AGREE or above (the ones that keep it) in green. Right: among the others, the pairs of terms
    that trade the top place (a row's modal top reason and its runner-up), most rows first."""
    fig = Figure(figsize=(11, 4.2))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
    share = table["top_reason_share"].to_numpy(float)
    edges = np.linspace(0, 1, 11)
    counts, _ = np.histogram(np.clip(share, 0, 1), bins=edges)
    colors = ["tab:green" if e >= AGREE - 1e-9 else "tab:orange" for e in edges[:-1]]
    left.bar(edges[:-1], counts, width=0.1, align="edge", color=colors, edgecolor="white")
    kept = int(np.sum(share >= AGREE - 1e-9))
    left.set_xlim(0, 1)
    left.set_xlabel("share of runs giving the row its most frequent top reason", fontsize=9)
    left.set_ylabel("reference rows", fontsize=9)
    left.set_title(
        f"{kept} of {len(share)} rows have one top reason in at least {AGREE:.0%}\n"
        f"of the {n_runs} runs (green)",
        fontsize=10,
    )
    shown = swaps.head(MAX_SWAPS)
    if shown.empty:
        right.axis("off")
        right.text(0.5, 0.5, "every row keeps its top reason", ha="center", va="center")
    else:
        labels = [
            "\n".join(textwrap.wrap(f"{a}  /  {b}", 48))
            for a, b in zip(shown["term_a"], shown["term_b"], strict=True)
        ]
        y = np.arange(len(shown))
        twins = shown["near_twins"].astype(bool).to_numpy()
        right.barh(y, shown["rows"], color=np.where(twins, "tab:purple", "tab:orange"))
        if twins.any():  # a handle of its own: an empty bar's legend takes the default colour
            twin = Patch(color="tab:purple", label="near-twin features")
            right.legend(handles=[twin], loc="lower right", fontsize=8)
        right.set_yticks(y, labels, fontsize=8)
        right.set_ylim(len(shown) - 0.5, -0.5)
        right.set_xlabel(
            "rows whose top reason changes, by the two terms that trade it", fontsize=9
        )
        right.set_title(
            f"Which terms trade the top reason ({len(share) - kept} rows change it)", fontsize=10
        )
    fig.suptitle("\n".join(textwrap.wrap(f"Reference rows: {about}", 120)), fontsize=9, y=0.995)
    fig.tight_layout()
    return fig
