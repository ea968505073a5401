"""Pictures of the stability study; pure: tables in, matplotlib figures out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure  # no pyplot: nothing global to close, nothing to display
from matplotlib.patches import Rectangle

MAX_HEATMAP_RUNS = 150


def topk_frequency_chart(freq: pd.DataFrame, k: int, n_runs: int) -> Figure:
    """How often each term is in the top k, with Wilson 95% intervals; terms ever on top."""
    shown = freq[freq["topk_count"] > 0]
    n = len(shown)
    fig = Figure(figsize=(8, max(2.5, 0.32 * n + 1.2)))
    ax = fig.subplots()
    y = np.arange(n)
    err = np.vstack(
        [
            shown["topk_frequency"] - shown["topk_ci_low"],
            shown["topk_ci_high"] - shown["topk_frequency"],
        ]
    )
    colors = ["tab:orange" if kind == "pair" else "tab:blue" for kind in shown["kind"]]
    ax.barh(y, shown["topk_frequency"], xerr=err, color=colors, capsize=3, ecolor="0.3")
    ax.set_yticks(y, shown["term"], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.axvline(1.0, color="0.7", lw=0.8)
    ax.set_xlabel(f"share of runs with the term in their top {k} (95% Wilson interval)")
    ax.set_title(f"Top-{k} frequency over {n_runs} runs")
    fig.tight_layout()
    return fig


def rank_heatmap(ranks: pd.DataFrame, k: int, run_labels: list[str] | None = None) -> Figure:
    """Terms (rows, by median rank) x runs (columns): each term's rank in each run.

    Ranks beyond 2k share one colour so the top of the ranking stays legible; the top k of
    each run are outlined.
    """
    order = ranks.median(axis=0).sort_values(kind="mergesort").index
    shown = order[: max(2 * k, 10)]
    total = len(ranks)
    labels = run_labels or [str(c) for c in ranks.index]
    if total > MAX_HEATMAP_RUNS:  # past this, columns are thinner than a pixel
        keep = np.linspace(0, total - 1, MAX_HEATMAP_RUNS).round().astype(int)
        ranks, labels = ranks.iloc[keep], [labels[i] for i in keep]
    matrix = ranks[shown].T.to_numpy()
    n_terms, n_runs = matrix.shape
    fig = Figure(figsize=(min(18, max(6, 0.35 * n_runs + 3.5)), max(3, 0.32 * n_terms + 1.5)))
    ax = fig.subplots()
    cmap = colormaps["viridis_r"]
    image = ax.imshow(
        np.minimum(matrix, 2 * k + 1), aspect="auto", cmap=cmap, vmin=1, vmax=2 * k + 1
    )
    outlines = [
        Rectangle((j - 0.5, i - 0.5), 1, 1) for i, j in zip(*np.nonzero(matrix <= k), strict=True)
    ]
    ax.add_collection(PatchCollection(outlines, facecolor="none", edgecolor="white", lw=1.2))
    ax.set_yticks(range(n_terms), shown, fontsize=9)
    if n_runs <= 60:
        ax.set_xticks(range(n_runs), labels, rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
        ax.set_xlabel(
            f"runs ({n_runs} of {total} shown, evenly spaced)" if total > n_runs else "runs"
        )
    bar = fig.colorbar(image, ax=ax, fraction=0.04)
    bar.set_label(f"rank (>{2 * k} lumped)")
    ax.set_title(f"Rank of each term in each run (top {k} outlined)")
    fig.tight_layout()
    return fig


def stability_vs_f1(by_config: pd.DataFrame, k: int) -> Figure:
    """Per setting: mean F1 against top-k stability (Nogueira, 95% CI). Up and right is best."""
    fig = Figure(figsize=(7.5, 5))
    ax = fig.subplots()
    data = by_config.dropna(subset=["nogueira"])
    colors = colormaps["tab10"]
    for i, row in enumerate(data.itertuples()):
        ax.errorbar(
            row.mean_f1,
            row.nogueira,
            yerr=[[row.nogueira - row.nogueira_ci_low], [row.nogueira_ci_high - row.nogueira]],
            fmt="o",
            capsize=4,
            color=colors(i % 10),
            label=f"{row.setting} ({row.n_runs} runs)",
        )
    ax.set_xlabel("mean test F1 across seeds")
    ax.set_ylabel(f"top-{k} stability, Nogueira's Phi (95% CI)")
    low = float(np.nanmin(data["nogueira_ci_low"])) if len(data) else 0.0
    ax.set_ylim(min(0.0, low) - 0.05, 1.05)
    if len(data):
        pad = max(0.002, float(data["mean_f1"].max() - data["mean_f1"].min()) * 0.15)
        ax.set_xlim(float(data["mean_f1"].min()) - pad, float(data["mean_f1"].max()) + pad)
        ax.legend(fontsize=8, loc="lower left", title="setting", title_fontsize=8)
    ax.set_title("Accurate and stable settings sit at the top right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
