"""The EBM is built from the config as given, with its cores shared among parallel jobs."""

import pytest
from omegaconf import OmegaConf

from ebm_study.errors import UserError
from ebm_study.fit.model import boosting_rounds, build, resolve_n_jobs, rounds_cap


def test_n_jobs_auto_shares_the_cores_among_parallel_jobs():
    assert resolve_n_jobs("auto", cores=2, parallel_jobs=1) == 2
    assert resolve_n_jobs("auto", cores=2, parallel_jobs=2) == 1
    assert resolve_n_jobs("auto", cores=8, parallel_jobs=3) == 2
    assert resolve_n_jobs(-2, cores=8) == -2


def test_a_bad_n_jobs_names_the_value():
    with pytest.raises(UserError, match="model.n_jobs='many' must be 'auto' or a whole number"):
        resolve_n_jobs("many", cores=2)


def test_build_passes_every_hyperparameter_and_marks_stated_categories_nominal(make_cfg):
    cfg = make_cfg("model.learning_rate=0.05", "model.max_bins=64")
    ebm = build(cfg.model, ["a", "colour"], ["colour"])
    params = ebm.get_params()
    assert params["learning_rate"] == 0.05 and params["max_bins"] == 64
    assert params["outer_bags"] == 1 and params["random_state"] == cfg.model_seed
    assert params["feature_types"] == ["auto", "nominal"]
    assert build(OmegaConf.create({"learning_rate": 0.1})).get_params()["feature_types"] is None


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:200, :6], y.iloc[:200]


def fitted(data, **params):
    from interpret.glassbox import ExplainableBoostingClassifier

    base = {"outer_bags": 2, "n_jobs": 1, "random_state": 0, "interactions": 0}
    return ExplainableBoostingClassifier(**{**base, **params}).fit(*data)


def test_bags_that_never_early_stop_are_counted_at_the_cap(cancer):
    # Early stopping after 10,000 rounds without progress never fires within 7 rounds.
    ebm = fitted(cancer, max_rounds=7, early_stopping_rounds=10_000, smoothing_rounds=0)
    assert boosting_rounds(ebm) == {"boosting_rounds_max": 7, "bags_at_max_rounds": 2}


def test_bags_that_early_stop_are_not_at_the_cap(cancer):
    ebm = fitted(cancer, max_rounds=5000, learning_rate=0.1)
    rounds = boosting_rounds(ebm)
    assert rounds["bags_at_max_rounds"] == 0
    # interpret counts steps, one a term a round: 6 main terms here.
    assert rounds["boosting_rounds_max"] == -(-ebm.best_iteration_.max() // 6) < 5000


def test_the_pair_stage_counts_its_own_rounds(cancer):
    ebm = fitted(cancer, max_rounds=4, interactions=1, early_stopping_rounds=10_000)
    assert ebm.best_iteration_.shape == (2, 2)
    assert boosting_rounds(ebm) == {"boosting_rounds_max": 4, "bags_at_max_rounds": 2}


def test_the_auto_round_cap_grows_with_the_rows_and_moves_with_the_rate():
    # Up to 500 rows: rounds x learning rate = the budget (breast cancer's 455 rows: 2000 at
    # 0.015, as the fast settings had it); beyond, x sqrt(rows / 500); never above 50000.
    assert rounds_cap(30, 0.015, 455) == 2000
    assert rounds_cap(30, 0.05, 455) == 600
    assert rounds_cap(30, 0.005, 100) == 6000
    assert rounds_cap(30, 0.015, 2000) == 4000  # sqrt(4) = 2
    assert rounds_cap(30, 0.015, 64_000) == 22_628  # sqrt(128) = 11.3
    assert rounds_cap(30, 0.015, 300_000) == 48_990
    assert rounds_cap(30, 0.005, 300_000) == 50_000  # interpret's own default is the ceiling
    assert rounds_cap(60, 0.015, 455) == 4000


def test_build_resolves_auto_for_the_training_rows_and_keeps_a_number(make_cfg):
    cfg = make_cfg("model.max_rounds=auto", "model.learning_rate=0.05")
    assert build(cfg.model, n_rows=455).get_params()["max_rounds"] == 600
    assert build(cfg.model, n_rows=8000).get_params()["max_rounds"] == 2400
    assert "round_budget" not in build(cfg.model).get_params()
    given = make_cfg("model.max_rounds=77")
    assert build(given.model, n_rows=8000).get_params()["max_rounds"] == 77
