"""The study groups runs by setting, takes pairs across split seeds, and says it in words."""

import math

import numpy as np
import pandas as pd
import pytest

from ebm_study.settings import StudySettings
from ebm_study.study import findings
from ebm_study.study.compute import run_study, score_matrix
from ebm_study.study.words import summary_markdown

TERMS = [f"t{i:02d}" for i in range(12)]


def settings_with(**changes) -> StudySettings:
    """The study's settings with conf/'s values unless changed."""
    return StudySettings(**{"top_k": 5, "terms": "all", "rbo_p": 0.8, **changes})


def synthetic(model_seed_matters: bool = False):
    """Two settings x 2 split seeds x 2 model seeds. The ranking depends on the split seed only
    (unless asked), so model-seed stability is perfect and split-seed stability is not."""
    runs, rows = [], []
    for key, lr in (("aaaa", "0.01"), ("bbbb", "0.05")):
        for split in (0, 1):
            for model in (0, 1):
                run_id = f"{key}-{split}-{model}"
                runs.append(
                    {
                        "run_id": run_id,
                        "config_key": key,
                        "split_seed": str(split),
                        "model_seed": str(model),
                        "model.learning_rate": lr,
                        "f1": 0.9 + split / 100,
                    }
                )
                scores = np.linspace(1.2, 0.1, len(TERMS))
                # t00..t02 always on top; the 4th and 5th places depend on the split seed.
                if split == 1:
                    scores[[3, 4, 5, 6]] = scores[[5, 6, 3, 4]]
                if model_seed_matters and model == 1:
                    scores[[2, 7]] = scores[[7, 2]]
                rows += [
                    {"run_id": run_id, "term": t, "importance": v, "kind": "main"}
                    for t, v in zip(TERMS, scores, strict=True)
                ]
    rows.append({"run_id": "aaaa-0-0", "term": "t00 & t01", "importance": 5.0, "kind": "pair"})
    return pd.DataFrame(runs).set_index("run_id"), pd.DataFrame(rows)


def test_per_setting_rows_with_their_hyperparameters_and_f1():
    runs, imps = synthetic()
    study = run_study(
        runs, imps, settings_with(terms="mains"), swept=["split_seed", "model.learning_rate"]
    )
    table = study.by_config.set_index("config_key")
    assert sorted(table.index) == ["aaaa", "bbbb"]
    assert table.loc["aaaa", "setting"] == "learning_rate=0.01"
    assert table.loc["bbbb", "learning_rate"] == "0.05"
    assert not [c for c in table.columns if "." in c]  # MLflow's table view shows those empty
    assert (table["n_runs"] == 4).all()
    assert table.loc["aaaa", "mean_f1"] == pytest.approx(0.905)
    assert study.n_runs == 8


def test_within_a_split_seed_is_the_models_own_randomness_and_the_headline_is_across():
    runs, imps = synthetic()
    study = run_study(runs, imps, settings_with(terms="mains"))
    # Model seeds agree exactly on each split: within 1; the headline takes pairs across the
    # two split seeds only, whose sets share 3 of 5 terms.
    assert study.headline["nogueira_within_split"] == pytest.approx(1.0)
    d, k, r = 12, 5, 3
    assert study.headline["nogueira"] == pytest.approx((r * d - k * k) / (k * (d - k)))
    assert study.headline["n_split_seeds"] == 2 and math.isnan(study.headline["nogueira_ci_low"])
    runs, imps = synthetic(model_seed_matters=True)
    within = run_study(runs, imps, settings_with(terms="mains")).headline["nogueira_within_split"]
    assert within < 1.0


def test_topk_frequency_counts_and_orders_terms():
    runs, imps = synthetic()
    freq = run_study(runs, imps, settings_with(terms="mains")).topk_frequency.set_index("term")
    assert freq.loc[["t00", "t01", "t02"], "topk_frequency"].tolist() == [1.0, 1.0, 1.0]
    assert freq.loc["t03", "topk_frequency"] == 0.5 and freq.loc["t05", "topk_frequency"] == 0.5
    assert math.isnan(freq.loc["t00", "topk_ci_low"])  # 2 split seeds: no interval by them
    one_each = run_study(runs.assign(split_seed=range(8)), imps, settings_with(terms="mains"))
    freq = one_each.topk_frequency.set_index("term")  # one run a split seed: Wilson's
    assert freq.loc["t00", "topk_ci_low"] < 1.0 <= freq.loc["t00", "topk_ci_high"]
    assert freq.index[0] == "t00" and freq.loc["t00", "median_rank"] == 1


def test_pairs_compete_only_with_terms_all():
    runs, imps = synthetic()
    assert "t00 & t01" not in score_matrix(imps, "mains").columns
    study = run_study(runs, imps, settings_with(terms="all"))
    freq = study.topk_frequency.set_index("term")
    assert freq.loc["t00 & t01", "kind"] == "pair"
    assert freq.loc["t00 & t01", "topk_count"] == 1  # only the one run that has it


def test_summary_names_reliable_and_swapping_terms():
    runs, imps = synthetic()
    study = findings.attach(
        run_study(runs, imps, settings_with(terms="mains"), swept=["split_seed"])
    )
    text = summary_markdown(study)
    # Two split seeds: no bound, so nothing is stated reliable; the frequencies stand.
    assert "none can be stated: a bound needs at least 3 split seeds" in text.split("\n")[0]
    assert "**t00** (100%)" in text and "**t03** (50%)" in text
    assert "Nogueira's Phi" in text and "95% CI" in text


def test_one_run_is_undefined_and_says_so():
    runs, imps = synthetic()
    one = runs.iloc[:1]
    study = run_study(one, imps[imps["run_id"] == one.index[0]], settings_with())
    assert math.isnan(study.headline["nogueira"])
    assert "at least 2 runs" in summary_markdown(study)


def test_top_k_at_least_the_number_of_terms_is_undefined_and_says_so():
    runs, imps = synthetic()
    study = run_study(runs, imps, settings_with(top_k=12, terms="mains"))
    assert math.isnan(study.headline["nogueira"])
    assert any("top_k=12" in n for n in study.notes)


def test_identical_runs_are_perfectly_stable():
    runs, imps = synthetic()
    same = imps[imps["run_id"] == "aaaa-0-0"]
    copies = pd.concat([same.assign(run_id=r) for r in runs.index])
    study = run_study(runs, copies, settings_with(terms="mains"))
    assert study.headline["nogueira"] == pytest.approx(1.0)
    assert study.headline["rbo"] == pytest.approx(1.0)
    # Two split seeds: no interval, whatever the runs (the sweep's design cannot give one).
    assert math.isnan(study.headline["nogueira_ci_low"])


def test_runs_with_a_bag_at_max_rounds_are_counted_per_setting_and_named():
    runs, imps = synthetic()
    runs["bags_at_max_rounds"] = 0.0
    runs.loc[["aaaa-1-0", "bbbb-0-1"], "bags_at_max_rounds"] = [1.0, 2.0]
    runs["run_name"] = runs.index
    study = run_study(runs, imps, settings_with(), swept=["split_seed", "model.learning_rate"])
    assert sorted(study.at_max_rounds) == ["aaaa-1-0", "bbbb-0-1"]
    assert study.by_config.set_index("config_key")["runs_at_max_rounds"].to_dict() == {
        "aaaa": 1,
        "bbbb": 1,
    }
    assert "2 run(s) had outer bags that never early-stopped and were stopped by the round cap" in (
        summary_markdown(study)
    )
    assert "aaaa-1-0" in summary_markdown(study)


def test_runs_logged_before_the_rounds_metric_count_as_not_at_the_cap():
    runs, imps = synthetic()
    study = run_study(runs, imps, settings_with())
    assert study.at_max_rounds == [] and "never early-stopped" not in summary_markdown(study)


def test_runs_are_labelled_by_seed_and_setting_and_f1_has_its_interval():
    runs, imps = synthetic()
    study = run_study(runs, imps, settings_with(), swept=["split_seed", "model.learning_rate"])
    assert study.run_seeds["aaaa-1-0"] == "1/0" and study.seeds_name == "split/model seed"
    assert study.run_settings["bbbb-0-1"] == "learning_rate=0.05"
    row = study.by_config.set_index("config_key").loc["aaaa"]
    # F1 0.90, 0.90 on split 0 and 0.91, 0.91 on split 1: two split seeds, no interval.
    assert row["mean_f1"] == pytest.approx(0.905) and math.isnan(row["f1_ci_low"])
    # With a third split seed (F1 0.92): the t interval over the split seeds' means.
    more = runs.loc[runs["config_key"] == "aaaa"].iloc[:2].assign(split_seed="2", f1=0.92)
    more.index = ["aaaa-2-0", "aaaa-2-1"]
    extra = imps[imps["run_id"].isin(["aaaa-0-0", "aaaa-0-1"])].replace(
        {"run_id": {"aaaa-0-0": "aaaa-2-0", "aaaa-0-1": "aaaa-2-1"}}
    )
    row = (
        run_study(pd.concat([runs, more]), pd.concat([imps, extra]), settings_with())
        .by_config.set_index("config_key")
        .loc["aaaa"]
    )
    half = 4.302653 * 0.01 / math.sqrt(3)  # t(0.975, 2); the means 0.90, 0.91, 0.92: sd 0.01
    assert (row["f1_ci_low"], row["f1_ci_high"]) == pytest.approx(
        (0.91 - half, 0.91 + half), abs=1e-6
    )


def test_the_whole_sweeps_score_is_a_mean_over_split_seeds_whatever_the_runs_order():
    """Split 1 holds three runs of F1 0.8, split 0 one of 0.9: the mean over split seeds is
    0.85, not the runs' 0.825, and it does not move when the runs come in another order."""
    runs, imps = synthetic()
    runs = runs.loc[["aaaa-0-0", "aaaa-1-0", "aaaa-1-1", "bbbb-1-0"]].assign(
        f1=[0.9, 0.8, 0.8, 0.8]
    )
    imps = imps[imps["run_id"].isin(runs.index)]
    for order in (runs.index, runs.index[::-1], ["aaaa-1-1", "aaaa-0-0", "bbbb-1-0", "aaaa-1-0"]):
        study = run_study(runs.loc[order], imps, settings_with(terms="mains"))
        assert study.headline["mean_f1"] == pytest.approx(0.85)
