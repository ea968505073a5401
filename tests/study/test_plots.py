"""The study's pictures draw every setting and term they are given, at a readable size."""

import numpy as np
import pandas as pd

from ebm_study.study import plots


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


def test_rank_heatmap_thins_out_very_many_runs():
    ranks = pd.DataFrame(np.tile(np.arange(1, 13), (400, 1)), columns=[f"t{i}" for i in range(12)])
    fig = plots.rank_heatmap(ranks, 5)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (10, plots.MAX_HEATMAP_RUNS)
    assert "150 of 400 shown" in fig.axes[0].get_xlabel()


def test_stability_vs_score_has_one_point_per_defined_setting():
    by_config = pd.DataFrame(
        {
            "setting": ["lr=0.01", "lr=0.05", "one run"],
            "n_runs": [4, 4, 1],
            "nogueira": [0.5, 0.7, np.nan],
            "nogueira_ci_low": [0.4, 0.6, np.nan],
            "nogueira_ci_high": [0.6, 0.8, np.nan],
            "mean_f1": [0.97, 0.975, 0.96],
        }
    )
    fig = plots.stability_vs_score(by_config, 5)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["lr=0.01 (4 runs)", "lr=0.05 (4 runs)"]


def test_rank_heatmap_labels_runs_by_seed_under_their_setting():
    ranks = pd.DataFrame(np.tile(np.arange(1, 13), (4, 1)), columns=[f"t{i}" for i in range(12)])
    settings = ["lr=0.01", "lr=0.01", "lr=0.05", "lr=0.05"]
    fig = plots.rank_heatmap(ranks, 5, ["0/0", "1/0", "0/0", "1/0"], settings, "split/model seed")
    ax = fig.axes[0]
    ticks = ax.get_xticklabels()
    assert [t.get_text() for t in ticks] == ["0/0", "1/0", "0/0", "1/0"]
    assert {t.get_rotation() for t in ticks} == {0} and ticks[0].get_fontsize() >= 9
    assert [t.get_text() for t in ax.texts] == ["lr=0.01", "lr=0.05"]
    assert [line.get_xdata()[0] for line in ax.lines] == [1.5]  # between the two settings
    assert ax.get_xlabel() == "split/model seed of each run, grouped by setting"


def test_stability_vs_score_draws_each_settings_f1_interval():
    by_config = pd.DataFrame(
        {
            "setting": ["lr=0.01", "lr=0.05"],
            "n_runs": [4, 4],
            "nogueira": [0.5, 0.7],
            "nogueira_ci_low": [0.4, 0.6],
            "nogueira_ci_high": [0.6, 0.8],
            "mean_f1": [0.970, 0.973],
            "f1_ci_low": [0.960, 0.962],
            "f1_ci_high": [0.980, 0.984],
        }
    )
    ax = plots.stability_vs_score(by_config, 5).axes[0]
    low, high = ax.get_xlim()
    assert low < 0.960 and high > 0.984  # the intervals fit, so a 0.003 gap looks small
    assert "95% CI by split seed" in ax.get_xlabel()
