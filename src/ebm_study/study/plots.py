"""Pictures of the stability study; pure: tables in, matplotlib figures out. Every figure draws
users' strings (settings, terms) as plain text: matplotlib reads `$...$` as mathematics, so
`cost $ per $ unit` would come out in italics and a lone `$` would stop the drawing. The setting
is read when a Text is made: each figure is made under `plain_text` (shape_plots.py's too)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from matplotlib import colormaps, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure  # no pyplot: nothing global to close, nothing to display
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from ebm_study.study.tables import SCORE_NAMES  # how the x axis names the score

MAX_HEATMAP_RUNS = 150  # past this, columns are thinner than a pixel: evenly spaced runs shown
MAX_PRINTED_RUNS = 60  # past this, a cell is too narrow for its rank
MAX_DIRECT_LABELS = 8  # more settings than this are numbered, with a key beside the chart
MAX_KEY_BESIDE = 30  # a longer key goes under the chart, in columns
MAX_PLACED = 150  # labels placed clear of each other: 1,000 took a minute
_BOX = {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75}


def plain_text(draw):
    """Make the figure with every text taken literally (see the module's docstring)."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        with rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return drawn


@plain_text
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


def _dark_text(rgb) -> bool:
    """Whether black text reads better than white on this colour (WCAG relative luminance)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05)


@plain_text
def rank_heatmap(
    ranks: pd.DataFrame,
    k: int,
    seeds: list[str] | None = None,
    settings: list[str] | None = None,
    seeds_name: str = "seeds",
) -> Figure:
    """Every term in some run's top k (rows: the most often on top first, then by median rank)
    x runs (columns): each term's rank in each run, printed in its cell, each run's top k
    outlined in black (ties at the boundary go to the term listed first, as the study counts
    them, so every column holds k outlines). Ranks beyond 2k share one grey so the top of the
    ranking stays legible. Runs come grouped by setting (the study orders them so): each column
    is labelled by its seeds, each group by its setting above it."""
    values = ranks.to_numpy(dtype=float)
    filled = np.where(np.isnan(values), np.inf, values)  # a missing rank: below every other
    top = np.zeros(values.shape, dtype=bool)
    np.put_along_axis(top, np.argsort(filled, axis=1, kind="stable")[:, :k], True, axis=1)
    count = top.sum(axis=0)
    rows = [t for t in np.lexsort((np.median(filled, axis=0), -count)) if count[t] > 0]
    total = len(ranks)
    seeds = seeds or [str(c)[:6] for c in ranks.index]
    settings = settings or [""] * total
    keep = np.arange(total)
    if total > MAX_HEATMAP_RUNS:
        keep = np.linspace(0, total - 1, MAX_HEATMAP_RUNS).round().astype(int)
        seeds, settings = [seeds[i] for i in keep], [settings[i] for i in keep]
    matrix, outlined = values[keep][:, rows].T, top[keep][:, rows].T
    n_terms, n_runs = matrix.shape
    # A white line between settings, each setting's name over its runs: upright when it
    # fits over them (the columns' width guessed before the layout).
    starts = [0] + [j for j in range(1, n_runs) if settings[j] != settings[j - 1]] + [n_runs]
    groups = [(a, b) for a, b in zip(starts, starts[1:], strict=False) if settings[a]]
    width = min(11.0, max(6.5, 4.0 + 0.16 * n_runs))
    cell = (width - 3.5) * 72 / n_runs
    narrow = any(len(settings[a]) * 5.5 > (b - a) * cell for a, b in groups)
    above = max((len(settings[a]) for a, _ in groups), default=0) * 0.075 if narrow else 0
    fig = Figure(figsize=(width, max(3.5, 0.3 * n_terms + 2.6 + above)))
    ax = fig.subplots()
    lumped = 2 * k + 1
    cmap = ListedColormap([*colormaps["viridis_r"](np.linspace(0, 0.85, 2 * k)), "0.86"])
    norm = BoundaryNorm(np.arange(0.5, lumped + 1), cmap.N)
    image = ax.imshow(np.minimum(matrix, lumped), aspect="auto", cmap=cmap, norm=norm)
    printed = n_runs <= MAX_PRINTED_RUNS
    cells = [
        ax.text(j, i, f"{matrix[i, j]:g}", ha="center", va="center",
                color="black" if _dark_text(cmap(norm(min(matrix[i, j], lumped)))) else "white")
        for i, j in zip(*np.nonzero(~np.isnan(matrix)), strict=True)
        if printed
    ]  # fmt: skip
    # Dark, inset outlines: seen on the lightest cell and apart from the neighbours' edges.
    inset, line = (0.08, 1.8) if printed else (0.0, 0.7)
    for i, j in zip(*np.nonzero(outlined), strict=True):
        ax.add_patch(
            Rectangle((j - 0.5 + inset, i - 0.5 + inset), 1 - 2 * inset, 1 - 2 * inset,
                      fill=False, edgecolor="black", lw=line)
        )  # fmt: skip
    ax.set_yticks(range(n_terms), ranks.columns[rows], fontsize=9)
    shown = f"{n_runs} of {total} shown, evenly spaced" if total > n_runs else ""
    if printed:
        long = max((len(s) for s in seeds), default=1) > 3 or n_runs > 30
        ax.set_xticks(range(n_runs), seeds, fontsize=8, rotation=90 if long else 0)
        ax.set_xlabel(f"{seeds_name} of each run, grouped by setting")
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"runs ({', '.join(filter(None, [shown, 'too narrow to print ranks']))})")
    for left in starts[1:-1]:
        ax.axvline(left - 0.5, color="white", lw=3)
    over = ax.secondary_xaxis("top")
    over.set_xticks([(a + b - 1) / 2 for a, b in groups], [settings[a] for a, _ in groups],
                    fontsize=8 if narrow else 9, rotation=90 if narrow else 0)  # fmt: skip
    over.tick_params(length=0)
    bar = fig.colorbar(image, ax=ax, fraction=0.035, pad=0.02)
    every = max(1, k // 2)
    ticks = [t for t in range(1, lumped + 1) if t <= 3 or t % every == 0 or t in (k, lumped)]
    bar.set_ticks(ticks, labels=[f">{2 * k}" if t == lumped else str(t) for t in ticks])
    bar.set_label("rank (1 = most important)")
    ax.set_title(
        f"Rank of each term in each run, each run's top {k} outlined\n"
        f"the {n_terms} terms ever in a run's top {k}, the most often on top first",
        fontsize=11,
    )
    fig.tight_layout()
    # The ranks' size from the columns' width once laid out: as large as fits, up to 9 points.
    cell = ax.get_window_extent().width * 72 / fig.dpi / n_runs
    for text in cells:
        text.set_fontsize(min(9.0, max(4.5, cell / (0.62 * max(2, len(text.get_text()))))))
    return fig


def _setting(row: dict) -> str:
    trials = "" if pd.isna(row.get("trials")) else str(row["trials"])
    return f"{row['setting']} (trial {trials})" if trials else str(row["setting"])


def _flag(data: pd.DataFrame, column: str) -> pd.Series:
    """A column of True/False, False where it is missing or empty."""
    return data[column].eq(True) if column in data else pd.Series(False, index=data.index)


def _bar(mid: float, low: float, high: float) -> list[list[float]] | None:
    """An interval as errorbar wants it; none when it is undefined."""
    if math.isnan(low) or math.isnan(high):
        return None
    return [[max(0.0, mid - low)], [max(0.0, high - mid)]]


@plain_text
def accuracy_vs_stability(
    front: pd.DataFrame, k: int, objective: str, lower_is_better: bool
) -> Figure:
    """Every setting (measures/pareto.table's rows, one or many) at its mean test metric
    (x) and top-k stability (y), each with its 95% interval; the Pareto front as a step line,
    the recommended setting ringed in red and those that cannot be told apart from it in
    orange dashes. Each setting is labelled beside its point, or, past MAX_DIRECT_LABELS,
    numbered with a key beside the chart (under it, past MAX_KEY_BESIDE). The best sits at
    the top right."""
    data = front.dropna(subset=["metric_mean", "stability"]).reset_index(drop=True)
    rows = data.to_dict("records")
    metric = str(front["metric"].iloc[0]) if len(front) else "metric"
    numbered = len(rows) > MAX_DIRECT_LABELS
    fig, ax = _chart_and_key(rows, _flag(data, "recommended").tolist())
    thin = len(rows) > 20
    for row, on in zip(rows, _flag(data, "on_front"), strict=True):
        ax.errorbar(
            row["metric_mean"], row["stability"],
            xerr=_bar(row["metric_mean"], row["metric_ci_low"], row["metric_ci_high"]),
            yerr=_bar(row["stability"], row["stability_ci_low"], row["stability_ci_high"]),
            fmt="o", ms=5, capsize=0 if thin else 3, elinewidth=0.7 if thin else 1.2,
            color="tab:blue" if on else "0.55", alpha=1.0 if on else 0.7, zorder=3 if on else 2,
        )  # fmt: skip
    marks = [
        Line2D([], [], marker="o", ls="none", color="tab:blue",
               label="on the Pareto front" if len(rows) > 1 else "the sweep's one setting"),
        Line2D([], [], marker="o", ls="none", color="0.55", alpha=0.7,
               label="not on it (another is as good on both)"),
    ]  # fmt: skip
    on = data[_flag(data, "on_front")]
    on = on.sort_values("metric_mean", ascending=not lower_is_better)
    if len(on) > 1:  # the front: from the most stable to the most accurate
        ax.step(on["metric_mean"], on["stability"], where="pre", color="tab:blue", ls="--",
                alpha=0.7, zorder=2)  # fmt: skip
        marks[0] = Line2D([], [], marker="o", color="tab:blue", ls="--",
                          label="on the Pareto front (dashed)")  # fmt: skip
    if on.empty or len(on) == len(data):
        marks = marks[:1] if len(data) else []
    for column, color, style, label in (
        ("recommended", "tab:red", "-", "recommended"),
        ("indistinct", "tab:orange", "--", "cannot be told apart from the recommended"),
    ):  # fmt: skip
        chosen = data[_flag(data, column)]
        if len(chosen):
            marks.append(ax.scatter(
                chosen["metric_mean"], chosen["stability"], s=240, facecolors="none",
                edgecolors=color, linewidths=1.8, linestyles=style, zorder=4, label=label,
            ))  # fmt: skip
    _limits(ax, data, lower_is_better)
    name = "Phi_C (near-twins agree)" if objective == "nogueira_corr" else "Nogueira's Phi"
    score = SCORE_NAMES.get(metric, metric)
    better = "; lower is better, so it falls to the right" if lower_is_better else ""
    ax.set_xlabel(f"mean test {score} over split seeds (95% interval){better}")
    ax.set_ylabel(f"top-{k} stability, {name} (95% interval)")
    missing = len(front) - len(data)
    ax.set_title(
        "Accurate and stable settings sit at the top right\n"
        + (f"{len(on)} of {len(data)} settings on the Pareto front" if len(data) > 1 else
           "one setting: where it stands on both" if len(data) else "no setting has both")
        + (f"; {missing} without both values not drawn" if missing else ""),
        fontsize=11,
    )  # fmt: skip
    ax.grid(alpha=0.3)
    if marks:
        ax.legend(handles=marks, fontsize=8, loc="upper center", ncols=2,
                           bbox_to_anchor=(0.5, -0.13), frameon=False)  # fmt: skip
    texts = [str(i + 1) if numbered else _setting(r) for i, r in enumerate(rows)]
    fig.tight_layout()
    _place(ax, data, texts, fig.canvas.get_renderer(), 7.5 if numbered else 8)
    return fig


def _chart_and_key(rows: list[dict], recommended: list[bool]):
    """The figure and its chart; past MAX_DIRECT_LABELS settings, with a key of their numbers
    beside the chart, or under it in columns past MAX_KEY_BESIDE (the figure's width kept
    near what the UI shows)."""
    n = len(rows)
    if n <= MAX_DIRECT_LABELS:
        fig = Figure(figsize=(8.5, 6.0))
        FigureCanvasAgg(fig)  # its renderer measures the labels before placing them
        return fig, fig.subplots()
    labels = [f"{i + 1}: {_setting(r)}" for i, r in enumerate(rows)]
    column = min(5.5, 0.05 * max(map(len, labels)) + 0.3)  # inches, at 7.5 points
    if n <= MAX_KEY_BESIDE:
        ncols, fig = 1, Figure(figsize=(8.5 + column, max(6.0, 0.165 * n + 1.5)))
        ax, key = fig.subplots(1, 2, width_ratios=[8.5, column])
    else:
        ncols = max(1, int(10.5 // column))
        height = 0.15 * math.ceil(n / ncols) + 0.4
        fig = Figure(figsize=(10.5, 6.5 + height))
        ax, key = fig.subplots(2, 1, height_ratios=[6.5, height])
    FigureCanvasAgg(fig)
    key.axis("off")
    blank = [Line2D([], [], ls="none")] * n
    legend = key.legend(
        blank, labels, loc="upper left", ncols=ncols, fontsize=7.5, handlelength=0,
        handletextpad=0, labelspacing=0.3, borderaxespad=0, title="settings",
        title_fontsize=8, alignment="left", frameon=False,
    )  # fmt: skip
    for text, red in zip(legend.get_texts(), recommended, strict=True):
        text.set_color("tab:red" if red else "black")
    return fig, ax


def _limits(ax, data: pd.DataFrame, lower_is_better: bool) -> None:
    """Stability from 0 to 1 (lower when a value or an interval is); the metric's intervals in
    full, so a gap the intervals span does not look wide."""
    phi = pd.concat([data["stability"], data["stability_ci_low"], data["stability_ci_high"]])
    phi = phi.dropna()
    low, high = min(0.0, float(phi.min()) if len(phi) else 0.0), max(1.0, float(phi.max()))
    ax.set_ylim(low - 0.04, high + 0.04)
    x = pd.concat([data["metric_mean"], data["metric_ci_low"], data["metric_ci_high"]]).dropna()
    if len(x):
        left, right = float(x.min()), float(x.max())
        pad = (right - left) * 0.08 if right > left else max(abs(right) * 0.01, 1e-3)
        ax.set_xlim(left - pad, right + pad)
    if lower_is_better:
        ax.invert_xaxis()  # the best still sits at the right


# Where a label may go, in points from its point: beside it first, then further out.
_OFFSETS = [(6, 6), (6, -6), (-6, 6), (-6, -6), (0, 9), (0, -10), (9, 0), (-9, 0)]
_OFFSETS += [(dx * f, dy * f) for f in (2.2, 3.6) for dx, dy in _OFFSETS]


def _place(ax, data: pd.DataFrame, texts: list[str], renderer, size: float) -> None:
    """Label each point where its label covers no other label, no point and stays inside the
    axes (the first such place of _OFFSETS; the least covered one when there is none). The
    recommended and the front are placed first, so theirs get the nearest places."""
    if not texts:
        return
    points = ax.transData.transform(data[["metric_mean", "stability"]].to_numpy(float))
    frame = ax.get_window_extent(renderer)
    scale = ax.figure.dpi / 72
    ringed = (_flag(data, "recommended") | _flag(data, "indistinct")).to_numpy()
    reach = np.where(ringed, 12, 5)  # pixels a point, or its ring, covers
    taken = [
        Bbox.from_extents(x - r, y - r, x + r, y + r)
        for (x, y), r in zip(points, reach, strict=True)
    ]
    first = _flag(data, "recommended").astype(int) * 2 + _flag(data, "on_front").astype(int)
    for i in np.argsort(-first.to_numpy(), kind="stable"):
        row = data.iloc[i]
        color = "tab:red" if first.iloc[i] >= 2 else "black"
        label = ax.annotate(
            texts[i], (row["metric_mean"], row["stability"]), xytext=(0, 0),
            textcoords="offset points", fontsize=size, color=color, zorder=5,
            bbox=None if len(texts) > MAX_PLACED else _BOX,
        )  # fmt: skip
        if len(texts) > MAX_PLACED:  # each place is tried against all: quadratic, so not
            continue  # past this (a long search's numbers sit on their points)
        box = label.get_window_extent(renderer)
        w, h = box.width, box.height
        best, cost = None, math.inf
        for dx, dy in _OFFSETS:
            x = points[i][0] + dx * scale - (w if dx < 0 else w / 2 if dx == 0 else 0)
            y = points[i][1] + dy * scale - (h if dy < 0 else h / 2 if dy == 0 else 0)
            spot = Bbox.from_bounds(x, y, w, h)
            covered = sum(_overlap(spot, other) for other in taken)
            outside = w * h - _overlap(spot, frame)
            if covered + 10 * outside < cost:
                best, cost = (dx, dy, spot), covered + 10 * outside
            if cost == 0:
                break
        dx, dy, spot = best
        label.set_position((dx, dy))
        label.set_horizontalalignment("right" if dx < 0 else "center" if dx == 0 else "left")
        label.set_verticalalignment("top" if dy < 0 else "center" if dy == 0 else "bottom")
        taken.append(spot)


def _overlap(a: Bbox, b: Bbox) -> float:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, width) * max(0.0, height)
