"""What holds, from a study: the summary opens with the reliably-top set, pairs a user names are
checked, and the near-best runs are those of the settings the paired test cannot separate."""

import numpy as np
import pandas as pd
import pytest

from ebm_study.errors import UserError
from ebm_study.settings import StudySettings
from ebm_study.study import findings, groups, verdicts
from ebm_study.study.compute import run_study
from ebm_study.study.publish import pareto_front
from ebm_study.study.words import summary_markdown

TERMS = [f"t{i:02d}" for i in range(12)]


def fixed_top(splits: int, settings=("aaaa",), gap: float = 0.0, seed: int = 0):
    """Runs whose top 3 never changes (t00 > t01 > t02 far above the rest), the rest reshuffled;
    each setting's f1 `gap` below the previous one's on every split seed."""
    rng = np.random.default_rng(seed)
    runs, rows = [], []
    for number, key in enumerate(settings):
        for split in range(splits):
            for model in (0, 1):
                run_id = f"{key}-{split}-{model}"
                runs.append(
                    {
                        "run_id": run_id,
                        "config_key": key,
                        "split_seed": str(split),
                        "model_seed": str(model),
                        "model.learning_rate": str(0.01 * (number + 1)),
                        "f1": 0.95 - gap * number + split / 1000 + rng.normal(0, 1e-4),
                    }
                )
                scores = rng.uniform(0, 1, len(TERMS))
                scores[:3] = [13.0, 12.0, 11.0]
                rows += [
                    {"run_id": run_id, "term": t, "importance": v, "kind": "main"}
                    for t, v in zip(TERMS, scores, strict=True)
                ]
    return pd.DataFrame(runs).set_index("run_id"), pd.DataFrame(rows)


def studied(runs, imps, **changes):
    settings = StudySettings(**{"top_k": 3, "terms": "all", "rbo_p": 0.8, **changes})
    study = run_study(runs, imps, settings, swept=["split_seed", "model.learning_rate"])
    study.pareto = pareto_front(study, runs)
    return study


def test_the_summary_opens_with_the_reliably_top_set_then_the_headline():
    study = findings.attach(studied(*fixed_top(30)))
    first, _, second = summary_markdown(study).split("\n")[:3]
    assert first.startswith("**Reliably in the top 3**")
    assert all(f"**t0{i}**" in first for i in range(3)) and "t03" not in first
    assert second.startswith("Top-3 stability over 60 runs on 30 split seeds")
    assert verdicts.n_reliable(study) == 3
    # The ordering of t00 over t01 holds in every run, across 30 split seeds: settled.
    first_pair = study.orderings.iloc[0]
    assert (first_pair["a"], first_pair["b"], first_pair["verdict"]) == ("t00", "t01", "settled")


def test_with_few_split_seeds_the_summary_says_what_would_make_a_term_reliable():
    study = findings.attach(studied(*fixed_top(5)))
    first = summary_markdown(study).split("\n")[0]
    assert verdicts.n_reliable(study) == 0
    assert "none yet" in first and "29 split seeds" in first and "**t00**" in first


def test_a_pair_a_user_names_is_compared_and_a_misspelt_one_is_refused():
    study = studied(*fixed_top(6))
    findings.attach(study, [("t02", "t00")])
    text = verdicts.compare_sentence(study, "t02", "t00")
    assert "t02 outranks t00 in a share 0.00" in text and "settled: t00 is above t02" in text
    with pytest.raises(UserError, match=r"--compare 'T00' is not a term.*did you mean 't00'"):
        findings.attach(study, [("T00", "t01")])
    with pytest.raises(UserError, match="names one term twice"):
        findings.attach(study, [("t01", "t01")])


def test_the_near_best_runs_are_those_of_the_settings_the_paired_test_cannot_separate():
    # Three settings; the third's f1 is 0.02 below on every split seed: told apart.
    runs, imps = fixed_top(6, ("aaaa", "bbbb", "cccc"))
    runs.loc[runs["config_key"] == "cccc", "f1"] -= 0.02
    study = findings.attach(studied(runs, imps))
    assert set(study.near_best_settings) == {"aaaa", "bbbb"}
    assert study.near_best["n_runs"].iloc[0] == 24
    ranges = study.near_best.set_index("term")
    assert ranges.loc[["t00", "t01", "t02"], "in_every_top_k"].all()
    assert study.near_best_run in runs.index[runs["config_key"].isin(["aaaa", "bbbb"])]
    text = verdicts.near_best_paragraph(study)
    assert "In every one's top 3: **t00**, **t01**, **t02**" in text
    # Within a stated distance: all three.
    wide = findings.attach(studied(runs, imps, near_best=0.05))
    assert set(wide.near_best_settings) == {"aaaa", "bbbb", "cccc"}


def test_without_a_paired_interval_only_the_best_setting_is_near_best_and_it_says_why():
    runs, imps = fixed_top(2, ("aaaa", "bbbb"))  # 2 split seeds: no interval
    study = findings.attach(studied(runs, imps))
    assert study.near_best_how == findings.NO_INTERVAL and len(study.near_best_settings) == 1
    assert "the best setting alone: with fewer than 3 split seeds" in (
        verdicts.near_best_paragraph(study)
    )
    one = findings.attach(studied(*fixed_top(4)))
    assert one.near_best_how == findings.ONE_SETTING
    assert "The 8 runs of the sweep's one setting" in verdicts.near_best_paragraph(one)


def test_the_near_best_picture_draws_a_row_a_term_and_marks_what_holds():
    from ebm_study.study import cloud

    study = findings.attach(studied(*fixed_top(6, ("aaaa", "bbbb"))))
    fig = cloud.near_best_chart(study.near_best, 3, verdicts.near_best_how(study))
    labels = fig.axes[0].get_yticklabels()
    assert [t.get_text() for t in labels][:3] == ["t00", "t01", "t02"]
    assert labels[0].get_fontweight() == "bold" and labels[-1].get_fontweight() != "bold"
    assert "near-best runs" in fig.axes[0].get_title()


def test_near_twin_groups_become_units_and_other_terms_stay_alone():
    twins = pd.DataFrame(
        {"group": [1, 1, 1, 2, 2], "term": ["a", "b", "z", "c", "y"], "max_abs_corr": 0.95}
    )
    units = groups.units_of(twins, ["a", "b", "c", "d", "a & c"])
    # Group 2 has only one member among the terms: no group; z and y are not terms here.
    assert units == {"group 1 (a, b)": ["a", "b"], "c": ["c"], "d": ["d"], "a & c": ["a & c"]}


def test_a_model_that_cannot_be_read_is_left_out_with_a_warning(tmp_path, caplog):
    from ebm_study.study.reference import load_models

    finished = pd.DataFrame({"model_uri": [f"file://{tmp_path}/gone/model"]}, index=["run-gone"])
    assert load_models(finished, ["run-gone"], {}) == {}
    assert "run run-gone: its model cannot be read" in caplog.text
    assert load_models(finished, ["run-gone"], {"run-gone": "kept"}) == {"run-gone": "kept"}


def test_an_end_that_clears_a_tie_by_less_than_its_digits_is_said():
    """0.85 (0.50–0.99) reads as holding one half; its lower end, 0.501, does not."""
    from ebm_study.study.verdicts import _edge

    row = {"s_ci_low": 0.501, "s_ci_high": 0.989, "d_ci_low": 0.108, "d_ci_high": 0.661}
    assert _edge(row, "s", 0.5, "one half") == (
        " (the interval's lower end, 0.501, clears one half)"
    )
    assert _edge(row, "d", 0.0, "0") == ""  # 0.11 says it already
    row = {"s_ci_low": 0.3, "s_ci_high": 0.4996, "x_ci_low": 0.45, "x_ci_high": 0.55}
    assert "upper end, 0.4996, clears" in _edge(row, "s", 0.5, "one half")  # not 0.500
    assert _edge(row, "x", 0.5, "one half") == ""  # holds the tie: nothing to add
