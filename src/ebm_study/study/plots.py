"""Pictures of the stability study; pure: tables in, matplotlib figures out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure  # no pyplot: nothing global to close, nothing to display
from matplotlib.patches import Rectangle

from ebm_study.measures.shapes import reading

MAX_HEATMAP_RUNS = 150


def topk_frequency_chart(
    freq: pd.DataFrame, k: int, n_runs: int, by: str = "by split seed"
) -> Figure:
    """How often each term is in the top k, with 95% intervals by split seed (Wilson's with one
    run a split seed); terms ever on top."""
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
    ax.set_xlabel(f"share of runs with the term in their top {k} (95% interval, {by})")
    ax.set_title(f"Top-{k} frequency over {n_runs} runs")
    fig.tight_layout()
    return fig


def rank_heatmap(
    ranks: pd.DataFrame,
    k: int,
    seeds: list[str] | None = None,
    settings: list[str] | None = None,
    seeds_name: str = "seeds",
) -> Figure:
    """Terms (rows, by median rank) x runs (columns): each term's rank in each run.

    Ranks beyond 2k share one colour so the top of the ranking stays legible; the top k of
    each run are outlined. Runs come grouped by setting (the study orders them so): each
    column is labelled by its seeds, short and level, each group by its setting above it.
    """
    order = ranks.median(axis=0).sort_values(kind="mergesort").index
    shown = order[: max(2 * k, 10)]
    total = len(ranks)
    seeds = seeds or [str(c)[:6] for c in ranks.index]
    settings = settings or [""] * total
    if total > MAX_HEATMAP_RUNS:  # past this, columns are thinner than a pixel
        keep = np.linspace(0, total - 1, MAX_HEATMAP_RUNS).round().astype(int)
        ranks = ranks.iloc[keep]
        seeds, settings = [seeds[i] for i in keep], [settings[i] for i in keep]
    matrix = ranks[shown].T.to_numpy()
    n_terms, n_runs = matrix.shape
    fig = Figure(figsize=(min(18, max(7, 0.32 * n_runs + 4.5)), max(3.5, 0.34 * n_terms + 2.2)))
    ax = fig.subplots()
    cmap = colormaps["viridis_r"]
    image = ax.imshow(
        np.minimum(matrix, 2 * k + 1), aspect="auto", cmap=cmap, vmin=1, vmax=2 * k + 1
    )
    outlines = [
        Rectangle((j - 0.5, i - 0.5), 1, 1) for i, j in zip(*np.nonzero(matrix <= k), strict=True)
    ]
    ax.add_collection(PatchCollection(outlines, facecolor="none", edgecolor="white", lw=1.2))
    ax.set_yticks(range(n_terms), shown, fontsize=10)
    if n_runs <= 60:
        long = max((len(s) for s in seeds), default=1) > 3 or n_runs > 30
        ax.set_xticks(range(n_runs), seeds, fontsize=9, rotation=90 if long else 0)
        ax.set_xlabel(f"{seeds_name} of each run, grouped by setting")
    else:
        ax.set_xticks([])
        ax.set_xlabel(
            f"runs ({n_runs} of {total} shown, evenly spaced)" if total > n_runs else "runs"
        )
    # A white line between settings, and each setting's name over its runs.
    starts = [0] + [j for j in range(1, n_runs) if settings[j] != settings[j - 1]] + [n_runs]
    for left, right in zip(starts, starts[1:], strict=False):
        if left:
            ax.axvline(left - 0.5, color="white", lw=3)
        if settings[left]:
            ax.text(
                (left + right - 1) / 2, -0.7, settings[left], ha="center", va="bottom",
                fontsize=10, clip_on=False,
            )  # fmt: skip
    bar = fig.colorbar(image, ax=ax, fraction=0.04)
    bar.set_label(f"rank (>{2 * k} lumped)")
    ax.set_title(f"Rank of each term in each run (top {k} outlined)", pad=24)
    fig.tight_layout()
    return fig


SCORE_NAMES = {"f1": "F1", "r2": "R\N{SUPERSCRIPT TWO}"}  # how the x axis names the score


def stability_vs_score(by_config: pd.DataFrame, k: int, score: str = "f1") -> Figure:
    """Per setting: mean test score (F1, or R2 for a regression) against top-k stability
    (Nogueira, 95% CI). Up and right is best."""
    fig = Figure(figsize=(7.5, 5))
    ax = fig.subplots()
    data = by_config.dropna(subset=["nogueira"])
    mean, lows, highs = f"mean_{score}", f"{score}_ci_low", f"{score}_ci_high"
    colors = colormaps["tab10"]
    for i, row in enumerate(data.to_dict("records")):
        # The score's interval too: a gap of 0.003 between settings is no gap when the
        # intervals overlap, and the axis, zoomed to the means, would make it look large.
        low, high = row.get(lows, math.nan), row.get(highs, math.nan)
        xerr = None if math.isnan(low) else [[row[mean] - low], [high - row[mean]]]
        ax.errorbar(
            row[mean],
            row["nogueira"],
            xerr=xerr,
            yerr=[
                [row["nogueira"] - row["nogueira_ci_low"]],
                [row["nogueira_ci_high"] - row["nogueira"]],
            ],
            fmt="o",
            capsize=4,
            color=colors(i % 10),
            label=f"{row['setting']} ({row['n_runs']} runs)",
        )
    ax.set_xlabel(
        f"mean test {SCORE_NAMES.get(score, score)} over split seeds (95% CI by split seed)"
    )
    ax.set_ylabel(f"top-{k} stability, Nogueira's Phi (95% CI)")
    # The lowest interval, or value where too few split seeds give none.
    lows_phi = data["nogueira_ci_low"].fillna(data["nogueira"]) if len(data) else data["nogueira"]
    low = float(lows_phi.min()) if lows_phi.notna().any() else 0.0
    ax.set_ylim(min(0.0, low) - 0.05, 1.05)
    if len(data):
        left = data.get(lows, data[mean]).fillna(data[mean])
        right = data.get(highs, data[mean]).fillna(data[mean])
        pad = max(0.002, float(right.max() - left.min()) * 0.1)
        ax.set_xlim(float(left.min()) - pad, float(right.max()) + pad)
        ax.legend(fontsize=8, loc="lower left", title="setting", title_fontsize=8)
    ax.set_title("Accurate and stable settings sit at the top right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def pareto_chart(front: pd.DataFrame, k: int, objective: str, lower_is_better: bool) -> Figure:
    """Every setting as a point with its two 95% intervals, the Pareto front drawn as a step
    line through its settings, each front setting labelled, the recommended one circled and
    those that cannot be told apart from it (paired by split seed) ringed in dashes."""
    fig = Figure(figsize=(8, 5.5))
    ax = fig.subplots()
    data = front.dropna(subset=["metric_mean", "stability"])
    metric = str(front["metric"].iloc[0]) if len(front) else "metric"
    for row in data.to_dict("records"):
        on = bool(row["on_front"])

        def err(mid: float, low: float, high: float) -> list[list[float]] | None:
            return None if math.isnan(low) else [[mid - low], [high - mid]]

        ax.errorbar(
            row["metric_mean"],
            row["stability"],
            xerr=err(row["metric_mean"], row["metric_ci_low"], row["metric_ci_high"]),
            yerr=err(row["stability"], row["stability_ci_low"], row["stability_ci_high"]),
            fmt="o",
            capsize=3,
            color="tab:blue" if on else "0.6",
            alpha=1.0 if on else 0.6,
            zorder=3 if on else 2,
        )
        if on:
            trials = f" (trial {row['trials']})" if row.get("trials") else ""
            # Labels of the right half point left, so they stay inside the picture.
            right = row["metric_mean"] > float(data["metric_mean"].median())
            ax.annotate(
                f"{row['setting']}{trials}",
                (row["metric_mean"], row["stability"]),
                xytext=(-6, 6) if right != lower_is_better else (6, 6),
                textcoords="offset points",
                ha="right" if right != lower_is_better else "left",
                fontsize=7,
            )
        if row["recommended"]:
            ax.scatter(
                row["metric_mean"], row["stability"], s=260, facecolors="none",
                edgecolors="tab:red", linewidths=1.6, zorder=4, label="recommended",
            )  # fmt: skip
        if row.get("indistinct", False):
            ax.scatter(
                row["metric_mean"], row["stability"], s=260, facecolors="none",
                edgecolors="tab:orange", linewidths=1.2, linestyles="--", zorder=4,
                label="cannot be told apart from it",
            )  # fmt: skip
    on = data[data["on_front"]].sort_values("metric_mean", ascending=not lower_is_better)
    if len(on) > 1:  # the front: from the most stable to the most accurate
        ax.step(
            on["metric_mean"], on["stability"], where="pre", color="tab:blue", ls="--", alpha=0.6
        )
    name = "Phi_C (near-twins agree)" if objective == "nogueira_corr" else "Nogueira's Phi"
    better = "lower is better" if lower_is_better else "higher is better"
    score = SCORE_NAMES.get(metric, metric)
    ax.set_xlabel(f"mean test {score} over split seeds, {better} (95% CI)")
    ax.set_ylabel(f"top-{k} stability, {name} (95% CI)")
    if lower_is_better:
        ax.invert_xaxis()  # the best still sits at the top right
    ax.set_title(f"Pareto front: {int(data['on_front'].sum())} of {len(data)} settings (blue)")
    if data["recommended"].any():
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Shapes: every run's shape function of a term, drawn over one another (study/reference.py)

MAX_CATEGORIES = 25  # a categorical shape shows its most frequent categories
MAX_CLASS_PANELS = 6  # a multiclass shape: one panel a class, the first six
MISSING = "(missing)"  # how a categorical picture labels rows without a value


def shape_chart(
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
