"""The EBM is built from the config as given, with its cores shared among parallel jobs."""

import pytest
from omegaconf import OmegaConf

from ebm_study.errors import UserError
from ebm_study.model import build, resolve_n_jobs


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
