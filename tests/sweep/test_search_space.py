"""The search space read from Hydra's override grammar, and Optuna's distributions from it."""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from ebm_study.errors import UserError
from ebm_study.sweep import search_space

WHO = "hydra/sweeper=stability_search"


def space(params=None, arguments=()):
    return search_space.parse(params, arguments, WHO)


def test_params_and_the_command_line_make_fixed_values_and_swept_keys():
    s = space(
        {"model.learning_rate": "interval(0.005, 0.1)", "model.max_leaves": "choice(2, 3)"},
        ["model.max_leaves=4", "model.max_bins=64,256", "split_seed=3", "experiment=quick"],
    )
    assert set(s.swept) == {"model.learning_rate", "model.max_bins"}
    assert s.fixed == ["model.max_leaves=4", "experiment=quick"]  # the command line won
    assert s.seeds == {"split_seed": 3}


def test_each_kind_of_range_becomes_the_optuna_distribution_a_user_expects():
    dists = search_space.distributions(
        space(
            {
                "a": "tag(log, interval(0.005, 0.1))",
                "b": "interval(0.1, 0.5)",
                "c": "tag(int, interval(2, 64))",
                "d": "range(2, 11, 3)",
                "e": "choice(64, 256)",
                "f": "1,2",
            }
        )
    )
    assert dists["a"] == FloatDistribution(0.005, 0.1, log=True)
    assert dists["b"] == FloatDistribution(0.1, 0.5)
    assert dists["c"] == IntDistribution(2, 64)
    assert dists["d"] == IntDistribution(2, 8, step=3)  # 2, 5, 8: range stops before 11
    assert dists["e"] == CategoricalDistribution([64, 256])
    assert dists["f"] == CategoricalDistribution([1, 2])


def test_a_grid_takes_discrete_values_only():
    assert search_space.grid(space({}, ["a=1,2", "b=range(2)"]), "adaptive") == [
        ["a=1", "b=0"],
        ["a=1", "b=1"],
        ["a=2", "b=0"],
        ["a=2", "b=1"],
    ]
    with pytest.raises(UserError, match=r"^a=interval\(0.1,0.2\): adaptive runs a grid"):
        search_space.grid(space({}, ["a=interval(0.1,0.2)"]), "adaptive")


@pytest.mark.parametrize(
    ("params", "arguments", "message"),
    [
        ({}, ["split_seed=0,1"], r"^split_seed=0,1: hydra/sweeper=stability_search draws the"),
        ({"a": "interval(0.1, 0.01)"}, [], r"^hydra.sweeper.params: a=interval\(0.1, 0.01\): "),
        ({"a": "tag(log, interval(0, 1))"}, [], r"^hydra.sweeper.params: a=tag\(log"),
        ({"a": "interval(0.1"}, [], r"^hydra.sweeper.params: "),
        ({}, ["a=glob(*)"], r"^a=glob\(...\): "),
    ],
)
def test_a_space_hydra_or_optuna_rejects_is_one_line_naming_the_entry(params, arguments, message):
    with pytest.raises(UserError, match=message) as caught:
        search_space.distributions(space(params, arguments))
    assert "\n" not in str(caught.value)


def test_suggested_floats_are_kept_to_three_significant_digits():
    assert search_space.overrides_for({"a": 0.0123456789, "b": 3, "c": "x"}) == [
        "a=0.0123",
        "b=3",
        "c=x",
    ]
