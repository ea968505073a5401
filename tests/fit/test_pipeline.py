"""One pipeline from config to scored model, shared by train and promote's refit: the same
config gives the same model, a run's logged config gives the run's model back."""

import mlflow
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from ebm_study.commands.job import train
from ebm_study.errors import UserError
from ebm_study.fit import pipeline
from ebm_study.tracking import runs


def test_prepare_loads_checks_and_splits_by_the_split_seed(make_cfg):
    a = pipeline.prepare(make_cfg("split_seed=3"))
    b = pipeline.prepare(make_cfg("split_seed=4"))
    assert a.table.X.shape == (569, 30) and len(a.split.X_test) == 114
    assert not a.split.X_test.index.equals(b.split.X_test.index)


def test_prepare_refuses_data_the_config_cannot_use(make_cfg, tmp_path):
    frame = pd.DataFrame({"a": range(10), "y": 1})
    frame.to_csv(tmp_path / "one.csv", index=False)
    cfg = make_cfg("data=csv", f"data.path={tmp_path}/one.csv", "data.target=y")
    with pytest.raises(UserError, match="has one class"):
        pipeline.prepare(cfg)


def test_the_same_config_fits_the_same_model(make_cfg):
    cfg = make_cfg("split_seed=1", "model_seed=2")
    first, scores, *_ = pipeline.fit_and_score(cfg, pipeline.prepare(cfg))
    second, again, *_ = pipeline.fit_and_score(cfg, pipeline.prepare(cfg))
    assert {k: v for k, v in scores.items() if k != "fit_seconds"} == {
        k: v for k, v in again.items() if k != "fit_seconds"
    }
    assert scores["fit_seconds"] > 0 and 0.85 < scores["accuracy"] <= 1
    X = pipeline.prepare(cfg).split.X_test
    assert (first.predict_proba(X) == second.predict_proba(X)).all()


def test_a_runs_logged_config_refits_to_the_same_scores_categories_included(make_cfg, tmp_path):
    """What promote's refit relies on: the config a run logged, through the same pipeline,
    reproduces the run, including a column it was told is categorical."""
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 7, 20, 27, 30]]
    frame["size"] = pd.cut(frame["mean radius"], 3, labels=["small", "mid", "large"]).astype(str)
    frame.to_csv(tmp_path / "cancer.csv", index=False)
    cfg = make_cfg(
        "data=csv",
        f"data.path={tmp_path}/cancer.csv",
        "data.target=target",
        "data.categorical=[size]",
        "tracking.log_model=false",
    )
    scores = train(cfg)
    (run_id,) = mlflow.search_runs(experiment_names=["ebm-study"])["run_id"]
    logged = runs.run_config(run_id)
    assert list(logged.data.categorical) == ["size"]
    ebm, refit, *_ = pipeline.fit_and_score(logged, pipeline.prepare(logged))
    assert refit["f1"] == scores["f1"] and refit["log_loss"] == scores["log_loss"]
    assert ebm.feature_types_in_[list(ebm.feature_names_in_).index("size")] == "nominal"


def test_a_bag_at_max_rounds_is_counted_and_the_warning_names_the_setting(make_cfg):
    cfg = make_cfg("model.max_rounds=5", "model.early_stopping_rounds=10000")
    _, scores, *_ = pipeline.fit_and_score(cfg, pipeline.prepare(cfg))
    assert scores["boosting_rounds_max"] == 5 and scores["bags_at_max_rounds"] == 1
    assert scores["max_rounds"] == 5
    warning = pipeline.capped_bags_warning(cfg, scores)
    assert warning.startswith("1 of 1 outer bags never early-stopped and were stopped by the")
    assert "round cap, 5 rounds (model.max_rounds=5;" in warning
    auto = make_cfg("model.max_rounds=auto", "model.round_budget=0.01")
    _, scores, *_ = pipeline.fit_and_score(auto, pipeline.prepare(auto))
    assert scores["max_rounds"] == 1 == scores["bags_at_max_rounds"]  # 0.01 / 0.015: 1 round
    assert "model.round_budget raises it" in pipeline.capped_bags_warning(auto, scores)


def test_no_warning_when_the_bags_early_stop_or_early_stopping_is_off(make_cfg):
    stopped = make_cfg("model.learning_rate=0.1")
    _, scores, *_ = pipeline.fit_and_score(stopped, pipeline.prepare(stopped))
    assert scores["bags_at_max_rounds"] == 0 < scores["boosting_rounds_max"] < 300
    assert pipeline.capped_bags_warning(stopped, scores) is None
    off = make_cfg("model.max_rounds=5", "model.early_stopping_rounds=0")
    _, scores, *_ = pipeline.fit_and_score(off, pipeline.prepare(off))
    assert scores["bags_at_max_rounds"] == 1  # counted, but asked for: no warning
    assert pipeline.capped_bags_warning(off, scores) is None
