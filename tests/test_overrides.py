"""A sweep knows which keys it varies; runs are named for them."""

from ebm_study.overrides import run_name, swept_keys


def test_swept_keys_come_from_the_command_line_and_the_sweeper():
    overrides = ["split_seed=range(5)", "model.learning_rate=0.01,0.05", "model.outer_bags=2"]
    assert swept_keys(overrides, None) == ["split_seed", "model.learning_rate"]
    assert swept_keys(["experiment=quick"], {"split_seed": "range(4)", "model_seed": "0,1"}) == [
        "split_seed",
        "model_seed",
    ]


def test_a_plain_command_line_value_fixes_a_sweeper_key():
    assert swept_keys(["model_seed=3"], {"split_seed": "range(4)", "model_seed": "0,1"}) == [
        "split_seed"
    ]


def test_run_name_says_what_differs_with_short_keys():
    job = ["split_seed=3", "model.learning_rate=0.05", "model.outer_bags=2", "experiment=quick"]
    swept = ["split_seed", "model.learning_rate", "model_seed"]
    # What differs in the setting first, seeds last and short: a name cut at 20 characters
    # still says which setting it is.
    assert run_name([*job, "model_seed=1"], swept) == "learning_rate=0.05 split=3 model=1"


def test_a_sweeps_name_leaves_out_where_things_are_stored():
    from ebm_study.config import sweep_name

    given = ["split_seed=range(0,6)", "tracking.uri=sqlite:////tmp/x/mlflow.db"]
    given += ["tracking.artifact_location=/tmp/x/a", "paths.mlruns=/tmp/x", "hydra.sweep.dir=/y"]
    assert sweep_name([*given, "model.learning_rate=0.05,0.1", "hydra.sweeper.n_trials=30"]) == (
        "sweep split_seed=range(0,6) model.learning_rate=0.05,0.1 hydra.sweeper.n_trials=30"
    )
    assert sweep_name([]) == "sweep"


def test_single_run_name_lists_its_overrides_but_not_where_it_writes():
    job = ["model.outer_bags=2", "tracking.uri=sqlite:///x.db", "hydra.run.dir=/tmp/x"]
    assert run_name(job) == "outer_bags=2"
    assert run_name([]) == "defaults"


def test_a_sweep_of_seeds_alone_names_its_setting_by_what_its_command_line_fixed():
    from ebm_study.overrides import fixed_setting

    swept = ["split_seed", "model_seed"]
    given = ["split_seed=3", "model_seed=1", "model.learning_rate=0.05", "data=csv"]
    given += ["data.path=/x/y.csv", "model.n_jobs=2", "top_k=3", "tracking.uri=sqlite:///z"]
    assert fixed_setting(given, swept) == "learning_rate=0.05"
    assert fixed_setting(["split_seed=3", "hydra/launcher=joblib"], swept) == "default settings"
    assert fixed_setting(["experiment=paper", "split_seed=1"], swept) == "experiment=paper"
