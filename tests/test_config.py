"""Every config group composes, and the pure readers of a config say the right things."""

import pytest
from omegaconf import OmegaConf

from ebm_study.config import PROJECT_ROOT, config_key, flatten, mask_uri, run_params, to_yaml


def test_default_config_composes_with_every_group(make_cfg):
    cfg = make_cfg(tiny=False)
    assert cfg.data.name == "breast_cancer"
    assert cfg.split.test_size == 0.2 and cfg.split.stratify is True
    assert cfg.model.random_state == cfg.model_seed == 0
    assert cfg.top_k == 5
    assert cfg.tracking.uri.startswith("sqlite:///")
    assert OmegaConf.select(cfg, "hydra.callbacks.mlflow_sweep._target_").endswith("SweepRun")


def test_default_store_lives_under_the_repo_mlruns(monkeypatch):
    from hydra import compose, initialize_config_dir

    from ebm_study.config import CONF_DIR, register_resolvers

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", return_hydra_config=True)
    assert cfg.tracking.uri == f"sqlite:///{PROJECT_ROOT}/mlruns/mlflow.db"
    assert cfg.tracking.artifact_location == f"{PROJECT_ROOT}/mlruns/artifacts"
    assert cfg.hydra.sweep.dir.startswith(f"{PROJECT_ROOT}/mlruns/hydra/")


def test_server_tracking_defaults_to_a_loopback_server(monkeypatch):
    from hydra import compose, initialize_config_dir

    from ebm_study.config import CONF_DIR, register_resolvers

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=["tracking=server"])
    assert cfg.tracking.uri == "http://127.0.0.1:5000"
    assert cfg.tracking.artifact_location is None


def test_env_tracking_uri_wins_over_the_embedded_store(make_cfg, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from ebm_study.config import CONF_DIR

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config")
    assert cfg.tracking.uri == "http://127.0.0.1:5999"


@pytest.mark.parametrize(
    ("override", "check"),
    [
        ("data=csv", lambda c: c.data.source == "csv"),
        ("tracking=server", lambda c: c.hydra.runtime.choices.tracking == "server"),
        (
            "experiment=quick",
            lambda c: "joblib" in c.hydra.launcher._target_.lower() and c.model.n_jobs == "auto",
        ),
        ("experiment=paper", lambda c: c.model.interactions == "3x" and c.split_seed == 42),
        ("experiment=grid", lambda c: "model.max_bins" in c.hydra.sweeper.params),
    ],
)
def test_each_group_option_composes(make_cfg, override, check):
    extra = ["data.path=x.csv", "data.target=y"] if override == "data=csv" else []
    assert check(make_cfg(override, *extra, tiny=False))


def test_paper_study_uses_interpret_defaults(make_cfg):
    from interpret.glassbox import ExplainableBoostingClassifier

    cfg = make_cfg("experiment=paper", tiny=False)
    defaults = ExplainableBoostingClassifier().get_params()
    for key, value in cfg.model.items():
        if key not in ("n_jobs", "round_budget"):  # ours: the cap's budget, unused at 50000
            assert defaults[key] == value, key
    assert cfg.model_seed == defaults["random_state"] == 42
    assert cfg.split.test_size == 0.2


def test_config_key_ignores_seeds_and_parallelism_but_not_hyperparameters(make_cfg):
    base = config_key(make_cfg())
    assert config_key(make_cfg("split_seed=3", "model_seed=7", "model.n_jobs=2")) == base
    assert config_key(make_cfg("model.learning_rate=0.05")) != base
    assert len(base) == 12


def test_params_are_dotted_and_leave_out_where_things_are_written(make_cfg):
    params = run_params(make_cfg("model.learning_rate=0.05"))
    assert params["model.learning_rate"] == 0.05
    assert params["split_seed"] == 0
    assert not [k for k in params if k.startswith(("tracking.", "paths.", "hydra"))]
    assert "tracking.uri" in flatten(make_cfg())


def test_tracking_password_is_masked():
    assert mask_uri("http://me:secret@host:5000/x") == "http://me:***@host:5000/x"
    assert mask_uri("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"


def test_config_yaml_masks_the_password(make_cfg):
    text = to_yaml(make_cfg("tracking.uri=http://u:hunter2@127.0.0.1:5000"))
    assert "hunter2" not in text and "u:***@127.0.0.1" in text


def test_the_ray_launcher_config_hands_workers_the_store_and_joins_a_cluster(make_cfg):
    cfg = make_cfg("hydra/launcher=ray", "tracking.uri=http://127.0.0.1:5000")
    init = cfg.hydra.launcher.ray.init
    assert init.runtime_env.env_vars.MLFLOW_TRACKING_URI == "http://127.0.0.1:5000"
    assert "object_store_memory" in init and init.object_store_memory is None


def test_an_unknown_config_group_option_names_the_allowed_ones(make_cfg):
    from hydra.errors import MissingConfigException

    with pytest.raises(MissingConfigException) as err:
        make_cfg("data=nope")
    message = str(err.value)
    assert "Could not find 'data/nope'" in message
    assert "breast_cancer" in message and "csv" in message


def test_max_rounds_is_auto_unless_given_and_logged_as_given(make_cfg):
    assert make_cfg(tiny=False).model.max_rounds == "auto"
    assert make_cfg(tiny=False).model.round_budget == 30
    assert make_cfg("model.max_rounds=123", tiny=False).model.max_rounds == 123
    assert run_params(make_cfg(tiny=False))["model.max_rounds"] == "auto"
    assert "max_rounds: auto" in to_yaml(make_cfg(tiny=False))


def test_a_bad_learning_rate_leaves_its_naming_to_the_validator(make_cfg):
    from ebm_study.errors import UserError
    from ebm_study.fit.model import rounds_cap
    from ebm_study.fit.validate import check_config

    for rate in ("-1", "0", "abc"):
        cfg = make_cfg(f"model.learning_rate={rate}", tiny=False)
        assert rounds_cap(30, cfg.model.learning_rate, 455) == 50000
        with pytest.raises(UserError, match=f"model.learning_rate='?{rate}'? must be a number"):
            check_config(cfg)


def test_names_without_dots_and_one_number_format():
    from ebm_study.config import short_names
    from ebm_study.rounding import interval, number

    assert short_names(["model.learning_rate", "split_seed"]) == {
        "model.learning_rate": "learning_rate",
        "split_seed": "split_seed",
    }
    assert short_names(["model.max_bins", "data.max_bins"]) == {
        "model.max_bins": "model_max_bins",
        "data.max_bins": "data_max_bins",
    }
    assert [number(x) for x in (0.46123, 0.98, 1.0, 0.000123456, float("nan"), 16)] == [
        "0.461",
        "0.980",
        "1.00",
        "0.000123",
        "n/a",
        "16",
    ]
    assert interval(0.4612, 0.4049, 0.5131) == "0.46 (0.40–0.51)"  # rounding.py: its digits
    assert interval(0.5, float("nan"), float("nan")) == "0.500 (no interval)"
    assert interval(float("nan"), float("nan"), float("nan")) == "n/a"
