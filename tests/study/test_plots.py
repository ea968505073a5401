"""The study's pictures draw every setting and term they are given, at a readable size, and draw
the users' strings as they wrote them."""

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.patches import Rectangle

from ebm_study.measures import pareto
from ebm_study.study import plots, shape_plots

DOLLARS = "cost $ per $ unit"  # mathtext would set " per " in italics and drop the dollars
MARKUP = "<img src=x onerror=alert(1)>"
BROKEN = r"bad $\frac{$ maths"  # parsed as mathtext, drawing it raises


def drawn(fig):
    """The figure drawn as the UI gets it: a bad `$...$` raises only here."""
    fig.savefig(io.BytesIO(), format="png", dpi=50)
    return fig


def every_text(fig):
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def literal(fig, strings):
    """Each string drawn, as written, by Texts that do not read mathtext."""
    texts = every_text(drawn(fig))
    for s in strings:
        holding = [t for t in texts if s in t.get_text()]
        assert holding, s
        assert not any(t.get_parse_math() for t in holding), s
    return texts


def test_topk_frequency_shows_terms_ever_on_top_with_intervals():
    freq = pd.DataFrame(
        {
            "term": ["a", "b", "c"],
            "kind": ["main", "pair", "main"],
            "topk_count": [4, 2, 0],
            "topk_frequency": [1.0, 0.5, 0.0],
            "topk_ci_low": [0.5, 0.2, 0.0],
            "topk_ci_high": [1.0, 0.8, 0.4],
        }
    )
    fig = plots.topk_frequency_chart(freq, 1, 4)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]


# ---------------------------------------------------------------------------------------------
# The heat map of ranks


def outlines(ax) -> np.ndarray:
    """terms x runs: True where a cell is outlined."""
    rows, columns = ax.images[0].get_array().shape
    out = np.zeros((rows, columns), dtype=int)
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and not patch.get_fill():
            x, y = patch.get_xy()
            out[round(y + 0.5), round(x + 0.5)] += 1
    return out


def test_the_heatmap_shows_every_term_ever_in_a_top_k_and_k_outlines_a_run():
    # "rare" is in the top 3 of one run only; "never" in none; by median rank "rare" would
    # fall below "d", which is never on top either.
    ranks = pd.DataFrame(
        [[1, 2, 3, 4, 5, 6], [2, 1, 3, 4, 5, 6], [1, 3, 2, 4, 5, 6], [1, 2, 6, 4, 3, 5]],
        columns=["a", "b", "c", "d", "rare", "never"],
        dtype=float,
    )
    fig = drawn(plots.rank_heatmap(ranks, 3))
    ax = fig.axes[0]
    terms = [t.get_text() for t in ax.get_yticklabels()]
    assert terms == ["a", "b", "c", "rare"]  # by how often on top: 4, 4, 3, 1
    marked = outlines(ax)
    assert marked.sum(axis=0).tolist() == [3, 3, 3, 3]
    assert marked[terms.index("rare")].tolist() == [0, 0, 0, 1]
    shown = ranks[terms].T.to_numpy()
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    assert len(cells) == shown.size
    for (i, j), text in cells.items():
        assert text.get_text() == f"{shown[i, j]:g}"
    assert np.array_equal(ax.images[0].get_array(), np.minimum(shown, 7))  # beyond 2k: lumped


def test_tied_ranks_still_give_k_outlines_a_run():
    ranks = pd.DataFrame([[1, 2.5, 2.5, 4], [1.5, 1.5, 3, 4]], columns=list("abcd"))
    ax = plots.rank_heatmap(ranks, 2).axes[0]
    assert outlines(ax).sum(axis=0).tolist() == [2, 2]
    assert {t.get_text() for t in ax.texts} >= {"2.5", "1.5"}


def test_cell_text_is_dark_on_light_cells_and_light_on_dark_ones():
    ranks = pd.DataFrame([range(1, 9), range(8, 0, -1)], columns=list("abcdefgh"), dtype=float)
    ax = plots.rank_heatmap(ranks, 4).axes[0]
    colour = {t.get_text(): t.get_color() for t in ax.texts}
    assert colour["1"] == "black"  # on viridis' yellow
    assert colour["8"] == "white"  # on its dark end


def test_rank_heatmap_thins_out_very_many_runs_and_prints_no_ranks():
    ranks = pd.DataFrame(np.tile(np.arange(1, 13), (400, 1)), columns=[f"t{i}" for i in range(12)])
    fig = plots.rank_heatmap(ranks, 5)
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == (5, plots.MAX_HEATMAP_RUNS)
    assert "150 of 400 shown" in ax.get_xlabel() and "too narrow" in ax.get_xlabel()
    assert not ax.texts
    assert outlines(ax).sum(axis=0).tolist() == [5] * plots.MAX_HEATMAP_RUNS


def test_rank_heatmap_labels_runs_by_seed_under_their_setting():
    ranks = pd.DataFrame(np.tile(np.arange(1, 13), (4, 1)), columns=[f"t{i}" for i in range(12)])
    settings = ["lr=0.01", "lr=0.01", "lr=0.05", "lr=0.05"]
    fig = plots.rank_heatmap(ranks, 5, ["0/0", "1/0", "0/0", "1/0"], settings, "split/model seed")
    ax = fig.axes[0]
    ticks = ax.get_xticklabels()
    assert [t.get_text() for t in ticks] == ["0/0", "1/0", "0/0", "1/0"]
    assert {t.get_rotation() for t in ticks} == {0} and ticks[0].get_fontsize() >= 8
    (over,) = ax.child_axes
    assert [t.get_text() for t in over.get_xticklabels()] == ["lr=0.01", "lr=0.05"]
    assert [t.get_position()[0] for t in over.get_xticklabels()] == [0.5, 2.5]
    assert [line.get_xdata()[0] for line in ax.lines] == [1.5]  # between the two settings
    assert ax.get_xlabel() == "split/model seed of each run, grouped by setting"


def test_the_heatmap_draws_term_and_setting_names_literally():
    ranks = pd.DataFrame([[1, 2, 3], [2, 1, 3]], columns=[DOLLARS, MARKUP, BROKEN], dtype=float)
    fig = plots.rank_heatmap(ranks, 3, ["0", "1"], [BROKEN, DOLLARS], "seed")
    literal(fig, [DOLLARS, MARKUP, BROKEN])
    assert matplotlib.rcParams["text.parse_math"]  # the setting stays inside the figure


# ---------------------------------------------------------------------------------------------
# Accuracy against stability


def front_of(n: int, lower_is_better: bool = False) -> pd.DataFrame:
    """n settings as measures/pareto.table gives them: a trade-off, the front, the most
    stable front setting recommended and its neighbour indistinct."""
    metric = 0.96 + 0.002 * np.arange(n)
    stability = 0.8 - 0.03 * np.arange(n) - 0.05 * (np.arange(n) % 2)
    frame = pd.DataFrame(
        {
            "setting": [f"lr={i}" for i in range(n)],
            "trials": "",
            "n_runs": 4,
            "metric": "f1",
            "metric_mean": metric,
            "metric_ci_low": metric - 0.004,
            "metric_ci_high": metric + 0.004,
            "stability": stability,
            "stability_ci_low": stability - 0.1,
            "stability_ci_high": stability + 0.1,
        }
    )
    frame["on_front"] = pareto.front_mask(metric, stability, lower_is_better)
    frame["recommended"] = frame.index == 0
    frame["indistinct"] = frame.index == 1
    return frame


def labels(ax) -> list[str]:
    return sorted(t.get_text() for t in ax.texts)


@pytest.mark.parametrize("n", [1, 2, 8])
def test_each_setting_is_labelled_beside_its_point(n):
    front = front_of(n)
    ax = drawn(plots.accuracy_vs_stability(front, 5, "nogueira", False)).axes[0]
    assert labels(ax) == sorted(front["setting"])
    for text in ax.texts:  # beside its own point
        row = front[front["setting"] == text.get_text()].iloc[0]
        assert text.xy == (row["metric_mean"], row["stability"])


def test_past_eight_settings_each_is_numbered_with_a_key():
    front = front_of(18)
    fig = drawn(plots.accuracy_vs_stability(front, 5, "nogueira", False))
    ax, key = fig.axes
    assert labels(ax) == sorted(str(i) for i in range(1, 19))
    entries = [t.get_text() for t in key.get_legend().get_texts()]
    assert entries == [f"{i + 1}: lr={i}" for i in range(18)]
    assert key.get_legend().get_texts()[0].get_color() == "tab:red"  # the recommended one


def test_each_setting_has_both_intervals_and_none_where_undefined():
    front = front_of(3)
    front.loc[2, ["metric_ci_low", "metric_ci_high", "stability_ci_low", "stability_ci_high"]] = (
        np.nan
    )
    ax = plots.accuracy_vs_stability(front, 5, "nogueira", False).axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert [(c.has_xerr, c.has_yerr) for c in bars] == [(True, True)] * 2 + [(False, False)]
    x_bar, y_bar = bars[0].lines[2]
    assert np.allclose(x_bar.get_segments()[0][:, 0], [0.956, 0.964])
    assert np.allclose(y_bar.get_segments()[0][:, 1], [0.7, 0.9])


def test_the_recommended_and_the_indistinct_settings_are_marked_and_in_the_legend():
    front = front_of(4)
    ax = plots.accuracy_vs_stability(front, 5, "nogueira", False).axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "recommended" in legend and "cannot be told apart from the recommended" in legend
    rings = {c.get_label(): c.get_offsets().tolist() for c in ax.collections if c.get_label()}
    assert rings["recommended"] == [[0.96, 0.8]]
    assert np.allclose(rings["cannot be told apart from the recommended"], [[0.962, 0.72]])
    (step,) = [line for line in ax.lines if line.get_drawstyle() == "steps-pre"]
    assert step.get_xdata().tolist() == pytest.approx([0.96, 0.964, 0.966])  # lr=1 dominated


def test_stability_spans_0_to_1_and_below_0_only_when_a_value_is():
    front = front_of(2)
    low, high = plots.accuracy_vs_stability(front, 5, "nogueira", False).axes[0].get_ylim()
    assert low <= 0 and high >= 1 and low > -0.1
    front.loc[1, "stability_ci_low"] = -0.3
    low, _ = plots.accuracy_vs_stability(front, 5, "nogueira", False).axes[0].get_ylim()
    assert low <= -0.3


def test_the_axes_name_the_metric_and_the_stability_and_the_best_sits_right():
    ax = plots.accuracy_vs_stability(front_of(2), 5, "nogueira_corr", False).axes[0]
    assert ax.get_xlabel().startswith("mean test F1 over split seeds")
    assert ax.get_ylabel().startswith("top-5 stability, Phi_C")
    assert "top right" in ax.get_title()
    loss = front_of(2, lower_is_better=True).assign(metric="log_loss")
    ax = plots.accuracy_vs_stability(loss, 5, "nogueira", True).axes[0]
    assert ax.xaxis_inverted() and "lower is better" in ax.get_xlabel()
    assert ax.get_ylabel().startswith("top-5 stability, Nogueira's Phi")


def test_settings_are_drawn_literally_in_labels_and_key():
    for n in (3, 12):
        front = front_of(n)
        front.loc[0, "setting"], front.loc[1, "setting"] = DOLLARS, BROKEN
        front.loc[2, "setting"] = MARKUP
        literal(plots.accuracy_vs_stability(front, 5, "nogueira", False), [DOLLARS, MARKUP])


# ---------------------------------------------------------------------------------------------
# Shapes


def shapes(n_runs: int = 6, classes: int = 0):
    """Six runs' curves on 50 rows of x: two settings, a setting's runs shifted apart."""
    x = pd.Series(np.linspace(0, 1, 50), name="x")
    shift = np.arange(n_runs)[:, None] * 0.1
    curves = [np.sin(3 * x.to_numpy()) + s for s in shift[:, 0]]
    if classes:
        curves = [np.column_stack([c * (i + 1) for i in range(classes)]) for c in curves]
    return x, curves


def labelled(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_a_shape_is_a_median_line_a_setting_with_a_legend_of_settings_and_runs():
    x, curves = shapes()
    settings = ["lr=0.01"] * 3 + ["lr=0.05"] * 3
    fig = shape_plots.shape_chart("x", x, curves, settings, 0.9, classes=["0", "1"])
    ax = fig.axes[0]
    lines = labelled(ax)
    assert [line.get_label() for line in lines] == ["lr=0.01", "lr=0.05"]
    assert np.allclose(lines[0].get_ydata(), curves[1])  # the median of runs 0, 1, 2
    assert np.allclose(lines[1].get_ydata(), curves[4])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["lr=0.01 (3 runs)", "lr=0.05 (3 runs)"]
    assert "10th to 90th percentile" in fig.legends[0].get_title().get_text()
    assert ax.get_ylabel() == "contribution (log-odds of class 1)"
    strip = fig.axes[1]  # the data's density under the curves, on the same x
    assert strip.get_shared_x_axes().joined(ax, strip) and len(strip.patches) > 0
    assert strip.get_xlabel() == "x"
    assert "agreement 0.90" in fig.texts[0].get_text()


def test_a_regressions_shape_is_in_the_targets_units_and_a_classifiers_in_log_odds():
    x, curves = shapes()
    one = ["lr=0.01"] * 6
    fig = shape_plots.shape_chart("x", x, curves, one, 0.9, target="prog")
    assert fig.axes[0].get_ylabel() == "contribution to the prediction\n(prog's units)"
    fig = shape_plots.shape_chart("x", x, curves, one, 0.9, classes=["0", "1"], target="y")
    assert fig.axes[0].get_ylabel() == "contribution (log-odds of y = 1)"
    x, curves = shapes(classes=3)
    fig = shape_plots.shape_chart("x", x, curves, one, 0.9, classes=["a", "b", "c"])
    panels = [ax for ax in fig.axes if ax.get_ylabel() not in ("", "rows")]
    assert [ax.get_ylabel().split(":")[0] for ax in panels] == ["class a", "class b", "class c"]
    assert all("log-odds" in ax.get_ylabel() for ax in panels)
    median = np.median([curve[:, 2] for curve in curves], axis=0)  # class c's, of 6 runs
    assert np.allclose(labelled(panels[2])[0].get_ydata(), median)


def test_past_eight_settings_the_rest_are_drawn_as_one():
    x, curves = shapes(10)
    settings = [f"s{i}" for i in range(10)]
    fig = shape_plots.shape_chart("x", x, curves, settings, 0.9, classes=["0", "1"])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(legend) == shape_plots.MAX_SETTINGS
    assert legend[-1] == "the other 3 settings (3 runs)" and legend[0] == "s0 (1 run)"


def test_a_categorical_shape_shows_a_marker_a_setting_and_each_categorys_share():
    rows = ["red"] * 6 + ["blue"] * 3 + [None]
    value = {"red": 1.0, "blue": -1.0, None: 0.0}
    curves = [np.array([value[v] + s for v in rows]) for s in (0.0, 0.1, 0.2, 0.5)]
    x = pd.Series(rows, name="colour")
    fig = shape_plots.shape_chart(
        "colour", x, curves, ["a", "a", "a", "b"], 0.9, categorical=True, classes=["0", "1"]
    )
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["red\n60%", "blue\n30%", f"{shape_plots.MISSING}\n10%"]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert [c.get_label() for c in bars] == ["a", "b"]
    assert np.allclose(bars[0].lines[0].get_ydata(), [1.1, -0.9, 0.1])  # a's median


def test_a_shapes_term_categories_and_settings_are_drawn_literally():
    x = pd.Series([DOLLARS, MARKUP, BROKEN, DOLLARS], name=DOLLARS)
    curves = [np.array([1.0, 2.0, 3.0, 1.0])] * 2
    fig = shape_plots.shape_chart(
        BROKEN, x, curves, [MARKUP, DOLLARS], 0.9, categorical=True, classes=["0", "1"]
    )
    literal(fig, [DOLLARS, MARKUP, BROKEN])
    x = pd.Series([1.0, 2.0, 3.0], name=BROKEN)
    fig = shape_plots.shape_chart(DOLLARS, x, [np.ones(3)] * 2, [BROKEN] * 2, 0.9, target=MARKUP)
    literal(fig, [DOLLARS, MARKUP, BROKEN])
