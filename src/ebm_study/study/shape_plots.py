"""The shape study's picture (study/reference.py): how a term's contribution moves along its
feature, setting by setting: the median across the setting's runs with the band of its runs,
over the data's density. Pure: arrays in, a matplotlib figure out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure  # no pyplot: nothing global to close, nothing to display
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ebm_study.measures.shapes import reading
from ebm_study.study.plots import plain_text

MAX_CATEGORIES = 25  # a categorical shape shows its most frequent categories
MAX_CLASS_PANELS = 6  # a multiclass shape: one panel a class, the first six
MAX_SETTINGS = 8  # a colour each; past it, the first ones, then the others drawn as one
MISSING = "(missing)"  # how a categorical picture labels rows without a value
BAND = (10, 90)  # the across-run band: these percentiles of a setting's runs, row by row


def groups_of(settings: list[str]) -> list[tuple[str, list[int]]]:
    """(setting, the indexes of its curves) in the order the settings first come; past
    MAX_SETTINGS the later ones as one group, so the colours stay few enough to tell apart."""
    out: dict[str, list[int]] = {}
    for i, setting in enumerate(settings):
        out.setdefault(setting, []).append(i)
    pairs = list(out.items())
    if len(pairs) <= MAX_SETTINGS:
        return pairs
    kept, rest = pairs[: MAX_SETTINGS - 1], pairs[MAX_SETTINGS - 1 :]
    return [*kept, (f"the other {len(rest)} settings", sorted(i for _, ix in rest for i in ix))]


def y_label(classes: list[str] | None, target: str, c: int | None) -> str:
    """What a contribution is in: log-odds of the second class (binary), centred log-odds of
    each class (3 or more), or the target's own units (a regression: `classes` None)."""
    if classes is None:
        return f"contribution to the prediction\n({target or 'the target'}'s units)"
    if c is None:
        positive = f"{target} = {classes[-1]}" if target else f"class {classes[-1]}"
        return f"contribution (log-odds of {positive})"
    return f"class {classes[c]}: contribution\n(log-odds, centred over the classes)"


@plain_text
def shape_chart(
    term: str,
    x: pd.Series | np.ndarray,
    curves: list[np.ndarray],
    settings: list[str],
    value: float,
    categorical: bool = False,
    classes: list[str] | None = None,
    target: str = "",
) -> Figure:
    """A term's shape over its feature's own axis (its categories, for a categorical feature):
    per setting (`settings`: each curve's), the median of its runs' curves and the band from
    their BAND percentiles, with a legend of the settings and their runs; under a continuous
    feature a strip of the data's density, under each category its share of the rows.
    `classes`: the model's classes (2: one panel; 3 or more: a panel a class, the first
    MAX_CLASS_PANELS), None for a regression; `target`: the target's name. The runs' agreement
    and its reading in the title."""
    x = pd.Series(x).reset_index(drop=True)
    groups = groups_of(settings)
    several = classes is not None and len(classes) >= 3
    panels = list(range(min(len(classes), MAX_CLASS_PANELS))) if several else [None]
    columns = min(len(panels), 3)
    rows = math.ceil(len(panels) / columns)
    size = (9, 5.6) if columns == 1 else (4.3 * columns, 4.2 * rows + 1.0)
    fig = Figure(figsize=size, layout="constrained")
    grid = fig.add_gridspec(rows, columns)
    colors = [colormaps["tab10"](i % 10) for i in range(len(groups))]
    if len(set(settings)) > MAX_SETTINGS:
        colors[-1] = "0.5"  # the others, drawn together
    for n, c in enumerate(panels):
        cell = grid[n // columns, n % columns]
        panel = np.array([curve if c is None else curve[:, c] for curve in curves], float)
        if categorical:
            ax = fig.add_subplot(cell)
            _categorical_panel(ax, x, panel, groups, colors, size[0] / columns)
        else:
            upper, lower = cell.subgridspec(2, 1, height_ratios=[6, 1], hspace=0)
            ax = fig.add_subplot(upper)
            _continuous_panel(ax, fig.add_subplot(lower, sharex=ax), x, panel, groups, colors)
        ax.set_ylabel(y_label(classes, target, c), fontsize=9 if c is None else 8)
    handles = [
        Line2D([], [], color=color, marker="o", lw=1.4) if categorical
        else (Patch(color=color, alpha=0.25, lw=0), Line2D([], [], color=color, lw=2))
        if len(ix) > 1 else Line2D([], [], color=color, lw=2)
        for (_, ix), color in zip(groups, colors, strict=True)
    ]  # fmt: skip
    band = "a bar" if categorical else "shaded"
    fig.legend(
        handles, [f"{label} ({len(ix)} run{'s' * (len(ix) != 1)})" for label, ix in groups],
        loc="outside lower center", ncols=min(len(groups), 3), fontsize=8, frameon=False,
        title=f"setting (runs): the median of its runs, {band} from their {BAND[0]}th to "
        f"{BAND[1]}th percentile", title_fontsize=8,
    )  # fmt: skip
    shown = "" if not several or len(classes) <= MAX_CLASS_PANELS else (
        f"; the first {MAX_CLASS_PANELS} of {len(classes)} classes"
    )  # fmt: skip
    where = f"{len(groups)} settings" if len(groups) > 1 else "1 setting"
    fig.suptitle(
        f"{term}: {len(curves)} runs in {where}; the runs' agreement {value:.2f} "
        f"({reading(value)}){shown}",
        fontsize=10,
    )
    return fig


def _spread(panel: np.ndarray, ix: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The median of these runs' curves and their band, row by row."""
    runs = panel[ix]
    low, mid, high = np.nanpercentile(runs, [BAND[0], 50, BAND[1]], axis=0)
    return mid, low, high


def _continuous_panel(ax, strip, x: pd.Series, panel, groups, colors) -> None:
    values = pd.to_numeric(x, errors="coerce").to_numpy(dtype=float)
    seen = np.flatnonzero(~np.isnan(values))  # rows without a value have no place on the axis
    if not len(seen):
        ax.text(0.5, 0.5, "no reference row has a value", ha="center", transform=ax.transAxes)
        strip.set_visible(False)
        return
    xs, first = np.unique(values[seen], return_index=True)
    at = seen[first]  # a row a value: rows of one value share their bin and contribution
    for (label, ix), color in zip(groups, colors, strict=True):
        mid, low, high = _spread(panel[:, at], ix)
        if len(ix) > 1:
            ax.fill_between(xs, low, high, step="post", color=color, alpha=0.25, lw=0)
        ax.plot(xs, mid, drawstyle="steps-post", color=color, lw=2, label=label)
    ax.axhline(0, color="0.5", lw=0.8, zorder=0)
    ax.grid(alpha=0.3)
    ax.tick_params(labelbottom=False)
    strip.hist(values[seen], bins=max(1, min(50, len(xs))), color="0.6")
    strip.set_yticks([])
    strip.set_ylabel("rows", fontsize=7, rotation=0, ha="right", va="center")
    name = str(x.name) if x.name is not None else ""
    missing = len(values) - len(seen)
    note = f" ({missing / len(values):.0%} of rows without a value, not drawn)" if missing else ""
    strip.set_xlabel(name + note)


def _categorical_panel(ax, x: pd.Series, panel, groups, colors, inches: float) -> None:
    """A marker a setting and category (the category's contribution is one value a run): the
    median of its runs, their band as a bar; categories by how many rows hold them, the rows'
    share under each label."""
    text = x.astype("string").fillna(MISSING)
    counts = text.value_counts()
    shown = list(counts.index[:MAX_CATEGORIES])
    first = [int(np.flatnonzero((text == c).to_numpy())[0]) for c in shown]
    positions = np.arange(len(shown))
    width = 0.6 / max(1, len(groups))
    for g, ((label, ix), color) in enumerate(zip(groups, colors, strict=True)):
        mid, low, high = _spread(panel[:, first], ix)
        error = [np.clip(mid - low, 0, None), np.clip(high - mid, 0, None)]
        ax.errorbar(positions - 0.3 + width * (g + 0.5), mid, yerr=error, fmt="o", ms=5,
                    color=color, lw=1.4, capsize=2, label=label)  # fmt: skip
    share = counts.iloc[: len(shown)] / counts.sum()
    # Names slanted when they would run into each other (7 points: about 4 points a letter).
    slant = max(len(str(c)) for c in shown) * 4 > inches * 60 / len(shown)
    ax.set_xticks(
        positions, [f"{c}\n{s:.0%}" for c, s in zip(shown, share, strict=True)], fontsize=7,
        rotation=30 if slant else 0, ha="right" if slant else "center",
        rotation_mode="anchor" if slant else "default",
    )  # fmt: skip
    more = f" ({len(shown)} of {len(counts)} categories, the most frequent)" if len(
        counts
    ) > len(shown) else ""  # fmt: skip
    ax.set_xlabel(f"{x.name if x.name is not None else ''}{more}; under each: its share of rows")
    ax.axhline(0, color="0.5", lw=0.8, zorder=0)
    ax.grid(alpha=0.3)
