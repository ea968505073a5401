"""Config and data are checked before any work; each error names the value and what is allowed."""

import pandas as pd
import pytest

from ebm_study.errors import UserError
from ebm_study.fit import data, validate

BAD_CONFIG = [
    ("data.source=web", "data.source='web' is unknown; allowed: sklearn, csv"),
    ("split.test_size=1.5", "split.test_size=1.5 must be a fraction between 0 and 1"),
    ("split_seed=-1", "split_seed=-1 must be a whole number >= 0"),
    ("model_seed=abc", "model_seed='abc' must be a whole number >= 0"),
    ("model.learning_rate=-0.1", "model.learning_rate=-0.1 must be a number > 0"),
    ("model.outer_bags=0", "model.outer_bags=0 must be a whole number >= 1"),
    ("model.inner_bags=-1", "model.inner_bags=-1 must be a whole number >= 0"),
    ("model.max_bins=1", "model.max_bins=1 must be a whole number >= 2"),
    ("model.max_leaves=0", "model.max_leaves=0 must be a whole number >= 1"),
    ("model.n_jobs=many", "model.n_jobs='many' must be 'auto' or a whole number"),
    ("model.interactions=abc", "model.interactions='abc' must be a count"),
    ("model.interactions=-1", "model.interactions=-1 must be a count"),
    ("top_k=0", "top_k=0 must be a whole number >= 1"),
    ("study.terms=pairs", "study.terms='pairs' is unknown; allowed: all, mains"),
    ("study.rbo_p=2", "study.rbo_p=2 must be a number between 0 and 1"),
    ("study.corr_threshold=1.5", "study.corr_threshold=1.5 must be a number in (0, 1]"),
    ("task=forecast", "task='forecast' is unknown; allowed: auto, classification, regression"),
]


@pytest.mark.parametrize(("override", "message"), BAD_CONFIG, ids=[o for o, _ in BAD_CONFIG])
def test_a_bad_config_value_is_named(make_cfg, override, message):
    with pytest.raises(UserError) as err:
        validate.check_config(make_cfg(override))
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        ("model.interactions=3x", "model.interactions=x3"),
        ("model.interactions=0.5", "model.interactions=1.5"),
        ("top_k=1", "top_k=0"),
    ],
)
def test_good_values_pass_where_their_neighbours_do_not(make_cfg, good, bad):
    assert validate.check_config(make_cfg(good)) is None
    key = bad.split("=")[0]
    with pytest.raises(UserError, match=rf"^{key}="):
        validate.check_config(make_cfg(bad))


def table(frame: pd.DataFrame, target: str = "y") -> data.Table:
    return data.Table("t", "test", frame.drop(columns=[target]), frame[target])


GOOD = pd.DataFrame({"a": range(40), "b": [x * 0.5 for x in range(40)], "y": [0, 1] * 20})
BAD_DATA = [
    (GOOD.assign(y=1), [], "data.target='y' has one class (1); need at least 2"),
    (GOOD.assign(y=[0, 1, None, 1] * 10), [], "data.target='y' has 10 missing value(s)"),
    (GOOD.assign(colour=["red", "blue"] * 20), [], "non-numeric feature column(s) colour"),
    (GOOD.head(4), ["split.test_size=0.1"], "each needs at least 2 (one per class)"),
    (GOOD, ["data.categorical=[size]"], "data.categorical names no column: size"),
    (GOOD, ["top_k=3", "model.interactions=0"], "top_k=3 is more than the number of terms"),
]


@pytest.mark.parametrize(("frame", "overrides", "message"), BAD_DATA, ids=[m for *_, m in BAD_DATA])
def test_bad_data_is_named(make_cfg, frame, overrides, message):
    cfg = make_cfg("data=csv", "data.path=x.csv", "data.target=y", *overrides)
    with pytest.raises(UserError) as err:
        validate.check_data(table(frame), cfg)
    assert message in str(err.value)


QUANTITY = GOOD.assign(y=[x * 1.5 for x in range(40)])  # 40 distinct numbers
BAD_TARGET_FOR_TASK = [
    (GOOD.assign(y=["a", "b"] * 20), "regression", [], "data.target='y' is not numeric"),
    (QUANTITY, "regression", ["data.positive_class=3"], "data.positive_class=3 is for a class"),
    (QUANTITY, "regression", ["split.test_size=0.01"], "leaves 1 test and 39 training rows"),
    (QUANTITY, "classification", [], "40 distinct numbers: for a quantity set task=regression"),
]


@pytest.mark.parametrize(
    ("frame", "task", "overrides", "message"),
    BAD_TARGET_FOR_TASK,
    ids=[m for *_, m in BAD_TARGET_FOR_TASK],
)
def test_a_target_that_does_not_fit_the_task_is_named(make_cfg, frame, task, overrides, message):
    cfg = make_cfg("data=csv", "data.path=x.csv", "data.target=y", "top_k=2", *overrides)
    with pytest.raises(UserError) as err:
        validate.check_data(table(frame), cfg, task)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_stated_categorical_text_columns_pass(make_cfg):
    frame = table(GOOD.assign(colour=["red", "blue"] * 20))
    cfg = make_cfg(
        "data=csv", "data.path=x.csv", "data.target=y", "data.categorical=[colour]", "top_k=2"
    )
    assert validate.check_data(frame, cfg) is None
    undeclared = make_cfg("data=csv", "data.path=x.csv", "data.target=y", "top_k=2")
    with pytest.raises(UserError, match="colour"):  # the same column, not declared: refused
        validate.check_data(frame, undeclared)


def test_text_columns_get_the_option_that_takes_them(make_cfg):
    frame = GOOD.assign(
        name=[f"person {i}" for i in range(40)],
        visit=["2021-03-04", "2021-05-06"] * 20,
        colour=["red", "blue"] * 20,
    )
    cfg = make_cfg("data=csv", "data.path=x.csv", "data.target=y", "top_k=2")
    with pytest.raises(UserError) as err:
        validate.check_data(table(frame), cfg)
    assert str(err.value) == (
        "non-numeric feature column(s) name (an ID or name: 40 distinct values in 40 rows: "
        "data.drop=[name]); visit (dates, e.g. '2021-03-04': data.dates=[visit]); colour (text: "
        "data.categorical=[colour]): list each under the option named (data.drop leaves a "
        "column out)"
    )


def test_an_id_or_dates_taken_as_categories_are_warned_about(make_cfg):
    frame = GOOD.assign(name=[f"p{i}" for i in range(40)], visit=["2021-03-04", "2021-05-06"] * 20)
    cfg = make_cfg(
        "data=csv", "data.path=x.csv", "data.target=y", "top_k=2", "data.categorical=[name,visit]"
    )
    validate.check_data(table(frame), cfg)  # accepted, as asked
    said = validate.data_warnings(table(frame), cfg)
    assert said[0].startswith("data.categorical column 'name' holds 40 distinct values in 40 rows")
    assert said[0].endswith("data.drop=[name] leaves it out")
    assert said[1].startswith("data.categorical column 'visit' holds dates (2 distinct)")
    assert validate.data_warnings(table(GOOD), make_cfg("top_k=2")) == []
